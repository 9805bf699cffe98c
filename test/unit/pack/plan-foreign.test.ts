import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultChunkahName, previousFromChunkahHistory, previousFromOstreeLayers } from '../../../src/chunking/plan-foreign.ts';

const FIXTURES = process.env.FIXTURES ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'fixtures');

test('rpm-ostree: ostree.components annotations become layers; synthetic names and the reserved layer drop out', () => {
  const layers = [
    { digest: 'sha256:commit' }, // the ostree commit layer carries no annotation
    { annotations: { 'ostree.components': 'kernel-core' } },
    { annotations: { 'ostree.components': 'bash,glibc,glibc-common' } },
    { annotations: { 'ostree.components': 'initramfs,rpmostree-unpackaged-content' } },
    { annotations: { 'ostree.components': 'glibc,zlib' } }, // glibc again: first layer keeps it
    { annotations: { 'ostree.components': '' } }, // "Reserved for new packages"
  ];
  assert.deepEqual(previousFromOstreeLayers(layers), {
    layers: [
      { name: 'ostree-1', components: ['rpm:kernel-core'] },
      { name: 'ostree-2', components: ['rpm:bash', 'rpm:glibc', 'rpm:glibc-common'] },
      { name: 'ostree-4', components: ['rpm:zlib'] },
    ],
  });
  // binary → source package mapping supplied by the caller
  const src: Record<string, string> = { 'kernel-core': 'kernel', bash: 'bash', glibc: 'glibc', 'glibc-common': 'glibc', zlib: 'zlib' };
  assert.deepEqual(previousFromOstreeLayers(layers, (n) => (src[n] ? `rpm:${src[n]}` : undefined)).layers, [
    { name: 'ostree-1', components: ['rpm:kernel'] },
    { name: 'ostree-2', components: ['rpm:bash', 'rpm:glibc'] },
    { name: 'ostree-4', components: ['rpm:zlib'] },
  ]);
});

test('rpm-ostree: an image without the annotations is refused with a clear message', () => {
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'upstream/bootc/manifest1.json'), 'utf8')); // pre-annotation FCOS manifest
  assert.equal(manifest.layers.length, 51);
  assert.throws(() => previousFromOstreeLayers(manifest.layers), {
    message: "previous image: no layer carries an 'ostree.components' annotation (not chunked by rpm-ostree?)",
  });
});

test('chunkah: history comments become layers; names map to our ids', () => {
  const history = [
    { created_by: 'chunkah', comment: 'rpm/kernel' },
    { created_by: '/bin/sh -c echo', empty_layer: true },
    { created_by: 'chunkah', comment: 'bigfiles/usr/lib/big.bin rpm/bash rpm/glibc xattr/myapp' },
    { created_by: 'chunkah', comment: 'chunkah/unclaimed' },
    { created_by: 'RUN dnf install foo' }, // a derived layer on top
    { created_by: 'chunkah', comment: 'alpm/pacman rpm/kernel' },
  ];
  assert.deepEqual(previousFromChunkahHistory(history), {
    layers: [
      { name: 'chunkah-0', components: ['rpm:kernel'] },
      { name: 'chunkah-1', components: ['big:usr/lib/big.bin', 'rpm:bash', 'rpm:glibc', 'xattr:myapp'] },
      { name: 'chunkah-4', components: ['alpm:pacman'] },
    ],
  });
  assert.equal(defaultChunkahName('chunkah/unclaimed'), undefined);
  assert.equal(defaultChunkahName('noslash'), undefined);
  assert.equal(defaultChunkahName('rpm/'), undefined);
  assert.throws(() => previousFromChunkahHistory([{ created_by: 'buildah' }]), {
    message: "previous image: no history entry was created by chunkah (created_by 'chunkah')",
  });
});
