// Test helper: encodes RPM header blobs (rpmdb form: il, dl, index, data) the way rpm lays them out
// (integers aligned to their size), so tests can build packages and corrupt them on purpose.
export type HeaderValue =
  | { tag: number; type: 'STRING' | 'I18NSTRING'; value: string }
  | { tag: number; type: 'STRING_ARRAY'; value: string[] }
  | { tag: number; type: 'INT16' | 'INT32' | 'CHAR'; value: number[] }
  | { tag: number; type: 'INT64'; value: number[] }
  | { tag: number; type: 'BIN'; value: Uint8Array };

const TYPE_CODES = { CHAR: 1, INT16: 3, INT32: 4, INT64: 5, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9 } as const;

export interface RawEntry { tag: number; type: number; offset: number; count: number }

export function buildHeaderBlob(values: HeaderValue[]): Uint8Array {
  const data: number[] = [];
  const index: RawEntry[] = [];
  const align = (n: number) => { while (data.length % n !== 0) data.push(0); };
  const enc = new TextEncoder();
  for (const v of values) {
    let count: number;
    let offset: number;
    switch (v.type) {
      case 'STRING': case 'I18NSTRING':
        offset = data.length; data.push(...enc.encode(v.value), 0); count = 1; break;
      case 'STRING_ARRAY':
        offset = data.length; for (const s of v.value) data.push(...enc.encode(s), 0); count = v.value.length; break;
      case 'CHAR':
        offset = data.length; data.push(...v.value.map((x) => x & 0xff)); count = v.value.length; break;
      case 'INT16':
        align(2); offset = data.length; for (const x of v.value) data.push((x >> 8) & 0xff, x & 0xff); count = v.value.length; break;
      case 'INT32':
        align(4); offset = data.length; for (const x of v.value) data.push((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff); count = v.value.length; break;
      case 'INT64':
        align(8); offset = data.length;
        for (const x of v.value) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(x)); data.push(...b); }
        count = v.value.length; break;
      case 'BIN':
        offset = data.length; data.push(...v.value); count = v.value.length; break;
    }
    index.push({ tag: v.tag, type: TYPE_CODES[v.type], offset, count });
  }
  return rawBlob(index, Uint8Array.from(data));
}

/** Assembles a blob from explicit index entries and data (for lying headers). */
export function rawBlob(index: RawEntry[], data: Uint8Array, declared?: { il?: number; dl?: number }): Uint8Array {
  const out = new Uint8Array(8 + index.length * 16 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, declared?.il ?? index.length);
  dv.setUint32(4, declared?.dl ?? data.length);
  index.forEach((e, i) => {
    dv.setUint32(8 + i * 16, e.tag);
    dv.setUint32(12 + i * 16, e.type);
    dv.setInt32(16 + i * 16, e.offset);
    dv.setUint32(20 + i * 16, e.count);
  });
  out.set(data, 8 + index.length * 16);
  return out;
}

/** Splits absolute paths the way rpm stores them (DIRNAMES with trailing '/', BASENAMES, DIRINDEXES). */
export function splitPaths(paths: string[]): { dirnames: string[]; basenames: string[]; dirindexes: number[] } {
  const dirnames: string[] = [];
  const dirIndex = new Map<string, number>();
  const basenames: string[] = [];
  const dirindexes: number[] = [];
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    const dir = p.slice(0, slash + 1);
    let i = dirIndex.get(dir);
    if (i === undefined) { i = dirnames.length; dirnames.push(dir); dirIndex.set(dir, i); }
    basenames.push(p.slice(slash + 1));
    dirindexes.push(i);
  }
  return { dirnames, basenames, dirindexes };
}
