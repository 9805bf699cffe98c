// Object encoders: ordering rules and refusal of values ostree would reject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checksumBytes, commitmeta, commitObject, compareNames, contentChecksum, createContentHash, dirmeta, dirtree, encodeXattrs,
  fileHeader, objectPath, sortedMetadata, xattrPairs,
} from '../../../src/ostree/objects.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const SUM = 'ab'.repeat(32);

test('compareNames is strcmp on UTF-8 bytes', () => {
  const names = ['a', 'B', 'a-b', 'a.b', 'a/b', 'ä', 'z', '😀', '\uffef', '\ue000', 'Z', '', 'aa', 'a\u00ff', 'a\u0100'];
  const byBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...names].sort(compareNames), byBytes);
  assert.ok(compareNames('😀', '\uffef') > 0); // plain JS `<` says the opposite
  assert.ok('😀' < '\uffef');
});

test('xattrs: NUL-terminated names, byte order, exact a(ayay) bytes', () => {
  const pairs = xattrPairs({ 'user.b': new Uint8Array([2]), 'security.selinux': Buffer.from('x\0'), 'user.a': new Uint8Array() });
  assert.deepEqual(pairs.map(([n]) => Buffer.from(n).toString()), ['security.selinux\0', 'user.a\0', 'user.b\0']);
  assert.equal(hex(encodeXattrs(xattrPairs({ 'user.a': new Uint8Array([1]) }))), Buffer.from('user.a\0').toString('hex') + '01' + '07' + '09');
  assert.deepEqual(xattrPairs(undefined), []);
  assert.throws(() => xattrPairs({ 'a\0b': new Uint8Array() }, "'/x'"), { message: '\'/x\': invalid extended attribute name "a\\u0000b"' });
});

test('content checksum streams equal one-shot checksums', () => {
  const h = fileHeader({ uid: 0, gid: 0, mode: 0o100644, symlinkTarget: '', xattrs: [] });
  const streamed = createContentHash(h).update(Buffer.from('hel')).update(Buffer.from('lo\n')).digest('hex');
  assert.equal(streamed, contentChecksum(h, Buffer.from('hello\n')));
  assert.equal(objectPath(streamed, 'file'), `objects/44/${streamed.slice(2)}.file`);
});

test('refuses what ostree refuses', () => {
  const f = { uid: 0, gid: 0, mode: 0o100644, symlinkTarget: '', xattrs: [] };
  assert.throws(() => fileHeader({ ...f, mode: 0o644 }, "'/x'"), { message: "'/x': invalid mode 0644" });
  assert.throws(() => fileHeader({ ...f, mode: 0o110644 }, "'/x'"), { message: "'/x': invalid mode 0110644" });
  assert.throws(() => fileHeader({ ...f, mode: 0o120755, symlinkTarget: 't' }, "'/l'"), { message: "'/l': symlinks must have mode 0120777" });
  assert.throws(() => fileHeader({ ...f, mode: 0o120777 }, "'/l'"), { message: "'/l': empty symlink target" });
  assert.throws(() => fileHeader({ ...f, symlinkTarget: 't' }, "'/x'"), { message: "'/x': a regular file cannot have a symlink target" });
  assert.throws(() => fileHeader({ ...f, uid: 2 ** 32 }), { message: 'file: invalid uid/gid 4294967296' });
  assert.throws(() => dirmeta({ uid: 0, gid: 0, mode: 0o100755, xattrs: [] }, "'/d'"), { message: "'/d': invalid mode 0100755" });
  assert.throws(() => dirtree([{ name: 'a', checksum: SUM }], [{ name: 'a', tree: SUM, meta: SUM }], "'/d'"), { message: '\'/d\': duplicate entry "a"' });
  assert.throws(() => dirtree([{ name: '..', checksum: SUM }], []), { message: "directory: '..' is not a valid name: \"..\"" });
  assert.throws(() => dirtree([{ name: 'a/b', checksum: SUM }], []), { message: "directory: name contains '/': \"a/b\"" });
  assert.throws(() => checksumBytes('AB'.repeat(32)), { message: `invalid ostree checksum '${'AB'.repeat(32)}' (want 64 lowercase hex digits)` });
  assert.throws(() => commitObject({ timestamp: -1, rootTree: SUM, rootMeta: SUM }), { message: 'commit: invalid timestamp -1' });
  assert.throws(() => commitmeta([['k', { type: 's', value: 'a' }], ['k', { type: 's', value: 'b' }]]), { message: "commit metadata: duplicate key 'k'" });
});

test('metadata helpers: sorted keys, typed values, signatures as aay', () => {
  const md = sortedMetadata({ version: { type: 's', value: '1' }, 'ostree.bootable': { type: 'b', value: true } });
  assert.deepEqual(md.map(([k]) => k), ['ostree.bootable', 'version']);
  // One 64-byte signature in `ostree.sign.ed25519` (aay): the value a detached-metadata signer writes.
  const sig = new Uint8Array(64).fill(7);
  const bytes = commitmeta([['ostree.sign.ed25519', { type: 'aay', value: [sig] }]]);
  const key = Buffer.from('ostree.sign.ed25519\0');
  // key (20) | pad to 8 (4) | sig (64) | offset 0x40 | NUL | "aay" | dict-entry key offset 0x14 | array offset (94)
  assert.equal(hex(bytes), hex(key) + '00000000' + hex(sig) + '40' + '00' + Buffer.from('aay').toString('hex') + '14' + '5e');
});
