// Lists the entries of an uncompressed tar file (chunkah's layer blobs): path, type and size, with
// PAX `path` records and GNU long names applied. Only headers are read; file data is skipped.
import { open } from 'node:fs/promises';

export interface TarEntry {
  path: string;
  /** ustar type flag: '0' file, '1' hard link, '2' symlink, '5' directory, … */
  type: string;
  size: number;
}

const utf8 = new TextDecoder();

function field(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return utf8.decode(nul < 0 ? s : s.subarray(0, nul));
}

function number(b: Uint8Array, off: number, len: number): number {
  if (b[off] & 0x80) { // base-256 (GNU) for large values
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i];
    return n;
  }
  const s = field(b, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function paxPath(data: Uint8Array): string | undefined {
  let i = 0;
  let path: string | undefined;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(utf8.decode(data.subarray(i, sp)));
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = utf8.decode(data.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    i += len;
  }
  return path;
}

/** Entry paths are returned relative, without './', a leading '/' or a trailing '/'. */
export async function listTar(file: string): Promise<TarEntry[]> {
  const fh = await open(file, 'r');
  const out: TarEntry[] = [];
  try {
    const h = new Uint8Array(512);
    let pos = 0;
    let longName: string | undefined;
    for (;;) {
      const { bytesRead } = await fh.read(h, 0, 512, pos);
      if (bytesRead < 512 || h.every((x) => x === 0)) break;
      pos += 512;
      const size = number(h, 124, 12);
      const type = String.fromCharCode(h[156] || 0x30);
      const padded = Math.ceil(size / 512) * 512;
      if (type === 'x' || type === 'L') {
        const data = new Uint8Array(size);
        await fh.read(data, 0, size, pos);
        pos += padded;
        longName = type === 'x' ? paxPath(data) ?? longName : field(data, 0, size);
        continue;
      }
      if (type === 'g' || type === 'K') { pos += padded; continue; }
      const magic = field(h, 257, 6);
      const prefix = magic.startsWith('ustar') && h[345] !== 0 ? field(h, 345, 155) : '';
      const raw = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
      longName = undefined;
      out.push({ path: raw.replace(/^\.?\/+/, '').replace(/\/+$/, ''), type, size: type === '0' || type === '\0' ? size : 0 });
      if (!'123456'.includes(type)) pos += padded;
    }
  } finally {
    await fh.close();
  }
  return out;
}
