// Getting one blob into a repository: HEAD (skip if present), cross-repository mount, then an upload
// session — one PUT for small blobs, PATCH chunks + PUT for large ones. Any transient failure throws
// the session away and starts a new one from the first byte (after checking the blob did not land).
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { hasherFor } from './digest.ts';
import { RegistryError } from './errors.ts';
import { headerValue, type RegistryEndpoint } from './http.ts';
import { TransientFailure, withRetries } from './retry.ts';
import type { BlobAction, BlobSource } from './types.ts';

/** The blob's own content disagrees with its declared digest/size, or cannot be read. Not retried. */
export class BlobSourceError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.name = 'BlobSourceError';
  }
}

export interface BlobTarget {
  endpoint: RegistryEndpoint;
  repository: string;
  /** Token scopes for the whole push (target pull,push plus pull on mount sources). */
  scopes: string[];
  signal?: AbortSignal;
}

export function describeSource(blob: BlobSource): string {
  return blob.path ? `file ${blob.path}` : blob.bytes ? 'in-memory bytes' : blob.open ? 'stream' : 'no local content';
}

/** Whether the repository has the blob (404 → false). A size that disagrees with `size` is an error. */
export async function headBlob(t: BlobTarget, digest: string, size?: number): Promise<{ exists: boolean; size?: number }> {
  const res = await t.endpoint.request({
    method: 'HEAD',
    url: `/v2/${t.repository}/blobs/${digest}`,
    scopes: t.scopes,
    ok: [200, 404],
    redirects: true,
    what: `HEAD blob ${digest} in ${t.endpoint.registry}/${t.repository}`,
    ...(t.signal ? { signal: t.signal } : {}),
  });
  await res.body.dump();
  if (res.status === 404) return { exists: false };
  const len = headerValue(res.headers, 'content-length');
  const got = len !== undefined ? Number(len) : undefined;
  if (size !== undefined && got !== undefined && got !== size) {
    throw new RegistryError(`${t.endpoint.registry}/${t.repository} has blob ${digest} with size ${got}, but the image says ${size}`);
  }
  return { exists: true, ...(got !== undefined ? { size: got } : {}) };
}

/** POST an upload session (optionally as a mount). 201 → mounted; 202 → the session URL. */
async function startSession(t: BlobTarget, digest: string, mountFrom?: string): Promise<{ mounted: true } | { mounted: false; location: URL }> {
  const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
  const res = await t.endpoint.request({
    method: 'POST',
    url: `/v2/${t.repository}/blobs/uploads/${query}`,
    headers: { 'content-length': '0' },
    scopes: t.scopes,
    ok: [201, 202],
    what: `${mountFrom ? `mount of blob ${digest} from ${mountFrom}` : `upload session for blob ${digest}`} in ${t.endpoint.registry}/${t.repository}`,
    ...(t.signal ? { signal: t.signal } : {}),
  });
  await res.body.dump();
  if (res.status === 201) return { mounted: true };
  return { mounted: false, location: uploadLocation(t, res.headers, res.url, digest) };
}

function uploadLocation(t: BlobTarget, headers: Parameters<typeof headerValue>[0], base: URL, digest: string): URL {
  const loc = headerValue(headers, 'location');
  if (!loc) throw new TransientFailure(`${t.endpoint.registry}/${t.repository}: upload of ${digest} answered without a Location`);
  return new URL(loc, base);
}

/** The blob's bytes from the start; read errors name the source. */
async function* readSource(blob: BlobSource): AsyncGenerator<Buffer> {
  try {
    if (blob.bytes) {
      yield Buffer.from(blob.bytes.buffer, blob.bytes.byteOffset, blob.bytes.byteLength);
      return;
    }
    const src: AsyncIterable<Uint8Array> = blob.path
      ? createReadStream(blob.path, { highWaterMark: 1 << 20 })
      : blob.open!();
    for await (const chunk of src) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
  } catch (e) {
    if (e instanceof BlobSourceError) throw e;
    throw new BlobSourceError(`blob ${blob.digest}: cannot read ${describeSource(blob)}: ${(e as Error).message}`, e);
  }
}

/** Re-slices a byte stream into pieces of exactly `size` bytes (the last may be shorter). */
export async function* chunksOf(src: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const b of src) {
    let buf = b;
    while (buf.length > 0) {
      const take = Math.min(size - have, buf.length);
      parts.push(buf.subarray(0, take));
      have += take;
      buf = buf.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts, have);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts, have);
}

/** Counts and hashes what passes through, failing as soon as the source exceeds its declared size. */
class Meter {
  readonly #blob: BlobSource;
  readonly #hash;
  bytes = 0;
  constructor(blob: BlobSource) {
    this.#blob = blob;
    this.#hash = hasherFor(blob.digest);
  }
  add(b: Buffer): void {
    this.bytes += b.length;
    if (this.bytes > this.#blob.size) {
      throw new BlobSourceError(`blob ${this.#blob.digest}: ${describeSource(this.#blob)} holds more than the declared ${this.#blob.size} bytes`);
    }
    this.#hash.update(b);
  }
  /** Throws unless exactly the declared bytes went through. */
  finish(): void {
    if (this.bytes !== this.#blob.size) {
      throw new BlobSourceError(`blob ${this.#blob.digest}: ${describeSource(this.#blob)} holds ${this.bytes} bytes, not the declared ${this.#blob.size}`);
    }
    const algo = this.#blob.digest.slice(0, this.#blob.digest.indexOf(':'));
    const got = `${algo}:${this.#hash.digest('hex')}`;
    if (got !== this.#blob.digest) {
      throw new BlobSourceError(`blob ${this.#blob.digest}: ${describeSource(this.#blob)} has digest ${got}`);
    }
  }
}

function withDigest(location: URL, digest: string): URL {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u;
}

/** Upload errors that a new session can fix: the registry lost or garbled the session. */
function sessionLost(err: unknown): boolean {
  return err instanceof RegistryError && (err.status === 404 || err.status === 416 || err.code === 'BLOB_UPLOAD_UNKNOWN' || err.code === 'BLOB_UPLOAD_INVALID');
}

async function finishUpload(t: BlobTarget, blob: BlobSource, location: URL, body: { once: Readable } | undefined): Promise<void> {
  const res = await t.endpoint.once({
    method: 'PUT',
    url: withDigest(location, blob.digest),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(body ? blob.size : 0) },
    ...(body ? { body } : {}),
    scopes: t.scopes,
    ok: [201, 204],
    what: `PUT blob ${blob.digest} to ${t.endpoint.registry}/${t.repository}`,
    ...(t.signal ? { signal: t.signal } : {}),
  });
  await res.body.dump();
  const confirmed = headerValue(res.headers, 'docker-content-digest');
  if (confirmed && confirmed !== blob.digest) {
    throw new RegistryError(`${t.endpoint.registry}/${t.repository} stored blob ${blob.digest} as ${confirmed}`);
  }
}

async function monolithic(t: BlobTarget, blob: BlobSource, location: URL): Promise<void> {
  const meter = new Meter(blob);
  async function* metered(): AsyncGenerator<Buffer> {
    for await (const b of readSource(blob)) {
      meter.add(b);
      yield b;
    }
    meter.finish();
  }
  try {
    await finishUpload(t, blob, location, { once: Readable.from(metered()) });
  } catch (e) {
    // The registry saw different bytes than declared: say which, from our side.
    if (e instanceof RegistryError && e.status === 400 && meter.bytes === blob.size) meter.finish();
    throw e;
  }
}

async function chunked(t: BlobTarget, blob: BlobSource, location: URL, chunkSize: number): Promise<void> {
  const meter = new Meter(blob);
  let loc = location;
  let offset = 0;
  for await (const chunk of chunksOf(readSource(blob), chunkSize)) {
    meter.add(chunk);
    const end = offset + chunk.length - 1;
    const res = await t.endpoint.once({
      method: 'PATCH',
      url: loc,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end}`, 'content-length': String(chunk.length) },
      body: chunk,
      scopes: t.scopes,
      ok: [202],
      what: `PATCH bytes ${offset}-${end} of blob ${blob.digest} to ${t.endpoint.registry}/${t.repository}`,
      ...(t.signal ? { signal: t.signal } : {}),
    });
    await res.body.dump();
    const range = headerValue(res.headers, 'range');
    if (range !== undefined && range !== `0-${end}`) {
      throw new TransientFailure(`${t.endpoint.registry}/${t.repository}: after bytes ${offset}-${end} of blob ${blob.digest} the registry holds ${range}`);
    }
    loc = uploadLocation(t, res.headers, res.url, blob.digest);
    offset = end + 1;
  }
  meter.finish(); // never commit content that is not what the manifest declares
  await finishUpload(t, blob, loc, undefined);
}

export interface EnsureOptions {
  /** PATCH chunk size; blobs up to this size (or all, when 0) go in one PUT. */
  chunkSize: number;
}

/**
 * Makes `blob` present in the target repository and says how. Transient failures restart the upload
 * with backoff (bounded by the endpoint's retry policy); the final error names the blob and registry.
 */
export async function ensureBlob(t: BlobTarget, blob: BlobSource, opts: EnsureOptions): Promise<BlobAction> {
  if ((await headBlob(t, blob.digest, blob.size)).exists) return 'exists';
  let session: URL | undefined;
  if (blob.mountFrom && blob.mountFrom !== t.repository) {
    const s = await startSession(t, blob.digest, blob.mountFrom);
    if (s.mounted) return 'mounted';
    session = s.location; // not mountable: the registry opened an ordinary session instead
  }
  if (!blob.bytes && !blob.path && !blob.open) {
    const where = blob.mountFrom ? ` and could not be mounted from ${blob.mountFrom}` : '';
    throw new BlobSourceError(`blob ${blob.digest} is not in ${t.endpoint.registry}/${t.repository}${where}, and the image has no content for it`);
  }
  const what = `upload of blob ${blob.digest} (${blob.size} bytes, ${describeSource(blob)}) to ${t.endpoint.registry}/${t.repository}`;
  await withRetries(
    what,
    t.endpoint.retryPolicy,
    async (attempt) => {
      if (attempt > 1 && (await headBlob(t, blob.digest, blob.size)).exists) return; // the last PUT landed after all
      const location = attempt === 1 && session ? session : await newSession(t, blob.digest);
      try {
        if (opts.chunkSize > 0 && blob.size > opts.chunkSize) await chunked(t, blob, location, opts.chunkSize);
        else await monolithic(t, blob, location);
      } catch (e) {
        if (sessionLost(e)) throw new TransientFailure((e as Error).message, { cause: e });
        throw e;
      }
    },
    { ...(t.endpoint.onRetry ? { onRetry: t.endpoint.onRetry } : {}), ...(t.signal ? { signal: t.signal } : {}) },
  );
  return 'uploaded';
}

async function newSession(t: BlobTarget, digest: string): Promise<URL> {
  const s = await startSession(t, digest);
  if (s.mounted) throw new RegistryError(`${t.endpoint.registry}/${t.repository}: upload session for ${digest} answered 201 without data`);
  return s.location;
}
