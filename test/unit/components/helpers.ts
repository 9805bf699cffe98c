// Shared test helpers: temporary rootfs directories and an in-memory RootfsView.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ByteRange, FsEntry, RootfsView } from '../../../src/rootfs/types.ts';

export function tempDir(t: { after(fn: () => void): void }, prefix = 'components-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates `files` (path → content, or `{ link }` for a symlink) under `root`. */
export function writeTree(root: string, files: Record<string, string | Uint8Array | { link: string } | { dir: true }>): void {
  for (const [path, v] of Object.entries(files)) {
    const abs = join(root, path);
    if (typeof v === 'object' && 'dir' in v) { mkdirSync(abs, { recursive: true }); continue; }
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof v === 'object' && 'link' in v) symlinkSync(v.link, abs);
    else writeFileSync(abs, v);
  }
}

/** A RootfsView over a list of entries (with xattrs, which LocalRootfs cannot read) and contents. */
export class MemView implements RootfsView {
  readonly description = 'test rootfs';
  readonly entries: Map<string, FsEntry>;
  readonly contents: Map<string, Uint8Array>;
  constructor(entries: FsEntry[], contents: Record<string, Uint8Array | string> = {}) {
    this.entries = new Map(entries.map((e) => [e.path, e]));
    this.contents = new Map(Object.entries(contents).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
  }
  async readDir(dir: string): Promise<FsEntry[]> {
    const prefix = dir === '' ? '' : `${dir}/`;
    return [...this.entries.values()].filter((e) => e.path.startsWith(prefix) && !e.path.slice(prefix.length).includes('/'));
  }
  async stat(path: string): Promise<FsEntry | undefined> {
    return this.entries.get(path);
  }
  async readFile(path: string, range?: ByteRange): Promise<Uint8Array> {
    const c = this.contents.get(path);
    if (c === undefined) throw new Error(`test rootfs: no content for '${path}'`);
    return range === undefined ? c : c.subarray(range.offset, range.offset + range.length);
  }
}

export function dir(path: string, extra: Partial<FsEntry> = {}): FsEntry {
  return { path, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, ...extra };
}
export function file(path: string, size = 0, extra: Partial<FsEntry> = {}): FsEntry {
  return { path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size, ...extra };
}
export function link(path: string, target: string): FsEntry {
  return { path, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, target };
}

/** Deterministic shuffle (xorshift32), for reordering tests. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
