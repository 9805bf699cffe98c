// composeTreefile wiring: the default builder image, the rpmdb-normalize step in the tools image,
// the version passed to mutate-os-release, repo-packages repo ids.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { composeTreefile } from '../../../src/compose/compose-treefile.ts';
import { loadTreefile, localContextFs } from '../../../src/compose/treefile/index.ts';
import { image, marshalGraph, scratch } from '../../../src/llb/index.ts';

const platform = { os: 'linux', architecture: 'amd64' };
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-compose-'));
  await mkdir(join(dir, 'rpms'));
  await writeFile(join(dir, 'cf.repo'), '[cftest]\nbaseurl=file:///context/rpms\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function compose(manifest: string, extra: Partial<Parameters<typeof composeTreefile>[1]> = {}) {
  await writeFile(join(dir, 'm.yaml'), manifest);
  const loaded = await loadTreefile('m.yaml', { basearch: 'x86_64', contextDir: dir });
  return composeTreefile(loaded, { context: scratch(), fs: localContextFs(dir), platform, epoch: 1700000000, ...extra });
}

const images = (g: ReturnType<typeof marshalGraph>) => g.ops.flatMap((o) => (o.op.source?.identifier.startsWith('docker-image://') ? [o.op.source.identifier] : []));

describe('composeTreefile', () => {
  test('without a builder image the distro image is used', async () => {
    const r = await compose('releasever: 42\nrepos: [cftest]\ncontainer: true\npackages: [a]\n');
    assert.deepEqual(images(marshalGraph(r.rootfs, { platform })), ['docker-image://quay.io/fedora/fedora:42']);
    await assert.rejects(compose('repos: [cftest]\ncontainer: true\npackages: [a]\n'), /m\.yaml: releasever: releasever is not set/);
  });

  test('rpmdb-normalize: the last step runs the CLI in the tools image; without one it is an error', async () => {
    const tf = 'releasever: 42\nrepos: [cftest]\ncontainer: true\npackages: [a]\nrpmdb-normalize: true\n';
    await assert.rejects(compose(tf, { builderImage: 'b.example/builder:1' }), {
      message: "m.yaml:5: rpmdb-normalize: rpmdb-normalize: true runs this frontend's own image inside the build, which this BuildKit does not provide (frontend.bin, BuildKit >= 0.10)",
    });
    const r = await compose(tf, { builderImage: 'b.example/builder:1', tools: { state: image('t.example/frontend:1'), argv: ['/node', '/app.mjs'] } });
    const g = marshalGraph(r.rootfs, { platform });
    const head = g.ops.find((o) => o.digest === g.head?.digest)!;
    const exec = head.op.exec!;
    assert.deepEqual(exec.meta!.args, ['/node', '/app.mjs', 'rpmdb-normalize', '/target', '--source-date-epoch', '1700000000']);
    assert.equal(exec.network, 2);
    assert.deepEqual(images(g).sort(), ['docker-image://b.example/builder:1', 'docker-image://t.example/frontend:1']);
  });

  test('mutate-os-release gets the computed version, or the user version label', async () => {
    const tf = 'releasever: 42\nrepos: [cftest]\ncontainer: true\npackages: [a]\nautomatic-version-prefix: "42.<date:%Y%m%d>"\nmutate-os-release: "${releasever}"\n';
    const r = await compose(tf, { builderImage: 'b' });
    assert.deepEqual(r.postprocess.mutateOsRelease, { from: '42', to: '42.20231114.0' });
    assert.equal(r.config.labels['org.opencontainers.image.version'], '42.20231114.0');
    const u = await compose(tf, { builderImage: 'b', labels: { 'org.opencontainers.image.version': '42.7' } });
    assert.deepEqual(u.postprocess.mutateOsRelease, { from: '42', to: '42.7' });
  });

  test('repo-packages names a repo of the repo files', async () => {
    await assert.rejects(compose('releasever: 42\nrepos: [cftest]\npackages: [a]\nrepo-packages:\n  - repo: nope\n    packages: [b]\n', { builderImage: 'b' }), {
      message: 'm.yaml:5: repo-packages[0].repo: Unknown rpm-md repository: nope (known: cftest)',
    });
  });
});
