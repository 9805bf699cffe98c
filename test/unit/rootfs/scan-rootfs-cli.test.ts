import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanRootfsCommand } from '../../../src/cli/scan-rootfs.ts';
import { inventory } from '../../../src/rootfs/inventory.ts';
import { decodeListing } from '../../../src/rootfs/listing.ts';
import { LocalRootfs } from '../../../src/rootfs/local.ts';

function temp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'scan-cli-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('scan-rootfs writes the listing the frontend decodes: same entries, links and components as in-process', async (t) => {
  const dir = temp(t);
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/os-release'), 'ID=test\n');
  writeFileSync(join(root, 'usr/lib/a'), 'aaaa');
  linkSync(join(root, 'usr/lib/a'), join(root, 'etc/a-link'));
  symlinkSync('usr/lib', join(root, 'lib'));
  const out = join(dir, 'listing.json');
  assert.equal(await scanRootfsCommand([root, out]), 0);
  const got = decodeListing(readFileSync(out));
  assert.deepEqual(got, await inventory(new LocalRootfs(root, 'rootfs'), 16));
  assert.deepEqual(got.entries.map((e) => [e.path, e.linkGroup ?? null]), [
    ['etc', null], ['etc/a-link', 'etc/a-link'], ['etc/os-release', null], ['lib', null], ['usr', null], ['usr/lib', null], ['usr/lib/a', 'etc/a-link'],
  ]);
  assert.deepEqual(got.components.map((c) => [c.id, c.paths]), [
    ['rest:/', ['lib']], ['rest:etc', ['etc', 'etc/a-link', 'etc/os-release', 'usr/lib/a']], ['rest:usr', ['usr']], ['rest:usr/lib', ['usr/lib']],
  ]);
});

test('scan-rootfs: a scan failure becomes an error listing (exit 0, the frontend reports it)', async (t) => {
  const dir = temp(t);
  const root = join(dir, 'rootfs');
  mkdirSync(root);
  writeFileSync(Buffer.concat([Buffer.from(join(root, 'caf')), Buffer.from([0xe9])]), '');
  const out = join(dir, 'listing.json');
  assert.equal(await scanRootfsCommand([root, out]), 0);
  assert.throws(() => decodeListing(readFileSync(out)), { message: "scanning rootfs: rootfs: file name is not valid UTF-8: 'caf\\xe9'" });
});
