// Path resolution inside a rootfs, with chroot semantics (absolute symlink targets start at the
// rootfs root, `..` stops at the root).
import type { FsEntry, RootfsView } from '../../rootfs/types.ts';

export const MAX_SYMLINK_HOPS = 40;

/** Joins `base` and a symlink target or db path lexically; returns a rootfs-relative path ('' = root). */
export function joinLexically(base: string, rel: string): string {
  const out = rel.startsWith('/') || base === '' ? [] : base.split('/');
  for (const c of rel.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out.join('/');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * Follows symlinks in every component of `path` (the last one too) through the view.
 * Returns the resolved path and its entry, or undefined when it does not exist or loops.
 */
export async function resolveInView(view: RootfsView, path: string): Promise<{ path: string; entry: FsEntry } | undefined> {
  const todo = joinLexically('', path).split('/').filter((c) => c !== '').reverse();
  const done: string[] = [];
  let entry: FsEntry | undefined;
  let hops = 0;
  while (todo.length > 0) {
    const comp = todo.pop()!;
    if (comp === '.') continue;
    if (comp === '..') { done.pop(); continue; }
    const cand = done.length === 0 ? comp : `${done.join('/')}/${comp}`;
    entry = await view.stat(cand);
    if (entry === undefined) return undefined;
    if (entry.kind === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) return undefined;
      const target = entry.target ?? '';
      if (target.startsWith('/')) done.length = 0;
      todo.push(...target.split('/').filter((c) => c !== '').reverse());
      continue;
    }
    if (todo.length > 0 && entry.kind !== 'dir') return undefined;
    done.push(comp);
  }
  if (entry === undefined) return undefined;
  return { path: done.join('/'), entry };
}

/**
 * Canonicalizes database paths against the scanned entries: symlinks in parent directories are
 * followed (usrmerge: `/bin/bash` → `usr/bin/bash`), the last component is not (a package that
 * lists `/bin` does not own `usr/bin`). When the rootfs has `usr/etc` but no `etc` (ostree
 * layout), `/etc/x` maps to `usr/etc/x`.
 */
export class Canonicalizer {
  #byPath: Map<string, FsEntry>;
  #dirs = new Map<string, string | undefined>();
  #etcToUsrEtc: boolean;

  constructor(byPath: Map<string, FsEntry>) {
    this.#byPath = byPath;
    this.#etcToUsrEtc = !byPath.has('etc') && byPath.get('usr/etc')?.kind === 'dir';
  }

  /** Rootfs-relative canonical path ('' for the root itself); undefined when a parent loops. */
  canonical(dbPath: string): string | undefined {
    let p = joinLexically('', dbPath);
    if (p === '') return '';
    if (this.#etcToUsrEtc && (p === 'etc' || p.startsWith('etc/'))) p = `usr/${p}`;
    const slash = p.lastIndexOf('/');
    if (slash < 0) return p;
    const dir = this.#dir(p.slice(0, slash), 0);
    if (dir === undefined) return undefined;
    const name = p.slice(slash + 1);
    return dir === '' ? name : `${dir}/${name}`;
  }

  #dir(dir: string, hops: number): string | undefined {
    if (dir === '') return '';
    const cached = this.#dirs.get(dir);
    if (cached !== undefined || this.#dirs.has(dir)) return cached;
    const slash = dir.lastIndexOf('/');
    const parent = slash < 0 ? '' : this.#dir(dir.slice(0, slash), hops);
    let out: string | undefined;
    if (parent !== undefined) {
      const here = parent === '' ? dir.slice(slash + 1) : `${parent}/${dir.slice(slash + 1)}`;
      const e = this.#byPath.get(here);
      if (e?.kind === 'symlink' && hops < MAX_SYMLINK_HOPS) {
        out = this.#dir(joinLexically(parent, e.target ?? ''), hops + 1);
      } else if (e?.kind === 'symlink') {
        out = undefined;
      } else {
        out = here;
      }
    }
    this.#dirs.set(dir, out);
    return out;
  }
}
