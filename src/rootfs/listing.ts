// The listing our exec-side scanner writes and the frontend reads back: gzip'd JSON of a ScanResult.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Component } from '../chunking/types.ts';
import type { FsEntry } from './types.ts';

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

export function encodeListing(l: Omit<Listing, 'v'>): Buffer {
  if (l.error) return gzipSync(JSON.stringify({ v: 1, entries: [], skipped: [], components: [], warnings: [], error: l.error }));
  const entries = l.entries.map((e) => (e.xattrs ? { ...e, xattrs: Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) } : e));
  return gzipSync(JSON.stringify({ v: 1, entries, skipped: l.skipped, components: l.components, warnings: l.warnings }), { level: 6 });
}

export function decodeListing(gz: Uint8Array): Listing {
  const l = JSON.parse(gunzipSync(gz).toString('utf8')) as Listing & { entries: (FsEntry & { xattrs?: Record<string, string | Uint8Array> })[] };
  if (l.v !== 1) throw new Error(`rootfs listing version ${String(l.v)} is not supported`);
  if (l.error) throw new Error(l.error);
  for (const e of l.entries) {
    if (e.xattrs) e.xattrs = Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [k, Buffer.from(v as string, 'base64')]));
  }
  return l;
}
