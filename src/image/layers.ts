// LayerPlan → LLB: one FileOp per planned layer copying exactly that layer's leaves from the rootfs, with
// a fixed timestamp so an unchanged selection yields a byte-identical layer. The layer's patterns are
// split into copies rooted at subtrees (copy-roots.ts: bounded walks and cache keys, hard-link groups
// kept in one copy), and one last copy stamps the directories those copies made (dir-stamps.ts).
// Layers are merged with MergeOp when the daemon has it enabled (each layer cached independently),
// else stacked as a chain of FileOps.
import { leafEntries } from '../chunking/simple.ts';
import { parentOf } from '../util/order.ts';
import type { LayerPlan } from '../chunking/types.ts';
import * as llb from '../llb/index.ts';
import type { FsEntry } from '../rootfs/types.ts';
import { describeLayer } from './config.ts';
import { ACTION_COST, rootedCopies, subtreeSizes, type RootedCopy } from './copy-roots.ts';
import { isPlainDir, joinPath, skeleton, stampCopy } from './dir-stamps.ts';
import { escapePattern, selections, unescapePattern, type Selection } from './selection.ts';

export interface LayerBuildInput {
  rootfs: llb.State;
  /** Rootfs location inside the `rootfs` state ('' = root). */
  prefix: string;
  entries: FsEntry[];
  /** Entries that must never be copied (sockets, fifos, devices): excluded wherever a pattern would take them. */
  skipped: string[];
  plan: LayerPlan;
  /** Unix seconds stamped on every file of layer i (see layerTimes in frontend/build.ts). */
  times: number[];
  useMerge: boolean;
  ignoreCache: boolean;
  /** Fixed cost of a copy action, in entries walked (default ACTION_COST). */
  actionCost?: number;
}

/** Path → index of the planned layer that holds it. */
function layerIndex(plan: LayerPlan): Map<string, number> {
  const layerOf = new Map<string, number>();
  plan.layers.forEach((l, i) => l.paths.forEach((p) => layerOf.set(p, i)));
  return layerOf;
}

export function layerSelections(entries: FsEntry[], skipped: string[], plan: LayerPlan, layerOf = layerIndex(plan)): Selection[] {
  const leafLayer = new Map<string, number>();
  for (const e of leafEntries(entries)) leafLayer.set(e.path, layerOf.get(e.path) ?? -1);
  const sels = selections(entries, leafLayer, plan.layers.length);
  // A special file sits inside a directory some layer includes whole: exclude it there explicitly.
  for (const sel of sels) {
    const inc = new Set(sel.include.map(unescapePattern));
    const exc = new Set(sel.exclude.map(unescapePattern));
    const under = (set: Set<string>, p: string) => {
      for (let q = p; q !== ''; q = parentOf(q)) if (set.has(q)) return true;
      return false;
    };
    for (const p of skipped) if (under(inc, p) && !under(exc, p)) sel.exclude.push(escapePattern(p));
  }
  return sels;
}

/** Ancestors of included paths that no include pattern covers (they are created as parents only). */
export function parentOnlyDirs(include: string[]): string[] {
  const inc = new Set(include.map(unescapePattern));
  const covered = (p: string) => {
    for (let q = p; q !== ''; q = parentOf(q)) if (inc.has(q)) return true;
    return false;
  };
  const out = new Set<string>();
  for (const p of inc) for (let d = parentOf(p); d !== '' && !covered(d); d = parentOf(d)) out.add(d);
  return [...out].sort();
}

/** Per layer, its hard-link groups with at least two names (fsutil must see them in one copy action). */
export function layerLinkGroups(entries: FsEntry[], plan: LayerPlan, layerOf = layerIndex(plan)): string[][][] {
  const groups = new Map<string, string[]>();
  for (const e of entries) {
    const l = layerOf.get(e.path);
    if (e.linkGroup === undefined || l === undefined) continue;
    const k = `${l}\0${e.linkGroup}`;
    const g = groups.get(k);
    if (g) g.push(e.path);
    else groups.set(k, [e.path]);
  }
  const out: string[][][] = plan.layers.map(() => []);
  for (const [k, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (g.length > 1) out[Number(k.slice(0, k.indexOf('\0')))].push(g.sort());
  }
  return out;
}

/** What layer i's FileOp does: copies rooted at subtrees, then the directories to stamp. */
export interface LayerCopyPlan {
  copies: RootedCopy[];
  /** Directories whose metadata the last action sets (closed under parents, '' excluded). */
  stamp: string[];
}

export function layerCopyPlans(
  entries: FsEntry[], skipped: string[], plan: LayerPlan, actionCost = ACTION_COST, byPath = new Map(entries.map((e) => [e.path, e])),
): LayerCopyPlan[] {
  const layerOf = layerIndex(plan);
  const sels = layerSelections(entries, skipped, plan, layerOf);
  const sizes = subtreeSizes(entries.map((e) => e.path));
  const links = layerLinkGroups(entries, plan, layerOf);
  return sels.map((sel, i) => {
    const copies = rootedCopies(sel, sizes, links[i], actionCost);
    const roots = new Set(copies.map((c) => c.src));
    // A copy root's own mtime is right (its copy ends by stamping it) and a missing one is created
    // 0755 root:root, so only special roots need the stamp. Directories above a root or created as
    // parents inside one got entries after their stamp.
    const stamp = new Set<string>();
    for (const d of parentOnlyDirs(sel.include)) if (!roots.has(d)) stamp.add(d);
    for (const r of roots) {
      const e = byPath.get(r);
      if (r !== '' && e?.kind === 'dir' && !isPlainDir(e)) stamp.add(r);
    }
    for (const d of [...stamp]) for (let p = parentOf(d); p !== '' && !stamp.has(p); p = parentOf(p)) stamp.add(p);
    return { copies, stamp: [...stamp].sort() };
  });
}

export function buildLayers(inp: LayerBuildInput): llb.State {
  const byPath = new Map(inp.entries.map((e) => [e.path, e]));
  const plans = layerCopyPlans(inp.entries, inp.skipped, inp.plan, inp.actionCost, byPath);
  const rootfsDir = inp.prefix ? `/${inp.prefix}` : '/';
  const skel = skeleton({ rootfs: inp.rootfs, rootfsDir, dirs: plans.map((p) => p.stamp), entryOf: (p) => byPath.get(p), ignoreCache: inp.ignoreCache });
  const n = inp.plan.layers.length;
  const actionsOf = (i: number): llb.FileAction => {
    const timestamp = inp.times[i] * 1e9;
    let a: llb.FileAction | undefined;
    for (const c of plans[i].copies) {
      // The copy root lands on the same path: an existing directory keeps its metadata (the stamp
      // sets it), a missing one is created; patterns are relative to the root.
      const o: llb.CopyOptions = {
        includePatterns: c.include.length ? c.include : undefined,
        excludePatterns: c.exclude.length ? c.exclude : undefined,
        dirCopyContents: true,
        createDestPath: true,
        allowWildcard: false,
        followSymlink: false,
        timestamp,
      };
      const src = joinPath(rootfsDir, c.src);
      const dest = c.src ? `/${c.src}` : '/';
      a = llb.copy(inp.rootfs, src, dest, o, a);
    }
    // Last: directory metadata (and the time of '/'). A layer whose paths are all special files has
    // only this action and stays empty, which keeps the plan's numbering.
    return stampCopy(a, skel!, i, timestamp);
  };
  const name = (i: number) => `[layer ${i + 1}/${n}] ${describeLayer(inp.plan.layers[i].components, inp.plan.layers[i].paths)}`;
  if (inp.useMerge) {
    const states = inp.plan.layers.map((_, i) => llb.scratch().file(actionsOf(i), { customName: name(i), ignoreCache: inp.ignoreCache }));
    return llb.merge(states, { customName: `[layers] merge ${n} layers` });
  }
  let s = llb.scratch();
  for (let i = 0; i < n; i++) s = s.file(actionsOf(i), { customName: name(i), ignoreCache: inp.ignoreCache });
  return s;
}
