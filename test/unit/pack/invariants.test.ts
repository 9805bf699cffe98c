import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packPlanner } from '../../../src/chunking/pack.ts';
import { UNOWNED_ID } from '../../../src/chunking/units.ts';
import type { Component, PlanInput } from '../../../src/chunking/types.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';
import { checkInvariants, dir, file, input, link, NOW, population, previousOf, rng, shuffle } from './helpers.ts';

/** A tree with every awkward case: shared claims, cross-component hard links, unowned files, dir-only components. */
function awkward(): PlanInput {
  const entries: FsEntry[] = [
    dir('etc'),
    file('etc/os-release', 100),
    dir('usr'),
    dir('usr/bin'),
    file('usr/bin/bash', 1000),
    link('usr/bin/sh', 'bash'),
    file('usr/bin/gzip', 300, 'usr/bin/gunzip'),
    file('usr/bin/gunzip', 300, 'usr/bin/gunzip'),
    file('usr/bin/zcat', 300, 'usr/bin/gunzip'),
    dir('usr/share'),
    dir('usr/share/empty'),
    file('usr/share/shared.txt', 50),
    file('usr/share/orphan', 70),
    dir('var'),
    dir('var/lib'),
    dir('var/lib/dironly'),
    dir('var/lib/dironly/sub'),
    file('var/lib/dironly/sub/owned-by-none', 5),
  ];
  const components: Component[] = [
    { id: 'rpm:bash', paths: ['usr/bin/bash', 'usr/bin/sh', 'usr/share/shared.txt', 'usr/bin/zcat'], size: 1350, changeFrequency: 3 },
    { id: 'rpm:gzip', paths: ['usr/bin/gzip', 'usr/bin/gunzip', 'usr/share/shared.txt', 'usr/bin'], size: 600, changeFrequency: 30 },
    { id: 'rpm:filesystem', paths: ['usr', 'usr/share', 'usr/share/empty', 'var', 'var/lib'], size: 0, changeFrequency: 1 },
    { id: 'rpm:dironly', paths: ['var/lib/dironly', 'var/lib/dironly/sub', 'not/in/rootfs'], size: 0 },
    { id: 'rest:etc', paths: ['etc', 'etc/os-release'], size: 100, changeFrequency: 0xffffffff },
  ];
  return { entries, components, maxLayers: 64, now: NOW };
}

test('awkward tree: ownership rules, hard links, unowned content, dir-only components', () => {
  const inp = awkward();
  const plan = packPlanner(inp);
  checkInvariants(inp, plan);
  const layerOf = (p: string) => plan.layers.find((l) => l.paths.includes(p))!;
  // shared claim → smallest id
  assert.deepEqual(layerOf('usr/share/shared.txt').components, ['rpm:bash']);
  // the link group follows its first owned member in tree order (usr/bin/gunzip, owned by gzip)
  for (const p of ['usr/bin/gzip', 'usr/bin/gunzip', 'usr/bin/zcat']) assert.deepEqual(layerOf(p).components, ['rpm:gzip']);
  // unclaimed leaves → the unowned unit; the dir-only component dissolves into the first leaf below
  assert.deepEqual(layerOf('usr/share/orphan').components, [UNOWNED_ID]);
  assert.equal(layerOf('var/lib/dironly'), layerOf('var/lib/dironly/sub/owned-by-none'));
  assert.ok(!plan.layers.some((l) => l.components.includes('rpm:dironly')));
  // the filesystem package keeps its empty dir (a leaf), so it has a layer with its other dirs
  assert.equal(layerOf('usr/share/empty').name, 'rpm:filesystem');
  assert.deepEqual(layerOf('usr/share/empty').paths, ['usr', 'usr/share', 'usr/share/empty', 'var', 'var/lib']);
  // under budget: one layer per unit, named by it; bash holds 1000 + 50 bytes (zcat moved out)
  assert.deepEqual(plan.layers.map((l) => l.name).sort(), [UNOWNED_ID, 'rest:etc', 'rpm:bash', 'rpm:filesystem', 'rpm:gzip']);
  assert.equal(layerOf('usr/bin/bash').size, 1050);
  assert.equal(layerOf('usr/bin/gzip').size, 300);
});

test('invariants hold for every budget, with and without a previous plan', () => {
  const specs = population(300, 1);
  for (const k of [1, 2, 3, 4, 5, 8, 16, 64, 127, 299, 300, 500]) {
    const inp = input(specs, k);
    const plan = packPlanner(inp);
    checkInvariants(inp, plan);
    if (k >= 300) assert.equal(plan.layers.length, 300, `k=${k}: one layer per component`);
    else assert.equal(plan.layers.length, k, `k=${k}: the whole budget is used`);
    // replan with the previous plan and a smaller budget
    const small = Math.max(1, Math.floor(k / 2));
    const inp2 = input(specs, small, { previous: previousOf(plan) });
    checkInvariants(inp2, packPlanner(inp2));
  }
  const awk = awkward();
  for (const k of [1, 2, 3]) checkInvariants({ ...awk, maxLayers: k }, packPlanner({ ...awk, maxLayers: k }));
});

test('determinism: any input order gives the same plan', () => {
  const specs = population(400, 2);
  const base = input(specs, 40);
  const want = packPlanner(base);
  const r = rng(99);
  for (let i = 0; i < 5; i++) {
    const shuffled: PlanInput = {
      ...base,
      entries: shuffle(base.entries, r),
      components: shuffle(base.components, r).map((c) => ({ ...c, paths: shuffle(c.paths, r) })),
    };
    assert.deepEqual(packPlanner(shuffled), want);
  }
  // with a previous plan (incl. shuffled previous layers' component lists)
  const prev = previousOf(packPlanner(input(specs.slice(0, 350), 40)));
  const want2 = packPlanner({ ...base, previous: prev });
  const shuffledPrev = { layers: prev.layers.map((l) => ({ ...l, components: shuffle(l.components, r) })) };
  assert.deepEqual(packPlanner({ ...base, entries: shuffle(base.entries, r), previous: shuffledPrev }), want2);
  assert.deepEqual(packPlanner(awkward()), packPlanner({ ...awkward(), entries: shuffle(awkward().entries, r) }));
});

test('change frequency and size shape the fresh plan', () => {
  // 200 components: far more than 16 layers. Big ones alone; volatile ones share the volatile bin;
  // cold and hot small ones never share a bin.
  const specs = [
    ...Array.from({ length: 90 }, (_, i) => ({ id: `rpm:cold${i}`, size: 1000 + i, rate: 1 })),
    ...Array.from({ length: 90 }, (_, i) => ({ id: `rpm:hot${i}`, size: 1000 + i, rate: 50 })),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `rest:v${i}`, size: 500, rate: Infinity })),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `rpm:big${i}`, size: 1e8 + i, rate: 10 })),
  ];
  const plan = packPlanner(input(specs, 16));
  checkInvariants(input(specs, 16), plan);
  for (let i = 0; i < 10; i++) assert.ok(plan.layers.some((l) => l.name === `rpm:big${i}` && l.components.length === 1), `big${i} alone`);
  const vol = plan.layers.find((l) => l.name === 'volatile')!;
  assert.deepEqual(vol.components, specs.filter((s) => s.rate === Infinity).map((s) => s.id).sort());
  for (const l of plan.layers) {
    const kinds = new Set(l.components.map((c) => c.replace(/\d+$/, '')));
    assert.ok(!(kinds.has('rpm:cold') && kinds.has('rpm:hot')), `layer '${l.name}' mixes cold and hot`);
  }
  assert.ok(plan.layers.some((l) => /^cold-\d\d$/.test(l.name)) && plan.layers.some((l) => /^hot-\d\d$/.test(l.name)));
});

test('recent change time stands in for a missing change frequency', () => {
  const specs = Array.from({ length: 60 }, (_, i) => ({ id: `rpm:q${i}`, size: 1000 }));
  const inp = input(specs, 20);
  inp.components.forEach((c, i) => (c.changeTime = i < 30 ? NOW - 3 * 86400 : NOW - 3 * 365 * 86400));
  const plan = packPlanner(inp);
  for (const l of plan.layers) {
    const fresh = l.components.filter((c) => Number(c.slice(5)) < 30).length;
    assert.ok(fresh === 0 || fresh === l.components.length, `layer '${l.name}' mixes recently and long unchanged components`);
  }
});

test('bad input: clear errors', () => {
  const ok = input(population(5, 3), 8);
  const bad = (patch: Partial<PlanInput>, msg: string) => assert.throws(() => packPlanner({ ...ok, ...patch }), { message: msg });
  bad({ maxLayers: 0 }, 'planner: maxLayers must be an integer from 1 to 500, got 0');
  bad({ maxLayers: 501 }, 'planner: maxLayers must be an integer from 1 to 500, got 501');
  bad({ maxLayers: 2.5 }, 'planner: maxLayers must be an integer from 1 to 500, got 2.5');
  bad({ now: Number.NaN }, 'planner: now must be a finite number of seconds (SOURCE_DATE_EPOCH), got NaN');
  bad({ entries: [...ok.entries, file('usr/lib/rpm:p0000/data', 1)] }, "planner: duplicate entry path 'usr/lib/rpm:p0000/data'");
  bad({ components: [...ok.components, { id: 'rpm:p0001', paths: [], size: 0 }] }, "planner: duplicate component id 'rpm:p0001'");
  bad({ components: [...ok.components, { id: UNOWNED_ID, paths: [], size: 0 }] }, "planner: component id 'plan:unowned' is reserved");
  bad({ components: [...ok.components, { id: '', paths: [], size: 0 }] }, 'planner: a component has an empty id');
  bad({ components: [{ id: 'rpm:x', paths: [], size: 0, changeFrequency: -1 }] }, "planner: component 'rpm:x': changeFrequency must be a number ≥ 0 (Infinity = every build), got -1");
  bad({ components: [{ id: 'rpm:x', paths: [], size: 0, changeTime: Infinity }] }, "planner: component 'rpm:x': changeTime must be finite Unix seconds, got Infinity");
  bad({ previous: { layers: [{ name: '', components: [] }] } }, 'planner: previous plan has a layer without a name');
});

test('empty rootfs and components that own nothing', () => {
  assert.deepEqual(packPlanner({ entries: [], components: [{ id: 'rpm:ghost', paths: ['x'], size: 9 }], maxLayers: 64, now: NOW }), { layers: [] });
  const plan = packPlanner({ entries: [file('a', 1)], components: [{ id: 'rpm:ghost', paths: ['x'], size: 9 }], maxLayers: 64, now: NOW });
  assert.deepEqual(plan, { layers: [{ name: UNOWNED_ID, components: [UNOWNED_ID], paths: ['a'], size: 1 }] });
});

test('planning 100k entries stays well under 3 s', () => {
  const specs = population(2000, 4);
  const entries: FsEntry[] = [dir('usr'), dir('usr/lib')];
  const components: Component[] = [];
  for (const s of specs) {
    const d = `usr/lib/${s.id}`;
    const paths = [d];
    entries.push(dir(d));
    for (let f = 0; f < 49; f++) {
      entries.push(file(`${d}/f${f}`, s.size));
      paths.push(`${d}/f${f}`);
    }
    components.push({ id: s.id, paths, size: 0, changeFrequency: s.rate });
  }
  const t0 = performance.now();
  const plan = packPlanner({ entries, components, maxLayers: 64, now: NOW });
  const ms = performance.now() - t0;
  assert.equal(plan.layers.length, 64);
  assert.ok(ms < 3000, `planning took ${ms.toFixed(0)} ms`);
});
