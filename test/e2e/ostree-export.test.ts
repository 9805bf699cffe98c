// build-chunked-oci against real tools: the ostree-ext importer from crates.io (scripts/ostree-ext-check.sh)
// imports both format versions, `ostree fsck` passes and a checkout equals the input tree; skopeo and
// umoci read every output; signatures land in the detached metadata and verify; a push to the local
// registry gives the same manifest as the oci: output; unreadable files fail cleanly; and, when present,
// a debootstrap rootfs goes through the whole round trip.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { chmod, chown, link, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { bin, repoRoot } from '../harness/env.ts';
import { compareTrees, readOciLayout, scanTree, unpack, type TreeEntry } from '../harness/image.ts';
import { run } from '../harness/run.ts';
import { formatEd25519Key } from '../../src/ostree/sign.ts';
import { readTar } from '../unit/oci/helpers.ts';

const DEBOOTSTRAP_ROOTFS = process.env.CF_DEBOOTSTRAP_ROOTFS ?? '/var/tmp/ostree-test/rootfs';
const REGISTRY = process.env.CF_REGISTRY ?? '127.0.0.1:5000';
const EPOCH = 1700000000;

let work: string;
let rootfs: string;
let importer: string | undefined;
let importerProblem = '';

async function cli(args: string[], opts: { allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  return run(bin.node, [join(repoRoot, 'src/main.ts'), 'build-chunked-oci', '--bootc', ...args], { timeoutMs: 900_000, ...opts });
}

/** A small OS tree with everything the format has to get right. */
async function makeRootfs(root: string): Promise<void> {
  const w = async (p: string, data: string | Buffer, mode = 0o644) => {
    await writeFile(join(root, p), data);
    await chmod(join(root, p), mode);
  };
  for (const d of ['usr/bin', 'usr/lib/systemd', 'usr/share/doc', 'etc/sub', 'home/user', 'opt/app', 'sysroot/ostree', 'srv', 'dev']) {
    await mkdir(join(root, d), { recursive: true });
  }
  await w('usr/bin/bash', Buffer.alloc(70_000, 0x42), 0o755);
  await symlink('bash', join(root, 'usr/bin/sh'));
  await w('usr/bin/hard-a', 'linked\n', 0o755);
  await link(join(root, 'usr/bin/hard-a'), join(root, 'usr/bin/hard-b'));
  await w('usr/bin/su', 'setuid\n', 0o4755);
  await w('usr/lib/empty-1', '');
  await w('usr/lib/empty-2', '', 0o600);
  await w('usr/lib/libz.so.1', Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) & 0xff)), 0o755);
  await symlink('libz.so.1', join(root, 'usr/lib/libz.so'));
  await symlink('../../..//sbin/chkconfig', join(root, 'usr/lib/systemd/systemd-sysv-install'));
  await symlink(`/usr/share/${'t'.repeat(120)}`, join(root, 'usr/lib/long-target'));
  const longDir = `usr/share/${'d'.repeat(60)}/${'e'.repeat(60)}`;
  await mkdir(join(root, longDir), { recursive: true });
  await w(`${longDir}/file-with-a-long-path`, 'long\n');
  await w('usr/share/doc/café.txt', 'unicode name\n');
  await w('opt/app/data', Buffer.alloc(3 * 1024 * 1024 + 5, 9));
  await w('etc/passwd', 'root:x:0:0::/root:/bin/sh\n');
  await w('etc/shadow', 'root:*::\n', 0o600);
  await chmod(join(root, 'etc/sub'), 0o700);
  await w('etc/sub/conf', 'c\n');
  await chown(join(root, 'home/user'), 1000, 1000);
  await chmod(join(root, 'home/user'), 0o750);
  await w('home/user/.profile', 'p\n');
  await chown(join(root, 'home/user/.profile'), 1000, 1000);
  await chmod(join(root, 'srv'), 0o2775);
  await w('sysroot/ostree/not-committed', 'x');
  await utimes(root, EPOCH, EPOCH);
}

interface Item { type: string; perm: number; uid: number; gid: number; size: number; target?: string }

/**
 * Compares trees entry by entry (type, mode, owner, size, content, symlink target), ignoring hard-link
 * structure (ostree shares one object between identical files). `mapA` renames or drops paths of `a`.
 */
async function sameTree(a: string, b: string, mapA: (p: string, e: TreeEntry) => string | undefined, ignoreB: (p: string) => boolean): Promise<string[]> {
  const ta = await scanTree(a);
  const tb = await scanTree(b, ignoreB);
  const want = new Map<string, [string, Item]>();
  for (const [p, e] of ta) {
    if (p === '/') continue;
    const q = mapA(p, e);
    if (q !== undefined) want.set(q, [p, e]);
  }
  const diffs: string[] = [];
  const { createHash } = await import('node:crypto');
  const hash = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');
  for (const [q, [p, x]] of want) {
    const y = tb.get(q);
    if (!y) { diffs.push(`missing in image: ${q}`); continue; }
    if (x.type !== y.type) { diffs.push(`${q}: type ${x.type} != ${y.type}`); continue; }
    if (x.type !== 'symlink' && x.perm !== y.perm) diffs.push(`${q}: mode ${x.perm.toString(8)} != ${y.perm.toString(8)}`);
    if (x.uid !== y.uid || x.gid !== y.gid) diffs.push(`${q}: owner ${x.uid}:${x.gid} != ${y.uid}:${y.gid}`);
    if (x.target !== y.target) diffs.push(`${q}: target ${x.target} != ${y.target}`);
    if (x.type === 'file' && (x.size !== y.size || (x.size > 0 && (await hash(join(a, p))) !== (await hash(join(b, q)))))) diffs.push(`${q}: content differs`);
  }
  for (const q of tb.keys()) if (q !== '/' && !want.has(q)) diffs.push(`only in image: ${q}`);
  return diffs;
}

const SPECIAL = new Set(['fifo', 'socket', 'char', 'block']);
/** Input path → path in an ostree checkout: /etc → /usr/etc, /sysroot emptied, special files dropped. */
const toCommitPath = (p: string, e: TreeEntry) => {
  if (SPECIAL.has(e.type) || p.startsWith('/sysroot/')) return undefined;
  return p === '/etc' || p.startsWith('/etc/') ? `/usr${p}` : p;
};

/**
 * The `aay` value as GLib prints it: `[[byte 0x01, …], …]`, or `[b'…', …]` (C escapes) for byte
 * strings that end in their only NUL, which GLib leaves out of the text.
 */
function parseByteStrings(text: string): number[][] {
  const t = text.trim();
  if (t.startsWith('[[byte')) return [...t.matchAll(/\[byte ([^\]]*)\]|\[(0x[^\]]*)\]/g)].map((m) => (m[1] ?? m[2]!).split(',').map((x) => parseInt(x.trim(), 16)));
  const out: number[][] = [];
  const esc: Record<string, number> = { n: 10, t: 9, v: 11, f: 12, r: 13, a: 7, b: 8, '\\': 92, "'": 39, '"': 34 };
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== 'b' || t[i + 1] !== "'") continue;
    const cur: number[] = [];
    i += 2;
    while (t[i] !== "'") {
      if (t[i] === '\\') {
        const o = /^[0-7]{1,3}/.exec(t.slice(i + 1));
        if (o) { cur.push(parseInt(o[0], 8)); i += 1 + o[0].length; continue; }
        cur.push(esc[t[i + 1]!]!);
        i += 2;
        continue;
      }
      cur.push(...Buffer.from(t[i]!, 'utf8'));
      i++;
    }
    out.push([...cur, 0]);
  }
  return out;
}

async function importImage(imgref: string, repo: string) {
  await run('ostree', ['init', `--repo=${repo}`, '--mode=bare-user']);
  const r = await run(importer!, [repo, imgref], { timeoutMs: 900_000 });
  return JSON.parse(r.stdout) as { base_commit: string; merge_commit: string; layers: number };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cf-ostree-export-'));
  rootfs = join(work, 'rootfs');
  await mkdir(rootfs);
  await makeRootfs(rootfs);
  const t0 = Date.now();
  const r = await run('bash', [join(repoRoot, 'scripts/ostree-ext-check.sh')], { timeoutMs: 1_800_000, allowFailure: true });
  if (r.code === 0) importer = r.stdout.trim().split('\n').at(-1);
  else importerProblem = `scripts/ostree-ext-check.sh failed: ${r.stderr.split('\n').slice(-5).join(' | ')}`;
  process.stderr.write(`# ostree-ext-check ready in ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('ostree format through the real ostree-ext importer', () => {
  for (const [fv, compression] of [[1, 'gzip'], [2, 'zstd']] as const) {
    test(`format-version ${fv} (${compression}): import, fsck, checkout equals the input`, async (t) => {
      if (!importer) return t.skip(importerProblem);
      const out = join(work, `fv${fv}.oci`);
      await cli(['--rootfs', rootfs, '--output', `oci:${out}:latest`, '--format-version', String(fv), '--compression', compression, '--max-layers', '8']);
      const img = await readOciLayout(out, 'latest');
      const labels = img.config.config.Labels as Record<string, string>;
      const repo = join(work, `repo-fv${fv}`);
      const res = await importImage(`ostree-unverified-image:oci:${out}:latest`, repo);
      assert.equal(res.base_commit, labels['ostree.commit']);
      assert.equal(res.layers, img.layers.length);
      const fsck = await run('ostree', ['fsck', `--repo=${repo}`]);
      assert.match(fsck.stdout, /completed successfully - no errors found/);
      const co = join(work, `co-fv${fv}`);
      await run('ostree', ['checkout', `--repo=${repo}`, res.base_commit, co]);
      const diffs = await sameTree(rootfs, co, toCommitPath, () => false);
      assert.deepEqual(diffs, []);
    });
  }

  test('oci-archive output imports too', async (t) => {
    if (!importer) return t.skip(importerProblem);
    const file = join(work, 'img.ociarchive');
    await cli(['--rootfs', rootfs, '--output', `oci-archive:${file}:latest`]);
    const inspect = JSON.parse((await run(bin.skopeo, ['inspect', `oci-archive:${file}:latest`])).stdout);
    const res = await importImage(`ostree-unverified-image:oci-archive:${file}:latest`, join(work, 'repo-archive'));
    assert.equal(res.base_commit, inspect.Labels['ostree.commit']);
  });

  test('--sign-commit: the importer stores the signature; it verifies against the commit object', async (t) => {
    if (!importer) return t.skip(importerProblem);
    const key = formatEd25519Key(generateKeyPairSync('ed25519').privateKey);
    const other = formatEd25519Key(generateKeyPairSync('ed25519').privateKey);
    const keyFile = join(work, 'ed25519.key');
    await writeFile(keyFile, `${key.secret}\n`);
    const out = join(work, 'signed.oci');
    await cli(['--rootfs', rootfs, '--output', `oci:${out}`, '--sign-commit', `ed25519=${keyFile}`]);
    const repo = join(work, 'repo-signed');
    const { base_commit: commit } = await importImage(`ostree-unverified-image:oci:${out}`, repo);
    // libostree parsed the detached metadata and finds the signature under its key.
    const shown = (await run('ostree', ['show', `--repo=${repo}`, '--print-detached-metadata-key=ostree.sign.ed25519', commit])).stdout;
    const sigs = parseByteStrings(shown);
    assert.equal(sigs.length, 1, shown);
    const bytes = sigs[0]!;
    assert.equal(bytes.length, 64, shown);
    const commitBytes = await readFile(join(repo, 'objects', commit.slice(0, 2), `${commit.slice(2)}.commit`));
    const pub = (b64: string) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(b64, 'base64').toString('base64url') }, format: 'jwk' });
    assert.equal(verify(null, commitBytes, pub(key.public), Buffer.from(bytes)), true);
    assert.equal(verify(null, commitBytes, pub(other.public), Buffer.from(bytes)), false);
    // OpenSSL, independently of this process, agrees.
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.public, 'base64')]);
    await writeFile(join(work, 'pub.pem'), `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`);
    await writeFile(join(work, 'sig.bin'), Buffer.from(bytes));
    const ossl = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(work, 'pub.pem'), '-rawin',
      '-in', join(repo, 'objects', commit.slice(0, 2), `${commit.slice(2)}.commit`), '-sigfile', join(work, 'sig.bin')]);
    assert.match(ossl.stdout, /Signature Verified Successfully/);
    // `ostree sign --verify` needs a libostree built with ed25519 support (Debian's is not); use it when there.
    const features = (await run('ostree', ['--version'])).stdout;
    if (features.includes('sign-ed25519')) {
      await run('ostree', ['sign', `--repo=${repo}`, '--verify', '--sign-type=ed25519', commit, key.public]);
      const bad = await run('ostree', ['sign', `--repo=${repo}`, '--verify', '--sign-type=ed25519', commit, other.public], { allowFailure: true });
      assert.notEqual(bad.code, 0);
    } else {
      t.diagnostic('this libostree has no sign-ed25519 feature: `ostree sign --verify` skipped (verified with OpenSSL instead)');
    }
  });
});

describe('other readers', () => {
  for (const fv of [1, 2] as const) {
    test(`skopeo and umoci read format-version ${fv}; the unpacked tree equals the input`, async () => {
      const out = join(work, `read-fv${fv}.oci`);
      await cli(['--rootfs', rootfs, '--output', `oci:${out}:latest`, '--format-version', String(fv)]);
      const inspect = JSON.parse((await run(bin.skopeo, ['inspect', `oci:${out}:latest`])).stdout);
      assert.equal(inspect.Labels['containers.bootc'], '1');
      assert.equal(inspect.Created, '2023-11-14T22:13:20Z');
      assert.equal(inspect.LayersData[0].Annotations, null);
      const unpacked = await unpack(out, 'latest', join(work, `bundle-fv${fv}`));
      // The image shows /etc (not /usr/etc), a /sysroot holding the ostree repo, and a synthetic /var/tmp.
      const diffs = await sameTree(rootfs, unpacked,
        (p, e) => (SPECIAL.has(e.type) || p.startsWith('/sysroot') ? undefined : p),
        (p) => p.startsWith('/sysroot') || p === '/var' || p === '/var/tmp');
      assert.deepEqual(diffs, []);
      assert.ok(existsSync(join(unpacked, 'sysroot/ostree/repo/config')));
      const img = await readOciLayout(out, 'latest');
      for (const l of img.layers) {
        const items = readTar(gunzipSync(await readFile(join(out, 'blobs', 'sha256', l.digest.slice(7)))));
        assert.ok(items.every((i) => i.mtime === 0));
        if (fv !== 2) continue;
        const dirs = new Set(items.filter((i) => i.type === '5').map((i) => i.path.replace(/^\.\//, '')));
        for (const i of items) {
          const parts = i.path.replace(/^\.\//, '').split('/');
          // ostree-ext writes its synthetic /var/tmp without a /var entry, format 2 or not.
          if (i.path === 'var/tmp') continue;
          for (let k = 1; k < parts.length; k++) assert.ok(dirs.has(parts.slice(0, k).join('/')), `${l.digest}: ${i.path} without parent`);
        }
      }
    });
  }

  test('--format plain: umoci unpack equals the input exactly (hard links; mtimes 0: no package times)', async () => {
    const out = join(work, 'plain.oci');
    await cli(['--rootfs', rootfs, '--output', `oci:${out}:latest`, '--format', 'plain']);
    const inspect = JSON.parse((await run(bin.skopeo, ['inspect', `oci:${out}:latest`])).stdout);
    assert.equal(inspect.Labels['ostree.commit'], undefined);
    assert.equal(inspect.Labels['containers.bootc'], '1');
    const unpacked = await unpack(out, 'latest', join(work, 'bundle-plain'));
    const diff = await compareTrees(rootfs, unpacked, { ignore: (p) => p === '/dev' });
    assert.equal(diff.text, '');
    const entries = await scanTree(unpacked);
    // No package database, so no layer has a change time: 0, never the epoch (src/chunking/layer-times.ts).
    assert.ok([...entries.values()].filter((e) => e.path !== '/').every((e) => e.type === 'symlink' || e.mtimeSec === 0));
  });

  test('docker:// push gives the same manifest as the oci: output', async (t) => {
    const probe = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${REGISTRY}/v2/`], { allowFailure: true });
    if (probe.stdout !== '200') return t.skip(`no registry at ${REGISTRY}`);
    const ref = `${REGISTRY}/cf-test/ostree-export:fv2`;
    const pushed = await cli(['--rootfs', rootfs, '--output', `docker://${ref}`, '--format-version', '2']);
    const local = await cli(['--rootfs', rootfs, '--output', `oci:${join(work, 'push-twin.oci')}`, '--format-version', '2']);
    const digest = local.stdout.trim().split(' ')[1];
    assert.match(pushed.stdout.trim(), new RegExp(`@${digest}$`));
    const inspect = JSON.parse((await run(bin.skopeo, ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout);
    assert.equal(inspect.Digest, digest);
  });

  test('an unreadable file fails the build naming it, and leaves no output', async (t) => {
    const setpriv = await run('setpriv', ['--version'], { allowFailure: true });
    if (setpriv.code !== 0) return t.skip('no setpriv');
    const dir = join(work, 'nobody');
    await mkdir(join(dir, 'rootfs/usr'), { recursive: true });
    await writeFile(join(dir, 'rootfs/usr/secret'), 'x');
    await chmod(join(dir, 'rootfs/usr/secret'), 0o000);
    await chown(dir, 65534, 65534);
    await chmod(work, 0o755);
    const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', bin.node, join(repoRoot, 'src/main.ts'),
      'build-chunked-oci', '--bootc', '--rootfs', join(dir, 'rootfs'), '--output', `oci:${join(dir, 'out.oci')}`], { allowFailure: true });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').at(-1),
      `compose-frontend build-chunked-oci: rootfs dir '${join(dir, 'rootfs')}': cannot open 'usr/secret': EACCES: permission denied, open '${join(dir, 'rootfs/usr/secret')}'`);
    assert.deepEqual((await readdir(dir)).sort(), ['rootfs']);
  });
});

describe('interrupted builds', () => {
  test('SIGTERM while layers are written removes the temp layout and leaves no output', async () => {
    const dir = join(work, 'interrupt');
    await mkdir(join(dir, 'rootfs/usr'), { recursive: true });
    const { randomBytes } = await import('node:crypto');
    for (let i = 0; i < 4; i++) await writeFile(join(dir, `rootfs/usr/blob${i}`), randomBytes(48 << 20));
    const { spawn } = await import('node:child_process');
    const child = spawn(bin.node, [join(repoRoot, 'src/main.ts'), 'build-chunked-oci', '--bootc', '--rootfs', join(dir, 'rootfs'),
      '--output', `oci:${join(dir, 'out.oci')}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    await new Promise<void>((resolve) => child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('ostree commit')) resolve();
    }));
    await new Promise((r) => setTimeout(r, 300));
    const during = await readdir(dir);
    child.kill('SIGTERM');
    assert.equal(await exited, 'SIGTERM');
    assert.ok(during.some((n) => n.includes('.tmp-')), `no temp layout while writing: ${during.join(' ')} / ${stderr}`);
    assert.deepEqual(await readdir(dir), ['rootfs']);
  });
});

describe('debootstrap rootfs', () => {
  test('round trip through the importer (format 2)', async (t) => {
    if (!existsSync(join(DEBOOTSTRAP_ROOTFS, 'usr/bin'))) return t.skip(`no rootfs at ${DEBOOTSTRAP_ROOTFS}`);
    if (!importer) return t.skip(importerProblem);
    const out = join(work, 'deb.oci');
    const t0 = Date.now();
    const built = await run('/usr/bin/time', ['-f', 'max_rss_kb=%M', bin.node, join(repoRoot, 'src/main.ts'), 'build-chunked-oci', '--bootc',
      '--rootfs', DEBOOTSTRAP_ROOTFS, '--output', `oci:${out}:latest`, '--format-version', '2'], { timeoutMs: 1_800_000 });
    t.diagnostic(`build: ${((Date.now() - t0) / 1000).toFixed(1)}s, ${built.stderr.match(/max_rss_kb=\d+/)?.[0]}`);
    const repo = join(work, 'repo-deb');
    const res = await importImage(`ostree-unverified-image:oci:${out}:latest`, repo);
    assert.match((await run('ostree', ['fsck', `--repo=${repo}`])).stdout, /no errors found/);
    const co = join(work, 'co-deb');
    await run('ostree', ['checkout', `--repo=${repo}`, res.base_commit, co]);
    assert.deepEqual(await sameTree(DEBOOTSTRAP_ROOTFS, co, toCommitPath, () => false), []);
  });
});
