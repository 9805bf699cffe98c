// Reconciling with a previous plan. A client downloads every layer whose content changed, whole. So:
//  - a previous layer none of whose members changed or left ("clean") is kept exactly: it is the
//    one thing that saves bytes;
//  - a layer that changes anyway ("dirty": a member's fingerprint differs, or it left) costs its full
//    size whatever it holds, so all dirty layers are dissolved and their members, with the new
//    components, are repacked into the slots left (repack.ts) — a free repack that keeps grouping
//    components by how likely they are to change, without moving anything clean;
//  - change probabilities come from the changelog rates, scaled so that they predict as many
//    changes as the fingerprints show since the previous build (calibrates both the build cadence
//    and changelogs that overcount);
//  - when the budget is short (new components and no dirty layer, or a smaller max-layers), the
//    smallest clean layers are dissolved into the pool too.
import { createHash } from 'node:crypto';
import { singleName, type FreshChoice, type PackUnit } from './fresh.ts';
import { repack, type RepackItem } from './repack.ts';
import { EVERY_BUILD_RATE, type PackTuning } from './stability.ts';
import type { PreviousPlan } from './types.ts';
import { byteCompare } from './units.ts';

/** A previous plan as our label records it: fingerprints (component id → hex) when known. */
export interface PreviousPlanDetail extends PreviousPlan {
  fingerprints?: Record<string, string>;
}

export interface Reconciled {
  layerOf: Map<string, string>;
  /** Layer names in output order: kept layers in their previous order, then repacked ones. */
  order: string[];
}

export function reconcile(
  units: PackUnit[],
  fresh: Map<string, FreshChoice>,
  previous: PreviousPlanDetail,
  maxLayers: number,
  fingerprints: Map<string, string> | undefined,
  t: PackTuning,
): Reconciled {
  const byId = new Map(units.map((u) => [u.id, u]));
  const prevFp = previous.fingerprints ?? {};

  // Previous membership; a component listed twice keeps its first layer. A layer recorded without
  // members (the label dropped its list) is assumed to hold what the fresh plan puts there.
  const prevOrder: string[] = [];
  const prevLayerOf = new Map<string, string>();
  const prevMembers = new Map<string, string[]>();
  const unknown = new Set<string>();
  for (const l of previous.layers) {
    if (prevMembers.has(l.name)) continue;
    prevOrder.push(l.name);
    prevMembers.set(l.name, l.components);
    if (l.components.length === 0) unknown.add(l.name);
    for (const c of l.components) if (!prevLayerOf.has(c)) prevLayerOf.set(c, l.name);
  }

  const changed = (id: string) => {
    const was = prevFp[id];
    const now = fingerprints?.get(id);
    return was !== undefined && now !== undefined && was !== now;
  };

  // Kept layers and their members; everything else is the pool.
  const members = new Map<string, string[]>();
  const pool: string[] = [];
  for (const u of units) {
    const layer = prevLayerOf.get(u.id) ?? (unknown.has(fresh.get(u.id)!.layer) ? fresh.get(u.id)!.layer : undefined);
    if (layer === undefined) pool.push(u.id);
    else if (members.has(layer)) members.get(layer)!.push(u.id);
    else members.set(layer, [u.id]);
  }
  const dirty = new Set<string>();
  for (const [name, list] of prevMembers) {
    if (list.some((c) => !byId.has(c) || prevLayerOf.get(c) !== name || changed(c))) dirty.add(name);
  }
  for (const name of [...members.keys()]) {
    if (dirty.has(name)) {
      pool.push(...members.get(name)!);
      members.delete(name);
    }
  }

  // Repack the pool with calibrated probabilities. Dissolving clean layers into the pool costs their
  // size now but may lower the expected waste of every later update; try the smallest few and keep
  // the cheapest outcome over the tuning's horizon. Dissolving is forced while the budget is short.
  const sizeOf = (ids: string[]) => ids.reduce((s, id) => s + byId.get(id)!.size, 0);
  const tau = calibratedInterval(units, prevFp, fingerprints, t);
  const prob = (u: PackUnit) => (u.model.rate >= EVERY_BUILD_RATE ? 1 : 1 - Math.exp((-u.model.rate * tau) / 365));
  const item = (id: string): RepackItem => ({ id, size: byId.get(id)!.size, p: prob(byId.get(id)!) });
  const expected = (g: RepackItem[]) => g.reduce((s, i) => s + i.size, 0) * (1 - g.reduce((s, i) => s * (1 - i.p), 1));
  const clean = [...members.keys()].sort((a, b) => sizeOf(members.get(a)!) - sizeOf(members.get(b)!) || byteCompare(a, b));
  // Whatever ends up in the pool needs at least one slot.
  const must = pool.length > 0 || members.size > maxLayers ? Math.max(0, members.size - maxLayers + 1) : 0;
  let best: { k: number; groups: RepackItem[][]; cost: number } | undefined;
  for (let k = must; k <= Math.min(clean.length, must + 3); k++) {
    const dissolved = clean.slice(0, k);
    const ids = [...pool, ...dissolved.flatMap((n) => members.get(n)!)].sort(byteCompare);
    if (ids.length === 0) {
      best = { k, groups: [], cost: 0 };
      break;
    }
    const groups = repack(ids.map(item), maxLayers - (members.size - k));
    let cost = t.horizon * groups.reduce((s, g) => s + expected(g), 0);
    for (const n of dissolved) cost += sizeOf(members.get(n)!) - t.horizon * expected(members.get(n)!.map(item));
    if (!best || cost < best.cost) best = { k, groups, cost };
  }
  for (const n of clean.slice(0, best!.k)) members.delete(n);
  const groups = best!.groups;

  // Names: a singleton is named by its component; a group takes the name of the dirty layer it
  // overlaps most by bytes, else a name derived from its members.
  const taken = new Set(members.keys());
  const named: { name: string; ids: string[]; stay: number }[] = [];
  const bySizeDesc = [...groups].sort((a, b) => sizeOf(b.map((i) => i.id)) - sizeOf(a.map((i) => i.id)) || byteCompare(a[0].id, b[0].id));
  for (const g of bySizeDesc) {
    const ids = g.map((i) => i.id).sort(byteCompare);
    let name: string | undefined;
    if (ids.length === 1 && !taken.has(singleName(ids[0]))) name = singleName(ids[0]);
    else {
      const overlap = new Map<string, number>();
      for (const id of ids) {
        const was = prevLayerOf.get(id);
        if (was !== undefined && !taken.has(was)) overlap.set(was, (overlap.get(was) ?? 0) + byId.get(id)!.size);
      }
      const best = [...overlap.entries()].sort((a, b) => b[1] - a[1] || byteCompare(a[0], b[0]))[0];
      if (best && best[1] > 0) name = best[0];
    }
    if (name === undefined || taken.has(name)) name = derivedName(ids, taken);
    taken.add(name);
    named.push({ name, ids, stay: g.reduce((s, i) => s * (1 - i.p), 1) });
  }

  const layerOf = new Map<string, string>();
  for (const [name, ids] of members) for (const id of ids) layerOf.set(id, name);
  for (const g of named) for (const id of g.ids) layerOf.set(id, g.name);
  const order = prevOrder.filter((n) => members.has(n));
  named.sort((a, b) => b.stay - a.stay || byteCompare(a.name, b.name));
  order.push(...named.map((g) => g.name));
  return { layerOf, order };
}

function derivedName(ids: string[], taken: Set<string>): string {
  const h = createHash('sha256').update(ids.join('\n')).digest('hex');
  for (let n = 8; ; n++) {
    const name = `set-${h.slice(0, n)}`;
    if (!taken.has(name)) return name;
  }
}

/**
 * Effective update interval in days: the τ for which Σ 1 − exp(−rate·τ/365) over components not
 * regenerated by every build with a known previous fingerprint equals the number whose fingerprint changed. Without
 * fingerprints, the tuning's interval.
 */
export function calibratedInterval(units: PackUnit[], prevFp: Record<string, string>, fps: Map<string, string> | undefined, t: PackTuning): number {
  if (!fps) return t.intervalDays;
  const rates: number[] = [];
  let changed = 0;
  for (const u of units) {
    const was = prevFp[u.id];
    const now = fps.get(u.id);
    if (was === undefined || now === undefined || u.model.rate >= EVERY_BUILD_RATE) continue;
    rates.push(u.model.rate);
    if (was !== now) changed++;
  }
  if (rates.length === 0) return t.intervalDays;
  // Half a change of smoothing each way keeps τ finite at "nothing" and "everything" changed.
  const target = Math.min(rates.length - 0.5, Math.max(0.5, changed));
  const expected = (tau: number) => rates.reduce((s, r) => s + 1 - Math.exp((-r * tau) / 365), 0);
  let lo = 1 / 24;
  let hi = 3650;
  if (expected(lo) >= target) return lo;
  if (expected(hi) <= target) return hi;
  for (let i = 0; i < 60; i++) {
    const mid = Math.sqrt(lo * hi);
    if (expected(mid) < target) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}
