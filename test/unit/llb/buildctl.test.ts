// Cross-check with BuildKit's own decoder: `buildctl debug dump-llb` reads our
// Definition from stdin. Skipped when the project's buildctl is not built.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Definition } from '../../../src/gen/github.com/moby/buildkit/solver/pb/ops.ts';
import * as llb from '../../../src/llb/index.ts';
import { AMD64 } from './helpers.ts';

const BUILDCTL = join(import.meta.dirname, '../../../.cache/go/bin/buildctl');

test('buildctl debug dump-llb decodes our definition with the same digests', { skip: !existsSync(BUILDCTL) && 'buildctl not built' }, () => {
  const ctx = llb.local('context', { sessionId: 's' });
  const layer = llb.scratch().file(
    llb.copy(ctx, '/', '/', { includePatterns: ['usr/**'], timestamp: 0n }).mkfile('/etc/x', 0o644, 'x'),
    { customName: 'layer 1' },
  );
  const root = llb.image('alpine').run({ args: ['true'], mounts: [{ dest: '/out' }] });
  const res = llb.marshalGraph(llb.merge([layer, root.mount('/out')]), { platform: AMD64 });
  const out = spawnSync(BUILDCTL, ['debug', 'dump-llb'], { input: Definition.encode(res.definition).finish(), encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Digest: string; Op: Record<string, unknown>; OpMetadata?: { description?: Record<string, string> } });
  assert.deepEqual(lines.map((l) => l.Digest), res.ops.map((o) => o.digest));
  const file = lines.find((l) => l.OpMetadata?.description?.['llb.customname'] === 'layer 1')!;
  const actions = (file.Op.Op as { file: { actions: { input: number; secondaryInput: number; output: number }[] } }).file.actions;
  assert.deepEqual(actions.map((a) => [a.input, a.secondaryInput, a.output]), [[-1, 0, -1], [1, -1, 0]]);
});
