// The listing our exec-side scanner writes and the frontend reads back (a ScanResult plus components).
//
// Wire format 2: one JSON object of columns, so 100k entries cost a handful of big arrays instead of
// 100k keyed objects (encode + decode 4× faster than keyed JSON, and 5× smaller):
//   {"v":2,
//    "pre":[…],  "suf":[…]   path i = path (i-1) cut to pre[i] UTF-16 units + suf[i] (entries are sorted,
//                            so neighbours share their directory prefix)
//    "kind":"fdl…"           one letter per entry (KIND_CODES)
//    "mode":[…], "uid":[…], "gid":[…], "size":[…]
//    "target":[i, "t", …]    symlink targets of entry i
//    "link":[i, g, …]        linkGroup of entry i: an entry index, or the path when it is not an entry
//    "xattr":[i, {k: base64}, …]
//    "skipped":[…], "warnings":[…],
//    "comps":[{"id", "size", "version"?, "changeTime"?, "changeFrequency"?, "runs":[start, count, …]}, …]}
//                            a component's paths are runs of entry indices (its paths are entries)
// An error listing is {"v":2,"error":"…"}. Written uncompressed: it goes through a local mount, and
// gzip cost more CPU than the bytes it saves on the way back (docs/benchmarks.md, "Scan + plan"); a gzip'd listing is still
// read (1f 8b magic).
import { gunzipSync } from 'node:zlib';
import type { Component } from '../chunking/types.ts';
import type { EntryKind, FsEntry } from './types.ts';

export interface Listing {
  v: 1;
  entries: FsEntry[];
  /** Sockets, fifos, device nodes: never copied into a layer. */
  skipped: string[];
  /** Package (and other) components the planner groups by. */
  components: Component[];
  warnings: string[];
  /** Set when the scan failed (e.g. a non-UTF-8 name): the frontend reports it as the build error. */
  error?: string;
}

const KIND_CODES: Record<EntryKind, string> = { file: 'f', dir: 'd', symlink: 'l', chardev: 'c', blockdev: 'b', fifo: 'p', socket: 's' };
const KINDS: Record<string, EntryKind> = Object.fromEntries(Object.entries(KIND_CODES).map(([k, c]) => [c, k as EntryKind]));

interface WireComponent {
  id: string;
  size: number;
  version?: string;
  changeTime?: number;
  changeFrequency?: number;
  runs: number[];
}

interface Wire {
  v: number;
  error?: string;
  pre: number[];
  suf: string[];
  kind: string;
  mode: number[];
  uid: number[];
  gid: number[];
  size: number[];
  target: (number | string)[];
  link: (number | string)[];
  xattr: (number | Record<string, string>)[];
  skipped: string[];
  warnings: string[];
  comps: WireComponent[];
}

export function encodeListing(l: Omit<Listing, 'v'>): Buffer {
  if (l.error) return Buffer.from(JSON.stringify({ v: 2, error: l.error }));
  const n = l.entries.length;
  const pre: number[] = new Array(n);
  const suf: string[] = new Array(n);
  const mode: number[] = new Array(n);
  const uid: number[] = new Array(n);
  const gid: number[] = new Array(n);
  const size: number[] = new Array(n);
  const target: (number | string)[] = [];
  const link: (number | string)[] = [];
  const xattr: (number | Record<string, string>)[] = [];
  const index = new Map<string, number>();
  let kind = '';
  let prev = '';
  for (let i = 0; i < n; i++) {
    const e = l.entries[i];
    const p = e.path;
    const max = Math.min(p.length, prev.length);
    let k = 0;
    while (k < max && p.charCodeAt(k) === prev.charCodeAt(k)) k++;
    pre[i] = k;
    suf[i] = k === 0 ? p : p.slice(k);
    prev = p;
    const code = KIND_CODES[e.kind];
    if (code === undefined) throw new Error(`listing: entry '${p}' has an unknown kind '${String(e.kind)}'`);
    kind += code;
    mode[i] = e.mode;
    uid[i] = e.uid;
    gid[i] = e.gid;
    size[i] = e.size;
    if (e.target !== undefined) target.push(i, e.target);
    if (e.xattrs) xattr.push(i, Object.fromEntries(Object.entries(e.xattrs).map(([name, v]) => [name, Buffer.from(v).toString('base64')])));
    index.set(p, i);
  }
  if (index.size !== n) throw new Error('listing: an entry path is listed twice');
  for (let i = 0; i < n; i++) {
    const g = l.entries[i].linkGroup;
    if (g !== undefined) link.push(i, index.get(g) ?? g);
  }
  const comps = l.components.map((c) => {
    const w: WireComponent = { id: c.id, size: c.size, runs: runsOf(c, index) };
    if (c.version !== undefined) w.version = c.version;
    if (c.changeTime !== undefined) w.changeTime = c.changeTime;
    if (c.changeFrequency !== undefined) w.changeFrequency = c.changeFrequency;
    return w;
  });
  const wire: Wire = { v: 2, pre, suf, kind, mode, uid, gid, size, target, link, xattr, skipped: l.skipped, warnings: l.warnings, comps };
  return Buffer.from(JSON.stringify(wire));
}

/** Entry indices of a component's paths as [start, count] runs; its paths must be entries, in order. */
function runsOf(c: Component, index: Map<string, number>): number[] {
  const runs: number[] = [];
  let last = -1;
  for (const p of c.paths) {
    const i = index.get(p);
    if (i === undefined) throw new Error(`listing: component '${c.id}' holds '${p}', which is not an entry`);
    if (i <= last) throw new Error(`listing: component '${c.id}' paths are not in entry order at '${p}'`);
    if (i === last + 1 && runs.length > 0) runs[runs.length - 1]++;
    else runs.push(i, 1);
    last = i;
  }
  return runs;
}

export function decodeListing(bytes: Uint8Array): Listing {
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  let w: Wire;
  try {
    w = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as Wire;
  } catch (e) {
    throw new Error(`rootfs listing is not valid JSON: ${(e as Error).message}`);
  }
  if (w.v !== 2) throw new Error(`rootfs listing version ${String(w.v)} is not supported (want 2)`);
  if (w.error !== undefined) throw new Error(w.error);
  const n = w.suf.length;
  for (const col of ['pre', 'mode', 'uid', 'gid', 'size'] as const) {
    if (w[col].length !== n) throw new Error(`rootfs listing: column '${col}' has ${w[col].length} values for ${n} entries`);
  }
  if (w.kind.length !== n) throw new Error(`rootfs listing: column 'kind' has ${w.kind.length} values for ${n} entries`);
  const entries: FsEntry[] = new Array(n);
  let prev = '';
  for (let i = 0; i < n; i++) {
    const k = w.pre[i];
    if (!(k >= 0 && k <= prev.length)) throw new Error(`rootfs listing: entry ${i} shares ${String(k)} characters with a ${prev.length}-character path`);
    const path = k === 0 ? w.suf[i] : prev.slice(0, k) + w.suf[i];
    const kind = KINDS[w.kind[i]];
    if (kind === undefined) throw new Error(`rootfs listing: entry '${path}' has an unknown kind code '${w.kind[i]}'`);
    entries[i] = { path, kind, mode: w.mode[i], uid: w.uid[i], gid: w.gid[i], size: w.size[i] };
    prev = path;
  }
  const at = (i: unknown, col: string): FsEntry => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n) throw new Error(`rootfs listing: column '${col}' refers to entry ${String(i)} of ${n}`);
    return entries[i];
  };
  for (let j = 0; j < w.target.length; j += 2) at(w.target[j], 'target').target = w.target[j + 1] as string;
  for (let j = 0; j < w.link.length; j += 2) {
    const g = w.link[j + 1];
    at(w.link[j], 'link').linkGroup = typeof g === 'number' ? at(g, 'link').path : g;
  }
  for (let j = 0; j < w.xattr.length; j += 2) {
    const x = w.xattr[j + 1] as Record<string, string>;
    at(w.xattr[j], 'xattr').xattrs = Object.fromEntries(Object.entries(x).map(([name, v]) => [name, Buffer.from(v, 'base64')]));
  }
  const components: Component[] = w.comps.map((c) => {
    const paths: string[] = [];
    for (let j = 0; j < c.runs.length; j += 2) {
      const start = c.runs[j];
      const count = c.runs[j + 1];
      at(start, 'comps');
      if (count > 0) at(start + count - 1, 'comps');
      for (let i = start; i < start + count; i++) paths.push(entries[i].path);
    }
    const out: Component = { id: c.id, paths, size: c.size };
    if (c.version !== undefined) out.version = c.version;
    if (c.changeTime !== undefined) out.changeTime = c.changeTime;
    if (c.changeFrequency !== undefined) out.changeFrequency = c.changeFrequency;
    return out;
  });
  return { v: 1, entries, skipped: w.skipped, components, warnings: w.warnings };
}
