// One registry's HTTP endpoint on undici: base URL (plain HTTP for loopback), authorization with the
// 401 → challenge → retry dance, redirects for reads, error bodies turned into messages, and retries
// of requests whose body can be sent again.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { Authorizer } from './auth.ts';
import { describeErrorBody, RegistryError } from './errors.ts';
import { apiHost, isLoopback } from './ref.ts';
import { isRetryableStatus, parseRetryAfter, TransientFailure, withRetries, type RetryEvent, type RetryPolicy } from './retry.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A body that can be produced again for a retry (bytes or a factory), or a one-shot stream. */
export type RequestBody = Uint8Array | (() => Readable) | { once: Readable | AsyncIterable<Uint8Array> };

export interface RegistryRequest {
  method: Method;
  /** Absolute URL (upload locations) or a path on the registry (`/v2/…`). */
  url: string | URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Token scopes the request needs. */
  scopes: string[];
  /** Statuses that are success; anything else becomes an error. */
  ok: number[];
  /** Follow 3xx (GET/HEAD of blobs may redirect to storage); Authorization is not sent to other origins. */
  redirects?: boolean;
  /** Human description for messages, e.g. "HEAD blob sha256:… in 127.0.0.1:5000/app". */
  what: string;
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
  /** Final URL (after redirects). */
  url: URL;
}

export interface EndpointOptions {
  registry: string;
  dispatcher: Dispatcher;
  authorizer: Authorizer;
  retry: RetryPolicy;
  /** Use http:// for this registry (loopback registries always use it). */
  plainHttp?: boolean;
  userAgent?: string;
  onRetry?: (e: RetryEvent) => void;
}

export function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class RegistryEndpoint {
  readonly registry: string;
  readonly base: URL;
  readonly authorizer: Authorizer;
  readonly #opts: EndpointOptions;

  constructor(opts: EndpointOptions) {
    this.#opts = opts;
    this.registry = opts.registry;
    this.authorizer = opts.authorizer;
    const scheme = opts.plainHttp || isLoopback(opts.registry) ? 'http' : 'https';
    this.base = new URL(`${scheme}://${apiHost(opts.registry)}`);
  }

  get retryPolicy(): RetryPolicy {
    return this.#opts.retry;
  }

  get onRetry(): ((e: RetryEvent) => void) | undefined {
    return this.#opts.onRetry;
  }

  /** Resolves a path or a Location header against the registry. */
  resolve(url: string | URL): URL {
    return new URL(url, this.base);
  }

  /**
   * Sends `req`, retrying transient failures when the body can be produced again. The caller must
   * consume or dump the returned body.
   */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const repeatable = req.body === undefined || req.body instanceof Uint8Array || typeof req.body === 'function';
    if (!repeatable) return this.once(req);
    return withRetries(req.what, this.#opts.retry, () => this.once(req), {
      ...(this.#opts.onRetry ? { onRetry: this.#opts.onRetry } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
  }

  /** One attempt (plus one re-send after a 401 challenge when the body allows it). */
  async once(req: RegistryRequest): Promise<RegistryResponse> {
    const sent = await this.authorizer.authorization(req.scopes);
    let res = await this.#send(req, sent);
    if (res.status === 401) {
      const challenge = res.headers['www-authenticate'];
      await res.body.dump();
      this.authorizer.unauthorized(challenge, req.scopes, sent);
      if (req.body !== undefined && !(req.body instanceof Uint8Array) && typeof req.body !== 'function') {
        // The stream is spent: let the caller start over (the next try has the right authorization).
        throw new TransientFailure(`${req.what}: HTTP 401, authorization renewed`);
      }
      res = await this.#send(req, await this.authorizer.authorization(req.scopes));
      if (res.status === 401 || res.status === 403) {
        const detail = describeErrorBody(await res.body.text()).text;
        throw this.authorizer.refused(res.status, req.scopes, detail);
      }
    }
    if (req.ok.includes(res.status)) return res;
    const text = req.method === 'HEAD' ? '' : await res.body.text().catch(() => '');
    if (req.method === 'HEAD') await res.body.dump();
    const body = describeErrorBody(text);
    const msg = `${req.what}: HTTP ${res.status}${body.text ? ` ${body.text}` : ''}`;
    if (isRetryableStatus(res.status)) {
      const ra = parseRetryAfter(headerValue(res.headers, 'retry-after'), Date.now());
      throw new TransientFailure(msg, ra !== undefined ? { retryAfterMs: ra } : {});
    }
    if (res.status === 403) throw this.authorizer.refused(403, req.scopes, body.text);
    throw new RegistryError(msg, { status: res.status, ...(body.code ? { code: body.code } : {}) });
  }

  async #send(req: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    let url = this.resolve(req.url);
    for (let hops = 0; ; hops++) {
      const headers: Record<string, string> = { 'user-agent': this.#opts.userAgent ?? 'compose-frontend', ...req.headers };
      // Credentials only go to the registry itself, never to a storage host it redirects to.
      if (authorization && url.origin === this.base.origin) headers.authorization = authorization;
      const res = await this.#opts.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers,
        body: hops === 0 ? bodyOf(req.body) : null,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      const location = headerValue(res.headers, 'location');
      if (req.redirects && REDIRECTS.has(res.statusCode) && location) {
        await res.body.dump();
        if (hops >= 5) throw new RegistryError(`${req.what}: more than 5 redirects`);
        url = new URL(location, url);
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url };
    }
  }
}

function bodyOf(body: RequestBody | undefined): Dispatcher.DispatchOptions['body'] {
  if (body === undefined) return null;
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'function') return body();
  return body.once as Readable;
}
