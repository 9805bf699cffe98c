// Byte parity with BuildKit's Go client: the same graphs built with Go's
// client/llb (fixtures/go-parity/main.go, output in fixtures/go-parity.txt)
// must give identical op bytes, hence identical digests and cache keys.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as llb from '../../../src/llb/index.ts';
import { ARM64, hex } from './helpers.ts';

function expected(name: string): string[] {
  const text = readFileSync(join(import.meta.dirname, 'fixtures/go-parity.txt'), 'utf8');
  const sections = text.split(/^== /m).filter(Boolean);
  const sec = sections.find((s) => s.startsWith(name + '\n'));
  assert.ok(sec, `section ${name} in go-parity.txt`);
  return sec.trim().split('\n').slice(1);
}

function actual(state: llb.State): string[] {
  return llb.marshalGraph(state, { platform: ARM64 }).ops.map((o) => `${o.digest} ${hex(o.bytes)}`);
}

test('graph1 (image, local, chained FileOp, exec with cache + output mount, merge) matches Go byte for byte', () => {
  const base = llb.image('alpine', { platform: { os: 'linux', architecture: 'amd64' } });
  const ctx = llb.local('context', { sessionId: 's1', includePatterns: ['a/<b>'] });
  const s = base.file(llb.mkdir('/out', 0o755).copy(ctx, 'a', '/out/', { timestamp: 5n }).mkfile('/out/x', 0o644, 'hi'), { customName: 'files' });
  const r = s.run({ args: ['sh', '-c', 'true'], mounts: [{ dest: '/cache', type: 'cache', cacheId: 'c' }, { dest: '/o' }] });
  const m = llb.merge([llb.scratch(), r.root, r.mount('/o')]);
  assert.deepEqual(actual(m), expected('graph1'));
});

test('graph2 (resolve mode, layer limit, owners, symlink, rm wildcard, tmpfs/secret/readonly mounts, diff, oci-layout) matches Go', () => {
  const bb = llb.image('busybox:1.36', { resolveMode: 'pull', layerLimit: 2 });
  const c2 = llb.local('ctx2', { sessionId: 's2', followPaths: ['spec.yaml'], excludePatterns: ['*.tmp'], sharedKeyHint: 'ctx2', differ: 'none' });
  const f = bb.file(
    llb.mkdir('/app', 0o750, { makeParents: true, owner: { user: 'app', group: 0 }, timestamp: 1700000000n * 1_000_000_000n })
      .copy(c2, '/src', '/app/', { includePatterns: ['*.ts'], excludePatterns: ['test/'], dirCopyContents: true, createDestPath: true, allowWildcard: true, followSymlink: true, mode: 'u+x' })
      .symlink('../app', '/usr/app', { owner: { user: 1000, group: 1000 } })
      .rm('/tmp/*', { allowWildcard: true, allowNotFound: true }));
  const r2 = f.run({
    args: ['/bin/build'], env: ['A=1'], cwd: '/work', user: 'app', network: 'none', mounts: [
      { dest: '/tmp', type: 'tmpfs' }, { dest: '/run/secrets/x', type: 'secret', secretId: 'x' },
      { dest: '/ro', state: c2, selector: '/sub', readonly: true }, { dest: '/out' }],
  });
  const d = llb.diff(bb, r2.root);
  const oci = llb.ociLayout('store', 'sha256:' + 'a'.repeat(64), { sessionId: 's1' });
  assert.deepEqual(actual(llb.merge([d, r2.mount('/out'), oci])), expected('graph2'));
});
