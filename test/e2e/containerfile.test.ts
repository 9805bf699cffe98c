// Issue 5: a Containerfile whose first line names this frontend is itself a build file. The chunked image
// must equal, file for file and config field for config field, what the Dockerfile frontend builds.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOn, buildxBuild } from '../harness/buildkit.ts';
import { bin, frontendImage, registry, toolEnv, type BuildKitName } from '../harness/env.ts';
import { compareTrees, pullAndUnpack } from '../harness/image.ts';
import { RunError, run } from '../harness/run.ts';
import { ensureServices } from '../harness/services.ts';
import { repoRoot } from '../harness/env.ts';

const KITS: BuildKitName[] = ['docker', 'standalone'];
let work: string;
let ctx: string;
let frontend: string;
let base: string;
let n = 0;
const ref = (name: string) => `${registry}/e2e/${name}:${process.pid}-${++n}`;

// The seed's example: a bootc base, packages removed, a config file added, a label.
const seed = (syntax: string) => [
  ...(syntax ? [`# syntax=${syntax}`] : []),
  `FROM ${base} AS os`,
  'RUN dpkg --purge --force-depends e2fsprogs && rm -rf /var/log/*.log',
  'COPY my-config.conf /usr/lib/myapp/',
  'ENV APP_MODE=production',
  'WORKDIR /var/lib/myapp',
  'USER root',
  'STOPSIGNAL SIGRTMIN+3',
  'ENTRYPOINT ["/sbin/init"]',
  'CMD ["--log-level=info"]',
  'LABEL org.opencontainers.image.title=exampleos',
  '',
].join('\n');

before(async () => {
  await ensureServices();
  frontend = frontendImage();
  await run('bash', [join(repoRoot, 'scripts/debian-image.sh')], { timeoutMs: 900_000 });
  base = `${registry}/compose-frontend/debian:bookworm`;
  work = mkdtempSync(join(tmpdir(), 'cf-containerfile-'));
  ctx = join(work, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'my-config.conf'), 'setting=1\n');
  writeFileSync(join(ctx, 'Plain.Containerfile'), seed(''));
  writeFileSync(join(ctx, 'Containerfile'), seed(frontend));
  writeFileSync(join(ctx, 'Stages.Containerfile'), [
    `FROM ${base} AS one`, 'ARG GREETING=unset', 'RUN echo "$GREETING from one" > /greeting',
    'FROM one AS two', 'RUN echo two > /two', '',
  ].join('\n'));
  writeFileSync(join(ctx, 'Fails.Containerfile'), `FROM ${base}\nRUN echo about to fail && exit 7\n`);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const CONFIG_FIELDS = ['Env', 'Entrypoint', 'Cmd', 'WorkingDir', 'User', 'StopSignal'] as const;

for (const kit of KITS) {
  describe(`Containerfile build files on ${kit}`, () => {
    test('chunked image equals the Dockerfile frontend\'s, file for file and config field for config field', async () => {
      const plainRef = ref('plain');
      await buildOn(kit, { contextDir: ctx, filename: 'Plain.Containerfile', output: { type: 'push', ref: plainRef } });
      const oursRef = ref('chunked');
      // The `# syntax=` line (what a user writes) brings the build to us; the Dockerfile frontend then
      // builds the stages for us without following that line again.
      const res = await buildOn(kit, { contextDir: ctx, filename: 'Containerfile', opts: { 'build-arg:COMPOSE_MAX_LAYERS': '16' }, output: { type: 'push', ref: oursRef } });
      assert.match(res.stderr, /\[layer \d+\/\d+\]/);
      const plain = await pullAndUnpack(plainRef, mkdtempSync(join(work, 'plain-')));
      const ours = await pullAndUnpack(oursRef, mkdtempSync(join(work, 'ours-')));
      const diff = await compareTrees(plain.rootfs, ours.rootfs, { labels: ['dockerfile', 'chunked'] });
      assert.ok(diff.equal, diff.text);
      assert.ok(ours.layers.length > plain.layers.length && ours.layers.length <= 16, `${ours.layers.length} layers (Dockerfile: ${plain.layers.length})`);
      for (const f of CONFIG_FIELDS) assert.deepEqual(ours.config.config[f], plain.config.config[f], f);
      assert.deepEqual(ours.config.config.Labels, { ...plain.config.config.Labels, 'containers.bootc': '1', 'ostree.bootable': 'true', 'dev.compose-frontend.plan': ours.config.config.Labels['dev.compose-frontend.plan'] });
      // dpkg-aware chunking: package components name the layers.
      assert.ok(ours.config.history.some((h: { created_by?: string }) => /deb:/.test(h.created_by ?? '')), 'history names deb components');
    });

    test('an unchanged rebuild is fully cached', async () => {
      const first = await buildOn(kit, { contextDir: ctx, filename: 'Containerfile', output: { type: 'push', ref: ref('cached') } });
      const again = await buildOn(kit, { contextDir: ctx, filename: 'Containerfile', output: { type: 'push', ref: ref('cached') } });
      assert.equal(again.digest, first.digest);
      const ran = again.stderr.split('\n').filter((l) => /^#\d+ DONE/.test(l)).length;
      const cachedSteps = again.stderr.match(/^#\d+ CACHED$/gm)?.length ?? 0;
      assert.ok(cachedSteps >= 5, `expected cached steps, got ${cachedSteps}:\n${again.stderr.slice(-3000)}`);
      assert.doesNotMatch(again.stderr, /#\d+ \[\d\/\d\] RUN [^\n]*\n#\d+ (?!CACHED)/, 'RUN re-executed');
      assert.ok(ran >= 0);
    });

    test('build args and --target reach the Dockerfile frontend', async () => {
      const out = ref('stages');
      await buildOn(kit, { frontendImage: frontend, contextDir: ctx, filename: 'Stages.Containerfile', opts: { target: 'one', 'build-arg:GREETING': 'hello' }, output: { type: 'push', ref: out } });
      const img = await pullAndUnpack(out, mkdtempSync(join(work, 'stages-')));
      const { readFileSync, existsSync } = await import('node:fs');
      assert.equal(readFileSync(join(img.rootfs, 'greeting'), 'utf8'), 'hello from one\n');
      assert.equal(existsSync(join(img.rootfs, 'two')), false, 'stage two must not be in --target one');
      assert.equal(img.config.config.Labels['containers.bootc'], '1');
    });

    test('a failing RUN surfaces its own error and step', async () => {
      try {
        await buildOn(kit, { frontendImage: frontend, contextDir: ctx, filename: 'Fails.Containerfile', output: { type: 'push', ref: ref('fails') } });
        assert.fail('build succeeded');
      } catch (e) {
        assert.ok(e instanceof RunError, String(e));
        // BuildKit's own report of the step: the vertex, then the error naming the command and its exit code.
        assert.match(e.message, /#\d+ \[2\/2\] RUN echo about to fail && exit 7\n#\d+ [\d.]+ about to fail/);
        assert.match(e.message, /process "\/bin\/sh -c echo about to fail && exit 7" did not complete successfully: exit code: 7/);
        assert.doesNotMatch(e.message, /rootfs\.containerfile|cannot tell what kind|GatewayError/);
      }
    });
  });
}

describe('examples', () => {
  test('examples/containerfile builds through its own # syntax= line', async () => {
    const dir = join(work, 'example');
    const { cpSync, readFileSync } = await import('node:fs');
    cpSync(join(repoRoot, 'examples/containerfile'), dir, { recursive: true });
    const text = readFileSync(join(dir, 'Containerfile'), 'utf8').replace(/^# syntax=.*$/m, `# syntax=${frontend}`);
    writeFileSync(join(dir, 'Containerfile'), text);
    const out = ref('example');
    await buildOn('standalone', { contextDir: dir, filename: 'Containerfile', output: { type: 'push', ref: out } });
    const img = await pullAndUnpack(out, mkdtempSync(join(work, 'ex-')));
    assert.equal(readFileSync(join(img.rootfs, 'usr/lib/myapp/my-config.conf'), 'utf8'), 'setting=1\n');
    assert.equal(img.config.config.Labels['containers.bootc'], '1');
    assert.ok(img.layers.length > 4, `${img.layers.length} layers`);
  });
});

describe('subrequests', () => {
  test('targets of a Containerfile come from the Dockerfile frontend; a spec answers only describe', async () => {
    const print = (file: string) => run(bin.docker, ['buildx', 'build', '--builder', 'cf-standalone', '--print', 'targets',
      '--build-arg', `BUILDKIT_SYNTAX=${frontend}`, '-f', join(ctx, file), ctx], { env: toolEnv({ BUILDX_EXPERIMENTAL: '1' }), allowFailure: true });
    const ok = await print('Stages.Containerfile');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^one\s*$/m);
    assert.match(ok.stdout, /^two \(default\)\s*$/m);
    writeFileSync(join(ctx, 'spec.yaml'), 'rootfs:\n  dir: .\n');
    const bad = await print('spec.yaml');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unsupported subrequest frontend\.targets: spec\.yaml is not a Containerfile, and only frontend\.subrequests\.describe applies to it/);
  });
});

describe('Containerfile build args of ours', () => {
  test('COMPOSE_MAX_LAYERS out of range is named', async () => {
    try {
      await buildxBuild({ builder: 'standalone', frontendImage: frontend, contextDir: ctx, filename: 'Plain.Containerfile', opts: { 'build-arg:COMPOSE_MAX_LAYERS': '0' }, output: { type: 'none' } });
      assert.fail('build succeeded');
    } catch (e) {
      assert.match((e as Error).message, /build arg COMPOSE_MAX_LAYERS='0': expected a whole number from 1 to 500/);
    }
  });
});
