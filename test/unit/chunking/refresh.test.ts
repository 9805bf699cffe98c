// Mass change: when the previous plan's clean layers hold less than `refreshBelow` of the bytes
// (a distribution upgrade), the planner drops the previous plan and returns the fresh plan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { componentFingerprints } from '../../../src/chunking/fingerprint.ts';
import { makePackPlanner, packPlanner } from '../../../src/chunking/pack.ts';
import { DEFAULT_TUNING } from '../../../src/chunking/stability.ts';
import type { PreviousPlanDetail } from '../../../src/chunking/sticky.ts';
import type { LayerPlan, PlanInput } from '../../../src/chunking/types.ts';
import { checkInvariants, input, population, previousOf, shuffle, rng, type PkgSpec } from '../pack/helpers.ts';

const withFp = (plan: LayerPlan, inp: PlanInput): PreviousPlanDetail => ({
  ...previousOf(plan),
  fingerprints: Object.fromEntries(componentFingerprints(inp.entries, inp.components)),
});
const key = (p: LayerPlan) => p.layers.map((l) => `${l.name}=${l.components.join(',')}`);

/** Every component in `ids` gets a new version and a different size (a different fingerprint). */
const bump = (specs: PkgSpec[], ids: Set<string>): PkgSpec[] => specs.map((s) => (ids.has(s.id) ? { ...s, version: '2', size: s.size + 1 } : s));

test('mass change: almost every component changed → the fresh plan, whatever the previous one was', () => {
  const specs = population(300, 61);
  const inp0 = input(specs, 32);
  // A previous plan unlike the fresh one: the components in id order, cut into 32 runs.
  const ids = inp0.components.map((c) => c.id).sort();
  const odd: LayerPlan = { layers: Array.from({ length: 32 }, (_, i) => ({ name: `odd-${i}`, components: ids.filter((_, k) => k % 32 === i), paths: [], size: 0 })) };
  const changed = new Set(ids.filter((_, k) => k % 20 !== 0)); // 95 % of the components
  const inp1 = input(bump(specs, changed), 32, { previous: withFp(odd, inp0) });
  const plan = packPlanner(inp1);
  checkInvariants(inp1, plan);
  assert.deepEqual(key(plan), key(packPlanner({ ...inp1, previous: undefined })));
  // refreshBelow 0 disables the rule: the previous layer names survive.
  const sticky = makePackPlanner({ ...DEFAULT_TUNING, refreshBelow: 0 })(inp1);
  checkInvariants(inp1, sticky);
  assert.ok(sticky.layers.some((l) => l.name.startsWith('odd-')), 'without the rule the previous plan is reconciled');
});

test('few changes: the previous plan is kept (clean layers stay byte for byte)', () => {
  const specs = population(300, 62);
  const inp0 = input(specs, 32);
  const plan0 = packPlanner(inp0);
  const victim = plan0.layers.find((l) => l.components.length > 3)!;
  const inp1 = input(bump(specs, new Set([victim.components[0]])), 32, { previous: withFp(plan0, inp0) });
  const plan1 = packPlanner(inp1);
  checkInvariants(inp1, plan1);
  const before = new Set(key(plan0));
  const kept = key(plan1).filter((k) => before.has(k)).length;
  assert.ok(kept >= plan0.layers.length - 2, `only ${kept} of ${plan0.layers.length} layers kept`);
});

test('mass change decision does not depend on input order', () => {
  const specs = population(200, 63);
  const inp0 = input(specs, 24);
  const plan0 = packPlanner(inp0);
  const changed = new Set(specs.filter((_, k) => k % 3 !== 0).map((s) => s.id));
  const inp1 = input(bump(specs, changed), 24, { previous: withFp(plan0, inp0) });
  const r = rng(5);
  const shuffled = { ...inp1, entries: shuffle(inp1.entries, r), components: shuffle(inp1.components, r) };
  assert.deepEqual(packPlanner(shuffled), packPlanner(inp1));
});

test('mass change: the few clean layers are kept byte for byte, the rest is planned fresh in the slots left', () => {
  const specs = population(300, 64);
  const inp0 = input(specs, 32);
  const plan0 = packPlanner(inp0);
  const keep = plan0.layers.filter((l) => l.components.length > 1 && !l.components.some((c) => specs.find((s) => s.id === c)!.rate === Infinity))[0];
  const changed = new Set(specs.map((s) => s.id).filter((id) => !keep.components.includes(id)));
  const inp1 = input(bump(specs, changed), 32, { previous: withFp(plan0, inp0) });
  const plan1 = packPlanner(inp1);
  checkInvariants(inp1, plan1);
  assert.equal(plan1.layers.length, 32);
  assert.deepEqual(plan1.layers[0], keep, 'the clean layer comes first, unchanged');
  assert.equal(plan1.layers.filter((l) => l.name === keep.name).length, 1);
  // the same previous plan without fingerprints gives no evidence of a mass change: reconciled instead
  const blind = packPlanner({ ...inp1, previous: previousOf(plan0) });
  checkInvariants(inp1, blind);
});
