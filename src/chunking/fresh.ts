// The plan without history. Layer geometry depends only on the budget: one volatile bin plus a fixed
// number of hash bins per stability tier; every other layer holds one component. Components are
// ranked by size; the top S get singleton layers, S being the largest count for which S + (bins the
// rest occupy) fits the budget (bins nobody lands in go to singletons). The rest go to bin
// jumpHash(id) of their tier. A component's tier and bin never depend on other components, so adding
// or removing one moves at most the singleton at the boundary of the ranking.
import { jumpHash, keyOf } from './jump-hash.ts';
import { VOLATILE, type ChangeModel, type PackTuning } from './stability.ts';
import { byteCompare } from './units.ts';

export interface PackUnit {
  id: string;
  size: number;
  model: ChangeModel;
}

export interface FreshChoice {
  /** Layer name: the component id for a singleton, the bin name otherwise. */
  layer: string;
  /** Tier rank of the layer (the component's own for a singleton); orders layers. */
  rank: number;
  single: boolean;
}

/** Hash bins per tier name (VOLATILE included); `shared` > 0 means all non-volatile tiers share `bin-NN`. */
export interface Geometry {
  bins: Map<string, number>;
  shared: number;
}

export function geometry(maxLayers: number, t: PackTuning): Geometry {
  const total = Math.min(maxLayers, Math.max(2, Math.round(maxLayers * t.binFraction)));
  const tail = total - 1;
  const bins = new Map<string, number>([[VOLATILE, 1]]);
  if (tail < t.tiers.length) return { bins, shared: tail };
  // Largest remainder over the shares, at least one bin per tier.
  const sum = t.tiers.reduce((s, x) => s + x.share, 0);
  const spare = tail - t.tiers.length;
  const exact = t.tiers.map((x) => (spare * x.share) / sum);
  const got = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0, left = spare - got.reduce((s, x) => s + x, 0); k < left; k++) got[order[k][1]]++;
  t.tiers.forEach((x, i) => bins.set(x.name, 1 + got[i]));
  return { bins, shared: 0 };
}

export function binOf(u: PackUnit, g: Geometry): { name: string; rank: number } {
  const tier = u.model.tier;
  if (tier === VOLATILE) return { name: VOLATILE, rank: u.model.rank };
  if (g.shared > 0) return { name: `bin-${pad(jumpHash(keyOf(u.id), g.shared))}`, rank: 0 };
  return { name: `${tier}-${pad(jumpHash(keyOf(u.id), g.bins.get(tier)!))}`, rank: u.model.rank };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Names that look like bins; a component with such an id gets a prefixed singleton name. */
const BIN_NAME = /^(all|volatile|[a-z]+-\d+)$/;
export const singleName = (id: string) => (BIN_NAME.test(id) ? `single:${id}` : id);

/**
 * Singleton ranking: size, then id. (Weighting by stability was measured worse: it needs the
 * client's update cadence, which a fresh plan cannot know, and it demotes big hot components.)
 */
export function rankUnits(units: PackUnit[]): PackUnit[] {
  return [...units].sort((a, b) => b.size - a.size || byteCompare(a.id, b.id));
}

export function freshAssign(units: PackUnit[], maxLayers: number, t: PackTuning): Map<string, FreshChoice> {
  const out = new Map<string, FreshChoice>();
  if (maxLayers === 1) {
    for (const u of units) out.set(u.id, { layer: 'all', rank: 0, single: false });
    return out;
  }
  const g = geometry(maxLayers, t);
  const ranked = rankUnits(units);
  const bins = ranked.map((u) => binOf(u, g));
  // distinct[s] = bins occupied by ranked[s..]; then the largest S with S + distinct[S] ≤ budget.
  const distinct = new Array<number>(ranked.length + 1).fill(0);
  const seen = new Set<string>();
  for (let s = ranked.length - 1; s >= 0; s--) {
    seen.add(bins[s].name);
    distinct[s] = seen.size;
  }
  let singles = 0;
  for (let s = ranked.length; s >= 0; s--) {
    if (s + distinct[s] <= maxLayers) {
      singles = s;
      break;
    }
  }
  ranked.forEach((u, i) => {
    out.set(u.id, i < singles ? { layer: singleName(u.id), rank: u.model.rank, single: true } : { layer: bins[i].name, rank: bins[i].rank, single: false });
  });
  return out;
}

/** Layer order: most stable first (a changed layer then invalidates few layers above it), then name. */
export function layerOrder(a: { name: string; rank: number }, b: { name: string; rank: number }): number {
  return a.rank - b.rank || byteCompare(a.name, b.name);
}
