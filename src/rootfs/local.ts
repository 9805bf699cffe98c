// RootfsView over a directory on the local disk (the CLI's `--rootfs DIR`).
//
// Symlinks inside the tree are resolved *within* the root (chroot semantics): an absolute target
// such as `lib -> /usr/lib` means `<root>/usr/lib`, and `..` never climbs above the root, so a
// rootfs on a host can never make us read host files. Extended attributes are not read: Node has
// no xattr API and we do not shell out, so `xattrs` stays undefined (user.component overrides need
// a view that can read them, e.g. the gateway view).
import { lstat, open, readlink } from 'node:fs/promises';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { ByteRange, EntryKind, FsEntry, RootfsView } from './types.ts';

const MAX_SYMLINK_HOPS = 40;
// ignoreBOM: a name may start with U+FEFF, it must not be dropped.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Implemented by views that can tell which files are hard links of each other. */
export interface HardLinkKeys {
  /** Same string for every path naming the same inode; undefined when the file has one link. */
  linkKey(path: string): string | undefined;
}

/** `\xNN` for every byte that is not printable ASCII, so a broken name can be shown in a message. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Implemented by views that can read a file sequentially into the caller's buffer. */
export interface SequentialReads {
  /**
   * Opens the regular file at `path` for reading from its start. Unlike readFile, a symlink at the
   * last component is refused, not followed (callers read files the scan found to be regular).
   */
  openFile(path: string): Promise<OpenedFile>;
}

export interface OpenedFile {
  /** Size when opened. */
  readonly size: number;
  /** Reads the next bytes into `buf` (at most its length); 0 at the end of the file. */
  read(buf: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

/** O_NONBLOCK: a path swapped for a FIFO must not hang the (synchronous) open; no effect on regular files. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function kindOf(mode: number): EntryKind | undefined {
  switch (mode & 0o170000) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    case 0o020000: return 'chardev';
    case 0o060000: return 'blockdev';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    default: return undefined;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class LocalRootfs implements RootfsView, HardLinkKeys, SequentialReads {
  readonly description: string;
  readonly root: string;
  /** Rootfs dir path → the same dir with every symlink resolved. */
  #dirs = new Map<string, string>([['', '']]);
  #linkKeys = new Map<string, string>();
  /** When the event loop last had a turn during synchronous reads (performance.now()). */
  #turn = 0;

  constructor(root: string, description?: string) {
    this.root = root;
    this.description = description ?? `rootfs dir '${root}'`;
  }

  linkKey(path: string): string | undefined {
    return this.#linkKeys.get(path);
  }

  /**
   * Synchronous syscalls (see #openFile): one readdir and one lstat per child in the page cache cost a
   * few µs each, a promise per lstat through the thread pool ~10 µs of CPU more (the 105k-entry walk of
   * docs/benchmarks.md "Scan + plan": 2.0 s → 0.85 s). Directories still come one promise each, so the event loop gets turns.
   */
  async readDir(dir: string): Promise<FsEntry[]> {
    await this.#breathe();
    this.#checkPath(dir, true);
    const real = await this.#resolve(dir, true);
    if (real === undefined) throw new Error(`${this.description}: directory '${dir}' does not exist`);
    const abs = this.#abs(real);
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      throw new Error(`${this.description}: cannot read directory '${dir}': ${(err as Error).message}`);
    }
    this.#dirs.set(dir, real);
    const prefix = dir === '' ? '' : `${dir}/`;
    // Node decodes names leniently (invalid bytes → U+FFFD): only then read the bytes to tell a broken
    // name from a real U+FFFD.
    if (names.some((n) => n.includes('\uFFFD'))) names = this.#checkedNames(abs, dir, prefix);
    const absPrefix = `${abs}/`;
    const realPrefix = real === '' ? '' : `${real}/`;
    const out: FsEntry[] = new Array(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const entry = this.#lstatSync(`${prefix}${name}`, `${realPrefix}${name}`, `${absPrefix}${name}`);
      if (entry === undefined) throw new Error(`${this.description}: '${prefix}${name}' vanished while reading '${dir}'`);
      out[i] = entry;
    }
    return out;
  }

  #checkedNames(abs: string, dir: string, prefix: string): string[] {
    let raw: Buffer[];
    try {
      raw = readdirSync(abs, { encoding: 'buffer' });
    } catch (err) {
      throw new Error(`${this.description}: cannot read directory '${dir}': ${(err as Error).message}`);
    }
    return raw.map((b) => {
      try {
        return utf8.decode(b);
      } catch {
        throw new Error(`${this.description}: file name is not valid UTF-8: '${prefix}${escapeBytes(b)}'`);
      }
    });
  }

  async stat(path: string): Promise<FsEntry | undefined> {
    this.#checkPath(path, false);
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    const realParent = await this.#resolve(parent, true);
    if (realParent === undefined) return undefined;
    const name = path.slice(slash + 1);
    const real = realParent === '' ? name : `${realParent}/${name}`;
    return this.#lstatSync(path, real, this.#abs(real));
  }

  async readFile(path: string, range?: ByteRange): Promise<Uint8Array> {
    this.#checkPath(path, false);
    const real = await this.#resolve(path, true);
    if (real === undefined) throw new Error(`${this.description}: file '${path}' does not exist`);
    let handle;
    try {
      handle = await open(this.#abs(real), 'r');
    } catch (err) {
      throw new Error(`${this.description}: cannot open '${path}': ${(err as Error).message}`);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new Error(`${this.description}: '${path}' is not a regular file`);
      if (range === undefined) return new Uint8Array(await handle.readFile());
      if (!Number.isSafeInteger(range.offset) || !Number.isSafeInteger(range.length) || range.offset < 0 || range.length < 0) {
        throw new Error(`${this.description}: invalid byte range ${range.offset}+${range.length} for '${path}'`);
      }
      const buf = Buffer.alloc(Math.max(0, Math.min(range.length, st.size - range.offset)));
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, range.offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, done);
    } finally {
      await handle.close();
    }
  }

  /** Bound: wrappers that delegate to this view through its prototype can call it too. */
  readonly openFile = (path: string): Promise<OpenedFile> => this.#openFile(path);

  /**
   * Synchronous syscalls on purpose: a file in the page cache costs a few µs per call, while each
   * call through the thread pool costs tens of µs of CPU in round trips (5.3k files of a Debian
   * tree: 70 ms of CPU in sync calls, 225–530 ms through fs/promises), CPU the compressors need.
   * The price is no overlapping of reads on a cold disk cache. Awaiting only settled promises
   * would starve the event loop (signals, timers, compressor callbacks), so every call gives it a
   * turn once 20 ms have passed since the last one.
   */
  async #openFile(path: string): Promise<OpenedFile> {
    await this.#breathe();
    this.#checkPath(path, false);
    const slash = path.lastIndexOf('/');
    // The parent is resolved within the root (cached after a scan); the last component is opened
    // with O_NOFOLLOW, so one open + one fstat per file and no lstat walk.
    const realParent = await this.#resolve(slash < 0 ? '' : path.slice(0, slash), true);
    if (realParent === undefined) throw new Error(`${this.description}: file '${path}' does not exist`);
    const name = path.slice(slash + 1);
    let fd: number;
    try {
      fd = openSync(this.#abs(realParent === '' ? name : `${realParent}/${name}`), OPEN_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (isMissing(err)) throw new Error(`${this.description}: file '${path}' does not exist`);
      if (code === 'ELOOP') throw new Error(`${this.description}: '${path}' is not a regular file`);
      throw new Error(`${this.description}: cannot open '${path}': ${(err as Error).message}`);
    }
    let size: number;
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new Error(`${this.description}: '${path}' is not a regular file`);
      size = st.size;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    let position = 0;
    let open = true;
    return {
      size,
      read: async (buf) => {
        await this.#breathe();
        let n: number;
        try {
          n = readSync(fd, buf, 0, buf.length, position);
        } catch (err) {
          throw new Error(`${this.description}: cannot read '${path}': ${(err as Error).message}`);
        }
        position += n;
        return n;
      },
      close: async () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }

  async #breathe(): Promise<void> {
    const now = performance.now();
    if (now - this.#turn < 20) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#turn = performance.now();
  }

  #abs(real: string): string {
    return real === '' ? this.root : join(this.root, real);
  }

  #checkPath(path: string, allowRoot: boolean): void {
    const bad = path === '' ? !allowRoot
      : path.startsWith('/') || path.split('/').some((c) => c === '' || c === '.' || c === '..');
    if (bad) throw new Error(`${this.description}: invalid path '${path}' (want a relative path without '.', '..' or empty components)`);
  }

  /** One entry; undefined when it does not exist. `abs` is `real` below the root. */
  #lstatSync(path: string, real: string, abs: string): FsEntry | undefined {
    let st: Stats | undefined;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw new Error(`${this.description}: cannot stat '${path}': ${(err as Error).message}`);
    }
    if (st === undefined) return undefined;
    const mode = st.mode;
    const kind = kindOf(mode);
    if (kind === undefined) throw new Error(`${this.description}: '${path}' has an unknown file type (mode 0o${mode.toString(8)})`);
    const entry: FsEntry = { path, kind, mode: mode & 0o7777, uid: st.uid, gid: st.gid, size: 0 };
    if (kind === 'file') {
      entry.size = st.size;
      if (st.nlink > 1) {
        // Inode numbers can use all 64 bits (overlayfs xino): exact values for the few linked files only.
        const big = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
        if (big === undefined) return undefined;
        this.#linkKeys.set(path, `${big.dev}:${big.ino}`);
      }
    } else if (kind === 'dir') {
      // Children of a real directory need no further resolution.
      this.#dirs.set(path, real);
    } else if (kind === 'symlink') {
      let raw: Buffer;
      try {
        raw = readlinkSync(abs, { encoding: 'buffer' });
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw new Error(`${this.description}: cannot read symlink '${path}': ${(err as Error).message}`);
      }
      try {
        entry.target = utf8.decode(raw);
      } catch {
        throw new Error(`${this.description}: symlink target of '${path}' is not valid UTF-8: '${escapeBytes(raw)}'`);
      }
    }
    return entry;
  }

  /**
   * Resolves every symlink in `path` within the root (the last component too when `followLast`).
   * Returns the resolved relative path, or undefined when a component does not exist.
   */
  async #resolve(path: string, followLast: boolean): Promise<string | undefined> {
    const cached = this.#dirs.get(path);
    if (cached !== undefined) return cached;
    const todo = path.split('/').reverse();
    const done: string[] = [];
    let hops = 0;
    while (todo.length > 0) {
      const comp = todo.pop()!;
      if (comp === '' || comp === '.') continue;
      if (comp === '..') { done.pop(); continue; }
      const cand = done.length === 0 ? comp : `${done.join('/')}/${comp}`;
      if (this.#dirs.get(cand) === cand) { done.push(comp); continue; }
      let st;
      try {
        st = await lstat(this.#abs(cand));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw new Error(`${this.description}: cannot stat '${cand}' while resolving '${path}': ${(err as Error).message}`);
      }
      if (st.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) throw new Error(`${this.description}: too many levels of symbolic links resolving '${path}'`);
        const target = await readlink(this.#abs(cand));
        if (target.startsWith('/')) done.length = 0;
        todo.push(...target.split('/').reverse());
        continue;
      }
      if (todo.length > 0 && !st.isDirectory()) return undefined;
      done.push(comp);
    }
    return done.join('/');
  }
}
