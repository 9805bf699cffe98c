import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerTimes } from '../../../src/chunking/layer-times.ts';
import type { Component, LayerPlan } from '../../../src/chunking/types.ts';

const plan: LayerPlan = { layers: [
  { name: 'pkgs', components: ['rpm:a', 'rpm:b'], paths: ['a', 'b'], size: 2 },
  { name: 'initramfs', components: ['rest:usr/lib/modules/6.1/initramfs.img'], paths: ['i'], size: 1 },
  { name: 'mixed', components: ['rest:etc', 'rpm:c'], paths: ['e', 'c'], size: 2 },
  { name: 'future', components: ['rpm:d'], paths: ['d'], size: 1 },
] };
const comps: Component[] = [
  { id: 'rpm:a', paths: ['a'], size: 1, changeTime: 1000 },
  { id: 'rpm:b', paths: ['b'], size: 1, changeTime: 3000 },
  { id: 'rest:usr/lib/modules/6.1/initramfs.img', paths: ['i'], size: 1 },
  { id: 'rest:etc', paths: ['e'], size: 1 },
  { id: 'rpm:c', paths: ['c'], size: 1, changeTime: 2000 },
  { id: 'rpm:d', paths: ['d'], size: 1, changeTime: 9000 },
];

test('layer time: newest member change, clamped to the epoch; 0 for layers without package times', () => {
  assert.deepEqual(layerTimes(plan, comps, 5000), [3000, 0, 2000, 5000]);
});

test('layer time: a new epoch moves no layer whose members did not change', () => {
  const a = layerTimes(plan, comps, 9000);
  const b = layerTimes(plan, comps, 12000);
  assert.deepEqual(a, b);
  assert.deepEqual(a, [3000, 0, 2000, 9000]);
});

test('layer time: no epoch (0) stamps everything 0', () => {
  assert.deepEqual(layerTimes(plan, comps, 0), [0, 0, 0, 0]);
});
