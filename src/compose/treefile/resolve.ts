// Resolves a path named by a treefile against the directory of the declaring file, inside
// the build context only. Symlinks are followed component by component with kernel
// semantics ('..' after a symlinked directory goes to the parent of its target), so the
// result is the same as opening the path on disk -- except that absolute paths, '..'
// above the context root and symlinks leading out of the context are refused.

import type { ContextFs, ContextStat } from './context-fs.ts';

const MAX_SYMLINKS = 40; // Linux's limit on links followed during one lookup

export class ResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResolveError';
  }
}

export interface ResolvedPath {
  /** Canonical directory the path's last component lives in (children resolve from here). */
  dir: string;
  /** `dir` + the last component as written: the name shown to users. */
  path: string;
  /** Fully resolved canonical path (differs from `path` when the last component is a symlink). */
  real: string;
  stat: ContextStat;
}

export function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function dirnameRel(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

interface WalkState {
  stack: string[];
  links: number;
  lastLink?: { link: string; target: string };
}

/** Follow `comps` from `state.stack`; returns the stat of the last component reached. */
async function walk(fs: ContextFs, state: WalkState, comps: string[], written: string, trailing: string[] = []): Promise<ContextStat> {
  const queue = [...comps];
  let stat: ContextStat = { type: 'directory', mode: 0o755, size: 0 };
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (state.stack.length === 0) {
        if (state.lastLink) {
          throw new ResolveError(
            `"${written}" resolves outside the build context: symlink "${state.lastLink.link}" points to "${state.lastLink.target}"`,
          );
        }
        throw new ResolveError(`"${written}" resolves outside the build context`);
      }
      state.stack.pop();
      stat = { type: 'directory', mode: 0o755, size: 0 };
      continue;
    }
    const p = [...state.stack, c].join('/');
    const st = await fs.lstat(p);
    if (!st) {
      const rest = [...queue, ...trailing].filter((q) => q !== '' && q !== '.');
      throw new ResolveError(`Can't open file "${[p, ...rest].join('/')}" for reading`);
    }
    if (st.type === 'symlink') {
      const target = st.linkTarget ?? '';
      if (++state.links > MAX_SYMLINKS) {
        throw new ResolveError(`Can't open file "${written}" for reading: too many levels of symbolic links`);
      }
      if (target.startsWith('/')) {
        throw new ResolveError(`"${written}" resolves outside the build context: symlink "${p}" points to "${target}"`);
      }
      state.lastLink = { link: p, target };
      queue.unshift(...target.split('/'));
      continue;
    }
    const more = [...queue, ...trailing].some((q) => q !== '' && q !== '.');
    if (more && st.type !== 'directory') {
      throw new ResolveError(`Can't open file "${written}" for reading: "${p}" is not a directory`);
    }
    state.stack.push(c);
    stat = st;
  }
  return stat;
}

/**
 * Resolve `ref` (as written in a treefile) relative to the canonical directory `baseDir`.
 * `kind` says what must be found at the end.
 */
export async function resolveInContext(
  fs: ContextFs,
  baseDir: string,
  ref: string,
  kind: 'file' | 'directory' = 'file',
): Promise<ResolvedPath> {
  if (ref.startsWith('/')) {
    throw new ResolveError(`"${ref}" is an absolute path; only paths inside the build context are allowed`);
  }
  if (ref === '') throw new ResolveError(`empty path`);
  const comps = ref.split('/');
  const last = comps.pop()!;
  const state: WalkState = { stack: baseDir === '' ? [] : baseDir.split('/'), links: 0 };
  await walk(fs, state, comps, ref, [last]);
  const dir = state.stack.join('/');
  const path = last === '' || last === '.' || last === '..' ? dir : joinRel(dir, last);
  const stat = await walk(fs, state, [last], ref);
  const real = state.stack.join('/');
  if (kind === 'file' && stat.type !== 'file') {
    throw new ResolveError(`Can't open file "${path}" for reading: not a regular file`);
  }
  if (kind === 'directory' && stat.type !== 'directory') {
    throw new ResolveError(`"${path}" is not a directory`);
  }
  return { dir, path, real, stat };
}
