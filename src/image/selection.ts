// Compresses "these leaves belong to layer L" into the include/exclude patterns of ONE FileOp copy:
// a directory whose whole subtree is in L becomes one include pattern; a directory that is mostly L
// becomes an include plus excludes for the rest. The definition must stay small (BuildKit ≤ 0.13
// rejects Solve requests over 4 MiB, and a 100k-file rootfs has ~6 MB of paths).
//
// Only leaves (files, symlinks, empty directories) are named: the copy recreates parent directories
// with their source metadata wherever a layer needs them, so a directory's own layer does not matter.
import { parentOf } from '../util/order.ts';
import type { FsEntry } from '../rootfs/types.ts';

export interface Selection {
  include: string[];
  exclude: string[];
}

interface Dir {
  path: string;
  dirs: Dir[];
  leaves: { path: string; layer: number }[];
  /** Layers with at least one leaf in this subtree. */
  below: Set<number>;
}

/**
 * @param entries every entry of the rootfs
 * @param layerOfLeaf layer index of every leaf entry (files, symlinks, empty dirs)
 * @param layers number of layers
 */
export function selections(entries: FsEntry[], layerOfLeaf: Map<string, number>, layers: number): Selection[] {
  const root = buildTree(entries, layerOfLeaf);
  const out: Selection[] = [];
  for (let l = 0; l < layers; l++) {
    const sel: Selection = { include: [], exclude: [] };
    if (root.below.has(l)) {
      const memo = { excl: new Map<Dir, number>(), incl: new Map<Dir, number>() };
      emitExcluded(root, l, memo, sel);
    }
    out.push(sel);
  }
  return out;
}

function buildTree(entries: FsEntry[], layerOfLeaf: Map<string, number>): Dir {
  const root: Dir = { path: '', dirs: [], leaves: [], below: new Set() };
  const dirs = new Map<string, Dir>([['', root]]);
  const dirOf = (p: string): Dir => {
    let d = dirs.get(p);
    if (!d) {
      d = { path: p, dirs: [], leaves: [], below: new Set() };
      dirs.set(p, d);
      dirOf(parentOf(p)).dirs.push(d);
    }
    return d;
  };
  for (const e of entries) {
    const layer = layerOfLeaf.get(e.path);
    if (layer === undefined) {
      if (e.kind === 'dir') dirOf(e.path);
      continue;
    }
    if (e.kind === 'dir') dirOf(e.path);
    dirOf(parentOf(e.path)).leaves.push({ path: e.path, layer });
    for (let p = parentOf(e.path); ; p = parentOf(p)) {
      dirOf(p).below.add(layer);
      if (p === '') break;
    }
  }
  return root;
}

type Memo = { excl: Map<Dir, number>; incl: Map<Dir, number> };
const isPure = (d: Dir, l: number) => d.below.size === 1 && d.below.has(l);

/** Patterns needed for L's leaves under d when d itself is not included. */
function costExcl(d: Dir, l: number, m: Memo): number {
  let c = m.excl.get(d);
  if (c !== undefined) return c;
  c = 0;
  for (const f of d.leaves) if (f.layer === l) c++;
  for (const s of d.dirs) {
    if (!s.below.has(l)) continue;
    c += isPure(s, l) ? 1 : Math.min(costExcl(s, l, m), 1 + costIncl(s, l, m));
  }
  m.excl.set(d, c);
  return c;
}

/** Exclude patterns needed under d when d is included wholesale (an excluded dir cannot be re-included). */
function costIncl(d: Dir, l: number, m: Memo): number {
  let c = m.incl.get(d);
  if (c !== undefined) return c;
  c = 0;
  for (const f of d.leaves) if (f.layer !== l) c++;
  for (const s of d.dirs) {
    if (!s.below.has(l)) c += s.below.size > 0 ? 1 : 0;
    else if (!isPure(s, l)) c += costIncl(s, l, m);
  }
  m.incl.set(d, c);
  return c;
}

function emitExcluded(d: Dir, l: number, m: Memo, sel: Selection): void {
  for (const f of d.leaves) if (f.layer === l) sel.include.push(escapePattern(f.path));
  for (const s of d.dirs) {
    if (!s.below.has(l)) continue;
    if (isPure(s, l)) sel.include.push(escapePattern(s.path));
    else if (costExcl(s, l, m) <= 1 + costIncl(s, l, m)) emitExcluded(s, l, m, sel);
    else {
      sel.include.push(escapePattern(s.path));
      emitIncluded(s, l, m, sel);
    }
  }
}

function emitIncluded(d: Dir, l: number, m: Memo, sel: Selection): void {
  for (const f of d.leaves) if (f.layer !== l) sel.exclude.push(escapePattern(f.path));
  for (const s of d.dirs) {
    if (!s.below.has(l)) {
      if (s.below.size > 0) sel.exclude.push(escapePattern(s.path));
    } else if (!isPure(s, l)) emitIncluded(s, l, m, sel);
  }
}

/** fsutil patterns follow Go's filepath.Match: escape its metacharacters, and a leading '!'. */
export function escapePattern(p: string): string {
  const e = p.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
  return e.startsWith('!') ? `\\${e}` : e;
}

export function unescapePattern(p: string): string {
  return p.replace(/\\(.)/g, '$1');
}
