// Directory metadata for the layer copies (fsutil, BuildKit 0.13 and 0.33). A directory a copy creates
// as a parent inside its walk gets the source's metadata, then an mtime of "now" when entries are written
// into it; directories above a copy's root come from MkdirAll (0755, root:root, and on 0.13 also "now").
// One last copy action per layer fixes them all: it copies a skeleton of exactly those directories, made
// with their source metadata in a small shared state, onto the layer; fsutil then applies the skeleton's
// mode, owner and xattrs and the copy's timestamp to each already existing directory, writing no entries.
//
// The skeleton holds layer i's directories under /<i>/, so each layer's stamp copy has no patterns,
// and its cache key only hashes that layer's own directories.
import * as llb from '../llb/index.ts';
import type { FsEntry } from '../rootfs/types.ts';
import { parentOf } from '../util/order.ts';

export type StampHow =
  /** mkdir -p with 0755 root:root (missing parents get the same). */
  | 'mkdir'
  /** Copy of an empty directory with the entry's mode (setuid/setgid/sticky included) and owner. */
  | 'mode'
  /** Copy of the directory itself from the rootfs, children excluded: keeps its xattrs too. */
  | 'rootfs';

export interface StampStep {
  path: string;
  how: StampHow;
}

/** What fsutil's MkdirAll makes anyway: 0755, root:root, no xattrs. */
export const isPlainDir = (e: FsEntry | undefined): boolean =>
  e === undefined || ((e.mode & 0o7777) === 0o755 && e.uid === 0 && e.gid === 0 && !(e.xattrs && Object.keys(e.xattrs).length));

/**
 * Steps that create `dirs` (closed under parents, '' excluded) with their source metadata, parents
 * first. A plain directory (0755 root:root, no xattrs) with plain ancestors comes for free from the
 * mkdir -p of a directory below it, so only leaves, special directories and parents of special
 * directories need a step.
 */
export function stampSteps(dirs: readonly string[], entryOf: (path: string) => FsEntry | undefined): StampStep[] {
  const set = new Set(dirs);
  const hasChild = new Set<string>();
  const specialParent = new Set<string>();
  for (const d of set) {
    hasChild.add(parentOf(d));
    if (!isPlainDir(entryOf(d))) specialParent.add(parentOf(d));
  }
  const out: StampStep[] = [];
  // Sorted: a directory comes before everything below it.
  for (const d of [...set].sort()) {
    const e = entryOf(d);
    if (e?.xattrs && Object.keys(e.xattrs).length) out.push({ path: d, how: 'rootfs' });
    else if (!isPlainDir(e)) out.push({ path: d, how: 'mode' });
    else if (!hasChild.has(d) || specialParent.has(d)) out.push({ path: d, how: 'mkdir' });
  }
  return out;
}

export interface SkeletonInput {
  rootfs: llb.State;
  /** Path of the rootfs root inside `rootfs`, '/'-prefixed ('/' = root). */
  rootfsDir: string;
  /** Directories to stamp, per layer. */
  dirs: readonly (readonly string[])[];
  entryOf: (path: string) => FsEntry | undefined;
  ignoreCache: boolean;
}

/** The skeleton state (undefined for no layers); layer i's directories are under /<i>. */
export function skeleton(inp: SkeletonInput): llb.State | undefined {
  let chain: llb.FileAction | undefined;
  // Fixed times: the skeleton's own mtimes never reach a layer (the stamp copy sets its timestamp).
  const timestamp = 0;
  // Source of the 'mode' steps: an empty directory in an immutable state is mounted read-only, where
  // a copy from scratch would make a new snapshot per action.
  let empty: llb.State | undefined;
  inp.dirs.forEach((dirs, i) => {
    const steps = stampSteps(dirs, inp.entryOf);
    // Every layer gets its stamp copy (it also fixes the time of the layer's '/'), so /<i> must exist.
    if (steps.length === 0) chain = llb.mkdir(`/${i}`, 0o755, { makeParents: true, timestamp }, chain);
    for (const s of steps) {
      const dest = `/${i}/${s.path}`;
      const e = inp.entryOf(s.path);
      if (s.how === 'mkdir') {
        chain = llb.mkdir(dest, 0o755, { makeParents: true, timestamp }, chain);
      } else {
        const [src, from, opts]: [llb.State, string, llb.CopyOptions] = s.how === 'mode'
          ? [(empty ??= llb.scratch().file(llb.mkdir('/empty', 0o755, { timestamp }), { customName: '[layers] empty directory' })), '/empty',
            { mode: e!.mode & 0o7777, owner: { user: e!.uid, group: e!.gid } }]
          : [inp.rootfs, joinPath(inp.rootfsDir, s.path), { excludePatterns: ['*'] }];
        // dirCopyContents false + a missing destination: the directory itself is created with the
        // source's (or the given) metadata; its parent exists (parents come first).
        const o: llb.CopyOptions = { ...opts, dirCopyContents: false, createDestPath: true, allowWildcard: false, followSymlink: false, timestamp };
        chain = llb.copy(src, from, dest, o, chain);
      }
    }
  });
  if (!chain) return undefined;
  return llb.scratch().file(chain, { customName: `[layers] directory metadata for ${inp.dirs.filter((d) => d.length).length} layers`, ignoreCache: inp.ignoreCache });
}

/** The last action of layer i: apply the skeleton's directories (metadata, `timestamp`) onto the layer. */
export function stampCopy(prev: llb.FileAction | undefined, skel: llb.State, layer: number, timestamp: number): llb.FileAction {
  const o: llb.CopyOptions = { dirCopyContents: true, createDestPath: true, allowWildcard: false, followSymlink: false, timestamp };
  return llb.copy(skel, `/${layer}`, '/', o, prev);
}

export function joinPath(dir: string, rel: string): string {
  if (rel === '') return dir;
  return dir === '/' ? `/${rel}` : `${dir}/${rel}`;
}
