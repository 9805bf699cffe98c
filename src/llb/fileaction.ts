// FileOp actions as an immutable chain, like Go's llb.Mkdir(...).Copy(...):
// a chain passed to State.file() becomes ONE FileOp whose actions are applied
// in order to one writable copy (one snapshot, one layer).
import { posix } from 'node:path';
import { LlbError } from './errors.ts';
import type { State } from './state.ts';

/** uid/gid number, or a user/group name looked up in the base state's /etc files. */
export type UserRef = number | string;
export interface Owner {
  user: UserRef;
  group?: UserRef;
}

interface TimeOption {
  /**
   * Unix nanoseconds; omitted = -1 ("now" for new entries, source times for copies).
   * Prefer bigint: a number is accepted when it is an integer (seconds * 1e9 is
   * exact for any realistic epoch), but larger odd values lose precision.
   */
  timestamp?: bigint | number;
}

export interface CopyOptions extends TimeOption {
  /** Permission bits, or a chmod-style string such as `u+x` (cap file.copy.modestring). Omitted = keep (-1). */
  mode?: number | string;
  owner?: Owner;
  followSymlink?: boolean;
  dirCopyContents?: boolean;
  attemptUnpack?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
  requiredPaths?: readonly string[];
  alwaysReplaceExistingDestPaths?: boolean;
}
export interface MkdirOptions extends TimeOption {
  makeParents?: boolean;
  owner?: Owner;
}
export interface MkfileOptions extends TimeOption {
  owner?: Owner;
}
export interface SymlinkOptions extends TimeOption {
  owner?: Owner;
}
export interface RmOptions {
  allowNotFound?: boolean;
  allowWildcard?: boolean;
}

export type FileActionSpec =
  | { readonly kind: 'copy'; readonly source: State; readonly src: string; readonly dest: string; readonly opts: CopyOptions }
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number; readonly opts: MkdirOptions }
  | { readonly kind: 'mkfile'; readonly path: string; readonly mode: number; readonly data: Uint8Array; readonly opts: MkfileOptions }
  | { readonly kind: 'rm'; readonly path: string; readonly opts: RmOptions }
  | { readonly kind: 'symlink'; readonly oldpath: string; readonly newpath: string; readonly opts: SymlinkOptions };

export class FileAction {
  readonly prev: FileAction | undefined;
  readonly spec: FileActionSpec;

  constructor(spec: FileActionSpec, prev?: FileAction) {
    this.spec = spec;
    this.prev = prev;
    Object.freeze(this);
  }

  /** Copies `src` of `source` (scratch allowed) to `dest`; a trailing `/` on dest means "into". */
  copy(source: State, src: string, dest: string, opts: CopyOptions = {}): FileAction {
    return new FileAction(copySpec(source, src, dest, opts), this);
  }
  mkdir(path: string, mode: number, opts: MkdirOptions = {}): FileAction {
    return new FileAction(mkdirSpec(path, mode, opts), this);
  }
  mkfile(path: string, mode: number, data: Uint8Array | string, opts: MkfileOptions = {}): FileAction {
    return new FileAction(mkfileSpec(path, mode, data, opts), this);
  }
  rm(path: string, opts: RmOptions = {}): FileAction {
    return new FileAction(rmSpec(path, opts), this);
  }
  /** Creates symlink `newpath` pointing at `oldpath` (kept verbatim, may be relative). */
  symlink(oldpath: string, newpath: string, opts: SymlinkOptions = {}): FileAction {
    return new FileAction(symlinkSpec(oldpath, newpath, opts), this);
  }

  /** Actions first to last. */
  list(): FileActionSpec[] {
    const out: FileActionSpec[] = [];
    for (let a: FileAction | undefined = this; a !== undefined; a = a.prev) out.push(a.spec);
    return out.reverse();
  }
}

/** A copy action; with `after`, appended to that chain (so callers building a chain in a loop need no first case). */
export function copy(source: State, src: string, dest: string, opts: CopyOptions = {}, after?: FileAction): FileAction {
  return new FileAction(copySpec(source, src, dest, opts), after);
}
/** A mkdir action; with `after`, appended to that chain. */
export function mkdir(path: string, mode: number, opts: MkdirOptions = {}, after?: FileAction): FileAction {
  return new FileAction(mkdirSpec(path, mode, opts), after);
}
export function mkfile(path: string, mode: number, data: Uint8Array | string, opts: MkfileOptions = {}): FileAction {
  return new FileAction(mkfileSpec(path, mode, data, opts));
}
export function rm(path: string, opts: RmOptions = {}): FileAction {
  return new FileAction(rmSpec(path, opts));
}
export function symlink(oldpath: string, newpath: string, opts: SymlinkOptions = {}): FileAction {
  return new FileAction(symlinkSpec(oldpath, newpath, opts));
}

/**
 * Go's normalizePath with the state directory "/": cleaned absolute path; with
 * keepSlash a trailing "/" or "/." of the original is kept (copy dest "into dir").
 */
export function normalizePath(p: string, keepSlash: boolean): string {
  let out = clean(p);
  if (keepSlash) {
    if (p.endsWith('/') && !out.endsWith('/')) out += '/';
    else if (p.endsWith('/.')) out = (out === '/' ? '' : out) + '/.';
  }
  return out;
}

function clean(p: string): string {
  const n = posix.normalize(posix.join('/', p));
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function needPath(p: unknown, what: string): string {
  if (typeof p !== 'string' || p === '') throw new LlbError(`${what}: path must be a non-empty string`);
  if (p.includes('\0')) throw new LlbError(`${what} ${JSON.stringify(p)}: path contains a NUL byte`);
  return p;
}

function checkPermMode(mode: number, what: string): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new LlbError(`${what}: mode ${String(mode)} must be an integer in 0..0o777 (BuildKit masks setuid/setgid/sticky bits here)`);
  }
  return mode;
}

function checkTimestamp(t: bigint | number | undefined, what: string): void {
  if (t === undefined) return;
  if (typeof t === 'number' && !Number.isInteger(t)) throw new LlbError(`${what}: timestamp ${t} must be an integer of Unix nanoseconds`);
  if (typeof t !== 'bigint' && typeof t !== 'number') throw new LlbError(`${what}: timestamp must be a bigint of Unix nanoseconds`);
  const b = BigInt(t);
  if (b < 0n || b > 0x7fffffffffffffffn) throw new LlbError(`${what}: timestamp ${t} out of range (0..2^63-1 ns)`);
}

function checkOwner(o: Owner | undefined, what: string): void {
  if (o === undefined) return;
  for (const [k, v] of [['user', o.user], ['group', o.group]] as const) {
    if (v === undefined) continue;
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new LlbError(`${what}: owner ${k} id ${v} out of range`);
    } else if (typeof v !== 'string' || v === '' || v.includes(':')) {
      throw new LlbError(`${what}: owner ${k} must be a number or a non-empty name without ':'`);
    }
  }
}

function checkPatterns(list: readonly string[] | undefined, what: string): void {
  if (list === undefined) return;
  for (const p of list) {
    if (typeof p !== 'string' || p === '') throw new LlbError(`${what}: patterns must be non-empty strings`);
  }
}

function copySpec(source: State, src: string, dest: string, opts: CopyOptions): FileActionSpec {
  const what = `copy ${JSON.stringify(src)} -> ${JSON.stringify(dest)}`;
  needPath(src, what);
  needPath(dest, what);
  if (source === undefined || source === null || typeof source !== 'object' || !('isScratch' in source)) {
    throw new LlbError(`${what}: source must be an llb State (use scratch() for an empty one)`);
  }
  if (typeof opts.mode === 'number') {
    if (!Number.isInteger(opts.mode) || opts.mode < 0 || opts.mode > 0o7777) throw new LlbError(`${what}: mode ${opts.mode} must be an integer in 0..0o7777`);
  } else if (opts.mode !== undefined && (typeof opts.mode !== 'string' || opts.mode === '')) {
    throw new LlbError(`${what}: mode must be a number or a non-empty chmod string`);
  }
  checkTimestamp(opts.timestamp, what);
  checkOwner(opts.owner, what);
  checkPatterns(opts.includePatterns, what);
  checkPatterns(opts.excludePatterns, what);
  checkPatterns(opts.requiredPaths, what);
  if (opts.requiredPaths?.length && !opts.includePatterns?.length) {
    throw new LlbError(`${what}: requiredPaths needs includePatterns`);
  }
  return { kind: 'copy', source, src, dest, opts: { ...opts } };
}

function mkdirSpec(path: string, mode: number, opts: MkdirOptions): FileActionSpec {
  const what = `mkdir ${JSON.stringify(path)}`;
  needPath(path, what);
  checkPermMode(mode, what);
  checkTimestamp(opts.timestamp, what);
  checkOwner(opts.owner, what);
  return { kind: 'mkdir', path, mode, opts: { ...opts } };
}

function mkfileSpec(path: string, mode: number, data: Uint8Array | string, opts: MkfileOptions): FileActionSpec {
  const what = `mkfile ${JSON.stringify(path)}`;
  needPath(path, what);
  checkPermMode(mode, what);
  checkTimestamp(opts.timestamp, what);
  checkOwner(opts.owner, what);
  let bytes: Uint8Array;
  if (typeof data === 'string') bytes = new TextEncoder().encode(data);
  else if (data instanceof Uint8Array) bytes = data;
  else throw new LlbError(`${what}: data must be a string or Uint8Array`);
  return { kind: 'mkfile', path, mode, data: bytes, opts: { ...opts } };
}

function rmSpec(path: string, opts: RmOptions): FileActionSpec {
  needPath(path, `rm ${JSON.stringify(path)}`);
  return { kind: 'rm', path, opts: { ...opts } };
}

function symlinkSpec(oldpath: string, newpath: string, opts: SymlinkOptions): FileActionSpec {
  const what = `symlink ${JSON.stringify(newpath)} -> ${JSON.stringify(oldpath)}`;
  needPath(oldpath, what);
  needPath(newpath, what);
  checkTimestamp(opts.timestamp, what);
  checkOwner(opts.owner, what);
  return { kind: 'symlink', oldpath, newpath, opts: { ...opts } };
}
