// Every object in fixtures/derived/ostree-object-vectors.json (computed by libostree) reproduced
// byte-for-byte by our encoders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  commitObject,
  contentChecksum,
  contentChecksumPrefix,
  dirmeta,
  dirtree,
  fileHeader,
  sha256Hex,
  S_IFDIR,
  type XattrPairs,
} from '../../../src/ostree/objects.ts';
import { be64, decode } from '../../../src/ostree/gvariant.ts';

interface VFile {
  path: string; type: string; uid: number; gid: number; mode: string; symlink_target: string;
  xattrs: [string, string][]; content_hex: string; header_variant_hex: string;
  checksum_input_prefix_hex: string; file_checksum: string;
}
interface VDir {
  path: string; uid: number; gid: number; mode: string; xattrs: [string, string][];
  dirmeta_hex: string; dirmeta_sha256: string; dirtree_hex: string; dirtree_sha256: string;
}
const V = JSON.parse(
  readFileSync(new URL('../../../../shared/fixtures/derived/ostree-object-vectors.json', import.meta.url), 'utf8'),
) as {
  files: VFile[]; directories: VDir[]; root: { dirtree_sha256: string; dirmeta_sha256: string };
  commit: { checksum: string; hex: string; timestamp: number; subject: string; body: string };
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pairs = (x: [string, string][]): XattrPairs =>
  x.map(([n, v]) => [Uint8Array.from(Buffer.from(n, 'hex')), Uint8Array.from(Buffer.from(v, 'hex'))]);

test('vectors: all 7 file headers and checksums', () => {
  assert.equal(V.files.length, 7);
  for (const f of V.files) {
    const header = fileHeader({
      uid: f.uid, gid: f.gid, mode: parseInt(f.mode.slice(2), 8), symlinkTarget: f.symlink_target, xattrs: pairs(f.xattrs),
    });
    assert.equal(hex(header), f.header_variant_hex, f.path);
    assert.equal(hex(contentChecksumPrefix(header)), f.checksum_input_prefix_hex, f.path);
    assert.equal(contentChecksum(header, Buffer.from(f.content_hex, 'hex')), f.file_checksum, f.path);
  }
});

test('vectors: all 8 dirmeta and dirtree objects, rebuilt from their children', () => {
  assert.equal(V.directories.length, 8);
  const fileSum = new Map(V.files.map((f) => [f.path, f.file_checksum]));
  const dirs = new Map(V.directories.map((d) => [d.path, d]));
  for (const d of V.directories) {
    const meta = dirmeta({ uid: d.uid, gid: d.gid, mode: parseInt(d.mode.slice(2), 8), xattrs: pairs(d.xattrs) });
    assert.equal(hex(meta), d.dirmeta_hex, d.path);
    assert.equal(sha256Hex(meta), d.dirmeta_sha256, d.path);
    assert.equal(parseInt(d.mode.slice(2), 8) & S_IFDIR, S_IFDIR);
    const prefix = d.path === '/' ? '/' : d.path + '/';
    const child = (p: string) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/') && p !== d.path;
    // Reverse the input order so that sorting inside dirtree() is exercised.
    const files = [...fileSum].filter(([p]) => child(p)).reverse()
      .map(([p, checksum]) => ({ name: p.slice(prefix.length), checksum }));
    const subdirs = [...dirs.values()].filter((s) => child(s.path)).reverse()
      .map((s) => ({ name: s.path.slice(prefix.length), tree: s.dirtree_sha256, meta: s.dirmeta_sha256 }));
    const tree = dirtree(files, subdirs);
    assert.equal(hex(tree), d.dirtree_hex, d.path);
    assert.equal(sha256Hex(tree), d.dirtree_sha256, d.path);
  }
  assert.equal(dirs.get('/')!.dirtree_sha256, V.root.dirtree_sha256);
});

test('vectors: commit object bytes and checksum', () => {
  const bytes = commitObject({
    metadata: [['version', { type: 's', value: '1.0' }]],
    subject: V.commit.subject,
    body: V.commit.body,
    timestamp: V.commit.timestamp,
    rootTree: V.root.dirtree_sha256,
    rootMeta: V.root.dirmeta_sha256,
  });
  assert.equal(hex(bytes), V.commit.hex);
  assert.equal(sha256Hex(bytes), V.commit.checksum);
  // And it decodes back to the same fields.
  const [meta, parent, related, subject, body, ts, tree, dmeta] = decode('(a{sv}aya(say)sstayay)', bytes) as unknown[];
  assert.deepEqual(meta, [['version', { type: 's', value: '1.0' }]]);
  assert.deepEqual([parent, related, subject, body], [new Uint8Array(0), [], 'test subject', '']);
  assert.equal(be64(ts as bigint), 1704164645n); // big-endian in the bytes
  assert.equal(hex(tree as Uint8Array), V.root.dirtree_sha256);
  assert.equal(hex(dmeta as Uint8Array), V.root.dirmeta_sha256);
});

test('spec constants: empty dirtree, root dirmeta, hello and empty files', () => {
  assert.equal(sha256Hex(dirtree([], [])), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  assert.equal(sha256Hex(dirmeta({ uid: 0, gid: 0, mode: 0o40755, xattrs: [] })),
    '446a0ef11b7cc167f3b603e585c7eeeeb675faa412d5ec73f62988eb0b6c5488');
  const h = fileHeader({ uid: 0, gid: 0, mode: 0o100644, symlinkTarget: '', xattrs: [] });
  assert.equal(hex(h), '0000000000000000000081a4000000000011');
  assert.equal(contentChecksum(h, Buffer.from('hello\n')), '44f778e59f0a4748d6b0c90a47347212a231c4ad1e8f7ea5c5dffc7749153a6b');
  assert.equal(contentChecksum(h), 'cc700d46f407c6c5ab2d5dde474366a928b7398277e61162e7f8ec06f469f07e');
});
