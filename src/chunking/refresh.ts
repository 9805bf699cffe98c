// After a mass change (a distribution upgrade: almost every component changed), reconciling with
// the previous plan does more harm than good: probabilities calibrated on such an update say that
// everything changes, so the repack groups by accident (measured in bench/update-size.ts: 82 MiB
// instead of 62 MiB on the userland update after bookworm → trixie). Then the previous layers that
// stayed clean are kept byte for byte (they are what a client still has) and everything else takes
// the fresh plan, computed for the slots left.
import { freshAssign, layerOrder, type PackUnit } from './fresh.ts';
import type { PackTuning } from './stability.ts';
import type { PreviousPlanDetail } from './sticky.ts';

export interface CleanLayer {
  name: string;
  components: string[];
}

/**
 * Previous layers every member of which is still present with an unchanged fingerprint, in previous
 * order. Needs fingerprints on both sides: without them nothing is known to be clean.
 */
export function cleanLayers(units: PackUnit[], previous: PreviousPlanDetail, fps: Map<string, string> | undefined): CleanLayer[] {
  const was = previous.fingerprints;
  if (!was || !fps) return [];
  const present = new Set(units.map((u) => u.id));
  const names = new Set<string>();
  const claimed = new Set<string>();
  const out: CleanLayer[] = [];
  for (const l of previous.layers) {
    if (names.has(l.name)) continue;
    names.add(l.name);
    if (l.components.length === 0) continue;
    const ok = l.components.every((c) => present.has(c) && !claimed.has(c) && was[c] !== undefined && was[c] === fps.get(c));
    if (!ok) continue;
    for (const c of l.components) claimed.add(c);
    out.push({ name: l.name, components: [...l.components] });
  }
  return out;
}

/** True when the clean layers hold less than `refreshBelow` of the bytes (and there is something to refresh). */
export function isMassChange(units: PackUnit[], clean: CleanLayer[], t: PackTuning): boolean {
  if (t.refreshBelow <= 0) return false;
  const size = new Map(units.map((u) => [u.id, u.size]));
  const kept = clean.reduce((s, l) => s + l.components.reduce((a, c) => a + size.get(c)!, 0), 0);
  const total = units.reduce((s, u) => s + u.size, 0);
  return total > 0 && kept < t.refreshBelow * total;
}

/**
 * Clean layers kept (as many as leave at least two slots, largest first), the rest planned fresh in
 * the remaining slots. A fresh layer whose name a kept layer already uses is renamed `<name>.1`, … .
 */
export function refreshPlan(units: PackUnit[], clean: CleanLayer[], maxLayers: number, t: PackTuning): { layerOf: Map<string, string>; order: string[] } {
  const size = new Map(units.map((u) => [u.id, u.size]));
  const bytes = (l: CleanLayer) => l.components.reduce((a, c) => a + size.get(c)!, 0);
  const room = Math.max(0, maxLayers - 2);
  const keptSet = new Set([...clean].sort((a, b) => bytes(b) - bytes(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, room).map((l) => l.name));
  const kept = clean.filter((l) => keptSet.has(l.name));
  const layerOf = new Map<string, string>();
  for (const l of kept) for (const c of l.components) layerOf.set(c, l.name);
  const rest = units.filter((u) => !layerOf.has(u.id));
  const order = kept.map((l) => l.name);
  if (rest.length === 0) return { layerOf, order };
  const fresh = freshAssign(rest, maxLayers - kept.length, t);
  const taken = new Set(order);
  const rename = new Map<string, string>();
  const ranked = new Map<string, number>();
  for (const f of fresh.values()) ranked.set(f.layer, f.rank);
  const freshOrder = [...ranked.entries()].map(([name, rank]) => ({ name, rank })).sort(layerOrder).map((l) => l.name);
  for (const name of freshOrder) {
    let n = name;
    for (let k = 1; taken.has(n); k++) n = `${name}.${k}`;
    taken.add(n);
    rename.set(name, n);
    order.push(n);
  }
  for (const [id, f] of fresh) layerOf.set(id, rename.get(f.layer)!);
  return { layerOf, order };
}
