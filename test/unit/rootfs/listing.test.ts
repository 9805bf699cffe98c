import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { decodeListing, encodeListing, type Listing } from '../../../src/rootfs/listing.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';

const dir = (path: string, mode = 0o755): FsEntry => ({ path, kind: 'dir', mode, uid: 0, gid: 0, size: 0 });
const file = (path: string, size: number, extra: Partial<FsEntry> = {}): FsEntry => ({ path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size, ...extra });

function sample(): Omit<Listing, 'v'> {
  return {
    entries: [
      { path: 'bin', kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, target: 'usr/bin' },
      dir('tmp', 0o1777),
      file('tmp/zz-data', 10, { linkGroup: 'tmp/zz-data' }),
      // Non-BMP names: a shared prefix may end between the two halves of a surrogate pair.
      file('tmp/\u{1F600}a', 1),
      file('tmp/\u{1F601}b', 2, { uid: 1000, gid: 100 }),
      dir('usr'),
      dir('usr/bin'),
      file('usr/bin/data-link', 10, { linkGroup: 'tmp/zz-data' }),
      file('usr/bin/ping', 3, { mode: 0o4755, xattrs: { 'security.capability': Buffer.from([1, 2, 255]), 'user.component': Buffer.from('net') } }),
      // A group lead that is not an entry (a view may name one): kept as a path.
      file('usr/bin/x', 0, { linkGroup: 'elsewhere/x' }),
      { path: 'usr/dev', kind: 'chardev', mode: 0o600, uid: 0, gid: 0, size: 0 },
      dir('usr/lib'),
      file('usr/lib/data', 10, { linkGroup: 'tmp/zz-data' }),
    ],
    skipped: ['run/fifo', 'run/sock'],
    components: [
      { id: 'deb:iputils', paths: ['usr/bin/ping'], size: 3, version: '3:20221126-1', changeTime: 1700000000, changeFrequency: 0.5 },
      { id: 'rest:/', paths: ['bin', 'tmp', 'tmp/zz-data', 'tmp/\u{1F600}a', 'tmp/\u{1F601}b', 'usr', 'usr/bin', 'usr/bin/data-link', 'usr/bin/x', 'usr/dev', 'usr/lib', 'usr/lib/data'], size: 23 },
      { id: 'empty', paths: [], size: 0 },
    ],
    warnings: ['w1', 'w2'],
  };
}

test('listing: round trip of every field (symlinks, hard links, xattrs, kinds, non-BMP names, components)', () => {
  const l = sample();
  assert.deepEqual(decodeListing(encodeListing(l)), { v: 1, ...l });
});

test('listing: exact bytes of a small listing (prefix-coded paths, columns, runs)', () => {
  const l: Omit<Listing, 'v'> = {
    entries: [dir('usr'), dir('usr/bin'), file('usr/bin/a', 5, { linkGroup: 'usr/bin/a' }), file('usr/bin/b', 5, { linkGroup: 'usr/bin/a' }),
      { path: 'usr/bin/sh', kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, target: 'a' }, file('usr/lib', 1, { xattrs: { 'user.x': Buffer.from('hi') } })],
    skipped: ['dev/null'],
    components: [{ id: 'deb:a', paths: ['usr/bin/a', 'usr/bin/b', 'usr/lib'], size: 6, version: '1' }, { id: 'rest:usr', paths: ['usr', 'usr/bin', 'usr/bin/sh'], size: 0 }],
    warnings: ['skip'],
  };
  const want = '{"v":2,"pre":[0,3,7,8,8,4],"suf":["usr","/bin","/a","b","sh","lib"],"kind":"ddfflf",'
    + '"mode":[493,493,420,420,511,420],"uid":[0,0,0,0,0,0],"gid":[0,0,0,0,0,0],"size":[0,0,5,5,0,1],'
    + '"target":[4,"a"],"link":[2,2,3,2],"xattr":[5,{"user.x":"aGk="}],"skipped":["dev/null"],"warnings":["skip"],'
    + '"comps":[{"id":"deb:a","size":6,"runs":[2,2,5,1],"version":"1"},{"id":"rest:usr","size":0,"runs":[0,2,4,1]}]}';
  const bytes = encodeListing(l);
  assert.equal(bytes.toString('utf8'), want);
  assert.deepEqual(decodeListing(bytes), { v: 1, ...l });
});

test('listing: an error listing carries only the message and decodes to that error', () => {
  const msg = "rootfs: file name is not valid UTF-8: 'a\\xff'";
  const bytes = encodeListing({ entries: [file('x', 1)], skipped: [], components: [], warnings: [], error: msg });
  assert.equal(bytes.toString('utf8'), `{"v":2,"error":${JSON.stringify(msg)}}`);
  assert.throws(() => decodeListing(bytes), { message: msg });
});

test('listing: a gzip-compressed listing is read too', () => {
  const l = sample();
  assert.deepEqual(decodeListing(gzipSync(encodeListing(l))), { v: 1, ...l });
});

test('listing: encoding refuses what it cannot represent', () => {
  const base = sample();
  assert.throws(() => encodeListing({ ...base, components: [{ id: 'c', paths: ['nope'], size: 0 }] }), { message: "listing: component 'c' holds 'nope', which is not an entry" });
  assert.throws(() => encodeListing({ ...base, components: [{ id: 'c', paths: ['usr', 'tmp'], size: 0 }] }), { message: "listing: component 'c' paths are not in entry order at 'tmp'" });
  assert.throws(() => encodeListing({ ...base, entries: [dir('a'), dir('a')] }), { message: 'listing: an entry path is listed twice' });
  assert.throws(() => encodeListing({ ...base, entries: [{ ...dir('a'), kind: 'door' as FsEntry['kind'] }] }), { message: "listing: entry 'a' has an unknown kind 'door'" });
});

test('listing: broken input is named', () => {
  const enc = (o: object) => Buffer.from(JSON.stringify(o));
  const good = JSON.parse(encodeListing(sample()).toString('utf8'));
  assert.throws(() => decodeListing(Buffer.from('{"v":2,')), /^Error: rootfs listing is not valid JSON: /);
  assert.throws(() => decodeListing(enc({ v: 1, entries: [] })), { message: 'rootfs listing version 1 is not supported (want 2)' });
  assert.throws(() => decodeListing(enc({ ...good, mode: good.mode.slice(1) })), { message: "rootfs listing: column 'mode' has 12 values for 13 entries" });
  assert.throws(() => decodeListing(enc({ ...good, kind: `${good.kind}f` })), { message: "rootfs listing: column 'kind' has 14 values for 13 entries" });
  assert.throws(() => decodeListing(enc({ ...good, kind: `x${good.kind.slice(1)}` })), { message: "rootfs listing: entry 'bin' has an unknown kind code 'x'" });
  assert.throws(() => decodeListing(enc({ ...good, pre: [0, 9, ...good.pre.slice(2)] })), { message: 'rootfs listing: entry 1 shares 9 characters with a 3-character path' });
  assert.throws(() => decodeListing(enc({ ...good, target: [13, 'x'] })), { message: "rootfs listing: column 'target' refers to entry 13 of 13" });
  assert.throws(() => decodeListing(enc({ ...good, link: [0, -1] })), { message: "rootfs listing: column 'link' refers to entry -1 of 13" });
  assert.throws(() => decodeListing(enc({ ...good, comps: [{ id: 'c', size: 0, runs: [12, 2] }] })), { message: "rootfs listing: column 'comps' refers to entry 13 of 13" });
});
