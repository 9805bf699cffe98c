// The ostree tar stream: entry order of the commit layer and chunk layers as the importer requires
// (spec §2.4–2.8), hard links, empty files, /etc mapping, format 2 parents, signatures, and a file
// that changed after it was committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitTree, type CommitTreeOptions, type ContentObject, type MetaObject } from '../../../src/ostree/commit.ts';
import { decode } from '../../../src/ostree/gvariant.ts';
import { encodeXattrs, sha256Hex } from '../../../src/ostree/objects.ts';
import { chunkLayer, chunkObjects, commitLayer, compareTreeOrder, emptyChunkLayer, objectTarPath, tarPathOf } from '../../../src/ostree/tar.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';
import { collect, dir, file, link, MemView, readTar, type TarItem } from './helpers.ts';

const EMPTY_TREE = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';
const OPTS: CommitTreeOptions = { root: { uid: 0, gid: 0, mode: 0o755 }, timestamp: 1700000000 };
const LONG_DIR = `usr/share/${'d'.repeat(95)}`;
const LONG_TARGET = `/usr/lib/${'t'.repeat(110)}`;

function rootfs(): { entries: FsEntry[]; contents: Record<string, string> } {
  const entries: FsEntry[] = [
    dir('etc'), file('etc/passwd', 5), dir('etc/sub', 0o700), file('etc/sub/conf', 2, 0o600),
    dir('home'), dir('home/u', 0o750, 1000, 1000), file('home/u/.profile', 2, 0o644, { uid: 1000, gid: 1000 }),
    dir('sysroot'), dir('sysroot/ostree'), file('sysroot/ostree/junk', 1),
    dir('usr'), dir('usr/bin'),
    file('usr/bin/sh', 3, 0o755, { linkGroup: 'usr/bin/sh' }), file('usr/bin/sh-hard', 3, 0o755, { linkGroup: 'usr/bin/sh' }),
    file('usr/bin/su', 3, 0o4755),
    dir('usr/lib'), file('usr/lib/empty', 0), link('usr/lib/libx.so', 'libx.so.1'),
    link('usr/lib/denormal', '../..//sbin/x'), link('usr/lib/dotted', 'a/./b'), link('usr/lib/far', LONG_TARGET),
    file('usr/lib/caps', 4, 0o755, { xattrs: { 'user.test': Buffer.from('v'), 'security.selinux': Buffer.from('system_u:object_r:bin_t:s0\0') } }),
    dir('usr/share'), dir(LONG_DIR), file(`${LONG_DIR}/file`, 4), file('usr/share/copy-of-sh', 3, 0o755),
  ];
  const contents = {
    'etc/passwd': 'root\n', 'etc/sub/conf': 'c\n', 'home/u/.profile': 'p\n', 'sysroot/ostree/junk': 'j',
    'usr/bin/sh': 'sh\n', 'usr/bin/sh-hard': 'sh\n', 'usr/bin/su': 'su\n', 'usr/lib/empty': '', 'usr/lib/caps': 'cap\n',
    [`${LONG_DIR}/file`]: 'long', 'usr/share/copy-of-sh': 'sh\n',
  };
  return { entries, contents };
}

async function setup() {
  const { entries, contents } = rootfs();
  const view = new MemView(entries, contents);
  const commit = await commitTree(view, entries, OPTS);
  return { view, commit, entries };
}

const OBJ = /^sysroot\/ostree\/repo\/objects\/([0-9a-f]{2})\/([0-9a-f]{62})\.([a-z-]+)$/;
const objectOf = (i: TarItem) => {
  const m = OBJ.exec(i.path);
  return m ? { checksum: m[1]! + m[2]!, type: m[3]! } : undefined;
};
const SKELETON = readTar(Buffer.from(emptyChunkLayer()));

test('commit layer: ./, skeleton, commit, commitmeta, root dirmeta/dirtree, then the directory walk', async () => {
  const { view, commit } = await setup();
  const meta = Buffer.from('fake-commitmeta');
  const items = readTar(await collect(commitLayer({ view, commit, formatVersion: 1, commitmeta: meta })));
  assert.equal(items[0]!.path, './');
  assert.equal(items[0]!.type, '5');
  assert.equal(items[0]!.mode, 0o755);
  assert.deepEqual(items.slice(1, 270).map((i) => i.path), SKELETON.map((i) => i.path));
  const c = objectOf(items[270]!)!;
  assert.deepEqual(c, { checksum: commit.commit, type: 'commit' });
  assert.deepEqual(items[270]!.ext, []); // 100-byte name: no long-name entry
  assert.deepEqual(items[270]!.data, Buffer.from((commit.objects.get(commit.commit) as MetaObject).bytes));
  assert.deepEqual(objectOf(items[271]!), { checksum: commit.commit, type: 'commitmeta' });
  assert.deepEqual(items[271]!.ext, ['L']);
  assert.deepEqual(items[271]!.data, meta);
  assert.deepEqual(objectOf(items[272]!), { checksum: commit.rootMeta, type: 'dirmeta' });
  assert.deepEqual(objectOf(items[273]!), { checksum: commit.rootTree, type: 'dirtree' });

  const dirs = items.slice(274).filter((i) => i.type === '5').map((i) => i.path);
  // The walk joins names onto "./"; tar-rs drops that prefix from header names but keeps it in
  // GNU long names, so a long directory path reads back as "./usr/…".
  assert.deepEqual(dirs, ['home', 'home/u', 'usr', 'usr/bin', 'etc', 'etc/sub', 'usr/lib', 'usr/share', `./${LONG_DIR}`, 'var/tmp']);
  assert.equal(items.find((i) => i.path === `./${LONG_DIR}`)!.header.subarray(0, 100).toString('latin1'), `${LONG_DIR.slice(0, 98)}\0\0`);
  const homeU = items.find((i) => i.path === 'home/u')!;
  assert.deepEqual([homeU.uid, homeU.gid, homeU.mode], [1000, 1000, 0o750]);
  const varTmp = items.find((i) => i.path === 'var/tmp')!;
  assert.equal(varTmp.mode, 0o1777);
  assert.equal(items.at(-1)!.path, 'var/tmp');

  // Every metadata object of the commit exactly once (the empty dirtree of /sysroot included); no content.
  const objs = items.map(objectOf).filter((o) => o !== undefined);
  assert.equal(objs.filter((o) => o.type === 'file' || o.type === 'file-xattrs-link').length, 0);
  const meta2 = [...commit.objects.values()].filter((o) => o.type !== 'file' && o.type !== 'commit').map((o) => `${o.checksum}.${o.type}`).sort();
  const got = objs.filter((o) => o.type === 'dirtree' || o.type === 'dirmeta').map((o) => `${o.checksum}.${o.type}`);
  assert.deepEqual([...got].sort(), meta2);
  assert.equal(new Set(got).size, got.length);
  assert.ok(got.includes(`${EMPTY_TREE}.dirtree`));
  for (const i of items) {
    const o = objectOf(i);
    if (o && o.type !== 'commitmeta') assert.equal(sha256Hex(i.data), o.checksum, i.path);
    assert.equal(i.mtime, 0, i.path);
  }
});

test('commit layer still carries the /sysroot dirtree when no other directory shares it', async () => {
  const entries = [dir('sysroot'), dir('sysroot/ostree'), dir('usr'), file('usr/x', 1)];
  const view = new MemView(entries, { 'usr/x': 'x' });
  const commit = await commitTree(view, entries, OPTS);
  const items = readTar(await collect(commitLayer({ view, commit, formatVersion: 1 })));
  const trees = items.map(objectOf).filter((o) => o?.type === 'dirtree').map((o) => o!.checksum);
  assert.ok(trees.includes(EMPTY_TREE));
  assert.ok(!items.some((i) => i.path === 'sysroot' && i.type === '5' && items.indexOf(i) > 269));
});

test('chunk layer: skeleton, then per object (by checksum) xattrs link, PAX, object, its paths', async () => {
  const { view, commit, entries } = await setup();
  const objects = chunkObjects(commit, entries.map((e) => e.path));
  assert.deepEqual(objects.map((o) => o.checksum), [...objects.map((o) => o.checksum)].sort());
  const items = readTar(await collect(chunkLayer({ view, commit, formatVersion: 1 }, objects)));
  assert.deepEqual(items.slice(0, 269).map((i) => i.path), SKELETON.map((i) => i.path));
  const rest = items.slice(269);
  assert.ok(!rest.some((i) => i.type === '5'), 'format 1 chunks have no directories');

  let at = 0;
  for (const o of objects) {
    const obj = commit.objects.get(o.checksum) as ContentObject;
    const x = rest[at++]!;
    assert.deepEqual(objectOf(x), { checksum: o.checksum, type: 'file-xattrs-link' });
    assert.equal(x.type, '0');
    assert.deepEqual(x.data, Buffer.from(encodeXattrs(obj.xattrs)));
    const f = rest[at++]!;
    assert.deepEqual(objectOf(f), { checksum: o.checksum, type: 'file' });
    assert.equal(f.uid, obj.uid);
    assert.equal(f.mode, obj.mode & 0o7777);
    if (obj.kind === 'symlink') {
      assert.equal(f.type, '2');
      assert.equal(f.linkname, obj.symlinkTarget);
    } else {
      assert.equal(f.type, '0');
      assert.equal(sha256Hex(Buffer.concat([Buffer.from([0, 0, 0, obj.header.length, 0, 0, 0, 0]), obj.header, f.data])), o.checksum);
    }
    for (const p of o.paths) {
      const h = rest[at++]!;
      assert.equal(h.path, tarPathOf(p));
      if (obj.kind === 'file' && obj.size === 0) {
        assert.equal(h.type, '0');
        assert.equal(h.size, 0);
      } else {
        assert.equal(h.type, '1');
        assert.equal(h.linkname, objectTarPath(o.checksum, 'file'));
      }
    }
  }
  assert.equal(at, rest.length);

  const byPath = new Map(rest.map((i) => [i.path, i]));
  const sh = byPath.get('usr/bin/sh')!;
  // stale-name quirk: the hard link header was cloned from the object header
  const obj = objectTarPath(commit.files.get('usr/bin/sh')!, 'file');
  assert.equal(sh.header.subarray(0, 11).toString('latin1'), 'usr/bin/sh\0');
  assert.equal(sh.header.subarray(11, 98).toString('latin1'), obj.slice(11));
  // one object for the hard link pair and the identical copy
  assert.equal(byPath.get('usr/bin/sh-hard')!.linkname, obj);
  assert.equal(byPath.get('usr/share/copy-of-sh')!.linkname, obj);
  assert.deepEqual(objects.find((o) => o.checksum === commit.files.get('usr/bin/sh'))!.paths, ['usr/bin/sh', 'usr/bin/sh-hard', 'usr/share/copy-of-sh']);
  // /usr/etc is written back as /etc; /sysroot contents are not committed
  assert.ok(byPath.has('etc/passwd') && byPath.has('etc/sub/conf'));
  assert.ok(![...byPath.keys()].some((p) => p.startsWith('usr/etc') || p.startsWith('sysroot/ostree/junk')));
  // symlink targets: denormal and dotted ones literally, long ones through a K entry
  const target = (p: string) => rest.find((i) => i.type === '2' && i.path === objectTarPath(commit.files.get(p)!, 'file'))!;
  assert.equal(target('usr/lib/denormal').linkname, '../..//sbin/x');
  assert.equal(target('usr/lib/dotted').linkname, 'a/./b');
  assert.equal(target('usr/lib/far').linkname, LONG_TARGET);
  assert.deepEqual(target('usr/lib/far').ext, ['K']);
  assert.deepEqual(byPath.get(`${LONG_DIR}/file`)!.ext, ['L']);
  // xattrs: split object always; PAX for everything but security.selinux
  const caps = rest.find((i) => i.path === objectTarPath(commit.files.get('usr/lib/caps')!, 'file'))!;
  assert.deepEqual(caps.ext, ['x']);
  assert.deepEqual(Object.keys(caps.pax), ['SCHILY.xattr.user.test']);
  assert.equal(byPath.get('usr/bin/su')!.mode, 0o4755);
});

test('format 2: missing parents before each path, once per layer, with the commit metadata; never the root', async () => {
  const { view, commit, entries } = await setup();
  const objects = chunkObjects(commit, entries.map((e) => e.path));
  const items = readTar(await collect(chunkLayer({ view, commit, formatVersion: 2 }, objects))).slice(269);
  const seen = new Set<string>();
  for (const i of items) {
    if (i.type === '5') {
      assert.ok(!seen.has(i.path), `${i.path} twice`);
      seen.add(i.path);
      continue;
    }
    if (objectOf(i)) continue;
    const parts = i.path.split('/');
    for (let k = 1; k < parts.length; k++) assert.ok(seen.has(parts.slice(0, k).join('/')), `${i.path}: parent ${parts.slice(0, k).join('/')} missing before it`);
  }
  const etcSub = items.find((i) => i.path === 'etc/sub')!;
  assert.equal(etcSub.mode, 0o700);
  assert.deepEqual([...seen].sort(), ['etc', 'etc/sub', 'home', 'home/u', 'usr', 'usr/bin', 'usr/lib', 'usr/share', LONG_DIR].sort());
});

test('remainder objects go into the commit layer after the structure', async () => {
  const { view, commit } = await setup();
  const remainder = chunkObjects(commit, ['usr/bin/su']);
  const items = readTar(await collect(commitLayer({ view, commit, formatVersion: 2 }, remainder)));
  const tail = items.slice(items.findIndex((i) => i.path === 'var/tmp') + 1).map((i) => objectOf(i)?.type ?? i.path);
  assert.deepEqual(tail, ['file-xattrs-link', 'file', 'usr', 'usr/bin', 'usr/bin/su']);
});

test('tree order: files of a directory before its subdirectories', () => {
  assert.deepEqual(['a/b/c', 'a/z', 'a/a', 'b', 'a/b/a'].sort(compareTreeOrder), ['b', 'a/a', 'a/z', 'a/b/a', 'a/b/c']);
});

test('a file that changed after the commit fails the export', async () => {
  const { entries, contents } = rootfs();
  const view = new MemView(entries, contents);
  const commit = await commitTree(view, entries, OPTS);
  view.contents.set('usr/bin/su', Buffer.from('SU\n'));
  const objects = chunkObjects(commit, ['usr/bin/su']);
  await assert.rejects(collect(chunkLayer({ view, commit, formatVersion: 1 }, objects)),
    { message: `test rootfs: '/usr/bin/su' changed after it was committed (content no longer matches object ${commit.files.get('usr/bin/su')})` });
  view.contents.delete('usr/bin/su');
  await assert.rejects(collect(chunkLayer({ view, commit, formatVersion: 1 }, objects)), { message: "test rootfs: cannot open 'usr/bin/su': EACCES: permission denied" });
});

test('large files are read in ranges and streamed, never whole', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  const entries = [dir('usr'), file('usr/big', big.length)];
  const view = new MemView(entries, { 'usr/big': big });
  const commit = await commitTree(view, entries, OPTS);
  view.reads = 0;
  const chunks: number[] = [];
  for await (const c of chunkLayer({ view, commit, formatVersion: 1, chunkSize: 1 << 20 }, chunkObjects(commit, ['usr/big']))) chunks.push(c.length);
  assert.equal(view.reads, 4);
  assert.ok(Math.max(...chunks) <= 1 << 20, `largest piece ${Math.max(...chunks)}`);
  const decoded = decode('(uuuusa(ayay))', (commit.objects.get(commit.files.get('usr/big')!) as ContentObject).header);
  assert.equal((decoded as unknown[])[4], '');
});
