// previous-build from an image chunked by rpm-ostree/bootc: its layout lives in the manifest's
// `ostree.components` layer annotations, which the frontend reads by fetching the manifest inside
// BuildKit. The previous image is made by our CLI (build-chunked-oci writes rpm-ostree's format) from a
// rootfs with a real rpmdb: the test RPMs (scripts/test-rpms.sh) installed with `rpm --root`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodePlanLabel } from '../../src/chunking/plan-label.ts';
import { defaultOstreeName } from '../../src/chunking/plan-foreign.ts';
import { buildxBuild } from '../harness/buildkit.ts';
import { bin, frontendImage, registry, repoRoot, type BuildKitName } from '../harness/env.ts';
import { getManifest } from '../harness/registry.ts';
import { run } from '../harness/run.ts';
import { ensureServices } from '../harness/services.ts';

const RPMS = join(repoRoot, '.cache/test-rpms/repo');
let work: string;
let frontend: string;
let n = 0;
const ref = (name: string) => `${registry}/e2e/${name}:${process.pid}-${++n}`;

before(async () => {
  await ensureServices();
  frontend = frontendImage();
  work = mkdtempSync(join(tmpdir(), 'cf-prev-'));
  await run('bash', [join(repoRoot, 'scripts/test-rpms.sh')], { timeoutMs: 300_000 });
  const rpms = readdirSync(RPMS).filter((f) => /^cf-(app-1|extras|filesystem|kernel|lib)-.*\.rpm$/.test(f)).map((f) => join(RPMS, f));
  await run('rpm', ['--root', join(work, 'rootfs'), '--dbpath', '/usr/lib/sysimage/rpm', '-i', '--nodeps', '--noscripts', '--ignorearch', ...rpms]);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Drops our plan label from the layout's image, so only rpm-ostree's annotations describe its layers. */
function withoutPlanLabel(layout: string): void {
  const blob = (d: string) => join(layout, 'blobs', ...d.split(':'));
  const put = (bytes: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    writeFileSync(blob(digest), bytes);
    return { digest, size: bytes.length };
  };
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8'));
  assert.ok(config.config.Labels['dev.compose-frontend.plan']);
  delete config.config.Labels['dev.compose-frontend.plan'];
  Object.assign(manifest.config, put(Buffer.from(JSON.stringify(config))));
  Object.assign(index.manifests[0], put(Buffer.from(JSON.stringify(manifest))));
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
}

async function build(kit: BuildKitName, previous: string) {
  writeFileSync(join(work, 'build.yaml'), `rootfs:\n  dir: rootfs\nmax-layers: 12\nprevious-build: ${previous}\n`);
  const out = ref(`prev-ostree-${kit}`);
  const res = await buildxBuild({ builder: kit, frontendImage: frontend, contextDir: work, filename: 'build.yaml', output: { type: 'push', ref: out } });
  return { out, res };
}

async function planOf(image: string) {
  const config = JSON.parse((await run(bin.skopeo, ['inspect', '--tls-verify=false', '--config', `docker://${image}`])).stdout);
  return decodePlanLabel(config.config.Labels['dev.compose-frontend.plan']);
}

describe('previous-build made by rpm-ostree/bootc', () => {
  test('the layout of its ostree.components annotations is adopted (standalone: the fetch reaches the registry)', async () => {
    const prev = ref('rpm-ostree-like');
    const layout = join(work, 'prev.oci');
    await run(bin.node, [join(repoRoot, 'src/main.ts'), 'build-chunked-oci', '--bootc', '--rootfs', join(work, 'rootfs'),
      '--output', `oci:${layout}:1`, '--max-layers', '3']);
    withoutPlanLabel(layout);
    await run(bin.skopeo, ['copy', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${prev}`]);
    const manifest = await getManifest(prev);
    const groups = (manifest.json.layers as { annotations?: Record<string, string> }[]).slice(1)
      .map((l) => (l.annotations?.['ostree.components'] ?? '').split(',').filter(Boolean).map(defaultOstreeName).filter((c): c is string => c !== undefined))
      .filter((g) => g.length > 0);
    // Three layers for six components: the previous image groups them; a fresh plan with 12 layers would not.
    assert.ok(groups.some((g) => g.length >= 2), JSON.stringify(groups));

    const { out, res } = await build('standalone', prev);
    assert.doesNotMatch(res.stderr, /planning without it/);
    // Every component group of the previous image is one layer of ours.
    const plan = await planOf(out);
    const layerOf = new Map<string, string>();
    for (const l of plan.layers) for (const c of l.components) layerOf.set(c, l.name);
    for (const g of groups) {
      const present = g.filter((c) => layerOf.has(c));
      assert.ok(present.length > 0, `components ${g.join(',')} are in the new build`);
      assert.deepEqual(new Set(present.map((c) => layerOf.get(c))), new Set([layerOf.get(present[0]!)]), `group ${g.join(',')} stays together`);
    }

    // Docker's ExecOps run on a bridge network: 127.0.0.1 is the container itself, so the fetch fails —
    // a warning, and the build goes on.
    const docker = await build('docker', prev);
    assert.match(docker.res.stderr, new RegExp(`previous build '${prev.replace(/[.:]/g, '\\$&')}' \\(made by rpm-ostree/bootc\\): its manifest cannot be fetched from inside the build \\(.*\\); planning without it`));
  });
});
