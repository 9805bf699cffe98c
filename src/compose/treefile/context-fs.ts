// File access for treefile processing, abstracted so the gateway can serve files from a
// BuildKit context instead of the local disk. Paths given to a ContextFs are always
// canonical context-relative paths ('' = context root, '/'-separated, no '.', '..' or
// symlinks in directory components): the resolver in resolve.ts guarantees that, so an
// implementation only has to join them to its root and never needs to follow links itself.

import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';

export interface ContextStat {
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Unix permission bits (at least 0o777). */
  mode: number;
  size: number;
  /** Symlink target, verbatim, when type is 'symlink'. */
  linkTarget?: string;
  /**
   * Stable file identity (e.g. `dev:ino`), used for include-loop detection so hardlinked
   * aliases are caught as upstream does. Omit when unknown: the canonical path is used.
   */
  id?: string;
}

export interface ContextFs {
  /** lstat (does not follow a final symlink); undefined when the path does not exist. */
  lstat(path: string): Promise<ContextStat | undefined>;
  readFile(path: string): Promise<Uint8Array>;
  /** Entry names of a directory. */
  readdir(path: string): Promise<string[]>;
}

/** ContextFs over a local directory (CLI path and tests). */
export function localContextFs(rootDir: string): ContextFs {
  const root = resolvePath(rootDir);
  const abs = (p: string) => (p === '' ? root : join(root, p));
  return {
    async lstat(p) {
      try {
        const st = await lstat(abs(p));
        const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
        const out: ContextStat = { type, mode: st.mode & 0o7777, size: st.size, id: `${st.dev}:${st.ino}` };
        if (type === 'symlink') out.linkTarget = await readlink(abs(p));
        return out;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw e;
      }
    },
    async readFile(p) {
      return new Uint8Array(await readFile(abs(p)));
    },
    async readdir(p) {
      return await readdir(abs(p));
    },
  };
}
