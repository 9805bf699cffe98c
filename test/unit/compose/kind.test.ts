import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectKind } from '../../../src/compose/kind.ts';

test('kinds are told apart by content', () => {
  assert.equal(detectKind('b.yaml', '# syntax=x/y\nrootfs:\n  dir: rootfs\n'), 'spec');
  assert.equal(detectKind('t.yaml', '# syntax=x/y\nref: exampleos\npackages: [bash]\nrepos: [fedora]\n'), 'treefile');
  assert.equal(detectKind('t.json', '{"include": "base.yaml", "packages": ["bash"]}'), 'treefile');
  assert.equal(detectKind('t.yaml', 'packages-x86_64: [grub2]\n'), 'treefile');
  assert.equal(detectKind('Containerfile', '# syntax=x/y\nFROM quay.io/fedora/fedora-bootc:42\nRUN dnf -y remove sos\n'), 'containerfile');
  assert.equal(detectKind('Containerfile', '\uFEFF\n# comment\nARG BASE=x\nfrom ${BASE}\n'), 'containerfile');
  assert.equal(detectKind('Containerfile', 'FROM scratch\nLABEL a=b\n'), 'containerfile');
});

test('a file of no kind gets a message naming the first offending line', () => {
  assert.throws(() => detectKind('b.yaml', 'image: foo\nlayers: 3\n'),
    /^BuildFileError: b\.yaml:1: cannot tell what kind of build file this is: line 1 `image: foo` is neither a Dockerfile instruction nor a known key\. Build files are a compose spec/);
  assert.throws(() => detectKind('b.yaml', '# only comments\n\n'), /b\.yaml: cannot tell what kind of build file this is: it is empty \(or only comments\)/);
  assert.throws(() => detectKind('b.yaml', 'rootf: [\n'), /b\.yaml:1: cannot tell what kind of build file this is: it is not YAML \(.*\) and line 1 does not start with a Dockerfile instruction/);
  assert.equal(detectKind('b.yaml', 'rootfs: [\n'), 'spec');
  assert.equal(detectKind('t.yaml', 'packages: [\n'), 'treefile');
  assert.throws(() => detectKind('b.txt', 'hello world\n'), /line 1 `hello world` is neither/);
});
