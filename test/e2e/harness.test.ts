// Smoke checks of the test harness itself: services, run(), compareTrees(), builds through both
// BuildKits (push → pull → unpack → compare), OCI export, cache prune + reproducible rebuild, MergeOp
// on the standalone buildkitd, and the frontend image's config.
import assert from 'node:assert/strict';
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildctlBuild, buildOn, buildxBuild, pruneCache } from '../harness/buildkit.ts';
import type { BuildResult } from '../harness/buildkit.ts';
import { baseImagePinned, bin, buildkitAddr, frontendImage, registry, repoRoot, serviceFacts } from '../harness/env.ts';
import type { BuildKitName } from '../harness/env.ts';
import { compareTrees, pullAndUnpack, readOciLayout } from '../harness/image.ts';
import { mergeOfLocals } from '../harness/llb-probe.ts';
import { getManifest, resolveImage, skopeoInspect } from '../harness/registry.ts';
import { run, RunError } from '../harness/run.ts';
import { ensureServices } from '../harness/services.ts';

const fixture = join(repoRoot, 'test/harness/fixtures/smoke');
let work: string;
let ctx: string;
let expected: string;

before(async () => {
  await ensureServices();
  work = await mkdtemp(join(tmpdir(), 'cf-harness-'));
  ctx = join(work, 'ctx');
  expected = join(work, 'expected');
  await mkdir(ctx);
  await copyFile(join(fixture, 'mktree.cjs'), join(ctx, 'mktree.cjs'));
  await writeFile(
    join(ctx, 'Dockerfile'),
    [
      `FROM ${baseImagePinned()} AS prep`,
      'COPY mktree.cjs /mktree.cjs',
      'RUN ["/usr/local/bin/node", "/mktree.cjs", "/out"]',
      'FROM scratch',
      'COPY --from=prep /out/ /',
      '',
    ].join('\n'),
  );
  await run(bin.node, [join(ctx, 'mktree.cjs'), expected]);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('services run the expected versions', async () => {
  const facts = serviceFacts();
  assert.match(facts.dockerVersion, /^26\.1\./);
  assert.equal(facts.buildkitVersion, 'v0.33.1');
  assert.equal(facts.registry, registry);
  const res = await fetch(`http://${registry}/v2/`);
  assert.equal(res.status, 200);
  const workers = await run(bin.buildctl, ['--addr', buildkitAddr, 'debug', 'workers', '-v']);
  assert.match(workers.stdout, /org\.mobyproject\.buildkit\.worker\.executor:\s+oci/);
});

describe('run()', () => {
  test('a failure names the command, the exit code and the stderr tail', async () => {
    await assert.rejects(run('bash', ['-c', 'echo out; for i in $(seq 1 50); do echo line$i >&2; done; exit 3']), (e) => {
      assert.ok(e instanceof RunError);
      assert.equal(e.result.code, 3);
      assert.match(e.message, /^bash -c .* exited with code 3/);
      assert.match(e.message, /--- stderr \(tail\) ---\n… \(10 earlier lines\)\nline11\n/);
      assert.match(e.message, /line50\n--- stdout \(tail\) ---\nout$/);
      return true;
    });
  });

  test('a timeout kills the whole process group', async () => {
    const t0 = Date.now();
    await assert.rejects(run('bash', ['-c', 'sleep 30 & sleep 30; wait'], { timeoutMs: 300 }), /timed out after 300 ms/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('allowFailure returns the result', async () => {
    const r = await run('bash', ['-c', 'echo e >&2; exit 7'], { allowFailure: true });
    assert.equal(r.code, 7);
    assert.equal(r.stderr, 'e\n');
  });
});

test('compareTrees: identical trees are equal, including mtimes', async () => {
  const copy = join(work, 'copy-equal');
  await run('cp', ['-a', expected, copy]);
  const d = await compareTrees(expected, copy, { mtime: true });
  assert.equal(d.text, '');
  assert.equal(d.equal, true);
});

test('compareTrees reports every kind of difference', async () => {
  const b = join(work, 'copy-mutated');
  await run('cp', ['-a', expected, b]);
  await chmod(join(b, 'usr/bin/tool'), 0o755); // setuid lost
  await chmod(join(b, 'tmp'), 0o777); // sticky lost
  await chown(join(b, 'home/user/file'), 0, 0);
  await writeFile(join(b, 'usr/bin/grp'), 'h'); // same size, other content
  await chmod(join(b, 'usr/bin/grp'), 0o2711);
  await writeFile(join(b, 'readonly'), 'longer'); // other size
  await chmod(join(b, 'readonly'), 0o444);
  await unlink(join(b, 'usr/bin/alias'));
  await symlink('other', join(b, 'usr/bin/alias'));
  await unlink(join(b, 'usr/data-link1')); // break the hard-link group
  await cp(join(b, 'usr/data'), join(b, 'usr/data-link1'));
  await rm(join(b, 'empty/nested-empty'), { recursive: true });
  await rm(join(b, 'home/user/private'), { recursive: true });
  await writeFile(join(b, 'extra'), '');
  const d = await compareTrees(expected, b, { labels: ['expected', 'actual'] });
  assert.equal(d.equal, false);
  assert.deepEqual(d.differences, [
    'only in expected: /empty/nested-empty (dir 0755 0:0)',
    'only in actual: /extra (file 0644 0:0)',
    '/home/user/file: owner 1234:5678 != 0:0',
    'only in expected: /home/user/private (dir 0700 1234:5678, 1 entries below)',
    '/readonly: content differs (size 1 != 6)',
    '/tmp: mode 1777 != 0777',
    '/usr/bin/alias: symlink target "tool" != "other"',
    '/usr/bin/data-link2: hard links [/usr/data /usr/data-link1] != [/usr/data]',
    '/usr/bin/grp: content differs (sha256 cd0aa9856147… != aaa9402664f1…)',
    '/usr/bin/tool: mode 4755 != 0755',
    '/usr/data: hard links [/usr/bin/data-link2 /usr/data-link1] != [/usr/bin/data-link2]',
    '/usr/data-link1: hard links [/usr/bin/data-link2 /usr/data] != none',
  ]);
  assert.match(d.text, /^trees differ \(expected=.*, actual=.*\):\n {2}only in expected: \/empty\/nested-empty/);
});

test('standalone buildkitd executes MergeOp', async () => {
  const a = join(work, 'merge-a');
  const b = join(work, 'merge-b');
  const out = join(work, 'merge-out');
  await mkdir(a);
  await mkdir(b);
  await writeFile(join(a, 'from-a'), 'A');
  await writeFile(join(b, 'from-b'), 'B');
  await run(bin.buildctl, ['--addr', buildkitAddr, 'build', '--local', `a=${a}`, '--local', `b=${b}`, '--output', `type=local,dest=${out}`], {
    input: mergeOfLocals('a', 'b'),
  });
  const want = join(work, 'merge-want');
  await mkdir(want);
  await writeFile(join(want, 'from-a'), 'A');
  await writeFile(join(want, 'from-b'), 'B');
  const d = await compareTrees(want, out);
  assert.equal(d.text, '');
});

/** Names of the vertices `--progress=plain` reported as CACHED. */
function cachedSteps(progress: string): string[] {
  const names = new Map<string, string>();
  const cached: string[] = [];
  for (const line of progress.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    if (!names.has(m[1]!)) names.set(m[1]!, m[2]!);
    else if (m[2] === 'CACHED') cached.push(names.get(m[1]!)!);
  }
  return cached;
}

const epoch = { 'build-arg:SOURCE_DATE_EPOCH': '0' };

async function checkPushed(label: string, r: BuildResult, ref: string): Promise<void> {
  assert.match(r.digest ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.equal(r.metadata['containerimage.digest'], r.digest, 'metadata digest = registry digest');
  const img = await pullAndUnpack(ref, join(work, `pull-${label}`));
  assert.equal(img.layers.length, 1);
  assert.equal(img.config.created, '1970-01-01T00:00:00Z');
  const d = await compareTrees(expected, img.rootfs, { labels: ['expected', label], mtime: true });
  assert.equal(d.text, '');
}

for (const kit of ['standalone', 'docker'] as BuildKitName[]) {
  test(`${kit} BuildKit: push, pull, unpack, compare; rebuild after prune has the same digest`, async () => {
    const ref = `${registry}/cf-harness/smoke:${kit}`;
    // no-cache: a COPY's cache key ignores mtimes, so an older cached result could carry other mtimes.
    const first = await buildOn(kit, { contextDir: ctx, opts: { ...epoch, 'no-cache': '' }, output: { type: 'push', ref } });
    assert.equal(first.tool, kit === 'docker' ? 'buildx' : 'buildctl');
    await checkPushed(kit, first, ref);
    const again = await buildOn(kit, { contextDir: ctx, opts: epoch, output: { type: 'push', ref } });
    assert.ok(cachedSteps(again.stderr).some((s) => s.includes(' RUN ')), 'an unpruned rebuild reuses the RUN step');
    assert.equal(again.digest, first.digest);
    await pruneCache(kit);
    const second = await buildOn(kit, { contextDir: ctx, opts: epoch, output: { type: 'push', ref } });
    assert.ok(!cachedSteps(second.stderr).some((s) => s.includes(' RUN ')), 'prune left the RUN step cached');
    assert.equal(second.digest, first.digest);
  });
}

test('buildx on the standalone buildkitd (remote driver) pushes the same image as buildctl', async () => {
  const ref = `${registry}/cf-harness/smoke:buildx-standalone`;
  const viaBuildx = await buildxBuild({ builder: 'standalone', contextDir: ctx, opts: epoch, output: { type: 'push', ref } });
  const viaBuildctl = await buildctlBuild({ contextDir: ctx, opts: epoch, output: { type: 'push', ref: `${ref}-ctl` } });
  assert.equal(viaBuildx.digest, viaBuildctl.digest);
  assert.equal((await getManifest(ref)).mediaType, 'application/vnd.oci.image.manifest.v1+json');
});

test('buildctl OCI-directory output holds the pushed image', async () => {
  const dest = join(work, 'oci-out');
  const pushed = await buildctlBuild({ contextDir: ctx, opts: epoch, output: { type: 'push', ref: `${registry}/cf-harness/smoke:oci` } });
  await buildctlBuild({ contextDir: ctx, opts: epoch, output: { type: 'oci-dir', dest } });
  const layout = await readOciLayout(dest);
  assert.equal(layout.manifestDigest, pushed.digest);
  const remote = await resolveImage(`${registry}/cf-harness/smoke:oci`);
  assert.deepEqual(layout.layers, remote.layers);
  await assert.rejects(
    buildxBuild({ builder: 'docker', contextDir: ctx, output: { type: 'oci-dir', dest: join(work, 'never') } }),
    /docker driver has no OCI exporter/,
  );
});

test('buildx rejects options it cannot express', async () => {
  await assert.rejects(
    buildxBuild({ contextDir: ctx, opts: { 'image-resolve-mode': 'pull' }, output: { type: 'none' } }),
    /frontend option "image-resolve-mode" has no docker buildx equivalent/,
  );
});

test('frontend image carries the gateway labels and entrypoint', async (t) => {
  let ref: string;
  try {
    ref = frontendImage();
  } catch (e) {
    t.skip((e as Error).message);
    return;
  }
  const cfg = await skopeoInspect(ref, 'config');
  assert.equal(cfg.config.Labels['moby.buildkit.frontend.network.none'], 'true');
  assert.deepEqual(cfg.config.Labels['moby.buildkit.frontend.caps'].split(','), [
    'moby.buildkit.frontend.inputs',
    'moby.buildkit.frontend.subrequests',
    'moby.buildkit.frontend.contexts',
  ]);
  assert.deepEqual(cfg.config.Entrypoint, ['/usr/local/bin/node', '/app/compose-frontend.mjs']);
});
