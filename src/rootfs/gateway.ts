// A RootfsView over a solved BuildKit ref: ReadDir/StatFile/ReadFile through the gateway.
// ReadDir lists one level per call (fsutil walk), so the scanner fans out with bounded concurrency.
import type { Gateway } from '../frontend/gateway.ts';
import type { Stat } from '../gen/github.com/tonistiigi/fsutil/types/stat.ts';
import { escapePattern } from '../image/selection.ts';
import type { ByteRange, EntryKind, FsEntry, RootfsView } from './types.ts';

/** ReadFile answers in one message; stay well under BuildKit's 16 MiB send limit. */
const READ_CHUNK = 8 * 1024 * 1024;

// Go os.FileMode type and flag bits, as fsutil sends them.
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

export class GatewayRootfs implements RootfsView {
  readonly description: string;
  private readonly gw: Gateway;
  private readonly ref: string;
  private readonly prefix: string;

  /** @param prefix sub-directory of the ref that is the rootfs ('' = the ref's root) */
  constructor(gw: Gateway, ref: string, prefix: string, description: string) {
    this.gw = gw;
    this.ref = ref;
    this.prefix = prefix;
    this.description = description;
  }

  private abs(p: string): string {
    const joined = [this.prefix, p].filter((s) => s !== '').join('/');
    return `/${joined}`;
  }

  async readDir(dir: string): Promise<FsEntry[]> {
    const stats = await this.gw.readDir(this.ref, this.abs(dir));
    const entries = stats.map((s) => statToEntry(s, dir === '' ? s.path : `${dir}/${s.path}`));
    // fsutil reports the second and later names of a hard-link group (within one walk) with the first
    // name in linkname; mark every member with the group's smallest path.
    const byName = new Map(entries.map((e) => [e.path, e]));
    for (let i = 0; i < stats.length; i++) {
      const s = stats[i];
      const e = entries[i];
      if (e.kind !== 'file' || !s.linkname) continue;
      const first = byName.get(dir === '' ? s.linkname : `${dir}/${baseName(s.linkname)}`);
      if (!first) continue;
      const group = first.linkGroup ?? first.path;
      const lead = group < e.path ? group : e.path;
      for (const m of entries) if (m === first || m === e || (m.linkGroup && m.linkGroup === group)) m.linkGroup = lead;
      if (first.size === 0 && e.size > 0) first.size = e.size;
      if (e.size === 0) e.size = first.size;
    }
    return entries;
  }

  async stat(path: string): Promise<FsEntry | undefined> {
    const i = path.lastIndexOf('/');
    const dir = i < 0 ? '' : path.slice(0, i);
    const name = path.slice(i + 1);
    let stats: Stat[];
    try {
      stats = await this.gw.readDir(this.ref, this.abs(dir), escapePattern(name));
    } catch {
      return undefined;
    }
    const s = stats.find((x) => x.path === name);
    return s ? statToEntry(s, path) : undefined;
  }

  async readFile(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range) return this.readRange(path, range.offset, range.length);
    const st = await this.stat(path);
    if (!st) throw new Error(`${this.description}: ${path}: no such file`);
    if (st.size <= READ_CHUNK) return this.readRange(path, 0, Math.max(st.size, 1));
    const out = new Uint8Array(st.size);
    for (let off = 0; off < st.size; off += READ_CHUNK) {
      out.set(await this.readRange(path, off, Math.min(READ_CHUNK, st.size - off)), off);
    }
    return out;
  }

  private async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < length) {
      const n = Math.min(READ_CHUNK, length - got);
      const d = await this.gw.readFile(this.ref, this.abs(path), { offset: offset + got, length: n });
      parts.push(d);
      got += d.length;
      if (d.length < n) break;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** fsutil sends Go's os.FileMode; tolerate POSIX st_mode too (type bits in 0o170000). */
export function statToEntry(s: Stat, path: string): FsEntry {
  const m = s.mode >>> 0;
  let kind: EntryKind;
  let mode: number;
  if (m & 0o170000) {
    const t = m & 0o170000;
    kind = t === 0o040000 ? 'dir' : t === 0o120000 ? 'symlink' : t === 0o020000 ? 'chardev'
      : t === 0o060000 ? 'blockdev' : t === 0o010000 ? 'fifo' : t === 0o140000 ? 'socket' : 'file';
    mode = m & 0o7777;
  } else {
    const has = (bit: number) => Math.floor(m / bit) % 2 === 1;
    kind = has(GO_DIR) ? 'dir' : has(GO_SYMLINK) ? 'symlink' : has(GO_DEVICE) ? (has(GO_CHARDEV) ? 'chardev' : 'blockdev')
      : has(GO_CHARDEV) ? 'chardev' : has(GO_PIPE) ? 'fifo' : has(GO_SOCKET) ? 'socket' : 'file';
    mode = (m & 0o777) | (has(GO_SETUID) ? 0o4000 : 0) | (has(GO_SETGID) ? 0o2000 : 0) | (has(GO_STICKY) ? 0o1000 : 0);
  }
  const e: FsEntry = { path, kind, mode, uid: s.uid, gid: s.gid, size: kind === 'file' ? Number(s.size) : 0 };
  if (kind === 'symlink') e.target = s.linkname;
  const x = Object.keys(s.xattrs ?? {});
  if (x.length) e.xattrs = Object.fromEntries(x.sort().map((k) => [k, s.xattrs[k]]));
  return e;
}
