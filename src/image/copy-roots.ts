// Splits one layer's selection (include/exclude patterns relative to the rootfs root) into copy actions
// rooted at subtrees. BuildKit's copier (fsutil) cannot prune a walk with include patterns and its
// cache key hashes everything under the copy source, so a copy rooted at '/' costs a walk and a hash
// of the whole rootfs per layer. Rooting each action at the subtree its patterns need bounds both by
// that subtree; every extra action costs a fixed amount (mounts, setup), so nearby patterns share one.
//
// Hard links: fsutil pairs the names of one inode only within one copy action, so all of a layer's
// names of an inode must stay under one root.
import { parentOf } from '../util/order.ts';
import { escapePattern, unescapePattern, type Selection } from './selection.ts';

/** One copy action: `src` ('' = rootfs root) copied onto the same path, patterns relative to it (escaped). */
export interface RootedCopy {
  src: string;
  include: string[];
  exclude: string[];
}

/**
 * Fixed cost of one copy action in "entries walked" (a walk costs ~25 µs per entry, an action's mounts
 * and setup a few ms). Lower → more, smaller actions; higher → fewer actions with longer walks.
 */
export const ACTION_COST = 200;

/**
 * @param sel the layer's patterns, relative to the rootfs root
 * @param subtree entries in each directory's subtree, itself included (absent paths count 1)
 * @param links the layer's hard-link groups with at least two names (paths)
 */
export function rootedCopies(sel: Selection, subtree: ReadonlyMap<string, number>, links: readonly string[][] = [], actionCost = ACTION_COST): RootedCopy[] {
  const include = sel.include.map(unescapePattern);
  const exclude = sel.exclude.map(unescapePattern);
  const isPattern = new Set(include);
  // Directories above include patterns: their patterns directly inside, their child dirs above patterns.
  const direct = new Map<string, string[]>();
  const kids = new Map<string, Set<string>>();
  const listOf = <T>(m: Map<string, T>, k: string, make: () => T): T => {
    let v = m.get(k);
    if (v === undefined) m.set(k, (v = make()));
    return v;
  };
  for (const p of include) {
    listOf(direct, parentOf(p), () => []).push(p);
    for (let d = parentOf(p); d !== ''; d = parentOf(d)) {
      const s = listOf(kids, parentOf(d), () => new Set());
      if (s.has(d)) break;
      s.add(d);
    }
  }
  // A root at or below these paths would separate names of one inode.
  const split = new Set<string>();
  for (const group of links) {
    const lca = group.map(parentOf).reduce(commonDir);
    for (const m of group) for (let x = m; x !== lca && x !== ''; x = parentOf(x)) split.add(x);
  }
  const size = (p: string) => subtree.get(p) ?? 1;
  const own = (p: string) => (split.has(p) ? Infinity : actionCost + size(p));
  const memo = new Map<string, { cost: number; root: boolean; actions: number }>();
  const best = (d: string): { cost: number; actions: number } => {
    const hit = memo.get(d);
    if (hit) return hit;
    let parts = 0;
    let actions = 0;
    for (const p of direct.get(d) ?? []) {
      parts += own(p);
      actions++;
    }
    for (const k of kids.get(d) ?? []) {
      const b = best(k);
      parts += b.cost;
      actions += b.actions;
    }
    const whole = own(d);
    // Ties go to fewer actions, then to the deeper root (smaller cache-key hash).
    const r = whole < parts || (whole === parts && actions > 1) ? { cost: whole, root: true, actions: 1 } : { cost: parts, root: false, actions };
    memo.set(d, r);
    return r;
  };
  if (include.length === 0) return [];
  best('');
  const roots: string[] = [];
  const collect = (d: string) => {
    if (memo.get(d)!.root) return void roots.push(d);
    for (const p of direct.get(d) ?? []) roots.push(p);
    for (const k of kids.get(d) ?? []) collect(k);
  };
  collect('');
  const rootSet = new Set(roots);
  const rootOf = (p: string): string => {
    for (let q = p; ; q = parentOf(q)) {
      if (rootSet.has(q)) return q;
      if (q === '') throw new Error(`internal: no copy root for ${JSON.stringify(p)}`);
    }
  };
  const byRoot = new Map<string, RootedCopy>(roots.sort().map((r) => [r, { src: r, include: [], exclude: [] }]));
  const rel = (p: string, r: string) => escapePattern(r === '' ? p : p.slice(r.length + 1));
  for (const p of include) {
    const r = rootOf(p);
    if (r !== p) byRoot.get(r)!.include.push(rel(p, r));
  }
  for (const p of exclude) {
    const r = rootOf(p);
    // An exclude names something inside an included directory, so never a root itself.
    if (r !== p) byRoot.get(r)!.exclude.push(rel(p, r));
  }
  // A root that is a pattern of its own copies whole (no include patterns); others name what they take.
  const out = [...byRoot.values()].filter((c) => isPattern.has(c.src) || c.include.length > 0);
  for (const c of out) {
    c.include.sort();
    c.exclude.sort();
  }
  return out;
}

/** Deepest directory containing both directories ('' = the root). */
function commonDir(a: string, b: string): string {
  if (a === '' || b === '') return '';
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return x.slice(0, n).join('/');
}

/** Entries in each directory's subtree, the directory itself included ('' = all entries). */
export function subtreeSizes(paths: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of paths) {
    for (let q = p; ; q = parentOf(q)) {
      out.set(q, (out.get(q) ?? 0) + 1);
      if (q === '') break;
    }
  }
  return out;
}
