import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, readEnvOptions, namedContext } from '../../../src/frontend/options.ts';

test('BUILDKIT_FRONTEND_OPT_* split at the first =', () => {
  const raw = readEnvOptions({
    BUILDKIT_FRONTEND_OPT_0: 'filename=build.yaml',
    BUILDKIT_FRONTEND_OPT_1: 'build-arg:X=a=b',
    BUILDKIT_FRONTEND_OPT_2: 'no-cache=',
    OTHER: 'x=y',
  });
  assert.deepEqual(raw, { filename: 'build.yaml', 'build-arg:X': 'a=b', 'no-cache': '' });
});

test('buildx conventions', () => {
  const o = parseOptions({
    filename: 'b.yaml', 'build-arg:SOURCE_DATE_EPOCH': '1700000000', 'label:a': 'b', platform: 'linux/arm64/v8',
    'context:base': 'docker-image://x', 'context:base::linux/arm64/v8': 'local:arm', 'cache-imports': '[{"Type":"registry","Attrs":{"ref":"r/c"}}]',
    'image-resolve-mode': 'pull', 'no-cache': '',
  }, { BUILDKIT_SESSION_ID: 's1' });
  assert.equal(o.filename, 'b.yaml');
  assert.equal(o.epoch, 1700000000);
  assert.deepEqual(o.labels, { a: 'b' });
  assert.deepEqual(o.platforms, [{ os: 'linux', architecture: 'arm64', variant: 'v8' }]);
  assert.equal(namedContext(o, 'base', o.platforms[0]), 'local:arm');
  assert.equal(namedContext(o, 'base'), 'docker-image://x');
  assert.deepEqual(o.cacheImports, [{ type: 'registry', attrs: { ref: 'r/c' } }]);
  assert.equal(o.noCache, true);
  assert.equal(o.sessionId, 's1');
  assert.equal(parseOptions({}, {}).filename, 'Dockerfile');
});

test('bad options are named', () => {
  assert.throws(() => parseOptions({ 'build-arg:SOURCE_DATE_EPOCH': 'yesterday' }, {}), /invalid SOURCE_DATE_EPOCH 'yesterday'/);
  assert.throws(() => parseOptions({ platform: 'linux' }, {}), /invalid platform 'linux'/);
  assert.throws(() => parseOptions({ 'image-resolve-mode': 'sometimes' }, {}), /invalid image-resolve-mode 'sometimes'/);
});
