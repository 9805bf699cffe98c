// Partition of a set of components into at most `slots` layers minimising the expected bytes of the
// next update, Σ_layer size × P(layer changes), with P = 1 − Π(1 − p). The largest S components get
// layers of their own; the rest, sorted by p, are cut into contiguous runs by dynamic programming
// (divide-and-conquer over the cut points, O(B·n·log n) per S); S is searched on a coarse grid, then
// refined. Used where membership is free to change: layers that change anyway.
import { byteCompare } from './units.ts';

export interface RepackItem {
  id: string;
  size: number;
  /** Probability of changing before the next update, in [0, 1]. */
  p: number;
}

export function repack(items: RepackItem[], slots: number): RepackItem[][] {
  if (items.length === 0) return [];
  if (slots < 1) throw new Error(`repack: need at least one slot for ${items.length} components`);
  if (items.length <= slots) return items.map((i) => [i]);
  const bySize = [...items].sort((a, b) => b.size - a.size || byteCompare(a.id, b.id));

  const evaluate = (singles: number) => {
    const rest = bySize.slice(singles).sort((a, b) => a.p - b.p || byteCompare(a.id, b.id));
    let cost = 0;
    for (let i = 0; i < singles; i++) cost += bySize[i].size * bySize[i].p;
    const cut = runs(rest, slots - singles);
    return { cost: cost + cut.cost, singles, rest, bounds: cut.bounds };
  };

  // S from 0 to slots − 1 (at least one run for the rest); grid, then refine around the best.
  const maxS = slots - 1;
  const step = Math.max(1, Math.floor(maxS / 12));
  let best = evaluate(0);
  const consider = (s: number) => {
    if (s < 0 || s > maxS) return;
    const e = evaluate(s);
    if (e.cost < best.cost - 1e-6 || (Math.abs(e.cost - best.cost) <= 1e-6 && s > best.singles)) best = e;
  };
  for (let s = step; s <= maxS; s += step) consider(s);
  consider(maxS);
  const center = best.singles;
  for (let s = center - step + 1; s < center + step; s++) if (s !== center) consider(s);

  const out: RepackItem[][] = bySize.slice(0, best.singles).map((i) => [i]);
  for (let k = 0; k + 1 < best.bounds.length; k++) {
    if (best.bounds[k + 1] > best.bounds[k]) out.push(best.rest.slice(best.bounds[k], best.bounds[k + 1]));
  }
  return out;
}

/** Cut `rest` (sorted by p) into at most `b` contiguous runs; returns the cost and run boundaries. */
function runs(rest: RepackItem[], b: number): { cost: number; bounds: number[] } {
  const n = rest.length;
  if (n === 0) return { cost: 0, bounds: [0] };
  const size = new Float64Array(n + 1);
  const logStay = new Float64Array(n + 1);
  const sure = new Int32Array(n + 1); // items with p = 1
  for (let i = 0; i < n; i++) {
    size[i + 1] = size[i] + rest[i].size;
    const p = Math.min(1, Math.max(0, rest[i].p));
    sure[i + 1] = sure[i] + (p >= 1 ? 1 : 0);
    logStay[i + 1] = logStay[i] + (p >= 1 ? 0 : Math.log1p(-p));
  }
  const seg = (i: number, j: number) => {
    if (j <= i) return 0;
    const stay = sure[j] > sure[i] ? 0 : Math.exp(logStay[j] - logStay[i]);
    return (size[j] - size[i]) * (1 - stay);
  };
  const runsUsed = Math.min(b, n);
  // dp[k][j]: best cost of rest[0..j) in at most k runs; arg[k][j]: start of the last run.
  let prev = new Float64Array(n + 1).fill(Infinity);
  prev[0] = 0;
  const args: Int32Array[] = [];
  for (let k = 1; k <= runsUsed; k++) {
    const cur = new Float64Array(n + 1).fill(Infinity);
    const arg = new Int32Array(n + 1);
    cur[0] = 0;
    const solve = (lo: number, hi: number, optLo: number, optHi: number) => {
      if (lo > hi) return;
      const mid = (lo + hi) >> 1;
      let bestV = Infinity;
      let bestI = optLo;
      for (let i = optLo; i <= Math.min(mid, optHi); i++) {
        const v = prev[i] + seg(i, mid);
        if (v < bestV) {
          bestV = v;
          bestI = i;
        }
      }
      cur[mid] = bestV;
      arg[mid] = bestI;
      solve(lo, mid - 1, optLo, bestI);
      solve(mid + 1, hi, bestI, optHi);
    };
    solve(1, n, 0, n);
    args.push(arg);
    prev = cur;
  }
  const bounds = [n];
  for (let k = runsUsed - 1, j = n; k >= 0 && j > 0; k--) {
    j = args[k][j];
    bounds.push(j);
  }
  if (bounds[bounds.length - 1] !== 0) bounds.push(0);
  bounds.reverse();
  return { cost: prev[n], bounds };
}
