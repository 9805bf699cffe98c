// Layer bytes for the update-size benchmark: the plain-layer tar our frontend writes
// (src/oci/plain-layer.ts), its sha256 (the diff id: two layers with one digest are one download)
// and its gzip size (what a client downloads). Layers are also keyed by a content key computed from
// the scan and the file hashes alone, so a layer seen before is not written again.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { plainLayer } from '../../src/oci/plain-layer.ts';
import type { PlannedLayer } from '../../src/chunking/types.ts';
import type { FsEntry, RootfsView } from '../../src/rootfs/types.ts';

export interface LayerBytes {
  /** sha256 of the uncompressed tar, hex. */
  digest: string;
  /** Uncompressed tar bytes. */
  size: number;
  /** gzip bytes (undefined when not asked for). */
  gz?: number;
}

/** Counts what a gzip stream at `level` makes of the chunks written to it. */
export class GzipCounter {
  #gz;
  #done: Promise<number>;
  constructor(level: number) {
    this.#gz = createGzip({ level });
    let n = 0;
    this.#gz.on('data', (b: Buffer) => { n += b.length; });
    this.#done = new Promise((resolve, reject) => {
      this.#gz.on('end', () => resolve(n));
      this.#gz.on('error', reject);
    });
  }
  async write(b: Uint8Array): Promise<void> {
    if (!this.#gz.write(b)) await new Promise<void>((r) => this.#gz.once('drain', () => r()));
  }
  end(): Promise<number> {
    this.#gz.end();
    return this.#done;
  }
}

/** Streams the layer's tar once through sha256 and (optionally) gzip. */
export async function measureLayer(
  view: RootfsView, byPath: Map<string, FsEntry>, layer: PlannedLayer, mtime: number, gzipLevel: number | undefined,
): Promise<LayerBytes> {
  const h = createHash('sha256');
  const gz = gzipLevel === undefined ? undefined : new GzipCounter(gzipLevel);
  let size = 0;
  for await (const chunk of plainLayer({ view, entries: byPath, layer, mtime })) {
    h.update(chunk);
    size += chunk.length;
    if (gz) await gz.write(chunk);
  }
  return { digest: h.digest('hex'), size, gz: gz ? await gz.end() : undefined };
}

/** gzip size of a file (chunkah's uncompressed layer blobs). */
export async function gzipFileSize(path: string, level: number): Promise<number> {
  const gz = new GzipCounter(level);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) await gz.write(chunk as Buffer);
  return gz.end();
}

/** sha256 of a file's content, hex. */
export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** One line per entry: everything a layer tar records about it, content by hash (xattrs only when present). */
export function entryLine(e: FsEntry, contentHash: string | undefined): string {
  const base = `${e.path}\0${e.kind}\0${e.mode}\0${e.uid}\0${e.gid}\0${e.size}\0${e.target ?? ''}\0${e.linkGroup ?? ''}\0${contentHash ?? ''}`;
  if (!e.xattrs || Object.keys(e.xattrs).length === 0) return `${base}\n`;
  const xs = Object.keys(e.xattrs).sort().map((k) => `${k}=${Buffer.from(e.xattrs![k]).toString('hex')}`);
  return `${base}\0${xs.join('\0')}\n`;
}

/**
 * A key that changes whenever the layer's tar can change: its paths with their metadata and content
 * hashes, the parent directories the writer adds, and the file time. Two layers with one key have
 * one digest (the writer is a pure function of these).
 */
export function layerKey(paths: readonly string[], byPath: Map<string, FsEntry>, hashes: Map<string, string>, mtime: number | undefined): string {
  const h = createHash('sha256').update(`mtime ${mtime ?? '-'}\n`);
  const parents = new Set<string>();
  for (const p of [...paths].sort()) {
    const e = byPath.get(p)!;
    h.update(entryLine(e, hashes.get(p)));
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const d = p.slice(0, i);
      if (parents.has(d)) break;
      parents.add(d);
    }
  }
  for (const d of [...parents].sort()) {
    const e = byPath.get(d);
    if (e) h.update(`parent ${e.path}\0${e.mode}\0${e.uid}\0${e.gid}\n`);
  }
  return h.digest('hex');
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
