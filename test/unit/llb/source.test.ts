// Source ops: image reference normalization, image/local/oci-layout attrs and caps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as llb from '../../../src/llb/index.ts';
import { AMD64, ARM64, build } from './helpers.ts';

const D = 'sha256:' + 'ab'.repeat(32);

test('image references normalize like distribution/reference', () => {
  const cases: [string, string][] = [
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['library/alpine', 'docker.io/library/alpine:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['index.docker.io/foo/bar:1', 'docker.io/foo/bar:1'],
    ['quay.io/fedora/fedora-bootc:41', 'quay.io/fedora/fedora-bootc:41'],
    ['localhost/img', 'localhost/img:latest'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
    ['[::1]:5000/x:y', '[::1]:5000/x:y'],
    ['Registry/app', 'Registry/app:latest'], // uppercase first component is a host
    [`alpine@${D}`, `docker.io/library/alpine@${D}`],
    [`alpine:3.20@${D}`, `docker.io/library/alpine:3.20@${D}`],
    ['a__b/c-d.e:T_1.x', 'docker.io/a__b/c-d.e:T_1.x'],
  ];
  for (const [inp, want] of cases) assert.equal(llb.normalizeImageRef(inp), want, inp);
  assert.deepEqual(llb.parseImageRef(`ubuntu:24.04@${D}`), { name: 'docker.io/library/ubuntu', tag: '24.04', digest: D });
});

test('bad image references are rejected with the reason', () => {
  const bad: [string, string][] = [
    ['', 'empty'],
    ['Alpine', 'repository name must be lowercase'],
    ['docker.io/Foo/bar', 'repository name must be lowercase'],
    ['alpine:', 'bad tag ""'],
    ['alpine:-x', 'bad tag "-x"'],
    ['alpine@sha256:abc', 'bad digest "sha256:abc"'],
    [`alpine@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm "md5"'],
    [`alpine@sha256:${'A'.repeat(64)}`, `bad sha256 digest "${'A'.repeat(64)}" (need 64 lowercase hex characters)`],
    ['a/-b', 'bad path component "-b"'],
    ['ex ample.com/x', 'bad registry host "ex ample.com"'],
    ['ab'.repeat(32), 'a 64-character hexadecimal string is an image ID, not a reference'],
    [':tag', 'missing repository name'],
    ['x/' + 'a'.repeat(260), 'repository name longer than 255 characters'],
  ];
  for (const [inp, why] of bad) {
    assert.throws(() => llb.image(inp), { name: 'LlbError', message: `invalid image reference "${inp}": ${why}` }, inp);
  }
});

test('image source: identifier, platform (own or marshal default), attrs, caps', () => {
  const d = build(llb.image('alpine', { platform: ARM64 }), { platform: AMD64 });
  assert.deepEqual(d.head.source, { identifier: 'docker-image://docker.io/library/alpine:latest', attrs: {} });
  assert.equal(d.head.platform!.Architecture, 'arm64');
  assert.equal(build(llb.image('alpine'), { platform: AMD64 }).head.platform!.Architecture, 'amd64');
  assert.deepEqual(build(llb.image('alpine', { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } })).head.platform,
    { Architecture: 'arm', OS: 'linux', Variant: 'v7', OSVersion: '', OSFeatures: [] });

  const p = build(llb.image('alpine', { resolveMode: 'pull', layerLimit: 3 }));
  assert.deepEqual(p.head.source!.attrs, { 'image.layerlimit': '3', 'image.resolvemode': 'pull' });
  assert.deepEqual(Object.keys(p.def.metadata[p.ops[0]!.digest]!.caps), ['source.image', 'source.image.layerlimit', 'source.image.resolvemode']);
  const l = build(llb.image('alpine', { resolveMode: 'local' }));
  assert.deepEqual(l.head.source!.attrs, { 'image.resolvemode': 'local' });
  assert.deepEqual(Object.keys(l.def.metadata[l.ops[0]!.digest]!.caps), ['source.image']);
  assert.deepEqual(build(llb.image('alpine', { resolveMode: 'default' })).head.source!.attrs, {});
  assert.throws(() => llb.image('alpine', { layerLimit: -1 }), { message: 'image "alpine": layerLimit must be a non-negative integer' });
});

test('local source: session required, JSON list attrs, no platform, caps', () => {
  const d = build(llb.local('dockerfile', {
    sessionId: 'abc', followPaths: ['spec.yaml', 'spec.yaml.dockerignore'], sharedKeyHint: 'dockerfile', differ: 'none',
    customName: '[internal] load build definition from spec.yaml',
  }));
  assert.deepEqual(d.head.source, {
    identifier: 'local://dockerfile',
    attrs: { 'local.differ': 'none', 'local.followpaths': '["spec.yaml","spec.yaml.dockerignore"]', 'local.session': 'abc', 'local.sharedkeyhint': 'dockerfile' },
  });
  assert.equal(d.head.platform, undefined);
  const md = d.def.metadata[d.ops[0]!.digest]!;
  assert.deepEqual(Object.keys(md.caps), ['source.local', 'source.local.followpaths', 'source.local.sessionid', 'source.local.sharedkeyhint']);
  assert.equal(md.description['llb.customname'], '[internal] load build definition from spec.yaml');
  const req = build(llb.local('x', { sessionId: 's', differ: 'metadata', differRequired: true }));
  assert.equal(req.def.metadata[req.ops[0]!.digest]!.caps['source.local.differ'], true);
  assert.equal(md.caps['source.local.differ'], undefined);
  assert.deepEqual(build(llb.local('x', { sessionId: 's', includePatterns: [] })).head.source!.attrs, { 'local.session': 's' });
  assert.throws(() => llb.local('x', { sessionId: '' }), { name: 'LlbError', message: 'local "x": sessionId is required' });
  assert.throws(() => llb.local('', { sessionId: 's' }), { message: 'local(): name must be a non-empty string' });
  assert.throws(() => llb.local('x', { sessionId: 's', excludePatterns: [''] }), { message: 'local "x": excludePatterns must be non-empty strings' });
});

test('oci-layout source: identifier, store/session attrs, platform, cap', () => {
  const d = build(llb.ociLayout('store1', D, { sessionId: 's', platform: ARM64, layerLimit: 1 }), { platform: AMD64 });
  assert.deepEqual(d.head.source, { identifier: `oci-layout://store1@${D}`, attrs: { 'oci.layerlimit': '1', 'oci.session': 's', 'oci.store': 'store1' } });
  assert.equal(d.head.platform!.Architecture, 'arm64');
  assert.deepEqual(d.def.metadata[d.ops[0]!.digest]!.caps, { 'source.ocilayout': true });
  assert.equal(build(llb.ociLayout('s', D, { sessionId: 'x', name: 'docker.io/library/base' })).head.source!.identifier, `oci-layout://docker.io/library/base@${D}`);
  assert.throws(() => llb.ociLayout('s', 'sha256:zz', { sessionId: 'x' }), { message: 'oci-layout "s@sha256:zz": digest must be sha256:<64 lowercase hex>' });
});
