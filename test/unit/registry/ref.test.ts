import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHost, formatReference, isLoopback, manifestTarget, parseReference } from '../../../src/registry/ref.ts';

const D = `sha256:${'ab'.repeat(32)}`;

test('normalizes references like docker and containers do', () => {
  const cases: [string, string][] = [
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['library/alpine', 'docker.io/library/alpine:latest'],
    ['user/app', 'docker.io/user/app:latest'],
    ['quay.io/fedora/fedora-bootc:42', 'quay.io/fedora/fedora-bootc:42'],
    ['quay.io/app', 'quay.io/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/a/b/c:t', 'localhost:5000/a/b/c:t'],
    ['127.0.0.1:5000/exampleos:latest', '127.0.0.1:5000/exampleos:latest'],
    ['[::1]:5000/app:1', '[::1]:5000/app:1'],
    ['docker://registry.example.com/os/base:v1', 'registry.example.com/os/base:v1'],
    [`app@${D}`, `docker.io/library/app@${D}`],
    [`reg.io:443/app:v2@${D}`, `reg.io:443/app:v2@${D}`],
    ['Registry.Example.com/app', 'Registry.Example.com/app:latest'],
    ['a/b__c/d-e.f_g--h:T_a.g-1', 'docker.io/a/b__c/d-e.f_g--h:T_a.g-1'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
});

test('parts of a reference', () => {
  assert.deepEqual(parseReference(`localhost:5000/os/app:v1@${D}`), {
    registry: 'localhost:5000',
    repository: 'os/app',
    tag: 'v1',
    digest: D,
  });
  assert.deepEqual(parseReference(`localhost:5000/os/app@${D}`), { registry: 'localhost:5000', repository: 'os/app', digest: D });
  assert.equal(manifestTarget(parseReference(`x.io/a:t@${D}`)), D);
  assert.equal(manifestTarget(parseReference('x.io/a:t')), 't');
});

test('bad references name the input and the problem', () => {
  const cases: [string, string][] = [
    ['', 'invalid image reference "": it is empty'],
    ['docker://', 'invalid image reference "docker://": it is empty'],
    ['a b', 'invalid image reference "a b": it contains white space'],
    ['Upper/App', 'invalid image reference "Upper/App": repository name "App" must be lowercase'],
    ['quay.io/App', 'invalid image reference "quay.io/App": repository name "App" must be lowercase'],
    ['quay.io/', 'invalid image reference "quay.io/": the repository name is empty'],
    ['quay.io/a//b', 'invalid image reference "quay.io/a//b": repository path component "" is invalid (lowercase letters, digits and single separators . _ __ -)'],
    ['quay.io/-a', 'invalid image reference "quay.io/-a": repository path component "-a" is invalid (lowercase letters, digits and single separators . _ __ -)'],
    ['a:.bad', 'invalid image reference "a:.bad": tag ".bad" is invalid (letters, digits, _ . -; at most 128; not starting with . or -)'],
    [`a:${'t'.repeat(129)}`, `invalid image reference "a:${'t'.repeat(129)}": tag "${'t'.repeat(129)}" is invalid (letters, digits, _ . -; at most 128; not starting with . or -)`],
    ['a@sha256:abc', 'invalid image reference "a@sha256:abc": digest "sha256:abc" must be sha256: followed by 64 lowercase hex digits'],
    [`a@md5:${'0'.repeat(32)}`, `invalid image reference "a@md5:${'0'.repeat(32)}": digest algorithm "md5" is not supported (sha256 or sha512)`],
    ['a@deadbeef', 'invalid image reference "a@deadbeef": digest "deadbeef" has no algorithm (expected sha256:<64 hex digits>)'],
    ['host:99999/a', 'invalid image reference "host:99999/a": registry "host:99999" has an invalid port "99999"'],
    ['host:/a', 'invalid image reference "host:/a": registry "host:" has an invalid port ""'],
    ['-bad.io/a', 'invalid image reference "-bad.io/a": registry host "-bad.io" is not a valid host name'],
    ['[::1/a', 'invalid image reference "[::1/a": registry "[::1" has an unterminated IPv6 address'],
    [`x.io/${'a'.repeat(260)}`, `invalid image reference "x.io/${'a'.repeat(260)}": the name is longer than 255 characters`],
  ];
  for (const [input, message] of cases) assert.throws(() => parseReference(input), { name: 'ImageReferenceError', message }, input);
});

test('loopback registries use plain HTTP; docker.io goes to registry-1', () => {
  for (const r of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) assert.equal(isLoopback(r), true, r);
  for (const r of ['quay.io', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1', 'docker.io']) assert.equal(isLoopback(r), false, r);
  assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('quay.io:443'), 'quay.io:443');
});
