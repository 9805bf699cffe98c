// Test helpers: an in-memory RootfsView, a tar reader that keeps raw headers (for byte-level
// checks), and stream collectors.
import type { ByteRange, FsEntry, RootfsView } from '../../../src/rootfs/types.ts';

export class MemView implements RootfsView {
  readonly description = 'test rootfs';
  readonly entries: FsEntry[];
  readonly contents: Map<string, Uint8Array>;
  reads = 0;
  constructor(entries: FsEntry[], contents: Record<string, string | Uint8Array> = {}) {
    this.entries = entries;
    this.contents = new Map(Object.entries(contents).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]));
  }
  async readDir(dir: string): Promise<FsEntry[]> {
    return this.entries.filter((e) => e.path.slice(0, Math.max(0, e.path.lastIndexOf('/'))) === dir);
  }
  async stat(path: string): Promise<FsEntry | undefined> {
    return this.entries.find((e) => e.path === path);
  }
  async readFile(path: string, range?: ByteRange): Promise<Uint8Array> {
    this.reads++;
    const c = this.contents.get(path);
    if (c === undefined) throw new Error(`${this.description}: cannot open '${path}': EACCES: permission denied`);
    return range ? c.subarray(range.offset, range.offset + range.length) : c;
  }
}

export const dir = (path: string, mode = 0o755, uid = 0, gid = 0): FsEntry => ({ path, kind: 'dir', mode, uid, gid, size: 0 });
export const file = (path: string, size: number, mode = 0o644, extra: Partial<FsEntry> = {}): FsEntry =>
  ({ path, kind: 'file', mode, uid: 0, gid: 0, size, ...extra });
export const link = (path: string, target: string): FsEntry => ({ path, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, target });

export async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of src) parts.push(b);
  return Buffer.concat(parts);
}

export interface TarItem {
  /** Effective path (after L / PAX path records). */
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** Effective link name (after K / PAX linkpath). */
  linkname: string;
  data: Buffer;
  /** The raw 512-byte header of the entry itself. */
  header: Buffer;
  /** PAX records that applied to this entry. */
  pax: Record<string, Buffer>;
  /** Names of the extension entries (L, K, x) that preceded it. */
  ext: string[];
}

const cstr = (b: Buffer) => {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
};

function num(b: Buffer): number {
  if (b[0]! & 0x80) {
    let v = BigInt(b[0]! & 0x7f);
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
    return Number(v);
  }
  const s = cstr(b).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  let at = 0;
  while (at < data.length) {
    const sp = data.indexOf(0x20, at);
    const len = Number(data.subarray(at, sp).toString());
    const rec = data.subarray(sp + 1, at + len - 1);
    const eq = rec.indexOf(0x3d);
    out[rec.subarray(0, eq).toString()] = rec.subarray(eq + 1);
    at += len;
  }
  return out;
}

/** Reads every entry; checks header checksums, block padding and the two-zero-block trailer. */
export function readTar(buf: Buffer): TarItem[] {
  const items: TarItem[] = [];
  let at = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, Buffer> = {};
  let ext: string[] = [];
  for (;;) {
    if (at + 512 > buf.length) throw new Error('tar: truncated');
    const h = buf.subarray(at, at + 512);
    if (h.every((b) => b === 0)) {
      if (buf.length !== at + 1024 || !buf.subarray(at).every((b) => b === 0)) throw new Error(`tar: bad trailer at ${at} (length ${buf.length})`);
      return items;
    }
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (num(h.subarray(148, 156)) !== sum) throw new Error(`tar: bad checksum at ${at}`);
    const type = String.fromCharCode(h[156]!);
    const size = num(h.subarray(124, 136));
    const data = buf.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') { longName = cstr(data); ext.push('L'); continue; }
    if (type === 'K') { longLink = cstr(data); ext.push('K'); continue; }
    if (type === 'x') { pax = { ...pax, ...parsePax(data) }; ext.push('x'); continue; }
    items.push({
      path: pax.path?.toString() ?? longName ?? cstr(h.subarray(0, 100)),
      type,
      mode: num(h.subarray(100, 108)),
      uid: num(h.subarray(108, 116)),
      gid: num(h.subarray(116, 124)),
      size: pax.size ? Number(pax.size.toString()) : size,
      mtime: num(h.subarray(136, 148)),
      linkname: pax.linkpath?.toString() ?? longLink ?? cstr(h.subarray(157, 257)),
      data: Buffer.from(data),
      header: Buffer.from(h),
      pax,
      ext,
    });
    longName = undefined;
    longLink = undefined;
    pax = {};
    ext = [];
  }
}
