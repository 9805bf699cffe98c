// Stickiness to a previous plan: clean layers (no member changed or left) are kept exactly; layers
// that change anyway are repacked; new components cost as little as possible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { componentFingerprints } from '../../../src/chunking/fingerprint.ts';
import { packPlanner } from '../../../src/chunking/pack.ts';
import { calibratedInterval, type PreviousPlanDetail } from '../../../src/chunking/sticky.ts';
import { changeModel, DEFAULT_TUNING } from '../../../src/chunking/stability.ts';
import type { LayerPlan, PlanInput } from '../../../src/chunking/types.ts';
import { changedLayers, checkInvariants, input, NOW, population, previousOf, type PkgSpec } from './helpers.ts';

const withFp = (plan: LayerPlan, inp: PlanInput): PreviousPlanDetail => ({
  ...previousOf(plan),
  fingerprints: Object.fromEntries(componentFingerprints(inp.entries, inp.components)),
});
const key = (l: { name: string; components: string[] }) => `${l.name}=${l.components.join(',')}`;
const kept = (a: LayerPlan, b: LayerPlan) => {
  const now = new Set(b.layers.map(key));
  return a.layers.filter((l) => now.has(key(l))).length;
};

test('adding components under budget: every previous layer kept, newcomers in new layers', () => {
  const specs = population(30, 51);
  const inp0 = input(specs, 64);
  const plan0 = packPlanner(inp0);
  const added: PkgSpec[] = [{ id: 'rpm:added1', size: 5e6, rate: 2, version: '1' }, { id: 'rpm:added2', size: 10, rate: 40, version: '1' }];
  const inp1 = input([...specs, ...added], 64, { previous: withFp(plan0, inp0) });
  const plan1 = packPlanner(inp1);
  checkInvariants(inp1, plan1);
  assert.equal(kept(plan0, plan1), plan0.layers.length);
  assert.deepEqual(changedLayers(plan0, plan1).sort(), ['rpm:added1', 'rpm:added2']);
});

test('budget full: a removed component dirties only its own layer; everything else is kept', () => {
  const specs = population(400, 52);
  const inp0 = input(specs, 32);
  const plan0 = packPlanner(inp0);
  assert.equal(plan0.layers.length, 32);
  const bin = plan0.layers.find((l) => l.components.length > 3)!;
  const victim = bin.components[0];
  const inp1 = input(specs.filter((s) => s.id !== victim), 32, { previous: withFp(plan0, inp0) });
  const plan1 = packPlanner(inp1);
  checkInvariants(inp1, plan1);
  assert.equal(kept(plan0, plan1), 31);
  const now = plan1.layers.find((l) => l.name === bin.name)!;
  assert.deepEqual(now.components, bin.components.slice(1), 'the rest of the bin stays together under its name');
});

test('budget full: a newcomer costs the smallest clean layers, nothing else moves', () => {
  const specs = population(400, 53).map((s) => ({ ...s, rate: s.rate === Infinity ? Infinity : 0 }));
  const inp0 = input(specs, 32);
  const plan0 = packPlanner(inp0);
  const inp1 = input([...specs, { id: 'rpm:newcomer', size: 50, rate: 0, version: '1' }], 32, { previous: withFp(plan0, inp0) });
  const plan1 = packPlanner(inp1);
  checkInvariants(inp1, plan1);
  assert.equal(plan1.layers.length, 32);
  // one clean layer had to give way: the smallest one, merged with the newcomer under its name
  const smallest = [...plan0.layers].sort((a, b) => a.size - b.size)[0];
  assert.equal(kept(plan0, plan1), 31);
  assert.deepEqual(plan1.layers.find((l) => l.components.includes('rpm:newcomer'))!.components, [...smallest.components, 'rpm:newcomer'].sort());
});

test('fingerprints: changed components dirty their layers, which are repacked; clean layers are kept', () => {
  const specs = population(500, 54);
  const inp0 = input(specs, 48);
  const plan0 = packPlanner(inp0);
  // bump 30 components, spread over the plan
  const bumped = new Set(specs.filter((_, i) => i % 17 === 3).map((s) => s.id));
  const specs1 = specs.map((s) => (bumped.has(s.id) ? { ...s, version: '2', size: s.size + 1 } : s));
  const inp1 = input(specs1, 48, { previous: withFp(plan0, inp0) });
  const plan1 = packPlanner(inp1);
  checkInvariants(inp1, plan1);
  const dirty = plan0.layers.filter((l) => l.components.some((c) => bumped.has(c)));
  const clean = plan0.layers.filter((l) => !l.components.some((c) => bumped.has(c)));
  const now = new Set(plan1.layers.map(key));
  for (const l of clean) assert.ok(now.has(key(l)), `clean layer '${l.name}' kept`);
  // without fingerprints nothing is known to change: every layer is kept
  const plan1b = packPlanner(input(specs1, 48, { previous: previousOf(plan0) }));
  assert.equal(kept(plan0, plan1b), plan0.layers.length);
  assert.ok(dirty.length > 5);
});

test('a smaller budget dissolves the smallest layers first', () => {
  const specs = population(300, 55);
  const inp0 = input(specs, 64);
  const plan0 = packPlanner(inp0);
  const inp1 = input(specs, 40, { previous: withFp(plan0, inp0) });
  const plan1 = packPlanner(inp1);
  checkInvariants(inp1, plan1);
  assert.equal(plan1.layers.length, 40);
  const largest = [...plan0.layers].sort((a, b) => b.size - a.size).slice(0, 30);
  const now = new Set(plan1.layers.map(key));
  for (const l of largest) assert.ok(now.has(key(l)), `large layer '${l.name}' kept`);
});

test('a previous layer whose list was dropped keeps what the fresh plan puts there', () => {
  const specs = population(400, 56);
  const plan0 = packPlanner(input(specs, 32));
  const bin = plan0.layers.find((l) => l.components.length > 3)!;
  const prev = { layers: plan0.layers.map((l) => (l.name === bin.name ? { name: l.name, components: [] } : l)) };
  const plan1 = packPlanner(input(specs, 32, { previous: prev }));
  assert.deepEqual(plan1, plan0);
});

test('a foreign previous plan: known components keep their grouping, unknown ones are placed', () => {
  const specs = population(100, 57).map((s) => ({ ...s, rate: 1 }));
  const prev = { layers: [{ name: 'chunkah-0', components: specs.slice(0, 10).map((s) => s.id) }, { name: 'chunkah-1', components: ['rpm:not-here', specs[10].id] }] };
  const inp = input(specs, 20, { previous: prev });
  const plan = packPlanner(inp);
  checkInvariants(inp, plan);
  assert.deepEqual(plan.layers.find((l) => l.name === 'chunkah-0')!.components, specs.slice(0, 10).map((s) => s.id).sort());
  assert.equal(plan.layers.length, 20);
});

test('calibrated interval: solves Σ 1 − exp(−rate·τ/365) = observed changes', () => {
  const units = Array.from({ length: 100 }, (_, i) => ({ id: `c${i}`, size: 1, model: changeModel({ id: `c${i}`, paths: [], size: 1, changeFrequency: 10 }, NOW, DEFAULT_TUNING) }));
  const prev: Record<string, string> = {};
  const now = new Map<string, string>();
  units.forEach((u, i) => {
    prev[u.id] = 'aaaaaaaa';
    now.set(u.id, i < 25 ? 'bbbbbbbb' : 'aaaaaaaa');
  });
  const tau = calibratedInterval(units, prev, now, DEFAULT_TUNING);
  assert.ok(Math.abs(tau - (-365 * Math.log(1 - 0.25)) / 10) < 1e-6, `τ = ${tau}`);
  assert.equal(calibratedInterval(units, prev, undefined, DEFAULT_TUNING), DEFAULT_TUNING.intervalDays);
});
