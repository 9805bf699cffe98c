import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repack, type RepackItem } from '../../../src/chunking/repack.ts';
import { rng } from './helpers.ts';

const ids = (groups: RepackItem[][]) => groups.map((g) => g.map((i) => i.id).sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
const expected = (groups: RepackItem[][]) =>
  groups.reduce((s, g) => s + g.reduce((t, i) => t + i.size, 0) * (1 - g.reduce((t, i) => t * (1 - i.p), 1)), 0);

test('repack: always-changing and never-changing items are kept apart', () => {
  const items: RepackItem[] = [
    { id: 'a', size: 10, p: 1 },
    { id: 'b', size: 20, p: 1 },
    { id: 'c', size: 30, p: 0 },
    { id: 'd', size: 40, p: 0 },
    { id: 'e', size: 50, p: 0 },
  ];
  assert.deepEqual(ids(repack(items, 2)), [['a', 'b'], ['c', 'd', 'e']]);
  assert.equal(expected(repack(items, 2)), 30);
});

test('repack: a large stable item gets its own layer before small ones do', () => {
  const items: RepackItem[] = [
    { id: 'big', size: 1000, p: 0.05 },
    { id: 'x', size: 10, p: 0.5 },
    { id: 'y', size: 10, p: 0.5 },
    { id: 'z', size: 10, p: 0.5 },
  ];
  assert.deepEqual(ids(repack(items, 2)), [['big'], ['x', 'y', 'z']]);
});

test('repack: every item once, at most `slots` groups, singletons when they fit', () => {
  const r = rng(3);
  for (let n = 1; n < 80; n += 7) {
    const items = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, size: Math.floor(r() * 1e6), p: r() }));
    for (const slots of [1, 2, 5, 13, 100]) {
      const groups = repack(items, slots);
      assert.ok(groups.length <= slots && groups.every((g) => g.length > 0));
      assert.deepEqual(groups.flat().map((i) => i.id).sort(), items.map((i) => i.id).sort());
      if (n <= slots) assert.equal(groups.length, n);
    }
  }
  assert.deepEqual(repack([], 3), []);
  assert.throws(() => repack([{ id: 'a', size: 1, p: 0 }], 0), { message: 'repack: need at least one slot for 1 components' });
});

test('repack: never worse than the best of a few obvious layouts', () => {
  const r = rng(9);
  for (let trial = 0; trial < 20; trial++) {
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `i${i}`, size: Math.floor(Math.exp(r() * 14)), p: r() * r() }));
    const slots = 8;
    const got = expected(repack(items, slots));
    // all in one; round-robin by id; sorted by p in equal-count runs
    const byP = [...items].sort((a, b) => a.p - b.p);
    const runs = Array.from({ length: slots }, (_, k) => byP.slice((k * 40) / slots, ((k + 1) * 40) / slots));
    const robin = Array.from({ length: slots }, (_, k) => items.filter((_, i) => i % slots === k));
    for (const alt of [[items], runs, robin]) assert.ok(got <= expected(alt) + 1e-6, `trial ${trial}: ${got} > ${expected(alt)}`);
  }
});
