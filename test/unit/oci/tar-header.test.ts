// tar-rs header emulation: the empty chunk layer vector, field encodings, long names, the
// stale-name quirk, PAX record lengths, base-256 numbers, Rust path components.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { emptyChunkLayer, objectTarPath, repoSkeleton } from '../../../src/ostree/tar.ts';
import { paxEntry, paxRecords, pathComponents, prepareLink, preparePath, TarHeader, TarPathError } from '../../../src/ostree/tar-header.ts';
import { readTar } from './helpers.ts';

const FIXTURE = new URL('../../../../shared/fixtures/derived/empty-chunk-layer.tar', import.meta.url);

test('empty chunk layer is byte-identical to the fixture (diffid 12787d84…35b1)', () => {
  const got = emptyChunkLayer();
  assert.equal(got.length, 139264);
  assert.equal(createHash('sha256').update(got).digest('hex'), '12787d84fa137cd5649a9005efe98ec9d05ea46245fdc50aecb7dd007f2035b1');
  assert.equal(Buffer.compare(Buffer.from(got), readFileSync(FIXTURE)), 0);
  const items = readTar(Buffer.from(got));
  assert.equal(items.length, 269);
  assert.deepEqual(items.slice(0, 5).map((i) => i.path), ['sysroot', 'sysroot/ostree', 'sysroot/ostree/repo', 'sysroot/ostree/repo/objects', 'sysroot/ostree/repo/objects/00']);
  assert.equal(items[259]!.path, 'sysroot/ostree/repo/objects/ff');
  assert.equal(items[268]!.path, 'sysroot/ostree/repo/config');
  assert.equal(items[268]!.data.toString(), '[core]\nrepo_version=1\nmode=bare-split-xattrs\n');
  assert.equal(repoSkeleton().length, 268 + 3); // config: header, data, padding
});

/** A GNU header built by hand from the spec's rules, to compare against. */
function expectedGnu(name: string, mode: string, type: string, size = '00000000000\0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write(mode, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar  \0', 257);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  h.write(`${sum.toString(8).padStart(7, '0')}\0`, 148);
  return h;
}

test('GNU header fields: zero-padded octal + NUL, mtime 0, 7-digit checksum', () => {
  const h = TarHeader.gnu();
  h.setType('5');
  h.setUid(0);
  h.setGid(0);
  h.setMode(0o755);
  h.setSize(0);
  assert.deepEqual(preparePath(h, 'usr/bin'), []);
  h.setChecksum();
  assert.deepEqual(Buffer.from(h.bytes), expectedGnu('usr/bin', '0000755\0', '5'));
  const f = TarHeader.gnu();
  f.setType('0');
  f.setMode(0o4755);
  f.setUid(0);
  f.setGid(0);
  f.setSize(1234567);
  f.setPath('a');
  f.setChecksum();
  assert.deepEqual(Buffer.from(f.bytes), expectedGnu('a', '0004755\0', '0', '00004553207\0'));
});

test('root directory is written as "./", a leading "./" is dropped elsewhere', () => {
  const h = TarHeader.gnu();
  h.setPath('./');
  assert.equal(Buffer.from(h.bytes.subarray(0, 3)).toString('latin1'), './\0');
  const g = TarHeader.gnu();
  g.setPath('./usr/lib');
  assert.equal(Buffer.from(g.bytes.subarray(0, 8)).toString('latin1'), 'usr/lib\0');
});

test('names over 100 bytes: GNU L entry with the whole name, header keeps the first 100 bytes', () => {
  const path = `usr/${'d'.repeat(90)}/file-name`; // 109 bytes
  const h = TarHeader.gnu();
  h.setType('0');
  const pre = preparePath(h, path);
  const l = Buffer.concat(pre);
  assert.equal(l.length, 1024);
  assert.equal(l.subarray(0, 13).toString(), '././@LongLink');
  assert.equal(l.subarray(100, 108).toString('latin1'), '0000644\0');
  assert.equal(l.subarray(124, 136).toString('latin1'), `${(path.length + 1).toString(8).padStart(11, '0')}\0`);
  assert.equal(String.fromCharCode(l[156]!), 'L');
  assert.equal(l.subarray(512, 512 + path.length + 1).toString('latin1'), `${path}\0`);
  assert.equal(Buffer.from(h.bytes.subarray(0, 100)).toString(), path.slice(0, 100));

  const exactly100 = `usr/${'e'.repeat(96)}`;
  assert.deepEqual(preparePath(TarHeader.gnu(), exactly100), []);
  // Object paths: .commit is 100 bytes (fits), .dirtree 101 (needs L).
  const c = 'ab'.repeat(32);
  assert.equal(objectTarPath(c, 'commit').length, 100);
  assert.deepEqual(preparePath(TarHeader.gnu(), objectTarPath(c, 'commit')), []);
  assert.equal(preparePath(TarHeader.gnu(), objectTarPath(c, 'dirtree')).length, 3);
});

test('a multi-byte character is never split in the truncated header name', () => {
  const path = `${'x'.repeat(99)}é/f`; // é is 2 bytes at offsets 99..100
  const h = TarHeader.gnu();
  preparePath(h, path);
  assert.equal(Buffer.from(h.bytes.subarray(0, 100)).toString('latin1'), `${'x'.repeat(99)}\0`);
});

test('stale-name quirk: a shorter name leaves the old name bytes after its NUL', () => {
  const obj = objectTarPath('cd'.repeat(32), 'file'); // 98 bytes
  const h = TarHeader.gnu();
  h.setPath(obj);
  const clone = h.clone();
  clone.setPath('usr/bin/sh');
  const name = Buffer.from(clone.bytes.subarray(0, 100));
  assert.equal(name.subarray(0, 11).toString('latin1'), 'usr/bin/sh\0');
  assert.equal(name.subarray(11, 98).toString('latin1'), obj.slice(11));
  assert.equal(name[98], 0);
});

test('link targets over 100 bytes: K entry; the header keeps what fitted before the failing component', () => {
  const target = `/usr/lib/${'t'.repeat(120)}`;
  const h = TarHeader.gnu();
  h.setType('2');
  const pre = Buffer.concat(prepareLink(h, target));
  assert.equal(String.fromCharCode(pre[156]!), 'K');
  assert.equal(pre.subarray(512, 512 + target.length).toString(), target);
  assert.equal(Buffer.from(h.bytes.subarray(157, 166)).toString('latin1'), '/usr/lib/');
  // Rust path normalization applies to link names set this way.
  const n = TarHeader.gnu();
  prepareLink(n, 'a//b/');
  assert.equal(Buffer.from(n.bytes.subarray(157, 162)).toString('latin1'), 'a/b/\0');
});

test('setPath refuses what tar-rs refuses', () => {
  assert.throws(() => TarHeader.gnu().setPath('/abs'), TarPathError);
  assert.throws(() => TarHeader.gnu().setPath('a/../b'), TarPathError);
  assert.throws(() => TarHeader.gnu().setPath(''), TarPathError);
  assert.throws(() => preparePath(TarHeader.gnu(), '../x'), /cannot store '\.\.\/x' in a tar header/);
});

test('Rust Path::components semantics', () => {
  const c = (p: string) => pathComponents(p).map((x) => (x.kind === 'normal' ? x.text : x.kind));
  assert.deepEqual(c('./a'), ['cur', 'a']);
  assert.deepEqual(c('a/./b'), ['a', 'b']);
  assert.deepEqual(c('a//b/'), ['a', 'b']);
  assert.deepEqual(c('/x/../y'), ['root', 'x', 'parent', 'y']);
  assert.deepEqual(c('.'), ['cur']);
  assert.deepEqual(c('a/.'), ['a']);
});

test('PAX records count their own length digits (tar-rs rule) and use a ustar x header', () => {
  assert.equal(Buffer.from(paxRecords([['k', Buffer.from('vvvv')]])).toString(), '9 k=vvvv\n');
  assert.equal(Buffer.from(paxRecords([['k', Buffer.from('vvvvv')]])).toString(), '11 k=vvvvv\n');
  const long = 'v'.repeat(94); // 3 + 1 + 94 = 98 → 98 + 2 = 100 → needs 3 digits
  assert.equal(Buffer.from(paxRecords([['k', Buffer.from(long)]])).toString(), `101 k=${long}\n`);
  const e = paxEntry([['SCHILY.xattr.user.a', Buffer.from([0, 1, 2])]]);
  const h = Buffer.from(e[0]!);
  assert.equal(h.subarray(257, 265).toString('latin1'), 'ustar\u000000');
  assert.equal(String.fromCharCode(h[156]!), 'x');
  assert.equal(h[0], 0); // empty name
  assert.deepEqual([...h.subarray(100, 124)], new Array(24).fill(0)); // mode/uid/gid never set
  assert.deepEqual(paxEntry([]), []);
});

test('numbers beyond the octal range switch to base-256 (size ≥ 8 GiB, ids ≥ 2^21)', () => {
  const h = TarHeader.gnu();
  h.setSize(2 ** 33 - 1);
  assert.equal(Buffer.from(h.bytes.subarray(124, 136)).toString('latin1'), '77777777777\0');
  h.setSize(2 ** 33 + 5);
  assert.deepEqual([...h.bytes.subarray(124, 136)], [0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 5]);
  assert.equal(h.size, 2 ** 33 + 5);
  h.setUid(2 ** 21);
  assert.deepEqual([...h.bytes.subarray(108, 116)], [0x80, 0, 0, 0, 0, 0x20, 0, 0]);
});
