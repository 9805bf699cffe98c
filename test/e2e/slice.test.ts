// Issue 2 end to end: every rootfs source through both BuildKits (Docker Engine 26.1's embedded one via
// docker buildx, the standalone buildkitd via buildctl), pushed to the local registry, pulled with skopeo,
// unpacked with umoci and compared file for file with the input.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildctlBuild, buildOn, buildxBuild, pruneCache, type BuildResult } from '../harness/buildkit.ts';
import { frontendImage, registry, type BuildKitName } from '../harness/env.ts';
import { compareTrees, needlessLayers, pullAndUnpack } from '../harness/image.ts';
import { RunError } from '../harness/run.ts';
import { ensureServices } from '../harness/services.ts';
import { makeRootfs, tarRootfs } from './rootfs-fixture.ts';

const KITS: BuildKitName[] = ['docker', 'standalone'];
let work: string;
let frontend: string;
let ctx: string; // build context: rootfs/ (root-owned), rootfs.tar (with owners), Containerfile
let ownedTree: string; // the tree inside rootfs.tar
let sourceImage: string;
let n = 0;

const ref = (name: string) => `${registry}/e2e/${name}:${process.pid}-${++n}`;

async function buildSpec(kit: BuildKitName, yaml: string, o: { namedContexts?: Record<string, string>; tag?: string; opts?: Record<string, string>; buildx?: boolean } = {}) {
  const file = `build-${++n}.yaml`;
  writeFileSync(join(ctx, file), yaml);
  const out = o.tag ?? ref(`slice-${kit}`);
  const b = { frontendImage: frontend, contextDir: ctx, filename: file, namedContexts: o.namedContexts, opts: o.opts, output: { type: 'push', ref: out } } as const;
  // buildx prints every warning; buildctl's plain printer drops those sent after their vertex finished.
  const res = o.buildx ? await buildxBuild({ ...b, builder: kit }) : await buildOn(kit, b);
  return { out, res };
}

/** The build's error text (stderr of the failing tool). */
async function buildError(kit: BuildKitName, yaml: string | Buffer): Promise<string> {
  const file = `bad-${++n}.yaml`;
  writeFileSync(join(ctx, file), yaml);
  try {
    await buildOn(kit, { frontendImage: frontend, contextDir: ctx, filename: file, output: { type: 'push', ref: ref('bad') } });
  } catch (e) {
    if (e instanceof RunError) return e.message;
    throw e;
  }
  assert.fail(`build of ${file} succeeded`);
}

async function checkImage(out: string, input: string, maxLayers: number, o: { owners?: 'keep' | 'root' } = {}) {
  const img = await pullAndUnpack(out, mkdtempSync(join(work, 'pull-')));
  const diff = await compareTrees(input, img.rootfs, { labels: ['input', 'image'] });
  assert.ok(diff.equal, diff.text);
  assert.ok(img.layers.length >= 1 && img.layers.length <= maxLayers, `${img.layers.length} layers, max ${maxLayers}`);
  const labels = img.config.config?.Labels ?? {};
  assert.equal(labels['containers.bootc'], '1');
  assert.equal(labels['ostree.bootable'], 'true');
  assert.ok(labels['dev.compose-frontend.plan'], 'plan label');
  const hist = (img.config.history ?? []).filter((h: { empty_layer?: boolean }) => !h.empty_layer);
  assert.equal(hist.length, img.layers.length);
  for (const h of hist) assert.match(h.created_by ?? '', /^compose-frontend layer \d+\/\d+: /);
  assert.equal(img.config.created, '1970-01-01T00:00:00Z');
  return img;
}

before(async () => {
  await ensureServices();
  frontend = frontendImage();
  work = mkdtempSync(join(tmpdir(), 'cf-slice-'));
  ctx = join(work, 'ctx');
  mkdirSync(ctx);
  makeRootfs(join(ctx, 'rootfs'));
  ownedTree = join(work, 'owned');
  makeRootfs(ownedTree, { owners: true });
  await tarRootfs(ownedTree, join(ctx, 'rootfs.tar'));
  writeFileSync(join(ctx, 'Containerfile'), [
    'FROM scratch AS rootfs', 'ADD rootfs.tar /', 'ENV FOO=bar', 'CMD ["/usr/bin/bash"]', 'LABEL stage=rootfs',
    'FROM rootfs AS other', 'COPY Containerfile /other', '',
  ].join('\n'));
  writeFileSync(join(ctx, 'Source.Dockerfile'), ['FROM scratch', 'ADD rootfs.tar /', 'ENV PATH=/usr/bin FOO=bar', 'CMD ["/usr/bin/bash"]', 'LABEL src.label=yes', ''].join('\n'));
  sourceImage = `${registry}/e2e/source:owners`;
  await buildctlBuild({ contextDir: ctx, filename: 'Source.Dockerfile', output: { type: 'push', ref: sourceImage } });
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const kit of KITS) {
  describe(`rootfs sources on ${kit}`, () => {
    test('dir: a directory of the build context', async () => {
      const { out } = await buildSpec(kit, 'rootfs:\n  dir: rootfs\nmax-layers: 5\nlabels:\n  org.opencontainers.image.title: exampleos\n');
      const img = await checkImage(out, join(ctx, 'rootfs'), 5);
      assert.equal(img.config.config.Labels['org.opencontainers.image.title'], 'exampleos');
    });

    test('image: owners kept, config inherited, labels added', async () => {
      const { out } = await buildSpec(kit, `rootfs:\n  image: ${sourceImage}\nmax-layers: 3\nlabels:\n  extra: one\n`, { opts: { 'label:cli': 'two' } });
      const img = await checkImage(out, ownedTree, 3);
      assert.deepEqual(img.config.config.Cmd, ['/usr/bin/bash']);
      assert.ok(img.config.config.Env.includes('FOO=bar'));
      const l = img.config.config.Labels;
      assert.deepEqual([l['src.label'], l.extra, l.cli], ['yes', 'one', 'two']);
    });

    test('context: a named build context holding an image', async () => {
      const { out } = await buildSpec(kit, 'rootfs:\n  context: base\n', { namedContexts: { base: `docker-image://${sourceImage}` } });
      const img = await checkImage(out, ownedTree, 64);
      assert.deepEqual(img.config.config.Cmd, ['/usr/bin/bash']);
    });

    test('context: a named build context holding a directory', async () => {
      const { out } = await buildSpec(kit, 'rootfs:\n  context: tree\n', { namedContexts: { tree: join(ctx, 'rootfs') } });
      await checkImage(out, join(ctx, 'rootfs'), 64);
    });

    test('containerfile + target: a stage built by the Dockerfile frontend', async () => {
      const { out } = await buildSpec(kit, 'rootfs:\n  containerfile: Containerfile\n  target: rootfs\nconfig:\n  cmd: [/sbin/init]\n');
      const img = await checkImage(out, ownedTree, 64);
      assert.deepEqual(img.config.config.Cmd, ['/sbin/init']);
      assert.ok(img.config.config.Env.includes('FOO=bar'));
      assert.equal(img.config.config.Labels.stage, 'rootfs');
    });

    test('a rebuild after pruning the build cache gives the identical manifest digest', async () => {
      const yaml = 'rootfs:\n  dir: rootfs\nmax-layers: 4\n';
      const a = await buildSpec(kit, yaml);
      await pruneCache(kit);
      const b = await buildSpec(kit, yaml);
      assert.ok(a.res.digest && a.res.digest === b.res.digest, `${a.res.digest} != ${b.res.digest}`);
    });
  });
}

describe('previous-build', () => {
  test('an update keeps every layer whose files did not change; a missing previous image is only a warning', async () => {
    const v1 = join(work, 'v1');
    const v2 = join(work, 'v2');
    makeRootfs(join(v1, 'rootfs'), { version: 1 });
    makeRootfs(join(v2, 'rootfs'), { version: 2 });
    const spec = (prev?: string) => `rootfs:\n  dir: rootfs\nmax-layers: 8\n${prev ? `previous-build: ${prev}\n` : ''}`;
    writeFileSync(join(v1, 'build.yaml'), spec());
    const a = ref('prev-a');
    await buildOn('standalone', { frontendImage: frontend, contextDir: v1, filename: 'build.yaml', output: { type: 'push', ref: a } });
    writeFileSync(join(v2, 'build.yaml'), spec(a));
    const b = ref('prev-b');
    await buildOn('standalone', { frontendImage: frontend, contextDir: v2, filename: 'build.yaml', output: { type: 'push', ref: b } });
    const ia = await pullAndUnpack(a, mkdtempSync(join(work, 'pa-')));
    const ib = await pullAndUnpack(b, mkdtempSync(join(work, 'pb-')));
    const { changed, needless } = await needlessLayers(ia, ib);
    assert.ok(changed >= 1 && changed < ib.layers.length, `${changed} of ${ib.layers.length} layers changed`);
    assert.deepEqual(needless, []);

    writeFileSync(join(v2, 'missing.yaml'), spec(`${registry}/e2e/never-built:1`));
    const res = await buildxBuild({ builder: 'standalone', frontendImage: frontend, contextDir: v2, filename: 'missing.yaml', output: { type: 'push', ref: ref('prev-c') } });
    assert.match(res.stderr, /previous build '127\.0\.0\.1:5000\/e2e\/never-built:1' cannot be read .*planning without it/);
  });
});

describe('bad input', () => {
  const kit: BuildKitName = 'standalone';
  test('YAML problems name file, line and key', async () => {
    assert.match(await buildError(kit, 'rootfs: [\n'), /bad-\d+\.yaml:\d+: invalid YAML/);
    assert.match(await buildError(kit, '# syntax=x\nrootfs:\n  dri: rootfs\n'), /bad-\d+\.yaml:3: rootfs\.dri: unknown key/);
    // The errdefs.Source detail: the client prints the file with the offending line marked.
    writeFileSync(join(ctx, 'snippet.yaml'), '# syntax=x\nrootfs:\n  dri: rootfs\nmax-layers: 3\n');
    const shown = await buildxBuild({ builder: 'standalone', frontendImage: frontend, contextDir: ctx, filename: 'snippet.yaml', output: { type: 'none' } })
      .then(() => '', (e: Error) => e.message);
    assert.match(shown, /snippet\.yaml:3\n-+\n\s+1 \|\s+# syntax=x\n\s+2 \|\s+rootfs:\n\s+3 \| >>>\s+dri: rootfs\n/);
    assert.match(shown, /ERROR: failed to solve: snippet\.yaml:3: rootfs\.dri: unknown key/);
    assert.match(await buildError(kit, 'rootfs:\n  dir: rootfs\n  image: x\n'), /bad-\d+\.yaml:3: rootfs: exactly one of dir, image, context, containerfile is required; found dir and image/);
    assert.match(await buildError(kit, 'rootfs:\n  dir: rootfs\nmax-layers: 501\n'), /bad-\d+\.yaml:3: max-layers: must be <= 500/);
    assert.match(await buildError(kit, ''), /bad-\d+\.yaml: cannot tell what kind of build file this is: it is empty/);
    assert.match(await buildError(kit, 'image: foo\n'), /bad-\d+\.yaml:1: cannot tell what kind of build file this is: line 1 `image: foo` is neither a Dockerfile instruction nor a known key/);
  });

  test('missing dir, image, context and stage are named', async () => {
    assert.match(await buildError(kit, 'rootfs:\n  dir: nope\n'), /bad-\d+\.yaml:2: rootfs\.dir: 'nope' does not exist in the build context/);
    assert.match(await buildError(kit, `rootfs:\n  image: ${registry}/e2e/missing:none\n`), /bad-\d+\.yaml:2: rootfs\.image: cannot resolve image '127\.0\.0\.1:5000\/e2e\/missing:none'/);
    assert.match(await buildError(kit, 'rootfs:\n  context: ghost\n'), /bad-\d+\.yaml:2: rootfs\.context: no build context named 'ghost' was passed/);
    assert.match(await buildError(kit, 'rootfs:\n  containerfile: Containerfile\n  target: nostage\n'), /rootfs\.containerfile: building Containerfile \(target nostage\) failed: .*nostage/);
  });

  test('a build file over the size limit', async () => {
    const big = `rootfs:\n  dir: rootfs\n# ${'x'.repeat(1024 * 1024)}\n`;
    assert.match(await buildError(kit, big), /build file is \d+ bytes; the limit is 1048576 bytes/);
  });

  test('max-layers above 127 builds with a warning naming the line', async () => {
    for (const k of KITS) {
      const { res } = await buildSpec(k, 'rootfs:\n  dir: rootfs\nmax-layers: 200\n', { buildx: true });
      assert.match(res.stderr, /build-\d+\.yaml:3: max-layers 200 is above 127/);
    }
  });

  test('special files are skipped with a warning; non-UTF-8 names fail naming the path', async () => {
    const special = join(work, 'special');
    makeRootfs(special);
    execFileSync('mkfifo', [join(special, 'run/fifo')]);
    execFileSync('mknod', [join(special, 'usr/lib/null'), 'c', '1', '3']);
    writeFileSync(join(ctx, 'special.tar'), '');
    await tarRootfs(special, join(ctx, 'special.tar'));
    writeFileSync(join(ctx, 'Special.Dockerfile'), 'FROM scratch\nADD special.tar /\n');
    const img = `${registry}/e2e/special:1`;
    await buildctlBuild({ contextDir: ctx, filename: 'Special.Dockerfile', output: { type: 'push', ref: img } });
    for (const k of KITS) {
      const { out, res } = await buildSpec(k, `rootfs:\n  image: ${img}\n`, { buildx: true });
      assert.match(res.stderr, /skipping fifo 'run\/fifo'/);
      assert.match(res.stderr, /skipping chardev 'usr\/lib\/null'/);
      rmSync(join(special, 'run/fifo'));
      rmSync(join(special, 'usr/lib/null'));
      await checkImage(out, special, 64);
      execFileSync('mkfifo', [join(special, 'run/fifo')]);
      execFileSync('mknod', [join(special, 'usr/lib/null'), 'c', '1', '3']);
    }

    const bad = join(work, 'badname');
    makeRootfs(bad);
    writeFileSync(Buffer.concat([Buffer.from(join(bad, 'usr/share/doc/latin1-')), Buffer.from([0xe9, 0x74, 0xe9])]), 'x');
    await tarRootfs(bad, join(ctx, 'badname.tar'));
    writeFileSync(join(ctx, 'Bad.Dockerfile'), 'FROM scratch\nADD badname.tar /\n');
    const badImg = `${registry}/e2e/badname:1`;
    await buildctlBuild({ contextDir: ctx, filename: 'Bad.Dockerfile', output: { type: 'push', ref: badImg } });
    for (const k of KITS) {
      assert.match(await buildError(k, `rootfs:\n  image: ${badImg}\n`), /usr\/share\/doc\/latin1-.*not valid UTF-8|not valid UTF-8.*usr\/share\/doc\/latin1-/);
    }
  });
});

export type { BuildResult };
