// Plain (non-ostree) layers: tree order, parents first with real metadata, hard links within a
// layer, PAX for long names / non-ASCII / big sizes / xattrs, one mtime for everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainLayer } from '../../../src/oci/plain-layer.ts';
import { plainHeader } from '../../../src/oci/tar-writer.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';
import { collect, dir, file, link, MemView, readTar } from './helpers.ts';

const LONG = `usr/share/${'n'.repeat(100)}`;

test('plain layer: parents first, hard links to the first member, PAX where ustar cannot hold it', async () => {
  const entries: FsEntry[] = [
    dir('etc', 0o755), dir('etc/ssl', 0o700, 0, 5), file('etc/ssl/key', 2, 0o600),
    dir('usr'), dir('usr/bin'), file('usr/bin/a', 2, 0o755, { linkGroup: 'usr/bin/a' }), file('usr/bin/b', 2, 0o755, { linkGroup: 'usr/bin/a' }),
    link('usr/bin/sh', 'bash'), dir('usr/share'), file(LONG, 1), file('usr/share/café', 1, 0o644, { uid: 3000000 }),
    file('usr/bin/cap', 1, 0o755, { xattrs: { 'security.capability': Buffer.from([1, 2]), 'security.selinux': Buffer.from('x') } }),
  ];
  const view = new MemView(entries, { 'etc/ssl/key': 'k\n', 'usr/bin/a': 'a\n', 'usr/bin/b': 'a\n', [LONG]: 'l', 'usr/share/café': 'c', 'usr/bin/cap': 'c' });
  const layer = { name: 'l', components: [], paths: ['usr/bin/b', 'etc/ssl/key', 'usr/bin/a', 'usr/bin/sh', LONG, 'usr/share/café', 'usr/bin/cap'], size: 0 };
  const items = readTar(await collect(plainLayer({ view, entries: new Map(entries.map((e) => [e.path, e])), layer, mtime: 1234 })));
  assert.deepEqual(items.map((i) => `${i.type} ${i.path}`), [
    '5 etc/', '5 etc/ssl/', '0 etc/ssl/key', '5 usr/', '5 usr/bin/', '0 usr/bin/a', '1 usr/bin/b', '0 usr/bin/cap', '2 usr/bin/sh',
    '5 usr/share/', '0 usr/share/café', `0 ${LONG}`,
  ]);
  const by = new Map(items.map((i) => [i.path, i]));
  assert.deepEqual([by.get('etc/ssl/')!.mode, by.get('etc/ssl/')!.gid], [0o700, 5]);
  assert.equal(by.get('usr/bin/b')!.linkname, 'usr/bin/a');
  assert.equal(by.get('usr/bin/sh')!.linkname, 'bash');
  assert.equal(by.get('usr/bin/a')!.data.toString(), 'a\n');
  assert.ok(items.every((i) => i.mtime === 1234));
  assert.deepEqual(Object.keys(by.get(LONG)!.pax), ['path']);
  assert.deepEqual(Object.keys(by.get('usr/share/café')!.pax), ['path', 'uid']);
  assert.equal(by.get('usr/share/café')!.uid, 3000000); // base-256 in the header too
  assert.deepEqual(Object.keys(by.get('usr/bin/cap')!.pax), ['SCHILY.xattr.security.capability']);
  assert.equal(by.get('usr/bin/cap')!.header.subarray(257, 265).toString('latin1'), 'ustar\u000000');
});

test('files of 8 GiB and more get a PAX size record and a base-256 size field', () => {
  const size = 9 * 2 ** 30;
  const [x, data, , h] = plainHeader({ path: 'big', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size });
  assert.equal(String.fromCharCode(x![156]!), 'x');
  assert.equal(Buffer.from(data!).toString(), `19 size=${size}\n`);
  assert.equal(h![124]! & 0x80, 0x80);
  assert.equal(Buffer.from(h!.subarray(124, 136)).readBigUInt64BE(4), BigInt(size));
});

test('an entry missing from the scan or a special file is an error naming it', async () => {
  const entries: FsEntry[] = [dir('dev'), { path: 'dev/null', kind: 'chardev', mode: 0o666, uid: 0, gid: 0, size: 0 }];
  const view = new MemView(entries);
  const map = new Map(entries.map((e) => [e.path, e]));
  await assert.rejects(collect(plainLayer({ view, entries: map, layer: { name: 'l', components: [], paths: ['dev/null'], size: 0 }, mtime: 0 })),
    { message: "test rootfs: '/dev/null' is a chardev; plain layers hold only files, directories and symlinks" });
  await assert.rejects(collect(plainLayer({ view, entries: map, layer: { name: 'l', components: [], paths: ['nope'], size: 0 }, mtime: 0 })),
    { message: "test rootfs: the layer plan names '/nope', which is not in the scan" });
});
