// Registry authentication: WWW-Authenticate challenges, Basic auth, and the Bearer token flow
// (challenge → token endpoint with `service` and `scope` → token cached per scope set).
import type { CredentialLookup, Credentials } from './credentials.ts';
import { RegistryAuthError } from './errors.ts';
import { isRetryableStatus, isTransientError, TransientFailure } from './retry.ts';

export interface Challenge {
  /** Lower case: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names in lower case. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Parses one or more WWW-Authenticate headers (RFC 9110 §11.6.1): several challenges may share a
 * header, separated by commas, and values may be quoted strings with backslash escapes. Unquoted
 * values are read up to the next comma (registries write `realm=https://…` unquoted at times).
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseChallenges(h));
  const s = header;
  let i = 0;
  const out: Challenge[] = [];
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= s.length) break;
    const scheme = readToken();
    if (scheme === '') throw new Error(`malformed WWW-Authenticate header: unexpected "${s[i]}" at ${i} in ${JSON.stringify(s)}`);
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skipWs();
      const save = i;
      const name = readToken();
      skipWs();
      if (name === '' || s[i] !== '=') {
        i = save; // next challenge (or end)
        break;
      }
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        let closed = false;
        while (i < s.length) {
          const c = s[i++]!;
          if (c === '\\' && i < s.length) value += s[i++];
          else if (c === '"') {
            closed = true;
            break;
          } else value += c;
        }
        if (!closed) throw new Error(`malformed WWW-Authenticate header: unterminated quoted value of ${name} in ${JSON.stringify(s)}`);
      } else {
        const start = i;
        while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
        value = s.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
      skipWs();
      if (s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
  }
  return out;
}

/** Scope of a repository for the token flow: `repository:NAME:pull` or `…:pull,push`. */
export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

export function basicHeader(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

export interface TokenResponse {
  status: number;
  body: string;
}

/** GETs the token endpoint (plain GET, no redirects to other hosts needed by distribution-style realms). */
export type TokenFetch = (url: URL, headers: Record<string, string>) => Promise<TokenResponse>;

export interface AuthorizerOptions {
  /** Registry as in the reference (messages and credential lookup). */
  registry: string;
  /** Credential lookup, called at most once. */
  lookup: () => CredentialLookup;
  fetchToken: TokenFetch;
  /** Monotonic clock in ms (tests may fake it). */
  now?: () => number;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

/**
 * Per-registry authorization state. A request first asks `authorization(scopes)`; after a 401 it hands
 * the challenge to `unauthorized()` and tries once more with a fresh header; a second 401 is final
 * (`refused()`).
 */
export class Authorizer {
  readonly #opts: AuthorizerOptions;
  readonly #now: () => number;
  #lookup: CredentialLookup | undefined;
  #challenge: Challenge | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<CachedToken>>();
  /** Token endpoint requests made (diagnostics and tests). */
  tokenRequests = 0;

  constructor(opts: AuthorizerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Credential lookup (runs once; a broken auth file fails the first request). */
  lookup(): CredentialLookup {
    this.#lookup ??= this.#opts.lookup();
    return this.#lookup;
  }

  get credentials(): Credentials | undefined {
    return this.lookup().credentials;
  }

  /** The Authorization header to send for `scopes`, or undefined when no challenge is known yet. */
  async authorization(scopes: string[]): Promise<string | undefined> {
    const creds = this.lookup().credentials;
    const ch = this.#challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return creds ? basicHeader(creds) : undefined;
    const key = scopeKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > this.#now()) return cached.header;
    let p = this.#pending.get(key);
    if (!p) {
      p = this.#fetchToken(ch, scopes).finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    const t = await p;
    this.#tokens.set(key, t);
    return t.header;
  }

  /**
   * Learns from a 401 answer to a request sent with Authorization `sent`. Throws RegistryAuthError when there is nothing new to try (no
   * credentials for a Basic challenge, an unsupported scheme).
   */
  unauthorized(wwwAuthenticate: string | string[] | undefined, scopes: string[], sent?: string): void {
    let challenges: Challenge[];
    try {
      challenges = parseChallenges(wwwAuthenticate);
    } catch (e) {
      throw new RegistryAuthError(`registry ${this.#opts.registry}: ${(e as Error).message}`, { status: 401 });
    }
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basic = challenges.find((c) => c.scheme === 'basic');
    const chosen = bearer ?? basic;
    if (!chosen) {
      const what = challenges.length ? challenges.map((c) => c.scheme).join(', ') : 'no WWW-Authenticate challenge';
      throw new RegistryAuthError(`registry ${this.#opts.registry} requires authentication but offers ${what} (supported: Bearer, Basic)`, { status: 401 });
    }
    this.#challenge = chosen;
    // Drop the cached token only if it is the one just refused: concurrent first requests all get a
    // 401 before any challenge is known, and must not throw away each other's fresh token.
    const key = scopeKey(scopes);
    if (sent !== undefined && this.#tokens.get(key)?.header === sent) this.#tokens.delete(key);
    if (chosen.scheme === 'basic' && !this.lookup().credentials) {
      throw new RegistryAuthError(`registry ${this.#opts.registry} requires a user name and password (Basic auth); ${this.describeTried()}`, { status: 401 });
    }
  }

  /** The final error after a second 401/403 on the registry itself. */
  refused(status: number, scopes: string[], detail: string): RegistryAuthError {
    const how = this.#challenge?.scheme === 'bearer' ? `a token for ${scopes.join(' ')}` : 'Basic auth';
    return new RegistryAuthError(
      `registry ${this.#opts.registry} refused access (HTTP ${status}${detail ? `: ${detail}` : ''}) using ${how}; ${this.describeTried()}`,
      { status },
    );
  }

  /** What credentials were used or searched for, without secrets. */
  describeTried(): string {
    const l = this.lookup();
    const who = l.credentials
      ? `tried user "${l.credentials.username}" from ${l.credentials.file} (key "${l.credentials.key}")`
      : `no credentials for ${this.#opts.registry} found in ${l.searched.join(', ') || 'any auth file'}`;
    return [who, ...l.notes].join('; ');
  }

  async #fetchToken(ch: Challenge, scopes: string[]): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(ch.params.realm!);
    } catch {
      throw new RegistryAuthError(`registry ${this.#opts.registry} named an invalid token realm "${ch.params.realm}"`);
    }
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const creds = this.lookup().credentials;
    const headers: Record<string, string> = creds ? { authorization: basicHeader(creds) } : {};
    this.tokenRequests++;
    const started = this.#now();
    let res: TokenResponse;
    try {
      res = await this.#opts.fetchToken(url, headers);
    } catch (e) {
      if (isTransientError(e)) throw e; // the caller's retry loop tries again
      throw new RegistryAuthError(`token server ${url.origin}${url.pathname} for ${this.#opts.registry} is unreachable: ${(e as Error).message}`);
    }
    const where = `token server ${url.origin}${url.pathname} (for ${this.#opts.registry}, scope ${scopes.join(' ')})`;
    if (isRetryableStatus(res.status)) throw new TransientFailure(`${where}: HTTP ${res.status}`);
    if (res.status !== 200) {
      const body = res.body.trim().replace(/\s+/g, ' ').slice(0, 200);
      throw new RegistryAuthError(`${where} refused: HTTP ${res.status}${body ? ` ${body}` : ''}; ${this.describeTried()}`, { status: res.status });
    }
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = JSON.parse(res.body) as typeof json;
    } catch {
      throw new RegistryAuthError(`${where} answered with something that is not JSON`);
    }
    const token = typeof json.token === 'string' && json.token ? json.token : json.access_token;
    if (typeof token !== 'string' || token === '') throw new RegistryAuthError(`${where} answered without a token`);
    const life = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 60;
    return { header: `Bearer ${token}`, expiresAt: started + Math.max(1, life - 5) * 1000 };
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}
