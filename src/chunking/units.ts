// Entries + components → packing units: who owns each entry path, decided once and deterministically.
//  - a path claimed by several components goes to the smallest component id (byte order);
//  - a hard-link group goes whole to the owner of its first owned member (tree order);
//  - unclaimed leaves (files, symlinks, empty dirs, …) form the synthetic unit UNOWNED_ID;
//  - directories with children carry nothing a layer must name (the layer writer recreates parents),
//    so unclaimed ones, and components made only of such directories, ride along with the owner of
//    the first leaf below them: no layer ends up without a leaf.
import { cmp, parentOf } from './simple.ts';
import type { FsEntry } from '../rootfs/types.ts';
import type { Component } from './types.ts';

/** Id of the unit holding unclaimed leaves; reserved (a component may not use it). */
export const UNOWNED_ID = 'plan:unowned';

export interface Unit {
  id: string;
  /** Undefined for the synthetic unowned unit. */
  component?: Component;
  /** Entry paths placed with this unit, in tree order. */
  paths: string[];
  /** Regular-file bytes, each hard-link group counted once. */
  size: number;
}

import { compareBytewise as byteCompare } from '../util/order.ts';

export { byteCompare };

export function resolveUnits(entries: FsEntry[], components: Component[]): Unit[] {
  const sorted = [...entries].sort((a, b) => cmp(a.path, b.path));
  const byPath = new Map<string, FsEntry>();
  for (const e of sorted) {
    if (byPath.has(e.path)) throw new Error(`planner: duplicate entry path '${e.path}'`);
    byPath.set(e.path, e);
  }
  const comps = [...components].sort((a, b) => byteCompare(a.id, b.id));
  for (let i = 0; i < comps.length; i++) {
    const id = comps[i].id;
    if (typeof id !== 'string' || id === '') throw new Error('planner: a component has an empty id');
    if (id === UNOWNED_ID) throw new Error(`planner: component id '${UNOWNED_ID}' is reserved`);
    if (i > 0 && comps[i - 1].id === id) throw new Error(`planner: duplicate component id '${id}'`);
  }

  // 1. Claims: first component in id order wins; paths that are not entries are ignored.
  const owner = new Map<string, number>();
  comps.forEach((c, ci) => {
    for (const p of c.paths) if (byPath.has(p) && !owner.has(p)) owner.set(p, ci);
  });

  // 2. Hard-link groups follow their first owned member.
  const groups = new Map<string, string[]>();
  for (const e of sorted) {
    if (e.linkGroup === undefined) continue;
    const g = groups.get(e.linkGroup);
    if (g) g.push(e.path);
    else groups.set(e.linkGroup, [e.path]);
  }
  for (const members of groups.values()) {
    const first = members.find((p) => owner.has(p));
    const o = first === undefined ? undefined : owner.get(first)!;
    for (const p of members) {
      if (o === undefined) owner.delete(p);
      else owner.set(p, o);
    }
  }

  // 3. Leaves, and which components hold at least one.
  const parents = new Set<string>();
  for (const e of sorted) parents.add(parentOf(e.path));
  const isLeaf = (e: FsEntry) => e.kind !== 'dir' || !parents.has(e.path);
  const UNOWNED = -1;
  const hasLeaf = new Set<number>();
  for (const e of sorted) if (isLeaf(e) && owner.has(e.path)) hasLeaf.add(owner.get(e.path)!);

  // 4. Final unit of every path: leaves by owner (or UNOWNED); non-leaf directories of a component
  //    that keeps a leaf stay with it, all others go with the first leaf below them.
  const unitOf = new Map<string, number>();
  const walked = new Set<string>(); // a walk goes to the root, so its ancestors are done too
  for (const e of sorted) {
    if (!isLeaf(e)) {
      const o = owner.get(e.path);
      if (o !== undefined && hasLeaf.has(o)) unitOf.set(e.path, o);
      continue;
    }
    const u = owner.get(e.path) ?? UNOWNED;
    unitOf.set(e.path, u);
    for (let d = parentOf(e.path); d !== '' && !walked.has(d); d = parentOf(d)) {
      walked.add(d);
      if (byPath.has(d) && !unitOf.has(d)) unitOf.set(d, u);
    }
  }

  // 5. Collect.
  const units = new Map<number, Unit>();
  const seenGroups = new Map<number, Set<string>>();
  for (const e of sorted) {
    const u = unitOf.get(e.path);
    if (u === undefined) continue; // unreachable: every non-leaf dir has a leaf below it
    let unit = units.get(u);
    if (!unit) {
      unit = u === UNOWNED ? { id: UNOWNED_ID, paths: [], size: 0 } : { id: comps[u].id, component: comps[u], paths: [], size: 0 };
      units.set(u, unit);
      seenGroups.set(u, new Set());
    }
    unit.paths.push(e.path);
    if (e.kind !== 'file') continue;
    if (e.linkGroup !== undefined) {
      const seen = seenGroups.get(u)!;
      if (seen.has(e.linkGroup)) continue;
      seen.add(e.linkGroup);
    }
    unit.size += e.size;
  }
  return [...units.values()].sort((a, b) => byteCompare(a.id, b.id));
}
