// OCI writing: blobs (diff_id vs digest, gzip/zstd, parallel = sequential), config/manifest for the
// ostree format (labels, history names, annotations, final-diffid), layouts and their index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import type { LayerPlan } from '../../../src/chunking/types.ts';
import { BlobStore } from '../../../src/oci/blobs.ts';
import { rfc3339, writeLayers, writeManifest } from '../../../src/oci/image.ts';
import { canonicalJson } from '../../../src/oci/json.ts';
import { readLayoutImage, writeIndex } from '../../../src/oci/layout.ts';
import { chunkName, ostreeConfig, ostreeLayers } from '../../../src/oci/ostree-image.ts';
import { commitTree } from '../../../src/ostree/commit.ts';
import { collect, dir, file, MemView, readTar } from './helpers.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const temps: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'oci-test-'));
  temps.push(d);
  return d;
};
test.after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function* chunks(parts: Buffer[]) {
  for (const p of parts) yield p;
}

test('canonical JSON: keys sorted at every level, no whitespace, undefined dropped', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[{"y":2,"z":1}]},"b":1}');
});

test('layer blobs: diff_id hashes the tar, digest the compressed file; gzip and zstd round-trip', async () => {
  const data = [Buffer.alloc(100000, 1), Buffer.from('tail')];
  const all = Buffer.concat(data);
  for (const compression of ['gzip', 'zstd'] as const) {
    const store = new BlobStore(tmp());
    await store.init();
    const [b] = await writeLayers(store, [{ open: () => chunks(data) }], { compression, concurrency: 1 });
    const bytes = readFileSync(store.path(b!.digest));
    assert.equal(b!.diffId, sha(all));
    assert.equal(b!.digest, sha(bytes));
    assert.equal(b!.size, bytes.length);
    assert.equal(b!.uncompressedSize, all.length);
    assert.equal(b!.mediaType, `application/vnd.oci.image.layer.v1.tar+${compression}`);
    assert.deepEqual(compression === 'gzip' ? gunzipSync(bytes) : zstdDecompressSync(bytes), all);
    assert.deepEqual(readdirSync(join(store.root, 'blobs', 'sha256')).filter((n) => n.startsWith('.')), []);
  }
});

test('parallel compression gives the same blobs, in input order, as sequential', async () => {
  const layers = Array.from({ length: 6 }, (_, i) => [Buffer.alloc(50000 * (i + 1), i), Buffer.from(`layer ${i}`)]);
  const run = async (concurrency: number) => {
    const store = new BlobStore(tmp());
    await store.init();
    return writeLayers(store, layers.map((l, i) => ({ open: () => chunks(l), weight: i })), { compression: 'gzip', concurrency });
  };
  const seq = await run(1);
  const par = await run(4);
  assert.deepEqual(par.map((b) => b.digest), seq.map((b) => b.digest));
  assert.deepEqual(seq.map((b) => b.diffId), layers.map((l) => sha(Buffer.concat(l))));
});

test('a failing layer fails the write and leaves no temp file', async () => {
  const store = new BlobStore(tmp());
  await store.init();
  async function* bad() {
    yield Buffer.from('x');
    throw new Error('read error in layer');
  }
  await assert.rejects(writeLayers(store, [{ open: bad }], { compression: 'gzip', concurrency: 2 }), { message: 'read error in layer' });
  assert.deepEqual(readdirSync(store.dir), []);
});

test('chunk names follow rpm-ostree (§6.7)', () => {
  assert.equal(chunkName([]), 'Reserved for new packages');
  assert.equal(chunkName(['deb:bash']), 'deb:bash');
  assert.equal(chunkName(['a', 'b', 'c']), 'a and b and c');
  assert.equal(chunkName(['1', '2', '3', '4', '5']), '1 and 2 and 3 and 4 and 5');
  assert.equal(chunkName(['1', '2', '3', '4', '5', '6']), '6 components');
});

test('ostree config: labels, final-diffid = last layer, history per layer, created from the epoch', () => {
  const c = ostreeConfig({
    architecture: 'amd64', os: 'linux', created: 1700000000, commit: 'ab'.repeat(32),
    diffIds: ['sha256:1', 'sha256:2'], history: [{ created_by: 'ostree export of commit x' }, { created_by: 'deb:bash', comment: 'l1' }],
    labels: { 'containers.bootc': '1', 'ostree.commit': 'user value is overridden' },
  });
  assert.equal(canonicalJson(c), canonicalJson({
    architecture: 'amd64', os: 'linux', created: '2023-11-14T22:13:20Z',
    config: { Labels: { 'containers.bootc': '1', 'ostree.commit': 'ab'.repeat(32), 'ostree.final-diffid': 'sha256:2' } },
    rootfs: { type: 'layers', diff_ids: ['sha256:1', 'sha256:2'] },
    history: [
      { created: '2023-11-14T22:13:20Z', created_by: 'ostree export of commit x' },
      { created: '2023-11-14T22:13:20Z', created_by: 'deb:bash', comment: 'l1' },
    ],
  }));
  assert.throws(() => ostreeConfig({ architecture: 'amd64', os: 'linux', created: 0, commit: 'x', diffIds: ['sha256:1', 'sha256:2', 'sha256:2'], history: [], labels: {} }),
    { message: "ostree image: the last layer's diff_id sha256:2 also appears earlier; clients would mis-split the image" });
  assert.equal(rfc3339(0), '1970-01-01T00:00:00Z');
});

test('ostree layers: commit layer first, one chunk per planned layer with content, annotations sorted', async () => {
  const entries = [dir('usr'), file('usr/a', 1), file('usr/b', 1), dir('sysroot'), dir('sysroot/ostree'), file('sysroot/ostree/x', 1), dir('var')];
  const view = new MemView(entries, { 'usr/a': 'a', 'usr/b': 'b', 'sysroot/ostree/x': 'x' });
  const commit = await commitTree(view, entries, { root: { uid: 0, gid: 0, mode: 0o755 }, timestamp: 0 });
  const plan: LayerPlan = {
    layers: [
      { name: 'two', components: ['rpm:zz', 'deb:aa'], paths: ['usr/a'], size: 1 },
      { name: 'dirs-only', components: ['rest:var'], paths: ['var', 'sysroot/ostree/x'], size: 1 },
      { name: 'paths:usr', components: [], paths: ['usr'], size: 0 },
    ],
  };
  const { sources, history } = ostreeLayers({ view, commit, plan, formatVersion: 1 });
  assert.equal(sources.length, 2); // commit layer + 'two'; the objectless layers are dropped
  assert.deepEqual(sources.map((s) => s.annotations), [undefined, { 'ostree.components': 'deb:aa,zz' }]);
  assert.deepEqual(history, [{ created_by: `ostree export of commit ${commit.commit}` }, { created_by: 'deb:aa and zz', comment: 'two' }]);
  // usr/b is in no planned layer: it rides in the commit layer (remainder)
  const l0 = readTar(await collect(sources[0]!.open()));
  assert.ok(l0.some((i) => i.path === 'usr/b' && i.type === '1'));
  assert.ok(!l0.some((i) => i.path === 'usr/a'));
});

test('manifest and layout index: canonical bytes, tags kept or replaced', async () => {
  const root = tmp();
  const store = new BlobStore(root);
  await store.init();
  const layers = await writeLayers(store, [{ open: () => chunks([Buffer.from('t')]), annotations: { 'ostree.components': 'x' } }], { compression: 'gzip', concurrency: 1 });
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layers[0]!.diffId] } };
  const img = await writeManifest(store, layers, config, { a: 'b' });
  const m = JSON.parse(Buffer.from(img.manifest.bytes).toString());
  assert.equal(Buffer.from(img.manifest.bytes).toString(), canonicalJson(m));
  assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual(m.layers[0].annotations, { 'ostree.components': 'x' });
  assert.deepEqual(m.annotations, { a: 'b' });
  assert.equal(img.manifest.digest, sha(img.manifest.bytes));
  assert.deepEqual(readFileSync(store.path(img.config.digest)), Buffer.from(img.config.bytes));

  const desc = { ...img.manifest, platform: img.platform };
  await writeIndex(root, desc, 'v1');
  await writeIndex(root, desc, 'v2');
  await writeIndex(root, { ...desc, digest: 'sha256:' + 'f'.repeat(64) }, 'v1');
  const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8'));
  assert.deepEqual(index.manifests.map((d: { annotations: Record<string, string> }) => d.annotations['org.opencontainers.image.ref.name']), ['v2', 'v1']);
  assert.equal(readFileSync(join(root, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
  const got = await readLayoutImage(root, 'v2');
  assert.equal(got.manifestDigest, img.manifest.digest);
  await assert.rejects(readLayoutImage(root), { message: `OCI layout '${root}': holds 2 images; name one with oci:${root}:TAG` });
  await assert.rejects(readLayoutImage(root, 'v3'), { message: `OCI layout '${root}': no image tagged 'v3'` });
  await writeIndex(root, desc);
  assert.equal(JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')).manifests.length, 1);
  assert.equal((await readLayoutImage(root)).config.rootfs !== undefined, true);
  const empty = tmp();
  await assert.rejects(readLayoutImage(empty), { message: `OCI layout '${empty}': no index.json (not an OCI layout)` });
  writeFileSync(join(empty, 'index.json'), '{');
  await assert.rejects(readLayoutImage(empty), /index.json is not valid JSON/);
});
