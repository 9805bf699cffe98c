// commitTree() against the real ostree CLI: the same trees committed with `ostree commit
// --tree=dir=` must give the same commit, the same set of objects and byte-identical
// dirtree/dirmeta/commit/commitmeta objects. Skipped when `ostree` is not installed
// (apt-get install -t trixie ostree attr).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, lchownSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRootfs } from '../../../src/rootfs/local.ts';
import { scanRootfs } from '../../../src/rootfs/scan.ts';
import { commitTree, localRootMeta, toCommitPath, type CommitTreeOptions, type ContentObject } from '../../../src/ostree/commit.ts';
import { commitmeta, objectPath, sha256Hex } from '../../../src/ostree/objects.ts';
import {
  assertNoExtraObjects, assertSameObjects, hasOstree, hasPythonXattrs, ostreeCommit, ostreeLs, readAllXattrs, run,
  removeTempDirs, tempDir, withXattrs,
} from './ostree-cli.ts';

after(removeTempDirs);

const TS = 1704164645; // 2024-01-02T03:04:05Z
const TS_ARG = '--timestamp=2024-01-02T03:04:05Z';
const skip = !hasOstree && 'ostree CLI not installed';

function setfattr(path: string, name: string, value: string): void {
  run('setfattr', ['-h', '-n', name, '-v', value, path]);
}

/** A tree exercising every object feature; returns its path. */
function buildTree(): string {
  const root = tempDir('ostree-tree-');
  const p = (rel: string) => join(root, rel);
  const file = (rel: string, content: string | Buffer, mode = 0o644, uid = 0, gid = 0) => {
    writeFileSync(p(rel), content);
    lchownSync(p(rel), uid, gid); // before chmod: chown clears setuid/setgid
    chmodSync(p(rel), mode); // after write: umask must not matter
  };
  const dir = (rel: string, mode = 0o755, uid = 0, gid = 0) => {
    mkdirSync(p(rel), { recursive: true });
    lchownSync(p(rel), uid, gid);
    chmodSync(p(rel), mode);
  };
  chmodSync(root, 0o755);
  for (const d of ['usr', 'usr/bin', 'usr/lib', 'usr/share', 'usr/share/empty', 'etc', 'var', 'sysroot',
    'sysroot/ostree', 'sysroot/ostree/repo', 'sysroot/ostree/repo/objects', 'sysroot/ostree/repo/objects/00']) dir(d);
  dir('var/tmp', 0o1777);
  dir('usr/share/setgid', 0o2775, 0, 50);
  dir('home', 0o755);
  dir('home/user', 0o700, 1000, 1000);
  file('usr/bin/app', 'app\n', 0o755);
  setfattr(p('usr/bin/app'), 'user.component', 'myapp');
  setfattr(p('usr/bin/app'), 'user.aaa', '1');
  setfattr(p('usr/bin/app'), 'user.Zz', '0x00ff00');
  file('usr/bin/hi', '#!/bin/sh\necho hi\n', 0o755);
  symlinkSync('hi', p('usr/bin/hi-link'));
  file('usr/bin/suid', 'suid\n', 0o4755);
  file('usr/bin/sgid', 'sgid\n', 0o2711, 0, 5);
  file('usr/bin/sticky', 'sticky\n', 0o1644);
  file('usr/bin/noperm', 'x', 0o000);
  file('usr/lib/empty', '', 0o644);
  file('usr/lib/hello.txt', 'hello\n', 0o644);
  linkSync(p('usr/lib/hello.txt'), p('usr/lib/hello-hard'));
  linkSync(p('usr/lib/hello.txt'), p('usr/share/hello-hard2'));
  file('usr/lib/hello-copy', 'hello\n', 0o644); // same object as hello.txt
  setfattr(p('usr/lib'), 'user.note', 'dir');
  setfattr(p('usr/lib/empty'), 'user.big', 'v'.repeat(300)); // header > 255 bytes: 2-byte offsets
  // 1.5 MiB of deterministic bytes: hashed in several readFile ranges (chunkSize below).
  const big = Buffer.alloc(1_500_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919 + (i >> 11)) & 0xff;
  file('usr/lib/big.bin', big, 0o644);
  symlinkSync('/usr/lib/does-not-exist', p('usr/lib/dangling'));
  symlinkSync('../' + 'x'.repeat(200) + '/target', p('usr/lib/long-link'));
  symlinkSync('../lib/hello.txt', p('usr/share/owned-link'));
  lchownSync(p('usr/share/owned-link'), 1000, 1001);
  // Names whose byte order differs from naive orderings (case, punctuation, UTF-8, astral).
  for (const n of ['a', 'B', 'a-b', 'a.b', 'a_b', 'ä', 'z', '😀', '\uffef', 'Z', '-', '.hidden', 'a b']) {
    file(`usr/share/${n}`, `${n}\n`);
    dir(`usr/share/d${n}`);
  }
  for (let i = 0; i < 120; i++) file(`usr/share/empty-${i}`, ''); // a dirtree with 2-byte framing offsets
  file('etc/shadow-like', 'secret\n', 0o600, 1000, 1000);
  file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n');
  dir('etc/ssh');
  file('sysroot/ostree/repo/objects/00/foo.commit', 'not really\n');
  file('sysroot/ostree/repo/config', '[core]\n');
  return root;
}

async function ourCommit(root: string, opts: Partial<CommitTreeOptions> = {}) {
  const xattrs = readAllXattrs(root);
  const view = withXattrs(new LocalRootfs(root), xattrs);
  const { entries, warnings } = await scanRootfs(view);
  assert.deepEqual(warnings, []);
  const rootMeta = await localRootMeta(root);
  const result = await commitTree(view, entries, {
    root: { ...rootMeta, xattrs: xattrs.get('') }, timestamp: TS, chunkSize: 256 * 1024, ...opts,
  });
  return { result, entries };
}

/** What build-chunked-oci commits, made on disk so that plain `ostree commit` can be the oracle. */
function bootcCopy(root: string): string {
  const copy = tempDir('ostree-bootc-');
  rmSync(copy, { recursive: true });
  run('cp', ['-a', '--no-target-directory', root, copy]); // cp -a keeps owners, hard links and xattrs
  for (const n of run('ls', ['-A', join(copy, 'sysroot')]).split('\n').filter(Boolean)) rmSync(join(copy, 'sysroot', n), { recursive: true });
  renameSync(join(copy, 'etc'), join(copy, 'usr/etc'));
  return copy;
}

test('plain ostree commit: archive and bare-user repos give our commit, objects and bytes', { skip }, async () => {
  const root = buildTree();
  const { result, entries } = await ourCommit(root, { bootc: false });
  assert.equal(result.etcMoved, false);
  for (const mode of ['archive', 'bare-user'] as const) {
    const { repo, commit } = ostreeCommit(root, mode, [TS_ARG]);
    const counts = assertSameObjects(result, repo, commit);
    assertNoExtraObjects(result, repo);
    assert.deepEqual(counts, { files: 31, dirtrees: 14, dirmetas: 5 });
    // Every path: ostree's per-path checksum equals ours.
    const ls = ostreeLs(repo, commit);
    assert.equal(ls.size, entries.length + 1);
    for (const e of entries) {
      const theirs = ls.get(e.path);
      assert.ok(theirs, e.path);
      if (e.kind !== 'dir') assert.equal(result.files.get(e.path), theirs.checksum, e.path);
    }
    assert.equal(ls.get('')!.checksum, result.rootTree);
    assert.equal(ls.get('')!.meta, result.rootMeta);
  }
  // Hard links and equal copies share one object, listing all paths.
  const hello = result.objects.get(result.files.get('usr/lib/hello.txt')!) as ContentObject;
  assert.deepEqual(hello.paths, ['usr/lib/hello-copy', 'usr/lib/hello-hard', 'usr/lib/hello.txt', 'usr/share/hello-hard2']);
  assert.equal(hello.source, 'usr/lib/hello-copy');
  assert.equal(hello.checksum, '44f778e59f0a4748d6b0c90a47347212a231c4ad1e8f7ea5c5dffc7749153a6b');
  // Same object as the fixture's /usr/bin/suid (04755 root), so the setuid bit really is in the header.
  assert.equal(result.files.get('usr/bin/suid'), 'f9c6ed2613c724cea0822249a71fc2a154ff6c3efb25e04c1ec9b942faff8b66');
  const link = result.objects.get(result.files.get('usr/share/owned-link')!) as ContentObject;
  assert.deepEqual([link.kind, link.uid, link.gid, link.mode, link.symlinkTarget], ['symlink', 1000, 1001, 0o120777, '../lib/hello.txt']);
});

test('build-chunked-oci conventions equal ostree on the transformed tree (/etc → /usr/etc, /sysroot emptied)', { skip }, async () => {
  const root = buildTree();
  const { result } = await ourCommit(root);
  assert.equal(result.etcMoved, true);
  const copy = bootcCopy(root);
  const { repo, commit } = ostreeCommit(copy, 'bare-user', [TS_ARG]);
  assertSameObjects(result, repo, commit);
  assertNoExtraObjects(result, repo);
  const ls = ostreeLs(repo, commit);
  assert.equal(ls.get('sysroot')!.checksum, '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  assert.equal(ls.has('etc'), false);
  for (const [path, sum] of result.files) assert.equal(ls.get(toCommitPath(path, true))!.checksum, sum, path);
  assert.equal(result.files.has('sysroot/ostree/repo/config'), false);
  const shadow = result.objects.get(result.files.get('etc/shadow-like')!) as ContentObject;
  assert.deepEqual(shadow.paths, ['usr/etc/shadow-like']);
  assert.equal(shadow.source, 'etc/shadow-like');
});

test('commit fields: subject, body, metadata, parent and detached metadata match ostree bytes', { skip }, async () => {
  const root = buildTree();
  const first = ostreeCommit(root, 'archive', [TS_ARG, '--subject=test subject', '--body=a body\nline 2',
    '--add-metadata-string=version=42.1', '--add-detached-metadata-string=note=détaché']);
  const { result } = await ourCommit(root, {
    bootc: false, subject: 'test subject', body: 'a body\nline 2', metadata: [['version', { type: 's', value: '42.1' }]],
  });
  assertSameObjects(result, first.repo, first.commit);
  const detached = readFileSync(join(first.repo, objectPath(first.commit, 'commitmeta')));
  assert.equal(Buffer.from(commitmeta([['note', { type: 's', value: 'détaché' }]])).toString('hex'), detached.toString('hex'));

  const second = ostreeCommit(root, 'archive', ['--timestamp=2030-01-01T00:00:00Z', `--parent=${first.commit}`], first.repo);
  const child = await ourCommit(root, { bootc: false, parent: first.commit, timestamp: 1893456000 });
  assert.equal(child.result.commit, second.commit);
  const bytes = readFileSync(join(first.repo, objectPath(second.commit, 'commit')));
  assert.equal(sha256Hex(bytes), second.commit);
  assert.equal(Buffer.from((child.result.objects.get(second.commit) as { bytes: Uint8Array }).bytes).toString('hex'), bytes.toString('hex'));
});

test('mode choice: bare-user-only / --canonical-permissions give other checksums than build-chunked-oci', { skip }, async () => {
  // build-chunked-oci commits into a bare-user repo without modifier flags: ownership, setuid
  // bits and xattrs are kept. The canonicalizing modes would squash them, so they must differ.
  const root = buildTree();
  const { result } = await ourCommit(root, { bootc: false });
  const canonical = ostreeCommit(root, 'bare-user-only', [TS_ARG]);
  assert.notEqual(canonical.commit, result.commit);
  const perms = ostreeCommit(root, 'archive', [TS_ARG, '--canonical-permissions']);
  assert.notEqual(perms.commit, result.commit);
  const ls = ostreeLs(perms.repo, perms.commit);
  assert.notEqual(ls.get('usr/bin/suid')!.checksum, result.files.get('usr/bin/suid'));
  assert.equal(ls.get('usr/lib/hello.txt')!.checksum, result.files.get('usr/lib/hello.txt')); // 0644 root: unchanged
});

test('ostree refuses a FIFO and a non-UTF-8 name; our scan names the bad path', { skip }, async () => {
  const fifo = tempDir('ostree-fifo-');
  mkdirSync(join(fifo, 'usr'));
  run('mkfifo', [join(fifo, 'usr/pipe')]);
  assert.throws(() => ostreeCommit(fifo, 'bare-user', [TS_ARG]), /Not a regular file or symlink: pipe/);

  const bad = tempDir('ostree-badname-');
  mkdirSync(join(bad, 'usr'));
  writeFileSync(Buffer.concat([Buffer.from(join(bad, 'usr') + '/caf'), Buffer.from([0xe9])]), 'x');
  assert.throws(() => ostreeCommit(bad, 'bare-user', [TS_ARG]), /Invalid UTF-8 in filename/);
  // Our pipeline stops at the scan, naming the path with the bad byte escaped.
  await assert.rejects(scanRootfs(new LocalRootfs(bad)), {
    message: `scanning rootfs dir '${bad}': rootfs dir '${bad}': file name is not valid UTF-8: 'usr/caf\\xe9'`,
  });
});

test('upstream fixture trees (exampleos v0/v1, hlinks) commit like ostree', { skip }, async () => {
  const fixtures = new URL('../../../../shared/fixtures/upstream/bootc/', import.meta.url).pathname;
  const expected: Record<string, { files: number; entries: number }> = {
    'exampleos.tar.zst': { files: 6, entries: 12 }, 'exampleos-v1.tar.zst': { files: 7, entries: 15 },
    'hlinks.tar.gz': { files: 91, entries: 167 },
  };
  for (const name of Object.keys(expected)) {
    const root = tempDir('ostree-fixture-');
    chmodSync(root, 0o755);
    run('tar', ['--numeric-owner', '-xpf', join(fixtures, name), '-C', root]);
    const { result, entries } = await ourCommit(root);
    const { repo, commit } = ostreeCommit(root, 'bare-user', [TS_ARG]);
    assertSameObjects(result, repo, commit);
    assertNoExtraObjects(result, repo);
    const files = [...result.objects.values()].filter((o) => o.type === 'file').length;
    assert.deepEqual({ files, entries: entries.length }, expected[name], name);
    if (name.startsWith('exampleos')) assert.equal(result.files.get('usr/bin/hardlink-a'), result.files.get('usr/bin/hardlink-b'));
  }
});

// A real Debian rootfs: OSTREE_DEBOOTSTRAP=1 runs `debootstrap --variant=minbase bookworm` (~30 s
// with a nearby mirror), OSTREE_DEBOOTSTRAP_ROOTFS=DIR reuses an existing one.
const debootstrap = process.env.OSTREE_DEBOOTSTRAP_ROOTFS ?? (process.env.OSTREE_DEBOOTSTRAP ? '' : undefined);
test('debootstrap minbase rootfs: identical to ostree commit', {
  skip: skip || (debootstrap === undefined && 'set OSTREE_DEBOOTSTRAP=1 or OSTREE_DEBOOTSTRAP_ROOTFS=DIR'), timeout: 30 * 60_000,
}, async () => {
  const work = tempDir('ostree-deb-');
  let rootfs = debootstrap!;
  if (rootfs === '') {
    rootfs = join(work, 'bootstrap');
    const mirror = /^URIs:\s*(\S+)/m.exec(readFileSync('/etc/apt/sources.list.d/debian.sources', 'utf8'))?.[1] ?? 'http://deb.debian.org/debian';
    run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror]);
  }
  // Work on a copy without device nodes (ostree and build-chunked-oci both refuse them).
  const tree = join(work, 'tree');
  run('cp', ['-a', '--no-target-directory', rootfs, tree]);
  run('find', [tree, '(', '-type', 'c', '-o', '-type', 'b', '-o', '-type', 'p', '-o', '-type', 's', ')', '-delete']);
  mkdirSync(join(tree, 'sysroot/ostree/repo'), { recursive: true });

  const t0 = performance.now();
  const { result, entries } = await ourCommit(tree, { chunkSize: 4 << 20 });
  const ours = performance.now() - t0;
  const copy = bootcCopy(tree);
  const t1 = performance.now();
  const { repo, commit } = ostreeCommit(copy, 'bare-user', [TS_ARG]);
  const theirs = performance.now() - t1;
  const counts = assertSameObjects(result, repo, commit);
  assertNoExtraObjects(result, repo);
  const ls = ostreeLs(repo, commit);
  for (const [path, sum] of result.files) assert.equal(ls.get(toCommitPath(path, true))?.checksum, sum, path);
  const bytes = entries.reduce((n, e) => n + e.size, 0);
  console.log(`debootstrap: ${entries.length} entries, ${(bytes / 2 ** 20).toFixed(1)} MiB, objects ${JSON.stringify(counts)}, `
    + `commit ${commit}; commitTree ${(ours / 1000).toFixed(1)} s, ostree commit (bare-user) ${(theirs / 1000).toFixed(1)} s`);
});
