// build-chunked-oci: flag parsing (every bad flag named), outputs on a real directory, determinism,
// SOURCE_DATE_EPOCH, previous plans, and failures that leave nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { simplePlanner } from '../../../src/chunking/simple.ts';
import { buildChunkedOci, chooseEpoch, parseArgs, UsageError, type BuildChunkedOciOptions, type CliDeps } from '../../../src/cli/build-chunked-oci.ts';
import { readLayoutImage } from '../../../src/oci/layout.ts';
import { formatEd25519Key } from '../../../src/ostree/sign.ts';
import { readTar } from '../oci/helpers.ts';

const NODE = process.execPath;
const MAIN = new URL('../../../src/main.ts', import.meta.url).pathname;
const temps: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'bco-test-'));
  temps.push(d);
  return d;
};
test.after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function makeRootfs(): string {
  const root = join(tmp(), 'rootfs');
  for (const d of ['usr/bin', 'usr/lib', 'etc', 'var/log', 'sysroot/ostree', 'home']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'usr/bin/hello'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  linkSync(join(root, 'usr/bin/hello'), join(root, 'usr/bin/hello-again'));
  writeFileSync(join(root, 'usr/lib/empty'), '');
  writeFileSync(join(root, 'usr/lib/big'), Buffer.alloc(2 * 1024 * 1024, 3));
  symlinkSync('../lib/empty', join(root, 'usr/bin/link'));
  writeFileSync(join(root, 'etc/os-release'), 'ID=test\n');
  writeFileSync(join(root, 'sysroot/ostree/ignored'), 'x');
  utimesSync(root, 1700000000, 1700000000);
  return root;
}

const logs: string[] = [];
const deps = (env: NodeJS.ProcessEnv = {}): CliDeps => ({ planner: simplePlanner, env, log: (l) => logs.push(l) });
const opts = (rootfs: string, output: string, extra: string[] = []): BuildChunkedOciOptions => {
  const o = parseArgs(['--bootc', '--rootfs', rootfs, '--output', output, ...extra]);
  assert.notEqual(o, 'help');
  return o as BuildChunkedOciOptions;
};

test('flags: defaults, --flag=value, repeatable labels, --reference', () => {
  const o = parseArgs(['--bootc', '--rootfs=r', '--output', 'oci:o', '--label', 'a=1', '--label=b=2=3', '--reference', 'v1']) as BuildChunkedOciOptions;
  assert.equal(o.format, 'ostree');
  assert.equal(o.formatVersion, 1);
  assert.equal(o.maxLayers, 64);
  assert.equal(o.compression, 'gzip');
  assert.deepEqual(o.labels, { a: '1', b: '2=3' });
  assert.deepEqual(o.output, { transport: 'oci', path: 'o', tag: 'v1' });
  const d = parseArgs(['--bootc', '--rootfs=r', '--output', 'docker://localhost:5000/os', '--reference', 'v2']) as BuildChunkedOciOptions;
  assert.deepEqual(d.output, { transport: 'docker', ref: { registry: 'localhost:5000', repository: 'os', tag: 'v2' } });
  assert.equal(parseArgs(['--help']), 'help');
});

test('bad flags: each error names the flag', () => {
  const base = ['--bootc', '--rootfs', 'r', '--output', 'oci:o'];
  const cases: [string[], string][] = [
    [['--rootfs', 'r', '--output', 'oci:o'], '--bootc is required (only bootc images are supported, as with rpm-ostree)'],
    [['--bootc', '--output', 'oci:o'], '--rootfs is required'],
    [['--bootc', '--rootfs', 'r'], '--output is required'],
    [[...base, '--format-version', '3'], "--format-version '3': want 1 or 2"],
    [[...base, '--max-layers', '0'], "--max-layers '0': want an integer from 1 to 500"],
    [[...base, '--max-layers', 'many'], "--max-layers 'many': want an integer from 1 to 500"],
    [[...base, '--compression', 'xz'], "--compression 'xz': want gzip or zstd"],
    [[...base, '--format', 'docker'], "--format 'docker': want ostree or plain"],
    [[...base, '--label', 'novalue'], "--label 'novalue': want KEY=VALUE"],
    [[...base, '--sign-commit', 'spki=/k'], "--sign-commit 'spki=/k': unsupported key type 'spki' (only ed25519)"],
    [[...base, '--sign-commit', '/k'], "--sign-commit '/k': want TYPE=KEYFILE, e.g. ed25519=/path/to/key"],
    [[...base, '--sign-commit', 'ed25519=/k', '--format', 'plain'], '--sign-commit needs --format ostree (plain images have no commit)'],
    [[...base, '--output', 'oci:p'], '--output given more than once'],
    [[...base, '--from', 'x'], "unknown option '--from'"],
    [[...base, 'extra'], "unexpected argument 'extra'"],
    [[...base, '--label'], '--label needs a value'],
    [['--bootc', '--rootfs', 'r', '--output', 'dir'], "--output 'dir': unsupported destination (want oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker://REGISTRY/REPO[:TAG])"],
    [[...base.slice(0, 4), 'oci:o:a', '--reference', 'b'], "--reference 'b' conflicts with the tag in --output 'oci:o:a'"],
    [[...base.slice(0, 4), 'docker://r.io/x:a', '--reference', 'b'], "--reference 'b' conflicts with the tag or digest in --output 'docker://r.io/x:a'"],
  ];
  for (const [args, message] of cases) assert.throws(() => parseArgs(args), (e: Error) => e instanceof UsageError && e.message === message, args.join(' '));
});

test('SOURCE_DATE_EPOCH wins over the root mtime and must be an integer', () => {
  assert.equal(chooseEpoch({}, 5), 5);
  assert.equal(chooseEpoch({ SOURCE_DATE_EPOCH: '42' }, 5), 42);
  assert.throws(() => chooseEpoch({ SOURCE_DATE_EPOCH: '1.5' }, 5), { message: "SOURCE_DATE_EPOCH '1.5': want a non-negative integer (seconds)" });
});

test('oci: output — labels, history, commit layer first; identical input gives an identical image', async () => {
  const root = makeRootfs();
  const out1 = join(tmp(), 'a.oci');
  const out2 = join(tmp(), 'b.oci');
  const r1 = await buildChunkedOci(opts(root, `oci:${out1}`, ['--label', 'version=1.0', '--format-version', '2']), deps());
  const r2 = await buildChunkedOci(opts(root, `oci:${out2}`, ['--label', 'version=1.0', '--format-version', '2', '--jobs', '1']), deps());
  assert.equal(r1.manifestDigest, r2.manifestDigest);
  const img = await readLayoutImage(out1);
  const labels = img.config.config!.Labels!;
  assert.equal(labels['ostree.commit'], r1.commit);
  assert.equal(labels['containers.bootc'], '1');
  assert.equal(labels['ostree.bootable'], 'true');
  assert.equal(labels.version, '1.0');
  const diffIds = (img.config.rootfs as { diff_ids: string[] }).diff_ids;
  assert.equal(labels['ostree.final-diffid'], diffIds.at(-1));
  assert.equal(img.config.created, '2023-11-14T22:13:20Z'); // root mtime
  assert.equal(img.config.history![0]!.created_by, `ostree export of commit ${r1.commit}`);
  assert.equal(img.manifest.layers[0]!.annotations, undefined);
  assert.ok(img.manifest.layers.slice(1).every((l) => typeof l.annotations?.['ostree.components'] === 'string'));
  assert.equal(img.manifest.annotations!['ostree.commit'], r1.commit);
  assert.equal(img.manifest.annotations!['dev.compose-frontend.plan'], undefined);
  assert.equal(img.manifest.layers.length, diffIds.length);
});

test('SOURCE_DATE_EPOCH sets created and the commit timestamp', async () => {
  const root = makeRootfs();
  const a = join(tmp(), 'a.oci');
  const r1 = await buildChunkedOci(opts(root, `oci:${a}`), deps({ SOURCE_DATE_EPOCH: '86400' }));
  assert.equal((await readLayoutImage(a)).config.created, '1970-01-02T00:00:00Z');
  const b = join(tmp(), 'b.oci');
  const r2 = await buildChunkedOci(opts(root, `oci:${b}`), deps());
  assert.notEqual(r1.commit, r2.commit);
});

test('writing into an existing layout adds a tag and keeps the others; the plan of the output is reused', async () => {
  const root = makeRootfs();
  const out = join(tmp(), 'x.oci');
  await buildChunkedOci(opts(root, `oci:${out}:v1`), deps());
  logs.length = 0;
  await buildChunkedOci(opts(root, `oci:${out}:v2`, ['--previous-build', `oci:${out}:v1`]), deps());
  assert.ok(logs.some((l) => l.includes('keeping the previous plan')), logs.join('\n'));
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
  assert.deepEqual(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name']), ['v1', 'v2']);
  assert.equal(index.manifests[0].digest, index.manifests[1].digest);
  await assert.rejects(buildChunkedOci(opts(root, `oci:${out}:v3`, ['--previous-build', `oci:${out}:nope`]), deps()),
    { message: `--previous-build 'oci:${out}:nope': OCI layout '${out}': no image tagged 'nope'` });
});

test('oci-archive: output is a tar of a layout; plain format has plain layers', async () => {
  const root = makeRootfs();
  const file = join(tmp(), 'img.tar');
  await buildChunkedOci(opts(root, `oci-archive:${file}:latest`, ['--format', 'plain', '--compression', 'zstd']), deps());
  const items = readTar(readFileSync(file));
  const names = items.map((i) => i.path);
  assert.ok(names.includes('oci-layout') && names.includes('index.json') && names.includes('blobs/sha256/'));
  assert.deepEqual(readdirSync(join(file, '..')), ['img.tar']); // no temp siblings left
  const index = JSON.parse(items.find((i) => i.path === 'index.json')!.data.toString());
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'latest');
  const manifest = JSON.parse(items.find((i) => i.path === `blobs/sha256/${index.manifests[0].digest.slice(7)}`)!.data.toString());
  assert.ok(manifest.layers.every((l: { mediaType: string }) => l.mediaType.endsWith('+zstd')));
  const config = JSON.parse(items.find((i) => i.path === `blobs/sha256/${manifest.config.digest.slice(7)}`)!.data.toString());
  assert.equal(config.config.Labels['ostree.commit'], undefined);
  assert.equal(config.config.Labels['containers.bootc'], '1');
  assert.equal(config.rootfs.diff_ids.length, manifest.layers.length);
});

test('failures leave nothing behind: bad names, bad key file, missing rootfs, missing output dir', async () => {
  const root = makeRootfs();
  writeFileSync(Buffer.from(`${root}/usr/lib/bad-\xff-name`, 'latin1'), 'x');
  const parent = tmp();
  const out = join(parent, 'never.oci');
  await assert.rejects(buildChunkedOci(opts(root, `oci:${out}`), deps()),
    { message: `scanning rootfs dir '${root}': rootfs dir '${root}': file name is not valid UTF-8: 'usr/lib/bad-\\xff-name'` });
  assert.deepEqual(readdirSync(parent), []);

  // into an existing layout: index untouched, no new blobs
  rmSync(Buffer.from(`${root}/usr/lib/bad-\xff-name`, 'latin1'));
  const layout = join(parent, 'kept.oci');
  await buildChunkedOci(opts(root, `oci:${layout}`), deps());
  const before = readFileSync(join(layout, 'index.json'));
  const blobs = readdirSync(join(layout, 'blobs/sha256')).sort();
  writeFileSync(join(root, 'usr/lib/new'), 'new content');
  writeFileSync(Buffer.from(`${root}/usr/lib/bad-\xff-name`, 'latin1'), 'x');
  await assert.rejects(buildChunkedOci(opts(root, `oci:${layout}`), deps()), /not valid UTF-8/);
  assert.deepEqual(readFileSync(join(layout, 'index.json')), before);
  assert.deepEqual(readdirSync(join(layout, 'blobs/sha256')).sort(), blobs);
  assert.deepEqual(readdirSync(parent).sort(), ['kept.oci']);

  const key = join(parent, 'bad.key');
  writeFileSync(key, 'AAAA\n');
  await assert.rejects(buildChunkedOci(opts(root, `oci:${out}`, ['--sign-commit', `ed25519=${key}`]), deps()),
    { message: `--sign-commit: ed25519 key file '${key}' line 1: a secret key is 64 bytes (32-byte seed + 32-byte public key), this one decodes to 3 bytes` });
  await assert.rejects(buildChunkedOci(opts(root, `oci:${out}`, ['--sign-commit', `ed25519=${key}.missing`]), deps()),
    { message: `--sign-commit: cannot read key file '${key}.missing': ENOENT` });
  await assert.rejects(buildChunkedOci(opts(join(root, 'nope'), `oci:${out}`), deps()), { message: `--rootfs '${join(root, 'nope')}': does not exist` });
  await assert.rejects(buildChunkedOci(opts(join(root, 'etc/os-release'), `oci:${out}`), deps()), { message: `--rootfs '${join(root, 'etc/os-release')}': not a directory` });
  await assert.rejects(buildChunkedOci(opts(root, `oci:${parent}/no/such/out`), deps()), { message: `--output 'oci:${parent}/no/such/out': directory '${parent}/no/such' does not exist` });
  writeFileSync(join(parent, 'junk'), 'x');
  mkdirSync(join(parent, 'notlayout'));
  writeFileSync(join(parent, 'notlayout/x'), 'x');
  await assert.rejects(buildChunkedOci(opts(root, `oci:${parent}/notlayout`), deps()),
    { message: `--output 'oci:${parent}/notlayout': '${parent}/notlayout' is a non-empty directory without an oci-layout file (not an OCI layout); refusing to write into it` });
  await assert.rejects(buildChunkedOci(opts(root, `oci-archive:${parent}/notlayout`), deps()),
    { message: `--output 'oci-archive:${parent}/notlayout': '${parent}/notlayout' is a directory, not an archive file` });
  await assert.rejects(buildChunkedOci(opts(root, `oci:${root}`, ['--authfile', join(parent, 'auth.json')]), deps()),
    { message: `--authfile '${join(parent, 'auth.json')}': no such file` });
  assert.deepEqual(readdirSync(parent).sort(), ['bad.key', 'junk', 'kept.oci', 'notlayout']);
});

test('signed commit: detached metadata right after the commit in layer 0', async () => {
  const root = makeRootfs();
  const dir = tmp();
  const key = formatEd25519Key(generateKeyPairSync('ed25519').privateKey);
  writeFileSync(join(dir, 'k'), `${key.secret}\n`);
  const out = join(dir, 'signed.oci');
  const r = await buildChunkedOci(opts(root, `oci:${out}`, ['--sign-commit', `ed25519=${join(dir, 'k')}`]), deps());
  const img = await readLayoutImage(out);
  const { gunzipSync } = await import('node:zlib');
  const l0 = readTar(gunzipSync(readFileSync(join(out, 'blobs/sha256', img.manifest.layers[0]!.digest.slice(7)))));
  const i = l0.findIndex((e) => e.path.endsWith('.commit'));
  assert.ok(l0[i + 1]!.path.endsWith(`${r.commit!.slice(2)}.commitmeta`));
});

test('the CLI exits 2 with usage on bad flags, 1 with one line on failure', () => {
  const bad = spawnSync(NODE, [MAIN, 'build-chunked-oci', '--rootfs', 'x'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^compose-frontend build-chunked-oci: --bootc is required .*\n\nusage: compose-frontend build-chunked-oci/);
  const dir = tmp();
  const fail = spawnSync(NODE, [MAIN, 'build-chunked-oci', '--bootc', '--rootfs', join(dir, 'none'), '--output', `oci:${dir}/o`], { encoding: 'utf8' });
  assert.equal(fail.status, 1);
  assert.equal(fail.stderr, `compose-frontend build-chunked-oci: --rootfs '${join(dir, 'none')}': does not exist\n`);
  const help = spawnSync(NODE, [MAIN, 'build-chunked-oci', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--sign-commit ed25519=FILE/);
});
