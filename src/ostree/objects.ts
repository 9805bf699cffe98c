// OSTree object encodings and checksums (spec §1.3–1.7): content object headers, dirmeta,
// dirtree, commit and detached commit metadata. ostree's own integers (uid, gid, mode, rdev,
// timestamp) are big-endian in the bytes; GVariant framing is little-endian.
import { compareBytewise } from '../util/order.ts';
import { createHash, type Hash } from 'node:crypto';
import { be32, be64, encode, type GValue, type Variant } from './gvariant.ts';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
/** ostree hashes every symlink with this mode, whatever lstat says. */
export const SYMLINK_MODE = S_IFLNK | 0o777;

export type ObjectType = 'file' | 'dirtree' | 'dirmeta' | 'commit' | 'commitmeta';

/** Extended attributes as ostree serializes them: (name + NUL, value), sorted by name bytes. */
export type XattrPairs = [name: Uint8Array, value: Uint8Array][];

/** Ordered commit metadata `a{sv}` entries. */
export type Metadata = [key: string, value: Variant][];

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Lowercase hex sha256. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `objects/ab/cdef….<type>` (relative to a repository). */
export function objectPath(checksum: string, type: ObjectType): string {
  return `objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.${type}`;
}

/** Raw 32 bytes of a hex checksum; rejects anything but 64 lowercase hex digits. */
export function checksumBytes(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`invalid ostree checksum '${hex}' (want 64 lowercase hex digits)`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** ostree sorts names and xattrs like C strcmp on the UTF-8 bytes. */
export const compareNames = compareBytewise;

/**
 * Converts extended attributes to ostree's canonical list: names NUL-terminated, sorted by
 * byte order (ostree ≥ 2024.10 sorts unconditionally; libglnx always read them sorted).
 */
export function xattrPairs(xattrs: Record<string, Uint8Array> | undefined, where = 'xattrs'): XattrPairs {
  if (!xattrs) return [];
  const pairs: XattrPairs = [];
  for (const [name, value] of Object.entries(xattrs)) {
    if (name === '' || name.includes('\0') || !name.isWellFormed()) {
      throw new Error(`${where}: invalid extended attribute name ${JSON.stringify(name)}`);
    }
    const n = utf8.encode(name);
    const z = new Uint8Array(n.length + 1);
    z.set(n);
    pairs.push([z, value]);
  }
  return pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
}

/** `a(ayay)` bytes of an xattr list (the `.file-xattrs` object body in bare-split-xattrs repos). */
export function encodeXattrs(xattrs: XattrPairs): Uint8Array {
  return encode('a(ayay)', xattrs);
}

function checkMode(mode: number, type: number, what: string): void {
  if (!Number.isInteger(mode) || (mode & S_IFMT) !== type || (mode & ~(S_IFMT | 0o7777)) !== 0) {
    throw new Error(`${what}: invalid mode 0${(mode >>> 0).toString(8)}`);
  }
}

function checkId(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`${what}: invalid uid/gid ${n}`);
}

export interface FileMeta {
  uid: number;
  gid: number;
  /** Full st_mode: S_IFREG | perms, or SYMLINK_MODE. */
  mode: number;
  /** '' for regular files. */
  symlinkTarget: string;
  xattrs: XattrPairs;
}

/** Content object header `(uuuusa(ayay))` = (uid, gid, mode, rdev 0, symlink target, xattrs). */
export function fileHeader(meta: FileMeta, where = 'file'): Uint8Array {
  checkId(meta.uid, where);
  checkId(meta.gid, where);
  if ((meta.mode & S_IFMT) === S_IFLNK) {
    if (meta.mode !== SYMLINK_MODE) throw new Error(`${where}: symlinks must have mode 0120777`);
    if (meta.symlinkTarget === '') throw new Error(`${where}: empty symlink target`);
  } else {
    checkMode(meta.mode, S_IFREG, where);
    if (meta.symlinkTarget !== '') throw new Error(`${where}: a regular file cannot have a symlink target`);
  }
  const value: GValue = [be32(meta.uid), be32(meta.gid), be32(meta.mode), 0, meta.symlinkTarget, meta.xattrs];
  return encode('(uuuusa(ayay))', value);
}

/** The 8 bytes hashed before the header: BE32(header length) and 4 zero bytes. */
export function contentChecksumPrefix(header: Uint8Array): Uint8Array {
  const p = new Uint8Array(8);
  new DataView(p.buffer).setUint32(0, header.length, false);
  return p;
}

/** A sha256 already fed with the header framing; update it with the file bytes, then digest('hex'). */
export function createContentHash(header: Uint8Array): Hash {
  return createHash('sha256').update(contentChecksumPrefix(header)).update(header);
}

/** Checksum of a content object whose bytes are all at hand (symlinks: no content). */
export function contentChecksum(header: Uint8Array, content: Uint8Array = EMPTY): string {
  return createContentHash(header).update(content).digest('hex');
}

export interface DirMeta {
  uid: number;
  gid: number;
  /** Full st_mode: S_IFDIR | perms. */
  mode: number;
  xattrs: XattrPairs;
}

/** dirmeta `(uuua(ayay))`. */
export function dirmeta(meta: DirMeta, where = 'directory'): Uint8Array {
  checkId(meta.uid, where);
  checkId(meta.gid, where);
  checkMode(meta.mode, S_IFDIR, where);
  return encode('(uuua(ayay))', [be32(meta.uid), be32(meta.gid), be32(meta.mode), meta.xattrs]);
}

/** Why ostree would refuse `name` as a file name (ot_util_filename_validate), or undefined. */
export function invalidNameReason(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (name === '.' || name === '..') return `'${name}' is not a valid name`;
  if (name.includes('/')) return "name contains '/'";
  if (name.includes('\0')) return 'name contains NUL';
  if (!name.isWellFormed()) return 'name is not valid UTF-8';
  return undefined;
}

export interface DirTreeFile {
  name: string;
  /** Content object checksum. */
  checksum: string;
}

export interface DirTreeDir {
  name: string;
  /** dirtree checksum. */
  tree: string;
  /** dirmeta checksum. */
  meta: string;
}

/** dirtree `(a(say)a(sayay))`; entries are sorted here (strcmp order, files and dirs separately). */
export function dirtree(files: DirTreeFile[], dirs: DirTreeDir[], where = 'directory'): Uint8Array {
  const seen = new Set<string>();
  for (const { name } of [...files, ...dirs]) {
    const why = invalidNameReason(name);
    if (why) throw new Error(`${where}: ${why}: ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new Error(`${where}: duplicate entry ${JSON.stringify(name)}`);
    seen.add(name);
  }
  const f = [...files].sort((a, b) => compareNames(a.name, b.name)).map((e) => [e.name, checksumBytes(e.checksum)]);
  const d = [...dirs]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((e) => [e.name, checksumBytes(e.tree), checksumBytes(e.meta)]);
  return encode('(a(say)a(sayay))', [f, d]);
}

export interface CommitFields {
  /** `a{sv}` entries in the order to serialize (see sortedMetadata). */
  metadata?: Metadata;
  /** Parent commit checksum, if any. */
  parent?: string;
  subject?: string;
  body?: string;
  /** Seconds since the epoch, UTC. */
  timestamp: number | bigint;
  rootTree: string;
  rootMeta: string;
}

/** commit `(a{sv}aya(say)sstayay)`; "related objects" is always empty. */
export function commitObject(c: CommitFields): Uint8Array {
  const ts = BigInt(c.timestamp);
  if (ts < 0n || ts > 0xffffffffffffffffn) throw new Error(`commit: invalid timestamp ${c.timestamp}`);
  return encode('(a{sv}aya(say)sstayay)', [
    metadataValue(c.metadata ?? []),
    c.parent === undefined ? EMPTY : checksumBytes(c.parent),
    [],
    c.subject ?? '',
    c.body ?? '',
    be64(ts),
    checksumBytes(c.rootTree),
    checksumBytes(c.rootMeta),
  ]);
}

/** Detached commit metadata `a{sv}` (the `.commitmeta` object; holds signatures). */
export function commitmeta(metadata: Metadata): Uint8Array {
  return encode('a{sv}', metadataValue(metadata));
}

function metadataValue(metadata: Metadata): GValue {
  const keys = new Set<string>();
  for (const [k] of metadata) {
    if (keys.has(k)) throw new Error(`commit metadata: duplicate key '${k}'`);
    keys.add(k);
  }
  return metadata.map(([k, v]) => [k, v]);
}

/** Metadata from a record, keys in byte order (our deterministic choice; ostree uses hash order). */
export function sortedMetadata(record: Record<string, Variant>): Metadata {
  return Object.entries(record).sort((a, b) => compareNames(a[0], b[0]));
}
