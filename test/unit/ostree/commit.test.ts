// commitTree() on an in-memory view: build-chunked-oci conventions, bad input (each with its exact
// message), ranged streaming, hard links, determinism. Parity with real ostree is parity.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ByteRange, FsEntry, RootfsView } from '../../../src/rootfs/types.ts';
import { commitTree, readContent, toCommitPath, type CommitTreeOptions, type ContentObject, type MetaObject } from '../../../src/ostree/commit.ts';
import { commitObject, contentChecksum, dirmeta, dirtree, fileHeader, sha256Hex } from '../../../src/ostree/objects.ts';
import { decode } from '../../../src/ostree/gvariant.ts';

const EMPTY_TREE = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';
const ROOT_META = '446a0ef11b7cc167f3b603e585c7eeeeb675faa412d5ec73f62988eb0b6c5488';

/** In-memory RootfsView that records readFile calls. */
class MemView implements RootfsView {
  readonly description = 'test rootfs';
  reads: string[] = [];
  readonly entries: FsEntry[];
  readonly contents: Map<string, Uint8Array>;
  constructor(entries: FsEntry[], contents: Record<string, string | Uint8Array> = {}) {
    this.entries = entries;
    this.contents = new Map(Object.entries(contents).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]));
  }
  async readDir(dir: string): Promise<FsEntry[]> {
    return this.entries.filter((e) => e.path.slice(0, Math.max(0, e.path.lastIndexOf('/'))) === dir);
  }
  async stat(path: string): Promise<FsEntry | undefined> {
    return this.entries.find((e) => e.path === path);
  }
  async readFile(path: string, range?: ByteRange): Promise<Uint8Array> {
    this.reads.push(range ? `${path}@${range.offset}+${range.length}` : path);
    const c = this.contents.get(path);
    if (c === undefined) throw new Error(`${this.description}: cannot open '${path}': EACCES: permission denied`);
    return range ? c.subarray(range.offset, range.offset + range.length) : c;
  }
}

const dir = (path: string, mode = 0o755, uid = 0, gid = 0): FsEntry => ({ path, kind: 'dir', mode, uid, gid, size: 0 });
const file = (path: string, size: number, mode = 0o644, extra: Partial<FsEntry> = {}): FsEntry =>
  ({ path, kind: 'file', mode, uid: 0, gid: 0, size, ...extra });
const link = (path: string, target: string): FsEntry => ({ path, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, target });
const OPTS: CommitTreeOptions = { root: { uid: 0, gid: 0, mode: 0o755 }, timestamp: 1704164645 };

function tree(...entries: FsEntry[]): FsEntry[] {
  return entries;
}

const base = () => tree(dir('usr'), dir('usr/bin'), file('usr/bin/sh', 3, 0o755), dir('etc'), file('etc/os-release', 5),
  dir('sysroot'), dir('sysroot/ostree'), file('sysroot/ostree/x', 1), link('bin', 'usr/bin'));
const baseContents = { 'usr/bin/sh': 'sh\n', 'etc/os-release': 'ID=x\n', 'sysroot/ostree/x': 'x' };

test('build-chunked-oci conventions: /etc under /usr, /sysroot empty but kept, objects complete', async () => {
  const view = new MemView(base(), baseContents);
  const r = await commitTree(view, base(), OPTS);
  assert.equal(r.etcMoved, true);
  assert.deepEqual(view.reads.sort(), ['etc/os-release', 'usr/bin/sh']); // sysroot contents never read
  assert.deepEqual([...r.files.keys()], ['bin', 'etc/os-release', 'usr/bin/sh']);
  const osRelease = r.objects.get(r.files.get('etc/os-release')!) as ContentObject;
  assert.deepEqual(osRelease.paths, ['usr/etc/os-release']);
  assert.equal(osRelease.source, 'etc/os-release');
  assert.equal(toCommitPath('etc', true), 'usr/etc');
  assert.equal(toCommitPath('etcetera/x', true), 'etcetera/x');

  // Rebuild the expected tree by hand from the object encoders.
  const hdr = (mode: number, target = '') => fileHeader({ uid: 0, gid: 0, mode, symlinkTarget: target, xattrs: [] });
  const sh = contentChecksum(hdr(0o100755), Buffer.from('sh\n'));
  const os = contentChecksum(hdr(0o100644), Buffer.from('ID=x\n'));
  const binLink = contentChecksum(hdr(0o120777, 'usr/bin'));
  const binTree = sha256Hex(dirtree([{ name: 'sh', checksum: sh }], []));
  const etcTree = sha256Hex(dirtree([{ name: 'os-release', checksum: os }], []));
  const usrTree = sha256Hex(dirtree([], [{ name: 'bin', tree: binTree, meta: ROOT_META }, { name: 'etc', tree: etcTree, meta: ROOT_META }]));
  const rootTree = sha256Hex(dirtree([{ name: 'bin', checksum: binLink }],
    [{ name: 'sysroot', tree: EMPTY_TREE, meta: ROOT_META }, { name: 'usr', tree: usrTree, meta: ROOT_META }]));
  assert.equal(r.rootTree, rootTree);
  assert.equal(r.rootMeta, ROOT_META);
  const commitBytes = commitObject({ timestamp: 1704164645, rootTree, rootMeta: ROOT_META });
  assert.equal(r.commit, sha256Hex(commitBytes));
  assert.deepEqual((r.objects.get(r.commit) as MetaObject).bytes, commitBytes);
  assert.deepEqual([...r.objects.values()].map((o) => o.type),
    ['file', 'file', 'file', 'dirtree', 'dirmeta', 'dirtree', 'dirtree', 'dirtree', 'dirtree', 'commit']);
  for (const o of r.objects.values()) if (o.type !== 'file') assert.equal(sha256Hex(o.bytes), o.checksum);
});

test('bootc: false keeps /sysroot contents and /etc in place', async () => {
  const view = new MemView(base(), baseContents);
  const r = await commitTree(view, base(), { ...OPTS, bootc: false });
  assert.equal(r.etcMoved, false);
  assert.deepEqual([...r.files.keys()], ['bin', 'etc/os-release', 'sysroot/ostree/x', 'usr/bin/sh']);
  assert.deepEqual((r.objects.get(r.files.get('etc/os-release')!) as ContentObject).paths, ['etc/os-release']);
});

test('root metadata, /sysroot dirmeta and uid/gid/mode reach the objects', async () => {
  const entries = tree(dir('sysroot', 0o700, 0, 0), dir('usr', 0o755, 1000, 1000), dir('usr/etc'), file('usr/s', 2, 0o4755));
  const r = await commitTree(new MemView(entries, { 'usr/s': 'ab' }), entries, { ...OPTS, root: { uid: 0, gid: 0, mode: 0o555, xattrs: { 'user.b': new Uint8Array([2]), 'user.a': new Uint8Array([1]) } } });
  assert.equal(r.etcMoved, false); // only /usr/etc: the ostree default, nothing to move
  const rootMeta = dirmeta({ uid: 0, gid: 0, mode: 0o40555, xattrs: [[Buffer.from('user.a\0'), new Uint8Array([1])], [Buffer.from('user.b\0'), new Uint8Array([2])]] });
  assert.equal(r.rootMeta, sha256Hex(rootMeta));
  const [files, dirs] = decode('(a(say)a(sayay))', (r.objects.get(r.rootTree) as MetaObject).bytes) as [unknown[], [string, Uint8Array, Uint8Array][]];
  assert.equal(files.length, 0);
  assert.deepEqual(dirs.map((d) => d[0]), ['sysroot', 'usr']);
  assert.equal(Buffer.from(dirs[0]![2]).toString('hex'), sha256Hex(dirmeta({ uid: 0, gid: 0, mode: 0o40700, xattrs: [] })));
  assert.equal(Buffer.from(dirs[1]![2]).toString('hex'), sha256Hex(dirmeta({ uid: 1000, gid: 1000, mode: 0o40755, xattrs: [] })));
  const s = r.objects.get(r.files.get('usr/s')!) as ContentObject;
  assert.equal(s.mode, 0o104755);
  assert.equal(s.checksum, contentChecksum(fileHeader({ uid: 0, gid: 0, mode: 0o104755, symlinkTarget: '', xattrs: [] }), Buffer.from('ab')));
});

test('special files are refused naming the path; below /sysroot/<x>/ they are never visited', async () => {
  const kinds = [['fifo', 'a FIFO'], ['socket', 'a socket'], ['chardev', 'a character device'], ['blockdev', 'a block device']] as const;
  for (const [kind, what] of kinds) {
    const entries = tree(dir('dev'), { path: 'dev/x', kind, mode: 0o644, uid: 0, gid: 0, size: 0 });
    await assert.rejects(commitTree(new MemView(entries), entries, OPTS), {
      message: `test rootfs: cannot commit '/dev/x': it is ${what}; ostree commits only regular files, symlinks and directories`,
    });
  }
  const direct = tree(dir('sysroot'), { path: 'sysroot/fifo', kind: 'fifo', mode: 0o644, uid: 0, gid: 0, size: 0 });
  await assert.rejects(commitTree(new MemView(direct), direct, OPTS), { message: /cannot commit '\/sysroot\/fifo': it is a FIFO/ });
  const deep = tree(dir('sysroot'), dir('sysroot/run'), { path: 'sysroot/run/sock', kind: 'socket', mode: 0o644, uid: 0, gid: 0, size: 0 });
  const r = await commitTree(new MemView(deep), deep, OPTS);
  assert.equal(r.files.size, 0);
  await assert.rejects(commitTree(new MemView(deep), deep, { ...OPTS, bootc: false }), { message: /cannot commit '\/sysroot\/run\/sock': it is a socket/ });
});

test('/etc and /usr/etc rules', async () => {
  const both = tree(dir('etc'), dir('usr'), dir('usr/etc'));
  await assert.rejects(commitTree(new MemView(both), both, OPTS), {
    message: 'test rootfs: found both /etc and /usr/etc (build-chunked-oci needs exactly one of them)',
  });
  assert.equal((await commitTree(new MemView(both), both, { ...OPTS, bootc: false })).etcMoved, false);
  const noUsr = tree(dir('etc'));
  await assert.rejects(commitTree(new MemView(noUsr), noUsr, OPTS), {
    message: 'test rootfs: cannot move /etc to /usr/etc: the rootfs has no /usr directory',
  });
  const usrLink = tree(dir('etc'), link('usr', 'x'));
  await assert.rejects(commitTree(new MemView(usrLink), usrLink, OPTS), { message: /the rootfs has no \/usr directory/ });
  const etcLink = tree(link('etc', 'usr/etc'), dir('usr'), dir('usr/etc'));
  await assert.rejects(commitTree(new MemView(etcLink), etcLink, OPTS), {
    message: "test rootfs: cannot commit '/etc': build-chunked-oci requires /etc to be a directory, not a symlink or file",
  });
  const usrEtcFile = tree(dir('usr'), file('usr/etc', 0));
  await assert.rejects(commitTree(new MemView(usrEtcFile, { 'usr/etc': '' }), usrEtcFile, OPTS), {
    message: "test rootfs: cannot commit '/usr/etc': build-chunked-oci requires /usr/etc to be a directory, not a symlink or file",
  });
});

test('bad names, missing parents, duplicates, bad xattrs', async () => {
  const cases: [FsEntry[], string][] = [
    [tree(dir('usr'), file('usr/bad\ud800', 0)), "test rootfs: cannot commit '/usr/bad\ud800': name is not valid UTF-8 (ostree cannot store it)"],
    [tree(dir('usr'), file('usr/./x', 0)), "test rootfs: cannot commit '/usr/./x': '.' is not a valid name (ostree cannot store it)"],
    [tree(file('usr//x', 0)), "test rootfs: cannot commit '/usr//x': empty name (ostree cannot store it)"],
    [tree(file('usr/bin/x', 0)), "test rootfs: cannot commit '/usr/bin/x': its parent directory '/usr/bin' is not in the entry list"],
    [tree(dir('usr'), dir('usr')), "test rootfs: cannot commit '/usr': listed twice"],
    [tree(dir('usr'), file('usr', 0)), "test rootfs: cannot commit '/usr': listed twice"],
    [tree(link('l', '')), "test rootfs: cannot commit '/l': symlink without a target"],
    [tree(file('x', 0, 0o644, { xattrs: { '': new Uint8Array() } })), "test rootfs: '/x': invalid extended attribute name \"\""],
    [tree(file('x', 0, 0o644, { uid: -1 })), "test rootfs: '/x': invalid uid/gid -1"],
  ];
  for (const [entries, message] of cases) {
    await assert.rejects(commitTree(new MemView(entries, { x: '', 'usr/bin/x': '' }), entries, OPTS), { message });
  }
});

test('unreadable and changing files fail with the path', async () => {
  const entries = tree(dir('usr'), file('usr/secret', 4));
  await assert.rejects(commitTree(new MemView(entries, {}), entries, OPTS), {
    message: "test rootfs: cannot open 'usr/secret': EACCES: permission denied",
  });
  await assert.rejects(commitTree(new MemView(entries, { 'usr/secret': 'abc' }), entries, OPTS), {
    message: "test rootfs: '/usr/secret' changed while being read (expected 4 bytes)",
  });
  const big = tree(dir('usr'), file('usr/big', 25));
  await assert.rejects(commitTree(new MemView(big, { 'usr/big': 'x'.repeat(24) }), big, { ...OPTS, chunkSize: 10 }), {
    message: "test rootfs: '/usr/big' changed while being read (expected 25 bytes)",
  });
});

test('contents are hashed in ranges; hard-link groups are read once', async () => {
  const content = Buffer.from('0123456789abcdefghijklmno');
  const entries = tree(dir('a'), file('a/big', 25, 0o644, { linkGroup: 'a/big' }), file('a/big2', 25, 0o644, { linkGroup: 'a/big' }),
    file('a/small', 3));
  const view = new MemView(entries, { 'a/big': content, 'a/big2': content, 'a/small': 'abc' });
  const r = await commitTree(view, entries, { ...OPTS, chunkSize: 10, concurrency: 1 });
  assert.deepEqual(view.reads, ['a/big@0+10', 'a/big@10+10', 'a/big@20+5', 'a/small']);
  const sum = contentChecksum(fileHeader({ uid: 0, gid: 0, mode: 0o100644, symlinkTarget: '', xattrs: [] }), content);
  assert.equal(r.files.get('a/big'), sum);
  assert.equal(r.files.get('a/big2'), sum);
  assert.deepEqual((r.objects.get(sum) as ContentObject).paths, ['a/big', 'a/big2']);
  const chunks: string[] = [];
  for await (const c of readContent(view, 'a/big', 25, 10)) chunks.push(Buffer.from(c).toString());
  assert.deepEqual(chunks, ['0123456789', 'abcdefghij', 'klmno']);
});

test('deterministic: entry order and concurrency do not change anything', async () => {
  const entries = base();
  const a = await commitTree(new MemView(entries, baseContents), entries, OPTS);
  const b = await commitTree(new MemView(entries, baseContents), [...entries].reverse(), { ...OPTS, concurrency: 1 });
  assert.equal(a.commit, b.commit);
  assert.deepEqual([...a.objects.keys()], [...b.objects.keys()]);
  assert.deepEqual([...a.files], [...b.files]);
});
