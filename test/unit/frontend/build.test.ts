import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerTimes, settingsFromBuildArgs } from '../../../src/frontend/build.ts';
import { parseOptions } from '../../../src/frontend/options.ts';
import { parentOnlyDirs } from '../../../src/image/layers.ts';
import { decodeListing, encodeListing } from '../../../src/rootfs/listing.ts';

test('layer times: newest component change clamped to the epoch, else 0 (never the moving epoch)', () => {
  const plan = { layers: [
    { name: 'a', components: ['rpm:a', 'rpm:b'], paths: ['x'], size: 1 },
    { name: 'b', components: ['rest:etc'], paths: ['y'], size: 1 },
    { name: 'c', components: ['rpm:new'], paths: ['z'], size: 1 },
  ] };
  const comps = [
    { id: 'rpm:a', paths: ['x'], size: 1, changeTime: 1000 },
    { id: 'rpm:b', paths: [], size: 0, changeTime: 3000 },
    { id: 'rest:etc', paths: ['y'], size: 1 },
    { id: 'rpm:new', paths: ['z'], size: 1, changeTime: 9000 },
  ];
  assert.deepEqual(layerTimes(plan, comps, 5000), [3000, 0, 5000]);
  assert.deepEqual(layerTimes(plan, comps, 0), [0, 0, 0]);
});

test('Containerfile settings come from build args and are validated', () => {
  const opts = (a: Record<string, string>) => parseOptions(Object.fromEntries(Object.entries(a).map(([k, v]) => [`build-arg:${k}`, v])), {});
  assert.deepEqual(settingsFromBuildArgs(opts({})), { maxLayers: 64, labels: {}, overrides: {} });
  assert.deepEqual(settingsFromBuildArgs(opts({ COMPOSE_MAX_LAYERS: '12', COMPOSE_PREVIOUS_BUILD: 'r/x:1' })), { maxLayers: 12, labels: {}, overrides: {}, previousBuild: 'r/x:1' });
  for (const bad of ['0', '501', 'many', '1.5']) {
    assert.throws(() => settingsFromBuildArgs(opts({ COMPOSE_MAX_LAYERS: bad })), new RegExp(`build arg COMPOSE_MAX_LAYERS='${bad.replace('.', '\\.')}': expected a whole number from 1 to 500`));
  }
});

test('parent-only directories: ancestors of includes not covered by an include', () => {
  assert.deepEqual(parentOnlyDirs(['usr/lib/a', 'usr/lib/b', 'usr/share', 'etc']), ['usr', 'usr/lib']);
  assert.deepEqual(parentOnlyDirs(['usr', 'usr/lib/x']), []);
  assert.deepEqual(parentOnlyDirs(['a/b\\[1\\]/c']), ['a', 'a/b[1]']);
});

test('the exec-scan listing round-trips, xattrs included; a scan error becomes the build error', () => {
  const l = {
    entries: [{ path: 'usr', kind: 'dir' as const, mode: 0o755, uid: 0, gid: 0, size: 0 },
      { path: 'usr/bin/ping', kind: 'file' as const, mode: 0o755, uid: 0, gid: 0, size: 3, xattrs: { 'security.capability': new Uint8Array([1, 2, 255]) } }],
    skipped: ['run/fifo'], components: [{ id: 'deb:iputils', paths: ['usr/bin/ping'], size: 3 }], warnings: ['w'],
  };
  const back = decodeListing(encodeListing(l));
  assert.deepEqual(back.entries[1].xattrs, { 'security.capability': Buffer.from([1, 2, 255]) });
  assert.deepEqual({ ...back, entries: back.entries.map(({ xattrs, ...e }) => e) }, { v: 1, ...l, entries: l.entries.map(({ xattrs, ...e }) => e as typeof e) });
  assert.throws(() => decodeListing(encodeListing({ entries: [], skipped: [], components: [], warnings: [], error: "rootfs: file name is not valid UTF-8: 'a\\xff'" })), /not valid UTF-8/);
});
