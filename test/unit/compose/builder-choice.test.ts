// Default builder image from the treefile's distro, the build arg override, and the messages.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { builderUnavailableMessage, chooseBuilderImage, defaultBuilderImage, distroImage } from '../../../src/compose/builder-choice.ts';
import { loadTreefile } from '../../../src/compose/treefile/index.ts';

const FIXTURES = '/work/shared/fixtures/treefiles';
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-builder-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string) {
  await writeFile(join(dir, 'm.yaml'), text);
  return loadTreefile('m.yaml', { basearch: 'x86_64', contextDir: dir });
}

describe('distroImage', () => {
  test('Fedora numbers and rawhide, CentOS Stream', () => {
    assert.equal(distroImage(42), 'quay.io/fedora/fedora:42');
    assert.equal(distroImage('41'), 'quay.io/fedora/fedora:41');
    assert.equal(distroImage('rawhide'), 'quay.io/fedora/fedora:rawhide');
    assert.equal(distroImage('stream9'), 'quay.io/centos/centos:stream9');
    assert.equal(distroImage('stream10'), 'quay.io/centos/centos:stream10');
  });

  test('anything else names no distro', () => {
    for (const v of ['', '0', '042', 'stream', 'stream0', 'el9', '9.4', 'rpmostree-unset-releasever', 'Stream9']) {
      assert.equal(distroImage(v), undefined, v);
    }
  });
});

describe('defaultBuilderImage on the shared fixtures', () => {
  test('Fedora CoreOS manifest (releasever: 40)', async () => {
    const l = await loadTreefile('manifest.yaml', { basearch: 'x86_64', contextDir: join(FIXTURES, 'fedora-coreos-config') });
    assert.deepEqual(defaultBuilderImage(l.treefile), { ref: 'quay.io/fedora/fedora:40', key: 'releasever', value: 40 });
  });

  test('CentOS Stream 9 and 10 (releasever: streamN)', async () => {
    for (const n of [9, 10]) {
      const l = await loadTreefile(`centos-stream-${n}.yaml`, { basearch: 'x86_64', contextDir: join(FIXTURES, 'centos-bootc') });
      assert.deepEqual(defaultBuilderImage(l.treefile), { ref: `quay.io/centos/centos:stream${n}`, key: 'releasever', value: `stream${n}` });
    }
  });

  test('variables.distro when releasever names no distro', () => {
    assert.deepEqual(defaultBuilderImage({ releasever: 'x', variables: { distro: 'stream9' } }), {
      ref: 'quay.io/centos/centos:stream9', key: 'variables.distro', value: 'stream9',
    });
    assert.equal(defaultBuilderImage({ variables: { distro: 'debian' } }), undefined);
  });
});

describe('chooseBuilderImage', () => {
  test('the build arg wins over the distro', async () => {
    const l = await load('releasever: 42\npackages: [a]\n');
    assert.deepEqual(chooseBuilderImage(l, ' reg/b:1 '), { ref: 'reg/b:1', reason: 'build arg COMPOSE_BUILDER_IMAGE', explicit: true });
    assert.deepEqual(chooseBuilderImage(l, undefined), { ref: 'quay.io/fedora/fedora:42', reason: 'default for releasever 42', explicit: false });
    assert.deepEqual(chooseBuilderImage(l, ''), { ref: 'quay.io/fedora/fedora:42', reason: 'default for releasever 42', explicit: false });
  });

  test('no distro: the error names the file, the releasever value and the build arg', async () => {
    const l = await load('packages: [a]\nreleasever: "el9"\n');
    assert.throws(() => chooseBuilderImage(l, undefined), {
      message: 'm.yaml:2: releasever: releasever "el9" names no distro with a known builder image (Fedora: a number such as 42; CentOS Stream: stream9, stream10); pass --build-arg COMPOSE_BUILDER_IMAGE=<image with dnf or dnf5 and rpm>',
    });
    const none = await load('packages: [a]\n');
    assert.throws(() => chooseBuilderImage(none, undefined), {
      message: 'm.yaml: releasever: releasever is not set, so there is no distro to take a builder image from; pass --build-arg COMPOSE_BUILDER_IMAGE=<image with dnf or dnf5 and rpm>',
    });
  });

  test('unreachable builder image', () => {
    const msg = builderUnavailableMessage('os.yaml', { ref: 'quay.io/fedora/fedora:42', reason: 'default for releasever 42', explicit: false }, 'dial tcp: lookup quay.io: no such host\nmore');
    assert.equal(msg, 'os.yaml: cannot resolve the builder image quay.io/fedora/fedora:42 (default for releasever 42): dial tcp: lookup quay.io: no such host. '
      + 'The builder image runs dnf: make quay.io/fedora/fedora:42 reachable, or pass --build-arg COMPOSE_BUILDER_IMAGE=<image with dnf or dnf5 and rpm>');
  });
});
