// ExecOp options and their normalization into the mount table Go's client
// builds: non-secret mounts sorted by dest (root "/" first), secrets after;
// outputs numbered 0.. over writable bind mounts in that order.
import { compareBytewise } from '../util/order.ts';
import { LlbError } from './errors.ts';
import type { State } from './state.ts';

export interface BindMount {
  type?: 'bind';
  dest: string;
  /** Mounted state; omitted or scratch = empty directory. */
  state?: State;
  /** Sub-path of `state` to mount. */
  selector?: string;
  readonly?: boolean;
  /** Whether the mount's final content becomes an output state (default: true unless readonly). */
  output?: boolean;
}
export interface CacheMount {
  type: 'cache';
  dest: string;
  cacheId: string;
  sharing?: 'shared' | 'private' | 'locked';
  /** Initial content for a new cache. */
  state?: State;
  selector?: string;
}
export interface TmpfsMount {
  type: 'tmpfs';
  dest: string;
  /** Size limit in bytes (cap exec.mount.tmpfs.size). */
  size?: number;
}
export interface SecretMount {
  type: 'secret';
  dest: string;
  secretId: string;
  uid?: number;
  gid?: number;
  /** Default 0o400, like Go's llb.AddSecret. */
  mode?: number;
  optional?: boolean;
}
export type MountSpec = BindMount | CacheMount | TmpfsMount | SecretMount;

export interface RunOptions {
  args: readonly string[];
  /** `K=V` strings, or a record (insertion order is kept). */
  env?: readonly string[] | Readonly<Record<string, string>>;
  /** Default "/". */
  cwd?: string;
  user?: string;
  hostname?: string;
  network?: 'sandbox' | 'host' | 'none';
  security?: 'sandbox' | 'insecure';
  validExitCodes?: readonly number[];
  mounts?: readonly MountSpec[];
}

/** A mount as encoded, with the op output number it produces (-1 = none). */
export type NormalMount =
  | { readonly type: 'bind'; readonly dest: string; readonly state: State | undefined; readonly selector: string; readonly readonly: boolean; readonly output: number }
  | { readonly type: 'cache'; readonly dest: string; readonly state: State | undefined; readonly selector: string; readonly cacheId: string; readonly sharing: 0 | 1 | 2; readonly output: -1 }
  | { readonly type: 'tmpfs'; readonly dest: string; readonly size: number; readonly output: -1 }
  | { readonly type: 'secret'; readonly dest: string; readonly secretId: string; readonly uid: number; readonly gid: number; readonly mode: number; readonly optional: boolean; readonly output: -1 };

export interface NormalRun {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly hostname: string;
  readonly network: 0 | 1 | 2;
  readonly security: 0 | 1;
  readonly validExitCodes: readonly number[] | undefined;
  readonly mounts: readonly NormalMount[];
}

const SHARING = { shared: 0, private: 1, locked: 2 } as const;
const NETWORK = { sandbox: 0, host: 1, none: 2 } as const;
const SECURITY = { sandbox: 0, insecure: 1 } as const;

function cleanAbs(p: string, what: string): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new LlbError(`${what}: must be an absolute path, got ${JSON.stringify(p)}`);
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}


/** Validates `opts` and lays out the mounts; `root` is the state run() was called on. */
export function normalizeRun(root: State, opts: RunOptions): NormalRun {
  const what = `run ${JSON.stringify(opts?.args?.[0] ?? '')}`;
  if (!Array.isArray(opts.args) || opts.args.length === 0 || opts.args.some((a) => typeof a !== 'string')) {
    throw new LlbError(`${what}: args must be a non-empty array of strings`);
  }
  if (opts.args[0] === '') throw new LlbError(`${what}: args[0] (the program) must not be empty`);

  const env: string[] = [];
  if (Array.isArray(opts.env)) {
    for (const e of opts.env as readonly string[]) {
      if (typeof e !== 'string' || e.indexOf('=') <= 0) throw new LlbError(`${what}: env entry ${JSON.stringify(e)} must be KEY=VALUE`);
      env.push(e);
    }
  } else if (opts.env !== undefined) {
    for (const [k, v] of Object.entries(opts.env)) {
      if (k === '' || k.includes('=')) throw new LlbError(`${what}: env name ${JSON.stringify(k)} is invalid`);
      if (typeof v !== 'string') throw new LlbError(`${what}: env ${k} must be a string`);
      env.push(`${k}=${v}`);
    }
  }
  const cwd = opts.cwd === undefined ? '/' : cleanAbs(opts.cwd, `${what}: cwd`);
  const network = NETWORK[opts.network ?? 'sandbox'];
  if (network === undefined) throw new LlbError(`${what}: network must be sandbox, host or none`);
  const security = SECURITY[opts.security ?? 'sandbox'];
  if (security === undefined) throw new LlbError(`${what}: security must be sandbox or insecure`);
  if (opts.validExitCodes !== undefined && opts.validExitCodes.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
    throw new LlbError(`${what}: validExitCodes must be integers in 0..255`);
  }

  type Pending = (NormalMount extends infer M ? (M extends NormalMount ? Omit<M, 'output'> : never) : never) & { wantsOutput: boolean };
  const plain: Pending[] = [{ type: 'bind', dest: '/', state: stateOrScratch(root), selector: '', readonly: false, wantsOutput: true }];
  const secrets: NormalMount[] = [];
  const seen = new Set<string>(['/']);
  for (const m of opts.mounts ?? []) {
    const dest = cleanAbs(m.dest, `${what}: mount dest`);
    const mw = `${what}: mount ${dest}`;
    if (seen.has(dest)) throw new LlbError(`${mw}: ${dest === '/' ? 'the root mount is implicit (run() is called on it)' : 'duplicate mount destination'}`);
    seen.add(dest);
    switch (m.type ?? 'bind') {
      case 'bind': {
        const b = m as BindMount;
        const ro = b.readonly === true;
        if (ro && b.output === true) throw new LlbError(`${mw}: a readonly mount cannot be an output`);
        plain.push({ type: 'bind', dest, state: stateOrScratch(b.state), selector: selector(b.selector, mw), readonly: ro, wantsOutput: !ro && b.output !== false });
        break;
      }
      case 'cache': {
        const c = m as CacheMount;
        if (typeof c.cacheId !== 'string' || c.cacheId === '') throw new LlbError(`${mw}: cache mounts need a non-empty cacheId`);
        const sharing = SHARING[c.sharing ?? 'shared'];
        if (sharing === undefined) throw new LlbError(`${mw}: sharing must be shared, private or locked`);
        plain.push({ type: 'cache', dest, state: stateOrScratch(c.state), selector: selector(c.selector, mw), cacheId: c.cacheId, sharing, wantsOutput: false });
        break;
      }
      case 'tmpfs': {
        const t = m as TmpfsMount;
        if (t.size !== undefined && (!Number.isSafeInteger(t.size) || t.size < 0)) throw new LlbError(`${mw}: tmpfs size must be a non-negative integer`);
        plain.push({ type: 'tmpfs', dest, size: t.size ?? 0, wantsOutput: false });
        break;
      }
      case 'secret': {
        const s = m as SecretMount;
        if (typeof s.secretId !== 'string' || s.secretId === '') throw new LlbError(`${mw}: secret mounts need a non-empty secretId`);
        for (const [k, v] of [['uid', s.uid], ['gid', s.gid], ['mode', s.mode]] as const) {
          if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw new LlbError(`${mw}: secret ${k} out of range`);
        }
        secrets.push({ type: 'secret', dest, secretId: s.secretId, uid: s.uid ?? 0, gid: s.gid ?? 0, mode: s.mode ?? 0o400, optional: s.optional === true, output: -1 });
        break;
      }
      default:
        throw new LlbError(`${mw}: unknown mount type ${JSON.stringify((m as { type: unknown }).type)}`);
    }
  }
  plain.sort((a, b) => compareBytewise(a.dest, b.dest));
  let next = 0;
  const mounts: NormalMount[] = plain.map(({ wantsOutput, ...m }) =>
    ({ ...m, output: wantsOutput ? next++ : -1 }) as NormalMount);
  return {
    args: [...opts.args],
    env,
    cwd,
    user: opts.user ?? '',
    hostname: opts.hostname ?? '',
    network,
    security,
    validExitCodes: opts.validExitCodes ? [...opts.validExitCodes] : undefined,
    mounts: [...mounts, ...secrets],
  };
}

function stateOrScratch(s: State | undefined): State | undefined {
  return s === undefined || s.isScratch ? undefined : s;
}

function selector(sel: string | undefined, what: string): string {
  if (sel === undefined || sel === '') return '';
  if (typeof sel !== 'string' || sel.includes('\0')) throw new LlbError(`${what}: bad selector`);
  return sel;
}
