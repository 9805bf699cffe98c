import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRootfs } from '../../../src/rootfs/local.ts';
import { compareBytewise, scanRootfs } from '../../../src/rootfs/scan.ts';
import type { FsEntry, RootfsView } from '../../../src/rootfs/types.ts';

function tempTree(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rootfs-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A small tree exercising every feature the scanner has to get right. */
function makeTree(root: string): void {
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/lib/empty'), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'usr/bin/bash'), 'bash!');
  chmodSync(join(root, 'usr/bin/bash'), 0o755);
  writeFileSync(join(root, 'usr/bin/su'), 'su');
  chmodSync(join(root, 'usr/bin/su'), 0o4755);
  writeFileSync(join(root, 'usr/bin/wall'), 'wall');
  chmodSync(join(root, 'usr/bin/wall'), 0o2755);
  symlinkSync('usr/bin', join(root, 'bin'));
  symlinkSync('bash', join(root, 'usr/bin/sh'));
  symlinkSync('/usr/lib', join(root, 'lib'));
  writeFileSync(join(root, 'usr/lib/data'), '0123456789');
  linkSync(join(root, 'usr/lib/data'), join(root, 'usr/bin/data-link'));
  linkSync(join(root, 'usr/lib/data'), join(root, 'tmp/zz-data'));
  writeFileSync(join(root, 'tmp/\u00e9t\u00e9'), '');
}

test('LocalRootfs + scanRootfs: modes, symlinks, hard links across dirs, empty dirs', async (t) => {
  const root = tempTree(t);
  makeTree(root);
  const { entries, warnings } = await scanRootfs(new LocalRootfs(root), { concurrency: 3 });
  assert.deepEqual(warnings, []);
  const summary = entries.map((e) => [e.path, e.kind, e.mode.toString(8), e.size, e.target ?? null, e.linkGroup ?? null]);
  assert.deepEqual(summary, [
    ['bin', 'symlink', '777', 0, 'usr/bin', null],
    ['lib', 'symlink', '777', 0, '/usr/lib', null],
    ['tmp', 'dir', '1777', 0, null, null],
    ['tmp/zz-data', 'file', '644', 10, null, 'tmp/zz-data'],
    ['tmp/\u00e9t\u00e9', 'file', '644', 0, null, null],
    ['usr', 'dir', '755', 0, null, null],
    ['usr/bin', 'dir', '755', 0, null, null],
    ['usr/bin/bash', 'file', '755', 5, null, null],
    ['usr/bin/data-link', 'file', '644', 10, null, 'tmp/zz-data'],
    ['usr/bin/sh', 'symlink', '777', 0, 'bash', null],
    ['usr/bin/su', 'file', '4755', 2, null, null],
    ['usr/bin/wall', 'file', '2755', 4, null, null],
    ['usr/lib', 'dir', '755', 0, null, null],
    ['usr/lib/data', 'file', '644', 10, null, 'tmp/zz-data'],
    ['usr/lib/empty', 'dir', '755', 0, null, null],
  ]);
  assert.ok(entries.every((e) => e.uid === process.getuid!() && e.xattrs === undefined));
});

test('scanRootfs: the same tree gives the same entries at any concurrency', async (t) => {
  const root = tempTree(t);
  makeTree(root);
  const a = await scanRootfs(new LocalRootfs(root), { concurrency: 1 });
  const b = await scanRootfs(new LocalRootfs(root), { concurrency: 64 });
  assert.deepEqual(a, b);
});

test('scanRootfs: fifo and socket are skipped with a warning naming the path', async (t) => {
  const root = tempTree(t);
  mkdirSync(join(root, 'run'));
  execFileSync('mkfifo', [join(root, 'run/initctl')]);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(root, 'run/sock'), resolve));
  t.after(() => server.close());
  writeFileSync(join(root, 'run/ok'), 'x');
  const { entries, warnings } = await scanRootfs(new LocalRootfs(root, 'rootfs dir \'r\''));
  assert.deepEqual(entries.map((e) => e.path), ['run', 'run/ok']);
  assert.deepEqual(warnings, [
    "rootfs dir 'r': skipping fifo 'run/initctl' (only files, directories and symlinks go into layers)",
    "rootfs dir 'r': skipping socket 'run/sock' (only files, directories and symlinks go into layers)",
  ]);
});

test('scanRootfs: a non-UTF-8 file name fails with the path', async (t) => {
  const root = tempTree(t);
  mkdirSync(join(root, 'usr/share'), { recursive: true });
  writeFileSync(Buffer.concat([Buffer.from(join(root, 'usr/share/caf')), Buffer.from([0xe9, 0x2e, 0x74])]), '');
  await assert.rejects(scanRootfs(new LocalRootfs(root, "rootfs dir 'r'")), {
    message: "scanning rootfs dir 'r': rootfs dir 'r': file name is not valid UTF-8: 'usr/share/caf\\xe9.t'",
  });
});

test('LocalRootfs: symlinks resolve inside the root, never on the host', async (t) => {
  const root = tempTree(t);
  mkdirSync(join(root, 'usr/lib/sysimage/rpm'), { recursive: true });
  mkdirSync(join(root, 'usr/share'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite'), 'db-bytes');
  symlinkSync('/usr/lib/sysimage/rpm', join(root, 'usr/share/rpm'));
  symlinkSync('../../../../../../etc', join(root, 'usr/share/escape'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'inside');
  const view = new LocalRootfs(root);
  assert.equal(Buffer.from(await view.readFile('usr/share/rpm/rpmdb.sqlite')).toString(), 'db-bytes');
  assert.equal(Buffer.from(await view.readFile('usr/share/escape/passwd')).toString(), 'inside');
  assert.equal((await view.stat('usr/share/rpm/rpmdb.sqlite'))?.size, 8);
  assert.equal((await view.stat('usr/share/rpm'))?.kind, 'symlink');
  assert.equal(await view.stat('usr/share/nope'), undefined);
  assert.equal(await view.stat('etc/passwd/x'), undefined);
  assert.deepEqual((await view.readDir('usr/share/rpm')).map((e) => e.path), ['usr/share/rpm/rpmdb.sqlite']);
  assert.equal(Buffer.from(await view.readFile('usr/share/rpm/rpmdb.sqlite', { offset: 3, length: 3 })).toString(), 'byt');
  assert.equal(Buffer.from(await view.readFile('etc/passwd', { offset: 4, length: 100 })).toString(), 'de');
  await assert.rejects(view.readFile('../etc/passwd'), { message: `rootfs dir '${root}': invalid path '../etc/passwd' (want a relative path without '.', '..' or empty components)` });
  await assert.rejects(view.readFile('usr/missing'), { message: `rootfs dir '${root}': file '${'usr/missing'}' does not exist` });
  await assert.rejects(view.readFile('usr'), { message: `rootfs dir '${root}': 'usr' is not a regular file` });
});

test('LocalRootfs: a symlink loop is reported', async (t) => {
  const root = tempTree(t);
  symlinkSync('b', join(root, 'a'));
  symlinkSync('a', join(root, 'b'));
  await assert.rejects(new LocalRootfs(root, 'r').readFile('a/x'), { message: "r: too many levels of symbolic links resolving 'a/x'" });
});

test('scanRootfs: a view returning a non-child path is rejected', async () => {
  const bad: RootfsView = {
    description: 'bad view',
    async readDir(dir: string): Promise<FsEntry[]> {
      return dir === '' ? [{ path: 'a/b', kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 0 }] : [];
    },
    async stat() { return undefined; },
    async readFile() { return new Uint8Array(); },
  };
  await assert.rejects(scanRootfs(bad), { message: "scanning bad view: reading '' returned 'a/b', which is not a direct child" });
});

test('compareBytewise sorts like UTF-8 bytes', () => {
  const names = ['a/b', 'a-b', 'a', '\uffff', '\u{1f600}', 'Z', 'a\u00e9', 'ab'];
  const sorted = [...names].sort(compareBytewise);
  const byBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(sorted, byBytes);
  assert.deepEqual(sorted, ['Z', 'a', 'a-b', 'a/b', 'ab', 'a\u00e9', '\uffff', '\u{1f600}']);
});

test('LocalRootfs: names holding a real U+FFFD or starting with U+FEFF are kept verbatim', async (t) => {
  const root = tempTree(t);
  mkdirSync(join(root, 'd'));
  writeFileSync(join(root, 'd/a\uFFFDb'), 'x');
  writeFileSync(join(root, 'd/\uFEFFbom'), 'yy');
  symlinkSync('\uFEFFbom', join(root, 'd/link'));
  const { entries } = await scanRootfs(new LocalRootfs(root));
  assert.deepEqual(entries.map((e) => [e.path, e.kind, e.size, e.target ?? null]), [
    ['d', 'dir', 0, null],
    ['d/a\uFFFDb', 'file', 1, null],
    ['d/link', 'symlink', 0, '\uFEFFbom'],
    ['d/\uFEFFbom', 'file', 2, null],
  ]);
});

test('scanRootfs: a non-UTF-8 symlink target fails with the path', async (t) => {
  const root = tempTree(t);
  symlinkSync(Buffer.from([0x61, 0xff]), join(root, 'l'));
  await assert.rejects(scanRootfs(new LocalRootfs(root, "rootfs dir 'r'")), {
    message: "scanning rootfs dir 'r': rootfs dir 'r': symlink target of 'l' is not valid UTF-8: 'a\\xff'",
  });
});
