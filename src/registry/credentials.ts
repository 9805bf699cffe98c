// Registry credentials from containers-auth.json / docker config.json files. Only inline `auth`
// (base64 user:password) and username/password entries are used; credential helpers and identity
// tokens cannot be run from here, so they become notes that auth errors repeat to the user.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_HUB } from './ref.ts';

export interface Credentials {
  username: string;
  password: string;
  /** File the entry came from. */
  file: string;
  /** The `auths` key that matched. */
  key: string;
}

export interface CredentialLookup {
  credentials?: Credentials;
  /** Files looked at, in order, with "(missing)" where a file did not exist. */
  searched: string[];
  /** Why a matching entry could not be used (credential helpers, identity tokens, …). */
  notes: string[];
}

export interface AuthFileOptions {
  /** `--authfile`: must exist. */
  authfile?: string;
  /** Environment (REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG, HOME). */
  env?: NodeJS.ProcessEnv;
  /** Home directory for ~/.config and ~/.docker; default from env.HOME or the OS. */
  home?: string;
}

export class AuthFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthFileError';
  }
}

interface Candidate {
  path: string;
  /** Where the path came from, for messages. */
  origin: string;
  required: boolean;
}

/** The auth files to read, in priority order. */
export function authFileCandidates(opts: AuthFileOptions = {}): Candidate[] {
  const env = opts.env ?? process.env;
  const home = opts.home ?? env.HOME ?? homedir();
  const out: Candidate[] = [];
  if (opts.authfile) out.push({ path: opts.authfile, origin: '--authfile', required: true });
  else if (env.REGISTRY_AUTH_FILE) out.push({ path: env.REGISTRY_AUTH_FILE, origin: '$REGISTRY_AUTH_FILE', required: false });
  if (env.XDG_RUNTIME_DIR) {
    out.push({ path: join(env.XDG_RUNTIME_DIR, 'containers/auth.json'), origin: '$XDG_RUNTIME_DIR', required: false });
  }
  const configHome = env.XDG_CONFIG_HOME || join(home, '.config');
  out.push({ path: join(configHome, 'containers/auth.json'), origin: 'containers default', required: false });
  const dockerDir = env.DOCKER_CONFIG || join(home, '.docker');
  out.push({ path: join(dockerDir, 'config.json'), origin: 'docker config', required: false });
  return out;
}

/**
 * Key of an `auths` entry → `host[/path]` comparable with a registry. Keys may carry a scheme and a
 * docker-style `/v1/` suffix (then only the host counts), and docker.io has several spellings.
 */
export function normalizeAuthKey(key: string): string {
  let k = key.trim();
  const scheme = /^[a-z]+:\/\//i.exec(k);
  if (scheme) {
    k = k.slice(scheme[0].length);
    const slash = k.indexOf('/');
    if (slash >= 0) k = k.slice(0, slash);
  }
  k = k.replace(/\/+$/, '');
  const slash = k.indexOf('/');
  const host = (slash < 0 ? k : k.slice(0, slash)).toLowerCase();
  const path = slash < 0 ? '' : k.slice(slash);
  const dockerHosts = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
  return (dockerHosts.includes(host) ? DOCKER_HUB : host) + path;
}

/** Length of the match of `key` for registry/repository (longer = more specific), or -1. */
function matchLength(key: string, registry: string, repository: string): number {
  const k = normalizeAuthKey(key);
  const slash = k.indexOf('/');
  const host = slash < 0 ? k : k.slice(0, slash);
  if (host !== registry.toLowerCase()) return -1;
  if (slash < 0) return 0;
  const path = k.slice(slash + 1);
  return repository === path || repository.startsWith(`${path}/`) ? path.length : -1;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

function decodeEntry(entry: AuthEntry, file: string, key: string): { username: string; password: string } | string {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    // Buffer.from silently skips bad characters, so check the alphabet first.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(entry.auth.trim())) throw new AuthFileError(`${file}: auths["${key}"].auth is not base64`);
    const text = Buffer.from(entry.auth.trim(), 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon <= 0) throw new AuthFileError(`${file}: auths["${key}"].auth must be base64 of "user:password"`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { username: entry.username, password: entry.password };
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return `${file}: auths["${key}"] holds an identity token (OAuth refresh token), which is not supported; log in with a user name and password`;
  }
  return `${file}: auths["${key}"] has no "auth" value`;
}

function readJson(c: Candidate): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(c.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !c.required) return undefined;
    if (code === 'ENOENT') throw new AuthFileError(`auth file ${c.path} (${c.origin}) does not exist`);
    throw new AuthFileError(`cannot read auth file ${c.path} (${c.origin}): ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AuthFileError(`auth file ${c.path} is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new AuthFileError(`auth file ${c.path} must hold a JSON object`);
  }
  const auths = (json as Record<string, unknown>).auths;
  if (auths !== undefined && (auths === null || typeof auths !== 'object' || Array.isArray(auths))) {
    throw new AuthFileError(`auth file ${c.path}: "auths" must be an object`);
  }
  return json as Record<string, unknown>;
}

function helperNote(json: Record<string, unknown>, file: string, registry: string): string | undefined {
  const helpers = json.credHelpers;
  if (helpers && typeof helpers === 'object') {
    for (const [key, name] of Object.entries(helpers as Record<string, unknown>)) {
      if (normalizeAuthKey(key) === registry.toLowerCase()) {
        return `${file} names credential helper "docker-credential-${String(name)}" for ${registry}; credential helpers are not supported: log in with "podman login --authfile FILE" or store an "auth" entry`;
      }
    }
  }
  if (typeof json.credsStore === 'string' && json.credsStore !== '') {
    return `${file} uses credential store "docker-credential-${json.credsStore}"; credential helpers are not supported: log in with "podman login --authfile FILE" or store an "auth" entry`;
  }
  return undefined;
}

/**
 * Credentials for `registry` (as in the reference, e.g. `docker.io`, `127.0.0.1:5000`) and `repository`.
 * The first file with a usable matching entry wins; within a file the most specific key
 * (`registry/namespace` over `registry`) wins.
 */
export function findCredentials(registry: string, repository: string, opts: AuthFileOptions = {}): CredentialLookup {
  const searched: string[] = [];
  const notes: string[] = [];
  for (const c of authFileCandidates(opts)) {
    const json = readJson(c);
    if (!json) {
      searched.push(`${c.path} (missing)`);
      continue;
    }
    searched.push(c.path);
    const auths = (json.auths ?? {}) as Record<string, AuthEntry>;
    let best: { key: string; len: number } | undefined;
    for (const key of Object.keys(auths).sort()) {
      const len = matchLength(key, registry, repository);
      if (len >= 0 && (!best || len > best.len)) best = { key, len };
    }
    if (best) {
      const entry = auths[best.key];
      if (entry === null || typeof entry !== 'object') throw new AuthFileError(`${c.path}: auths["${best.key}"] must be an object`);
      const decoded = decodeEntry(entry, c.path, best.key);
      if (typeof decoded !== 'string') {
        return { credentials: { ...decoded, file: c.path, key: best.key }, searched, notes };
      }
      notes.push(decoded);
    }
    const helper = helperNote(json, c.path, registry);
    if (helper) notes.push(helper);
  }
  return { searched, notes };
}
