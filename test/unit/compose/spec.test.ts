import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpec } from '../../../src/compose/spec.ts';

const ok = (text: string) => parseSpec('build.yaml', text);
const bad = (text: string) => {
  try {
    parseSpec('build.yaml', text);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected an error');
};

test('a full spec parses with defaults', () => {
  const s = ok('# syntax=x\nrootfs:\n  dir: ./rootfs\nlabels:\n  org.opencontainers.image.title: exampleos\n');
  assert.deepEqual(s.rootfs, { kind: 'dir', dir: './rootfs' });
  assert.equal(s.maxLayers, 64);
  assert.deepEqual(s.labels, { 'org.opencontainers.image.title': 'exampleos' });
  assert.deepEqual(s.warnings, []);
  const c = ok('rootfs:\n  containerfile: Containerfile\n  target: rootfs\nmax-layers: 12\nprevious-build: r/x:1\nconfig:\n  cmd: [/sbin/init]\n  env: {A: b}\n');
  assert.deepEqual(c.rootfs, { kind: 'containerfile', containerfile: 'Containerfile', target: 'rootfs' });
  assert.equal(c.maxLayers, 12);
  assert.equal(c.previousBuild, 'r/x:1');
  assert.deepEqual(c.config, { cmd: ['/sbin/init'], env: { A: 'b' } });
});

test('bad input names file, line and key', () => {
  assert.equal(bad('# syntax=x\nrootfs:\n  dri: rootfs\n'), 'build.yaml:3: rootfs.dri: unknown key (known: dir, image, context, containerfile, target)');
  assert.equal(bad('rootfs:\n  dir: a\n  image: b\n'), 'build.yaml:3: rootfs: exactly one of dir, image, context, containerfile is required; found dir and image');
  assert.equal(bad('rootfs: {}\n'), 'build.yaml:1: rootfs: exactly one of dir, image, context, containerfile is required; found none');
  assert.equal(bad('rootfs:\n  dir: a\nmax-layers: 0\n'), 'build.yaml:3: max-layers: must be >= 1');
  assert.equal(bad('rootfs:\n  dir: a\nmax-layers: 501\n'), 'build.yaml:3: max-layers: must be <= 500');
  assert.equal(bad('rootfs:\n  dir: a\nmax-layers: many\n'), 'build.yaml:3: max-layers: must be integer');
  assert.equal(bad('rootfs:\n  dir: a\nlabels:\n  a: 1\n'), 'build.yaml:4: labels.a: must be string');
  assert.equal(bad('rootfs:\n  dir: a\nfoo: 1\n'), 'build.yaml:3: foo: unknown key (known: rootfs, max-layers, labels, previous-build, config)');
  assert.equal(bad('max-layers: 3\n'), 'build.yaml:1: rootfs: is required');
  assert.equal(bad('rootfs:\n  dir: ../x\n'), "build.yaml:2: rootfs.dir: '../x' must be a relative path inside the build context");
  assert.equal(bad('rootfs:\n  dir: /abs\n'), "build.yaml:2: rootfs.dir: '/abs' must be a relative path inside the build context");
  assert.equal(bad('rootfs:\n  image: x\n  target: y\n'), 'build.yaml:3: rootfs.target: `target` only applies to `containerfile`');
  assert.match(bad('rootfs: [\n'), /^build\.yaml:\d+: invalid YAML: /);
  assert.match(bad('rootfs:\n  dir: a\nrootfs:\n  dir: b\n'), /^build\.yaml:3: invalid YAML: Map keys must be unique/);
  assert.equal(bad('- a\n- b\n'), 'build.yaml:1: the build file must be a YAML mapping with a `rootfs` key');
});

test('max-layers above 127 is allowed with a warning pointing at the key', () => {
  const s = ok('rootfs:\n  dir: a\nmax-layers: 200\n');
  assert.equal(s.maxLayers, 200);
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0].message, /above 127/);
  assert.equal(s.locate(s.warnings[0].key)?.startLine, 3);
});

test('errorAt points at the key of a later failure', () => {
  const s = ok('# syntax=x\nrootfs:\n  dir: rootfs\n');
  assert.equal(s.errorAt(['rootfs', 'dir'], "'rootfs' does not exist in the build context").message,
    "build.yaml:3: rootfs.dir: 'rootfs' does not exist in the build context");
});
