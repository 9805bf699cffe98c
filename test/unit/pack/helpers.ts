// Shared builders and checks for the packer tests.
import assert from 'node:assert/strict';
import { cmp, parentOf } from '../../../src/chunking/simple.ts';
import type { Component, LayerPlan, PlanInput } from '../../../src/chunking/types.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';

export const NOW = 1_700_000_000;
export const DAY = 86400;

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(xs: T[], r: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export const dir = (path: string): FsEntry => ({ path, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
export const file = (path: string, size: number, linkGroup?: string): FsEntry => ({ path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size, ...(linkGroup ? { linkGroup } : {}) });
export const link = (path: string, target: string): FsEntry => ({ path, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, target });

/**
 * One component per package under `usr/lib/<id>/`: a directory, a data file of `size` bytes and a
 * symlink. Rates are changes per year (Infinity = every build).
 */
export interface PkgSpec {
  id: string;
  size: number;
  rate?: number;
  version?: string;
}

export function packages(specs: PkgSpec[]): { entries: FsEntry[]; components: Component[] } {
  const entries: FsEntry[] = [dir('usr'), dir('usr/lib')];
  const components: Component[] = [];
  for (const s of specs) {
    const d = `usr/lib/${s.id}`;
    entries.push(dir(d), file(`${d}/data`, s.size), link(`${d}/link`, 'data'));
    components.push({
      id: s.id,
      paths: [d, `${d}/data`, `${d}/link`],
      size: s.size,
      ...(s.version !== undefined ? { version: s.version } : {}),
      ...(s.rate !== undefined ? { changeFrequency: s.rate } : {}),
    });
  }
  return { entries, components };
}

/** A population with a realistic spread: log-uniform sizes (1 KiB … 200 MiB), rates 0 … 60/year, a few volatile. */
export function population(n: number, seed: number, prefix = 'rpm:p'): PkgSpec[] {
  const r = rng(seed);
  const out: PkgSpec[] = [];
  for (let i = 0; i < n; i++) {
    const size = Math.round(1024 * Math.exp(r() * Math.log(200 * 1024)));
    const rate = i % 50 === 7 ? Infinity : Math.floor(r() * r() * 60);
    out.push({ id: `${prefix}${String(i).padStart(4, '0')}`, size, rate, version: '1' });
  }
  return out;
}

export function input(specs: PkgSpec[], maxLayers: number, extra: Partial<PlanInput> = {}): PlanInput {
  return { ...packages(specs), maxLayers, now: NOW, ...extra };
}

/** The planner contract, checked on an actual plan. */
export function checkInvariants(inp: PlanInput, plan: LayerPlan): void {
  assert.ok(plan.layers.length <= inp.maxLayers, `${plan.layers.length} layers > maxLayers ${inp.maxLayers}`);
  const where = new Map<string, number>();
  plan.layers.forEach((l, i) => {
    for (const p of l.paths) {
      assert.ok(!where.has(p), `path '${p}' in layers ${where.get(p)} and ${i}`);
      where.set(p, i);
    }
    assert.deepEqual(l.paths, [...l.paths].sort(cmp), `layer '${l.name}' paths not in tree order`);
    assert.deepEqual(l.components, [...l.components].sort(), `layer '${l.name}' components not sorted`);
  });
  assert.equal(new Set(plan.layers.map((l) => l.name)).size, plan.layers.length, 'duplicate layer names');
  for (const e of inp.entries) assert.ok(where.has(e.path), `path '${e.path}' in no layer`);
  assert.equal(where.size, inp.entries.length, 'a layer names a path that is not an entry');
  // hard links together
  const groupLayer = new Map<string, number>();
  for (const e of inp.entries) {
    if (!e.linkGroup) continue;
    const l = where.get(e.path)!;
    if (groupLayer.has(e.linkGroup)) assert.equal(l, groupLayer.get(e.linkGroup), `hard-link group '${e.linkGroup}' split`);
    else groupLayer.set(e.linkGroup, l);
  }
  // no layer without a leaf (the layer writer only names leaves)
  const parents = new Set(inp.entries.map((e) => parentOf(e.path)));
  const byPath = new Map(inp.entries.map((e) => [e.path, e]));
  for (const l of plan.layers) {
    assert.ok(l.paths.some((p) => byPath.get(p)!.kind !== 'dir' || !parents.has(p)), `layer '${l.name}' has no leaf`);
    const seen = new Set<string>();
    let size = 0;
    for (const p of l.paths) {
      const e = byPath.get(p)!;
      if (e.kind !== 'file' || (e.linkGroup && seen.has(e.linkGroup))) continue;
      if (e.linkGroup) seen.add(e.linkGroup);
      size += e.size;
    }
    assert.equal(l.size, size, `layer '${l.name}' size`);
  }
  // each component in at most one layer
  const comp = new Map<string, string>();
  for (const l of plan.layers) {
    for (const c of l.components) {
      assert.ok(!comp.has(c), `component '${c}' in layers '${comp.get(c)}' and '${l.name}'`);
      comp.set(c, l.name);
    }
  }
}

/** Layers a client must download going from `a` to `b`: layers of `b` whose content (components at their versions) is not a layer of `a`. */
export function changedLayers(a: LayerPlan, b: LayerPlan, versionA: Map<string, string> = new Map(), versionB: Map<string, string> = new Map()): string[] {
  const ident = (l: { components: string[] }, v: Map<string, string>) => l.components.map((c) => `${c}@${v.get(c) ?? ''}`).join(',');
  const old = new Set(a.layers.map((l) => ident(l, versionA)));
  return b.layers.filter((l) => !old.has(ident(l, versionB))).map((l) => l.name);
}

export const versions = (specs: PkgSpec[]) => new Map(specs.map((s) => [s.id, s.version ?? '']));
export const previousOf = (plan: LayerPlan) => ({ layers: plan.layers.map((l) => ({ name: l.name, components: l.components })) });
