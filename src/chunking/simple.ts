// The simple planner: contiguous runs of the path-sorted tree, cut where a path hash says so once a run
// is big enough. Cuts depend on paths, not on running byte totals, so a file that grows or appears
// moves at most the boundaries next to it. Knows nothing about packages; the package-aware planner
// (pack.ts) replaces it when components are known.
import { createHash } from 'node:crypto';
import type { FsEntry } from '../rootfs/types.ts';
import { compareTreeOrder as cmp, parentOf } from '../util/order.ts';

export { cmp, parentOf };
import type { LayerPlan, PlannedLayer, Planner } from './types.ts';

/** Tar cost of an entry beyond its data: one 512-byte header (plus padding, ignored). */
const HEADER = 512;

export const simplePlanner: Planner = ({ entries, maxLayers }) => {
  const sorted = [...entries].sort((a, b) => cmp(a.path, b.path));
  const leaves = leafEntries(sorted);
  const weight = (e: FsEntry) => e.size + HEADER;
  const total = leaves.reduce((s, e) => s + weight(e), 0);
  const target = Math.max(1, total / maxLayers);

  // 1. Cut the leaf sequence into runs.
  const runs: FsEntry[][] = [];
  let cur: FsEntry[] = [];
  let curW = 0;
  for (const e of leaves) {
    cur.push(e);
    curW += weight(e);
    if (curW >= 2 * target || (curW >= target && pathHash(e.path) % 8 === 0)) {
      runs.push(cur);
      cur = [];
      curW = 0;
    }
  }
  if (cur.length) runs.push(cur);

  // 2. Merge the lightest adjacent pair until within budget.
  const w = runs.map((r) => r.reduce((s, e) => s + weight(e), 0));
  while (runs.length > maxLayers) {
    let best = 0;
    for (let i = 1; i < runs.length - 1; i++) if (w[i] + w[i + 1] < w[best] + w[best + 1]) best = i;
    runs.splice(best, 2, [...runs[best], ...runs[best + 1]]);
    w.splice(best, 2, w[best] + w[best + 1]);
  }

  // 3. Assign: leaves by run; hard links follow their group's first member; directories with
  //    content go with their first leaf (they are recreated as parents wherever needed anyway).
  const layerOf = new Map<string, number>();
  runs.forEach((r, i) => r.forEach((e) => layerOf.set(e.path, i)));
  for (const e of leaves) if (e.linkGroup && layerOf.has(e.linkGroup)) layerOf.set(e.path, layerOf.get(e.linkGroup)!);
  const firstLeafLayer = new Map<string, number>();
  for (const e of leaves) {
    const l = layerOf.get(e.path)!;
    for (let d = parentOf(e.path); d !== '' && !firstLeafLayer.has(d); d = parentOf(d)) firstLeafLayer.set(d, l);
  }
  for (const e of sorted) if (!layerOf.has(e.path)) layerOf.set(e.path, firstLeafLayer.get(e.path) ?? 0);
  return toPlan(sorted, layerOf, runs.length);
};

function toPlan(sorted: FsEntry[], layerOf: Map<string, number>, n: number): LayerPlan {
  const layers: PlannedLayer[] = Array.from({ length: n }, () => ({ name: '', components: [], paths: [], size: 0 }));
  for (const e of sorted) {
    const l = layers[layerOf.get(e.path)!];
    l.paths.push(e.path);
    l.size += e.size;
  }
  const nonEmpty = layers.filter((l) => l.paths.length > 0);
  nonEmpty.forEach((l) => (l.name = `paths:${l.paths[0]}`));
  return { layers: nonEmpty };
}

/** Regular files, symlinks and empty directories: what a layer copy must name explicitly. */
export function leafEntries(entries: FsEntry[]): FsEntry[] {
  const parents = new Set(entries.map((e) => parentOf(e.path)));
  return entries.filter((e) => e.kind !== 'dir' || !parents.has(e.path));
}



function pathHash(p: string): number {
  return createHash('sha256').update(p).digest().readUInt32BE(0);
}
