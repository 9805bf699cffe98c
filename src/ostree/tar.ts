// The ostree-container tar stream (tar format v1, "bare-split-xattrs"), spec §2: the commit layer
// (layer 0: commit, detached metadata, every dirtree/dirmeta, the directory skeleton of the rootfs)
// and chunk layers (content objects + hard links at their real paths), entry by entry in the order
// ostree-ext's exporter writes them and its importer requires. Headers follow tar-rs (tar-header.ts),
// so an identical plan gives layers byte-identical to rpm-ostree's.
//
// Streaming: layers are async generators of byte chunks; file contents are read through the
// RootfsView in ranges and re-hashed on the way, so a file that changed since the commit was
// computed fails the export instead of producing an object whose name does not match its bytes.
import type { RootfsView } from '../rootfs/types.ts';
import { DEFAULT_CHUNK, readContent, toCommitPath, type CommitTreeResult, type ContentObject, type MetaObject } from './commit.ts';
import { be32, decode } from './gvariant.ts';
import { compareNames, createContentHash, encodeXattrs, S_IFMT, type ObjectType } from './objects.ts';
import {
  padding, paxEntry, pathComponents, prepareLink, prepareLinkLiteral, preparePath, TarHeader, trailer,
} from './tar-header.ts';

export const REPO_CONFIG = '[core]\nrepo_version=1\nmode=bare-split-xattrs\n';
const REPO = 'sysroot/ostree/repo';
const REPO_SUBDIRS = ['extensions', 'refs', 'refs/heads', 'refs/mirrors', 'refs/remotes', 'state', 'tmp', 'tmp/cache'];
const SELINUX = 'security.selinux';
const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** A content object of a chunk and the commit paths (`usr/etc/…` form) it appears at, in tree order. */
export interface ChunkObject {
  checksum: string;
  paths: string[];
}

export interface OstreeExportInput {
  view: RootfsView;
  commit: CommitTreeResult;
  /** build-chunked-oci --format-version: 2 also writes every parent directory in every layer. */
  formatVersion: 1 | 2;
  /** Detached commit metadata (`.commitmeta`, e.g. signatures), written right after the commit. */
  commitmeta?: Uint8Array;
  /** Bytes per readFile call (default 4 MiB). */
  chunkSize?: number;
}

interface DirInfo {
  uid: number;
  gid: number;
  mode: number;
}

interface TreeInfo {
  files: [name: string, checksum: string][];
  dirs: [name: string, tree: string, meta: string][];
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Decoded dirtree/dirmeta objects of a commit and the dirmeta of every directory path. */
export class CommitIndex {
  readonly commit: CommitTreeResult;
  readonly #trees = new Map<string, TreeInfo>();
  readonly #metas = new Map<string, DirInfo>();
  /** Commit path ('' = root) → dirmeta checksum. */
  readonly dirMeta = new Map<string, string>();

  constructor(commit: CommitTreeResult) {
    this.commit = commit;
    const walk = (path: string, tree: string, meta: string) => {
      this.dirMeta.set(path, meta);
      for (const [name, t, m] of this.tree(tree).dirs) walk(path === '' ? name : `${path}/${name}`, t, m);
    };
    walk('', commit.rootTree, commit.rootMeta);
  }

  meta(checksum: string): DirInfo {
    let m = this.#metas.get(checksum);
    if (m === undefined) {
      const [uid, gid, mode] = decode('(uuua(ayay))', this.object(checksum, 'dirmeta').bytes) as number[];
      m = { uid: be32(uid!), gid: be32(gid!), mode: be32(mode!) };
      this.#metas.set(checksum, m);
    }
    return m;
  }

  tree(checksum: string): TreeInfo {
    let t = this.#trees.get(checksum);
    if (t === undefined) {
      const [files, dirs] = decode('(a(say)a(sayay))', this.object(checksum, 'dirtree').bytes) as [string, Uint8Array, Uint8Array][][];
      t = {
        files: files!.map(([n, c]) => [n, hex(c)]),
        dirs: dirs!.map(([n, tr, m]) => [n, hex(tr), hex(m!)]),
      };
      this.#trees.set(checksum, t);
    }
    return t;
  }

  object(checksum: string, type: MetaObject['type']): MetaObject {
    const o = this.commit.objects.get(checksum);
    if (o === undefined || o.type !== type) throw new Error(`ostree export: ${type} object ${checksum} is missing from the commit`);
    return o as MetaObject;
  }

  content(checksum: string): ContentObject {
    const o = this.commit.objects.get(checksum);
    if (o === undefined || o.type !== 'file') throw new Error(`ostree export: content object ${checksum} is missing from the commit`);
    return o;
  }
}

/** Path of an object in the tar stream. */
export function objectTarPath(checksum: string, type: ObjectType | 'file-xattrs-link'): string {
  return `${REPO}/objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.${type}`;
}

/** `usr/etc…` → `etc…` (ostree-ext map_path_v1), on commit paths without a leading `/`. */
export function tarPathOf(commitPath: string): string {
  return commitPath === 'usr/etc' || commitPath.startsWith('usr/etc/') ? commitPath.slice(4) : commitPath;
}

/** `etc…` → `usr/etc…` (unmap_path). */
function commitPathOf(tarPath: string): string {
  return tarPath === 'etc' || tarPath.startsWith('etc/') ? `usr/${tarPath}` : tarPath;
}

/**
 * Depth-first dirtree order of commit paths: in each directory its files (name order) before its
 * subdirectories (name order). Both arguments are non-directory paths.
 */
export function compareTreeOrder(a: string, b: string): number {
  if (a === b) return 0;
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    if (x[i] === y[i]) continue;
    const xLast = i === x.length - 1;
    const yLast = i === y.length - 1;
    if (xLast !== yLast) return xLast ? -1 : 1;
    return compareNames(x[i]!, y[i]!);
  }
}

/**
 * The chunk holding the given entry paths (of a plan layer): every file and symlink among them,
 * grouped by content object (ascending checksum), each with its commit paths in tree order.
 * Directories and paths the commit does not have (contents of /sysroot) are ignored.
 */
export function chunkObjects(commit: CommitTreeResult, entryPaths: Iterable<string>): ChunkObject[] {
  const byObject = new Map<string, string[]>();
  for (const p of entryPaths) {
    const checksum = commit.files.get(p);
    if (checksum === undefined) continue;
    const commitPath = toCommitPath(p, commit.etcMoved);
    const paths = byObject.get(checksum);
    if (paths === undefined) byObject.set(checksum, [commitPath]);
    else paths.push(commitPath);
  }
  return [...byObject.keys()].sort().map((checksum) => ({ checksum, paths: byObject.get(checksum)!.sort(compareTreeOrder) }));
}

/** Entries for a directory or file owned by root (ostree-ext append_default_dir / _data). */
function defaultEntry(path: string, type: '0' | '5', data?: Uint8Array): Uint8Array[] {
  const h = TarHeader.gnu();
  h.setType(type);
  h.setUid(0);
  h.setGid(0);
  h.setMode(type === '5' ? 0o755 : 0o644);
  h.setSize(data?.length ?? 0);
  return finish(h, path, data);
}

function dirEntry(path: string, d: DirInfo): Uint8Array[] {
  const h = TarHeader.gnu();
  h.setType('5');
  h.setSize(0);
  h.setUid(d.uid);
  h.setGid(d.gid);
  h.setMode(d.mode & ~S_IFMT);
  return finish(h, path);
}

/** tar-rs append_data for in-memory data: [long name], header, data, padding. */
function finish(h: TarHeader, path: string, data?: Uint8Array): Uint8Array[] {
  const pre = preparePath(h, path);
  h.setChecksum();
  const out = [...pre, h.bytes.slice()];
  if (data && data.length > 0) out.push(data, padding(data.length));
  return out;
}

/** The `sysroot/ostree/repo` skeleton every ostree layer starts with (spec §2.3). */
export function repoSkeleton(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of ['sysroot', 'sysroot/ostree', REPO, `${REPO}/objects`]) out.push(...defaultEntry(p, '5'));
  for (let i = 0; i < 256; i++) out.push(...defaultEntry(`${REPO}/objects/${i.toString(16).padStart(2, '0')}`, '5'));
  for (const d of REPO_SUBDIRS) out.push(...defaultEntry(`${REPO}/${d}`, '5'));
  out.push(...defaultEntry(`${REPO}/config`, '0', utf8.encode(REPO_CONFIG)));
  return out;
}

/** A whole chunk layer without objects (the "Reserved for new packages" layer), in memory. */
export function emptyChunkLayer(): Uint8Array {
  return Buffer.concat([...repoSkeleton(), trailer()]);
}

/** What Rust's Path normalization leaves of a symlink target (tar-rs set_link_name). */
function normalizedLink(target: string): string {
  const comps = pathComponents(target);
  let s = '';
  for (const c of comps) s += c.kind === 'root' ? '/' : s === '' || s.endsWith('/') ? c.text : `/${c.text}`;
  return target.endsWith('/') ? `${s}/` : s;
}

/** One layer's writer state (ostree-ext OstreeTarWriter). */
class LayerWriter {
  readonly #x: OstreeExportInput;
  readonly #index: CommitIndex;
  readonly #wroteContent = new Set<string>();
  readonly #wroteDirtree = new Set<string>();
  readonly #wroteDirmeta = new Set<string>();
  /** Read buffer reused for every object of the layer (coalesce copies each piece out of it). */
  #buf: Uint8Array | undefined;

  constructor(x: OstreeExportInput, index: CommitIndex) {
    this.#x = x;
    this.#index = index;
  }

  /** Commit layer part before the remainder objects (write_commit in structure-only mode). */
  *structure(): Generator<Uint8Array> {
    const { commit } = this.#index;
    yield* dirEntry('./', this.#index.meta(commit.rootMeta));
    yield* repoSkeleton();
    yield* defaultEntry(objectTarPath(commit.commit, 'commit'), '0', this.#index.object(commit.commit, 'commit').bytes);
    if (this.#x.commitmeta) yield* defaultEntry(objectTarPath(commit.commit, 'commitmeta'), '0', this.#x.commitmeta);
    yield* this.#meta('dirmeta', commit.rootMeta);
    const state = { varTmp: false };
    yield* this.#dirtree('./', commit.rootTree, true, state);
    // ostree-ext skips the root `sysroot` dirtree (the skeleton made the directory); when no
    // other directory shares its checksum the commit would be missing an object, so add it.
    const sysroot = this.#index.tree(commit.rootTree).dirs.find(([name]) => name === 'sysroot');
    if (sysroot !== undefined) yield* this.#meta('dirtree', sysroot[1]);
    if (!state.varTmp) yield* dirEntry('var/tmp', { uid: 0, gid: 0, mode: 0o1777 });
  }

  *#meta(type: 'dirtree' | 'dirmeta', checksum: string): Generator<Uint8Array> {
    const seen = type === 'dirtree' ? this.#wroteDirtree : this.#wroteDirmeta;
    if (seen.has(checksum)) return;
    seen.add(checksum);
    yield* defaultEntry(objectTarPath(checksum, type), '0', this.#index.object(checksum, type).bytes);
  }

  *#dirtree(dirpath: string, tree: string, isRoot: boolean, state: { varTmp: boolean }): Generator<Uint8Array> {
    yield* this.#meta('dirtree', tree);
    if (dirpath === './var/tmp') state.varTmp = true;
    for (const [name, subtree, meta] of this.#index.tree(tree).dirs) {
      yield* this.#meta('dirmeta', meta);
      if (isRoot && name === 'sysroot') continue;
      let sub = dirpath === './' ? `./${name}` : `${dirpath}/${name}`;
      if (sub === './usr/etc' || sub.startsWith('./usr/etc/')) sub = `./${sub.slice(6)}`;
      yield* dirEntry(sub, this.#index.meta(meta));
      yield* this.#dirtree(sub, subtree, false, state);
    }
  }

  /** write_chunk: each object, then its paths (with parents first in format 2). */
  async *chunk(objects: ChunkObject[]): AsyncGenerator<Uint8Array> {
    const parents = new Set<string>();
    for (const o of objects) {
      const { objPath, header } = yield* this.#content(o.checksum);
      for (const p of o.paths) {
        const path = tarPathOf(p);
        if (this.#x.formatVersion === 2) yield* this.#parents(path, parents);
        yield* hardlink(objPath, header.clone(), path);
      }
    }
  }

  /** append_content: xattrs link, PAX xattrs, the object; returns the header to clone for its paths. */
  async *#content(checksum: string): AsyncGenerator<Uint8Array, { objPath: string; header: TarHeader }> {
    const obj = this.#index.content(checksum);
    const objPath = objectTarPath(checksum, 'file');
    const h = TarHeader.gnu();
    h.setUid(obj.uid);
    h.setGid(obj.gid);
    h.setMode(obj.mode & ~S_IFMT);
    if (obj.kind === 'file') {
      h.setType('0');
      h.setSize(obj.size);
    } else {
      h.setType('2');
      h.setSize(0);
    }
    if (this.#wroteContent.has(checksum)) return { objPath, header: h };
    this.#wroteContent.add(checksum);

    yield* defaultEntry(objectTarPath(checksum, 'file-xattrs-link'), '0', encodeXattrs(obj.xattrs));
    const pax: [string, Uint8Array][] = [];
    for (const [name, value] of obj.xattrs) {
      const key = utf8d.decode(name.subarray(0, name.length - 1));
      if (key !== SELINUX) pax.push([`SCHILY.xattr.${key}`, value]);
    }
    yield* paxEntry(pax);

    if (obj.kind === 'symlink') {
      const target = obj.symlinkTarget;
      // Denormal targets (`a//b`) are written literally by ostree-ext; so are targets that Rust's
      // path normalization would change (`a/./b`), which would otherwise no longer match the object.
      if (normalizedLink(target) !== target) {
        const k = prepareLinkLiteral(h, target);
        yield* k;
        yield* finish(h, objPath);
      } else {
        const l = preparePath(h, objPath);
        const k = prepareLink(h, target);
        h.setChecksum();
        yield* l;
        yield* k;
        yield h.bytes.slice();
      }
      return { objPath, header: h };
    }

    yield* preparePath(h, objPath);
    h.setChecksum();
    yield h.bytes.slice();
    const hash = createContentHash(obj.header);
    this.#buf ??= Buffer.allocUnsafeSlow(this.#x.chunkSize ?? DEFAULT_CHUNK);
    for await (const b of readContent(this.#x.view, obj.source, obj.size, this.#x.chunkSize, this.#buf)) {
      hash.update(b);
      yield b;
    }
    if (hash.digest('hex') !== checksum) {
      throw new Error(`${this.#x.view.description}: '/${obj.source}' changed after it was committed (content no longer matches object ${checksum})`);
    }
    yield padding(obj.size);
    return { objPath, header: h };
  }

  /** write_parents_of: missing parent directories of a tar path, outermost first. */
  *#parents(path: string, cache: Set<string>): Generator<Uint8Array> {
    const slash = path.lastIndexOf('/');
    if (slash < 0) return;
    const parent = path.slice(0, slash);
    if (cache.has(parent)) return;
    yield* this.#parents(parent, cache);
    cache.add(parent);
    const meta = this.#index.dirMeta.get(commitPathOf(parent));
    if (meta === undefined) throw new Error(`ostree export: directory '/${commitPathOf(parent)}' is not in the commit`);
    yield* dirEntry(parent, this.#index.meta(meta));
  }
}

/** append_content_hardlink: an empty regular file for empty objects, else a hard link to the object. */
function hardlink(objPath: string, h: TarHeader, dest: string): Uint8Array[] {
  const emptyRegular = h.type === '0' && h.size === 0;
  h.setSize(0);
  if (!emptyRegular) {
    h.setType('1');
    h.setLinkName(objPath);
  }
  return finish(h, dest);
}

/**
 * Layer 0 (export_final_chunk): the commit, every directory, and the remainder objects (content
 * not assigned to any chunk layer; none when the plan covers the whole rootfs).
 */
export async function* commitLayer(x: OstreeExportInput, remainder: ChunkObject[] = [], index = new CommitIndex(x.commit)): AsyncGenerator<Uint8Array> {
  const w = new LayerWriter(x, index);
  yield* coalesce((async function* () {
    yield* w.structure();
    yield* w.chunk(remainder);
    yield trailer();
  })());
}

/** A chunk layer (export_chunk): the repo skeleton and the chunk's objects. */
export async function* chunkLayer(x: OstreeExportInput, objects: ChunkObject[], index = new CommitIndex(x.commit)): AsyncGenerator<Uint8Array> {
  const w = new LayerWriter(x, index);
  yield* coalesce((async function* () {
    yield* repoSkeleton();
    yield* w.chunk(objects);
    yield trailer();
  })());
}

/**
 * Copies the pieces of a stream into fresh blocks of `target` bytes (the last one shorter): a tar
 * header is 512 bytes, and the sources above reuse their read buffer once the next piece is asked for.
 */
export async function* coalesce(src: AsyncIterable<Uint8Array>, target = 256 * 1024): AsyncGenerator<Uint8Array> {
  let buf = Buffer.allocUnsafeSlow(target);
  let len = 0;
  for await (const b of src) {
    for (let off = 0; off < b.length;) {
      const n = Math.min(b.length - off, target - len);
      buf.set(n === b.length ? b : b.subarray(off, off + n), len);
      len += n;
      off += n;
      if (len === target) {
        yield buf;
        buf = Buffer.allocUnsafeSlow(target);
        len = 0;
      }
    }
  }
  if (len > 0) yield buf.subarray(0, len);
}
