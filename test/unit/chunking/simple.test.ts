import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmp, simplePlanner } from '../../../src/chunking/simple.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';

function tree(n: number, seed = 1): FsEntry[] {
  const out: FsEntry[] = [];
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let a = 0; a < 10; a++) {
    out.push({ path: `d${a}`, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
    for (let i = 0; i < n / 10; i++) out.push({ path: `d${a}/f${i}`, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: Math.floor(rnd() * 100000) });
  }
  out.push({ path: 'empty', kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
  out.push({ path: 'd3/link', kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 5, linkGroup: 'd0/f1' });
  out.find((e) => e.path === 'd0/f1')!.linkGroup = 'd0/f1';
  return out;
}

test('every entry once, within budget, hard links together, no empty layer', () => {
  const entries = tree(2000);
  for (const max of [1, 2, 7, 64]) {
    const plan = simplePlanner({ entries, components: [], maxLayers: max, now: 0 });
    assert.ok(plan.layers.length >= 1 && plan.layers.length <= max, `${plan.layers.length} layers for max ${max}`);
    const seen = plan.layers.flatMap((l) => l.paths);
    assert.deepEqual([...seen].sort(), entries.map((e) => e.path).sort());
    assert.equal(new Set(seen).size, seen.length);
    const layerOf = (p: string) => plan.layers.findIndex((l) => l.paths.includes(p));
    assert.equal(layerOf('d3/link'), layerOf('d0/f1'));
    for (const l of plan.layers) assert.ok(l.paths.length > 0);
  }
});

test('deterministic under input reordering', () => {
  const entries = tree(500);
  const a = simplePlanner({ entries, components: [], maxLayers: 8, now: 0 });
  const b = simplePlanner({ entries: [...entries].reverse(), components: [], maxLayers: 8, now: 0 });
  assert.deepEqual(a, b);
});

test('a file growing moves few boundaries', () => {
  const entries = tree(2000);
  const a = simplePlanner({ entries, components: [], maxLayers: 16, now: 0 });
  const grown = entries.map((e) => (e.path === 'd5/f7' ? { ...e, size: e.size + 50000 } : e));
  const b = simplePlanner({ entries: grown, components: [], maxLayers: 16, now: 0 });
  const key = (l: { paths: string[] }) => l.paths.join('\n');
  const same = b.layers.filter((l) => a.layers.some((m) => key(m) === key(l))).length;
  assert.ok(same >= b.layers.length - 3, `${same} of ${b.layers.length} layers unchanged`);
});

test('tree order puts a directory before its children and siblings after them', () => {
  assert.deepEqual(['a-c', 'a/b', 'a', 'a.d', 'a/b/c'].sort(cmp), ['a', 'a/b', 'a/b/c', 'a-c', 'a.d']);
});
