// Turns a scanned root filesystem into an OSTree commit (spec §5, `generate_commit_from_rootfs`
// of rpm-ostree build-chunked-oci): content objects, dirmeta/dirtree per directory, the commit.
// File contents are hashed chunk by chunk (through one reused buffer per worker on a local
// directory) and never kept; only object headers, dirtree/dirmeta bytes and the path → checksum
// map stay in memory.
//
// Ownership and modes are kept as found (build-chunked-oci commits with no modifier flags into a
// bare-user repo, which is checksum-identical to `ostree commit --tree=dir=` into archive or
// bare-user repos; bare-user-only or --canonical-permissions would squash them). Not done here:
// SELinux relabeling from the rootfs policy (build-chunked-oci relabels when the rootfs carries
// an enabled policy); callers with such a rootfs must supply `security.selinux` in the xattrs.
import { lstat } from 'node:fs/promises';
import type { SequentialReads } from '../rootfs/local.ts';
import type { EntryKind, FsEntry, RootfsView } from '../rootfs/types.ts';
import {
  commitObject,
  compareNames,
  createContentHash,
  dirmeta,
  dirtree,
  fileHeader,
  contentChecksum,
  invalidNameReason,
  sha256Hex,
  S_IFDIR,
  S_IFREG,
  SYMLINK_MODE,
  xattrPairs,
  type Metadata,
  type XattrPairs,
} from './objects.ts';

/** Owner, permissions and xattrs of the rootfs root directory (never an entry of a scan). */
export interface RootMeta {
  uid: number;
  gid: number;
  /** Permission bits (S_IFDIR is added). */
  mode: number;
  xattrs?: Record<string, Uint8Array>;
}

export interface CommitTreeOptions {
  root: RootMeta;
  /** Commit timestamp, seconds since the epoch (build-chunked-oci: base image `created` or root mtime). */
  timestamp: number;
  subject?: string;
  body?: string;
  parent?: string;
  /** Commit metadata `a{sv}` in serialization order (build-chunked-oci: none). */
  metadata?: Metadata;
  /**
   * build-chunked-oci conventions (default true): `/sysroot` kept but its contents skipped,
   * `/etc` moved to `/usr/etc`. false = plain `ostree commit --tree=dir=` semantics.
   */
  bootc?: boolean;
  /** Bytes per readFile call while hashing (default 4 MiB). */
  chunkSize?: number;
  /** Files hashed at once (default 4). */
  concurrency?: number;
}

/** A content object: its bytes are the header plus the file contents read from `source`. */
export interface ContentObject {
  type: 'file';
  checksum: string;
  /** `(uuuusa(ayay))` header. */
  header: Uint8Array;
  kind: 'file' | 'symlink';
  uid: number;
  gid: number;
  /** Full st_mode (S_IFREG | perms, or 0120777). */
  mode: number;
  /** Content size in bytes (0 for symlinks). */
  size: number;
  symlinkTarget: string;
  xattrs: XattrPairs;
  /** Entry path (in the view) to read the contents from: the bytewise-smallest entry path. */
  source: string;
  /** Every commit path carrying this object (after /etc → /usr/etc), in entry path order. */
  paths: string[];
}

/** A metadata object, held as its serialized bytes. */
export interface MetaObject {
  type: 'dirtree' | 'dirmeta' | 'commit';
  checksum: string;
  bytes: Uint8Array;
}

export type OstreeObject = ContentObject | MetaObject;

export interface CommitTreeResult {
  commit: string;
  rootTree: string;
  rootMeta: string;
  /** Every object of the commit, keyed by checksum, in a deterministic order. */
  objects: Map<string, OstreeObject>;
  /** Entry path of every committed file and symlink → content checksum. */
  files: Map<string, string>;
  /** Whether /etc was moved to /usr/etc (commit paths of etc/… entries start with usr/etc/…). */
  etcMoved: boolean;
}

export const DEFAULT_CHUNK = 4 << 20;
const SPECIAL: Partial<Record<EntryKind, string>> = {
  chardev: 'a character device', blockdev: 'a block device', fifo: 'a FIFO', socket: 'a socket',
};

/** Commit path of an entry path once /etc has been moved. */
export function toCommitPath(entryPath: string, etcMoved: boolean): string {
  return etcMoved && (entryPath === 'etc' || entryPath.startsWith('etc/')) ? `usr/${entryPath}` : entryPath;
}

/** RootMeta and mtime (seconds) of a local directory: what build-chunked-oci --rootfs uses. */
export async function localRootMeta(dir: string): Promise<RootMeta & { mtime: number }> {
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new Error(`rootfs '${dir}' is not a directory`);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
}

function sequential(view: RootfsView): view is RootfsView & SequentialReads {
  return typeof (view as Partial<SequentialReads>).openFile === 'function';
}

/**
 * Streams a regular file's contents, failing if it no longer has `size` bytes. Views with
 * sequential reads (a local directory) are read with one open per file; when `buffer` is given
 * they fill it for every chunk, so a chunk is valid only until the next one is requested (no
 * allocation per file). Other views are read through readFile, in ranges of `chunkSize`.
 */
export async function* readContent(
  view: RootfsView, path: string, size: number, chunkSize = DEFAULT_CHUNK, buffer?: Uint8Array,
): AsyncGenerator<Uint8Array> {
  const changed = () => new Error(`${view.description}: '/${path}' changed while being read (expected ${size} bytes)`);
  if (sequential(view)) {
    const f = await view.openFile(path);
    try {
      if (f.size !== size) throw changed();
      for (let done = 0; done < size;) {
        const want = Math.min(size - done, buffer?.length ?? chunkSize);
        const target = buffer === undefined ? Buffer.allocUnsafe(want) : buffer.subarray(0, want);
        const n = await f.read(target);
        if (n === 0) throw changed();
        done += n;
        yield n === want ? target : target.subarray(0, n);
      }
    } finally {
      await f.close();
    }
    return;
  }
  if (size <= chunkSize) {
    const b = await view.readFile(path);
    if (b.length !== size) throw changed();
    if (size > 0) yield b;
    return;
  }
  for (let offset = 0; offset < size;) {
    const length = Math.min(chunkSize, size - offset);
    const b = await view.readFile(path, { offset, length });
    if (b.length !== length) throw changed();
    yield b;
    offset += length;
  }
}

interface FileNode {
  entry: FsEntry;
  header: Uint8Array;
  xattrs: XattrPairs;
  checksum?: string;
}

interface DirNode {
  /** Entry path ('' for the root). */
  path: string;
  uid: number;
  gid: number;
  mode: number;
  xattrs: XattrPairs;
  files: Map<string, FileNode>;
  dirs: Map<string, DirNode>;
}

export async function commitTree(view: RootfsView, entries: FsEntry[], opts: CommitTreeOptions): Promise<CommitTreeResult> {
  const desc = view.description;
  const bootc = opts.bootc ?? true;
  const fail = (path: string, why: string) => new Error(`${desc}: cannot commit '/${path}': ${why}`);

  // 1. Select entries the way ostree's directory walk sees them.
  const kept: FsEntry[] = [];
  for (const e of entries) {
    const parts = e.path.split('/');
    for (const name of parts) {
      const why = invalidNameReason(name);
      if (why) throw fail(e.path, `${why} (ostree cannot store it)`);
    }
    const inSysroot = bootc && parts[0] === 'sysroot' && parts.length > 1;
    const special = SPECIAL[e.kind];
    if (special !== undefined) {
      // ostree checks the type of every child of a directory it visits before the filter runs,
      // so special files directly in /sysroot fail too; deeper ones are never visited.
      if (inSysroot && parts.length > 2) continue;
      throw fail(e.path, `it is ${special}; ostree commits only regular files, symlinks and directories`);
    }
    if (inSysroot) continue;
    kept.push(e);
  }
  // Sorted, so that objects, `source` and `paths` do not depend on the caller's entry order.
  kept.sort((a, b) => compareNames(a.path, b.path));

  // 2. Build the directory tree.
  const rootNode: DirNode = {
    path: '', uid: opts.root.uid, gid: opts.root.gid, mode: S_IFDIR | opts.root.mode,
    xattrs: xattrPairs(opts.root.xattrs, `${desc}: '/'`), files: new Map(), dirs: new Map(),
  };
  const dirs = new Map<string, DirNode>([['', rootNode]]);
  for (const e of kept) {
    if (e.kind !== 'dir') continue;
    if (dirs.has(e.path)) throw fail(e.path, 'listed twice');
    dirs.set(e.path, {
      path: e.path, uid: e.uid, gid: e.gid, mode: S_IFDIR | e.mode, xattrs: xattrPairs(e.xattrs, `${desc}: '/${e.path}'`),
      files: new Map(), dirs: new Map(),
    });
  }
  const fileNodes: FileNode[] = [];
  for (const e of kept) {
    const slash = e.path.lastIndexOf('/');
    const parentPath = slash < 0 ? '' : e.path.slice(0, slash);
    const name = e.path.slice(slash + 1);
    const parent = dirs.get(parentPath);
    if (parent === undefined) throw fail(e.path, `its parent directory '/${parentPath}' is not in the entry list`);
    if (parent.files.has(name) || (e.kind !== 'dir' && parent.dirs.has(name))) throw fail(e.path, 'listed twice');
    if (e.kind === 'dir') {
      parent.dirs.set(name, dirs.get(e.path)!);
      continue;
    }
    const where = `${desc}: '/${e.path}'`;
    const xattrs = xattrPairs(e.xattrs, where);
    const symlink = e.kind === 'symlink';
    if (symlink && !e.target) throw fail(e.path, 'symlink without a target');
    const header = fileHeader({
      uid: e.uid, gid: e.gid, mode: symlink ? SYMLINK_MODE : S_IFREG | e.mode, symlinkTarget: symlink ? e.target! : '', xattrs,
    }, where);
    const node: FileNode = { entry: e, header, xattrs };
    parent.files.set(name, node);
    fileNodes.push(node);
  }

  // 3. /etc → /usr/etc (rpm-ostree postprocess_mtree).
  let etcMoved = false;
  if (bootc) {
    const etc = rootNode.dirs.get('etc');
    const usr = rootNode.dirs.get('usr');
    if (rootNode.files.has('etc')) throw fail('etc', 'build-chunked-oci requires /etc to be a directory, not a symlink or file');
    if (usr?.files.has('etc')) throw fail('usr/etc', 'build-chunked-oci requires /usr/etc to be a directory, not a symlink or file');
    if (etc !== undefined) {
      if (usr === undefined) throw new Error(`${desc}: cannot move /etc to /usr/etc: the rootfs has no /usr directory`);
      if (usr.dirs.has('etc')) throw new Error(`${desc}: found both /etc and /usr/etc (build-chunked-oci needs exactly one of them)`);
      rootNode.dirs.delete('etc');
      usr.dirs.set('etc', etc);
      etcMoved = true;
    }
  }

  // 4. Content checksums (hard-link groups are hashed once).
  const byGroup = new Map<string, FileNode>();
  const todo: FileNode[] = [];
  for (const node of fileNodes) {
    const e = node.entry;
    if (e.kind === 'symlink') {
      node.checksum = contentChecksum(node.header);
      continue;
    }
    const first = e.linkGroup === undefined ? undefined : byGroup.get(e.linkGroup);
    if (first !== undefined && first.entry.size === e.size && Buffer.compare(first.header, node.header) === 0) continue;
    if (e.linkGroup !== undefined && first === undefined) byGroup.set(e.linkGroup, node);
    todo.push(node);
  }
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  // One read buffer per worker, reused for every file it hashes (hashing consumes each chunk at once).
  const buffers: (Uint8Array | undefined)[] = [];
  const reuse = sequential(view);
  await runPool(todo, Math.max(1, opts.concurrency ?? 4), async (node) => {
    const buf = buffers.length > 0 ? buffers.pop() : reuse ? Buffer.allocUnsafeSlow(chunkSize) : undefined;
    try {
      const h = createContentHash(node.header);
      for await (const chunk of readContent(view, node.entry.path, node.entry.size, chunkSize, buf)) h.update(chunk);
      node.checksum = h.digest('hex');
    } finally {
      buffers.push(buf);
    }
  });
  for (const node of fileNodes) {
    if (node.checksum === undefined) node.checksum = byGroup.get(node.entry.linkGroup!)!.checksum;
  }

  // 5. Objects: content objects in path order, then dirs bottom-up, then the commit.
  const objects = new Map<string, OstreeObject>();
  const files = new Map<string, string>();
  for (const node of fileNodes) {
    const e = node.entry;
    const checksum = node.checksum!;
    files.set(e.path, checksum);
    const commitPath = toCommitPath(e.path, etcMoved);
    const seen = objects.get(checksum);
    if (seen !== undefined) {
      (seen as ContentObject).paths.push(commitPath);
      continue;
    }
    const symlink = e.kind === 'symlink';
    objects.set(checksum, {
      type: 'file', checksum, header: node.header, kind: symlink ? 'symlink' : 'file', uid: e.uid, gid: e.gid,
      mode: symlink ? SYMLINK_MODE : S_IFREG | e.mode, size: symlink ? 0 : e.size,
      symlinkTarget: symlink ? e.target! : '', xattrs: node.xattrs, source: e.path, paths: [commitPath],
    });
  }
  const addMeta = (type: MetaObject['type'], bytes: Uint8Array): string => {
    const checksum = sha256Hex(bytes);
    if (!objects.has(checksum)) objects.set(checksum, { type, checksum, bytes });
    return checksum;
  };
  const writeDir = (d: DirNode): { tree: string; meta: string } => {
    const where = `${desc}: '/${d.path}'`;
    const subdirs = [...d.dirs].sort((a, b) => compareNames(a[0], b[0]))
      .map(([name, child]) => ({ name, ...writeDir(child) }));
    const fileList = [...d.files].map(([name, f]) => ({ name, checksum: f.checksum! }));
    const tree = addMeta('dirtree', dirtree(fileList, subdirs, where));
    const meta = addMeta('dirmeta', dirmeta({ uid: d.uid, gid: d.gid, mode: d.mode, xattrs: d.xattrs }, where));
    return { tree, meta };
  };
  const root = writeDir(rootNode);
  const commit = addMeta('commit', commitObject({
    metadata: opts.metadata, parent: opts.parent, subject: opts.subject, body: opts.body,
    timestamp: opts.timestamp, rootTree: root.tree, rootMeta: root.meta,
  }));
  return { commit, rootTree: root.tree, rootMeta: root.meta, objects, files, etcMoved };
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure rejects. */
async function runPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failed = true; // stop the other workers from starting more reads
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
