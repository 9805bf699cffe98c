// The shape of the layer FileOps the frontend emits for a tree: the same scan, planner and LLB code
// run on the host copy of the build context, then each layer's FileOp is counted (copy actions =
// the copies rooted at subtrees + the stamp copy; include/exclude patterns; entries under the roots,
// i.e. what BuildKit walks and hashes).
// Joined with per-layer durations from a build log, it shows what a FileOp's time depends on.
// Mirrors the planner choice of src/frontend/build.ts (pack planner when components are known).
import { packPlanner } from '../../src/chunking/pack.ts';
import { simplePlanner } from '../../src/chunking/simple.ts';
import { subtreeSizes } from '../../src/image/copy-roots.ts';
import { buildLayers, layerCopyPlans } from '../../src/image/layers.ts';
import * as llb from '../../src/llb/index.ts';
import { inventory } from '../../src/rootfs/inventory.ts';
import { LocalRootfs } from '../../src/rootfs/local.ts';

export interface LayerShape {
  /** 1-based, as in the "[layer i/n]" vertex names. */
  index: number;
  actions: number;
  includes: number;
  excludes: number;
  paths: number;
  /** Entries under the copy roots (absent in results recorded before copies were rooted). */
  walk?: number;
}

export async function planShape(rootfs: string, epoch: number, maxLayers = 64): Promise<LayerShape[]> {
  const listing = await inventory(new LocalRootfs(rootfs, 'rootfs'), 16);
  const planner = listing.components.length ? packPlanner : simplePlanner;
  const plan = planner({ entries: listing.entries, components: listing.components, maxLayers, now: epoch });
  const state = buildLayers({
    rootfs: llb.local('context', { sessionId: 'bench', includePatterns: ['rootfs'] }),
    prefix: 'rootfs',
    entries: listing.entries,
    skipped: listing.skipped,
    plan,
    // Times only change the stamps, not the shape.
    times: plan.layers.map(() => epoch),
    useMerge: true,
    ignoreCache: false,
  });
  const sizes = subtreeSizes(listing.entries.map((e) => e.path));
  const walks = layerCopyPlans(listing.entries, listing.skipped, plan).map((p) => p.copies.reduce((n, c) => n + (sizes.get(c.src) ?? 1), 0));
  const g = llb.marshalGraph(state);
  const out: LayerShape[] = [];
  for (const op of g.ops) {
    const name = g.definition.metadata[op.digest]?.description['llb.customname'] ?? '';
    const m = /^\[layer (\d+)\/\d+\]/.exec(name);
    if (!m || !op.op.file) continue;
    const copies = op.op.file.actions.flatMap((a) => (a.copy ? [a.copy] : []));
    const index = Number(m[1]);
    out.push({
      index,
      actions: copies.length,
      includes: copies.reduce((n, c) => n + c.includePatterns.length, 0),
      excludes: copies.reduce((n, c) => n + c.excludePatterns.length, 0),
      paths: plan.layers[index - 1]?.paths.length ?? 0,
      walk: walks[index - 1],
    });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Least squares y = a + b·x; r² of the fit. */
export function linearFit(xs: number[], ys: number[]): { a: number; b: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const b = sxx ? sxy / sxx : 0;
  return { a: my - b * mx, b, r2: sxx && syy ? (sxy * sxy) / (sxx * syy) : 0 };
}
