import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRootfs } from '../../../src/rootfs/local.ts';
import { compareBytewise } from '../../../src/rootfs/scan.ts';
import { findRpmdb, readSqliteRpmdb } from '../../../src/chunking/components/rpmdb.ts';
import { RpmHeader } from '../../../src/chunking/components/rpmheader.ts';
import { nevra, packageFromHeader, sourceName, TAG } from '../../../src/chunking/components/rpmpackage.ts';
import { readRpm } from '../../../src/chunking/components/rpmsource.ts';
import { groupChangeFrequency } from '../../../src/chunking/components/history.ts';
import { buildHeaderBlob, rawBlob } from './rpmheader-writer.ts';
import { FIXTURES, loadQf, qfBlobs, qfHeaderValues, writeRpmdbSqlite } from './fedora-qf.ts';
import { tempDir, writeTree } from './helpers.ts';

const RPMDB = `${FIXTURES}/upstream/chunkah/rpmdb.sqlite`;
const DB = 'usr/lib/sysimage/rpm/rpmdb.sqlite';

function rootWithDb(t: Parameters<typeof tempDir>[0], dbFile = RPMDB, at = DB): string {
  const root = tempDir(t);
  mkdirSync(join(root, at, '..'), { recursive: true });
  copyFileSync(dbFile, join(root, at));
  return root;
}

test('upstream chunkah rpmdb.sqlite: the 5 packages as rpm 4.18 reads them', async (t) => {
  const view = new LocalRootfs(rootWithDb(t));
  assert.deepEqual(await findRpmdb(view), { dir: 'usr/lib/sysimage/rpm', file: DB, backend: 'sqlite' });
  const pkgs = await readSqliteRpmdb(view, DB);
  assert.deepEqual(pkgs.map((p) => [p.hnum, nevra(p), p.epoch ?? null, p.sourceRpm, p.buildTime, p.changelogTimes, p.digestAlgo, p.files.length]), [
    [1, 'hummingbird-gpg-keys-20251124-1.8.hum1.noarch', null, 'hummingbird-release-20251124-1.8.hum1.src.rpm', 1770219203, [1763380800], 8, 2],
    [2, 'hummingbird-repos-20251124-1.8.hum1.noarch', null, 'hummingbird-release-20251124-1.8.hum1.src.rpm', 1770219203, [1763380800], 8, 1],
    [3, 'hummingbird-release-20251124-1.8.hum1.noarch', null, 'hummingbird-release-20251124-1.8.hum1.src.rpm', 1770219203, [1763380800], 8, 18],
    [4, 'setup-2.15.0-28.hum1.noarch', null, 'setup-2.15.0-28.hum1.src.rpm', 1769728220, [1769688000], 8, 45],
    [5, 'filesystem-3.18-52.hum1.x86_64', null, 'filesystem-3.18-52.hum1.src.rpm', 1770393871, [1770379200], 8, 17304],
  ]);
  // Every file row, formatted like
  //   rpm --dbpath … -qa --qf '[%{=NAME}|%{FILENAMES}|%{FILESIZES}|%{FILEMODES}|%{FILEDIGESTS}|%{FILEFLAGS}|%{FILELINKTOS}|%{FILESTATES}\n]' | LC_ALL=C sort | sha256sum
  // printed by rpm 4.18.0 (Debian bookworm) for this database.
  const rows = pkgs.flatMap((p) => p.files.map((f) => [p.name, f.path, f.size, f.mode, f.digest, f.flags, f.linkTo, f.state].join('|')));
  rows.sort(compareBytewise);
  assert.equal(rows.length, 17370);
  assert.equal(createHash('sha256').update(rows.join('\n') + '\n').digest('hex'), '18045738557b3736aa2fdcf65044cd8ef609a5b3516c8479eb2a39785fdc9d3a');
  assert.ok(rows.includes('filesystem|/bin|7|41471||0|usr/bin|0'));
  assert.ok(rows.includes('hummingbird-repos|/etc/yum.repos.d/hummingbird.repo|558|33188|52e5eb3989690ed14de0f7f8f5fa7ccd16873279b6a783619c09f5dd528a3253|17||0'));
});

test('fedora.qf: header blobs built from the rpm -q dump parse back to the same fields', () => {
  const qf = loadQf();
  assert.equal(qf.length, 10);
  for (const [i, blob] of qfBlobs(qf).entries()) {
    const q = qf[i];
    const p = packageFromHeader(new RpmHeader(blob, `qf ${q.name}`), i + 1);
    assert.deepEqual(
      [p.name, p.version, p.release, p.epoch, p.arch, p.sourceRpm, p.buildTime, p.digestAlgo, p.changelogTimes],
      [q.name, q.version, q.release, q.epoch, q.arch, q.sourceRpm, q.buildTime, q.digestAlgo, q.changelogTimes],
    );
    assert.deepEqual(
      p.files.map((f) => [f.path, f.size, f.mode, f.digest, f.flags, f.linkTo]),
      q.files.map((f) => [f.path, f.size, f.mode, f.digest, f.flags, f.linkTo]),
    );
  }
});

test('fedora.qf: identifiers, srcid and change frequency match rpm-ostree\'s derivation', async (t) => {
  const expected = JSON.parse(readFileSync(`${FIXTURES}/derived/fedora-qf-objectsourcemeta.json`, 'utf8'));
  const root = tempDir(t);
  mkdirSync(join(root, 'usr/lib/sysimage/rpm'), { recursive: true });
  writeRpmdbSqlite(join(root, DB), qfBlobs(loadQf()));
  const pkgs = await readSqliteRpmdb(new LocalRootfs(root), DB);
  const maxBuild = Math.max(...pkgs.map((p) => p.buildTime!));
  const minBuild = Math.min(...pkgs.map((p) => p.buildTime!));
  assert.equal(maxBuild, expected.highest_buildtime);
  assert.equal(minBuild, expected.lowest_buildtime);
  assert.deepEqual(pkgs.map((p) => ({
    identifier: nevra(p),
    name: p.name,
    srcid: p.sourceRpm,
    change_time_offset: Math.trunc((p.buildTime! - minBuild) / 3600),
    change_frequency: groupChangeFrequency([p.changelogTimes], maxBuild),
  })), expected.components.map(({ _inputs, ...c }: { _inputs: unknown }) => c));
});

test('readRpm groups binary packages by source rpm; ghost files are marked', async (t) => {
  const db = await readRpm(new LocalRootfs(rootWithDb(t)));
  assert.ok(db !== undefined);
  assert.equal(db.label, `rpmdb '${DB}'`);
  assert.equal(db.dir, 'usr/lib/sysimage/rpm');
  assert.deepEqual(db.warnings, []);
  assert.deepEqual(db.groups.map((g) => [g.id, g.versions, g.changeTime, g.paths.length, g.paths.filter((p) => p.ghost).length]), [
    ['rpm:filesystem', ['3.18-52.hum1'], 1770393871, 17304, 15748],
    ['rpm:hummingbird-release', ['20251124-1.8.hum1', '20251124-1.8.hum1', '20251124-1.8.hum1'], 1770219203, 21, 1],
    ['rpm:setup', ['2.15.0-28.hum1'], 1769728220, 45, 4], // 2 %ghost + 2 excluded docs (FILESTATES 'not installed')
  ]);
  const release = db.groups[1].paths.find((p) => p.ghost)!;
  assert.deepEqual(release, { path: '/etc/yum.repos.d/hummingbird.repo', kind: 'file', ghost: true });
});

test('sourceName', () => {
  assert.equal(sourceName('fedora-release-43-26.src.rpm'), 'fedora-release');
  assert.equal(sourceName('perl-5.42.0-521.fc43.src.rpm'), 'perl');
  assert.equal(sourceName('foo-1-2.nosrc.rpm'), 'foo');
  assert.equal(sourceName('garbage'), undefined);
});

test('rpmdb in a symlinked location is found at its real path', async (t) => {
  const root = rootWithDb(t, RPMDB, 'usr/lib/sysimage/rpm-real/rpmdb.sqlite');
  writeTree(root, { 'usr/share/rpm': { link: '/usr/lib/sysimage/rpm-real' }, 'var/lib/rpm': { link: '../../usr/share/rpm' } });
  const loc = await findRpmdb(new LocalRootfs(root));
  assert.deepEqual(loc, { dir: 'usr/lib/sysimage/rpm-real', file: 'usr/lib/sysimage/rpm-real/rpmdb.sqlite', backend: 'sqlite' });
  // usr/lib/sysimage/rpm exists but is empty: keep looking.
  writeTree(root, { 'usr/lib/sysimage/rpm': { dir: true } });
  assert.equal((await findRpmdb(new LocalRootfs(root)))?.dir, 'usr/lib/sysimage/rpm-real');
});

test('BerkeleyDB and ndb rpmdbs: not supported, with a warning naming the path', async (t) => {
  const bdb = tempDir(t);
  writeTree(bdb, { 'var/lib/rpm/Packages': 'bdb', 'var/lib/rpm/Name': 'bdb' });
  assert.deepEqual(await readRpm(new LocalRootfs(bdb, 'old')), {
    label: "rpmdb 'var/lib/rpm/Packages'", dir: 'var/lib/rpm', groups: [],
    warnings: ["rpmdb 'var/lib/rpm/Packages' in old: the BerkeleyDB rpmdb backend is not supported (only SQLite 'rpmdb.sqlite'); its packages are not used as components and their files are grouped by path instead"],
  });
  const ndb = tempDir(t);
  writeTree(ndb, { 'usr/lib/sysimage/rpm/Packages.db': 'ndb' });
  const r = await readRpm(new LocalRootfs(ndb, 'suse'));
  assert.deepEqual(r?.warnings, ["rpmdb 'usr/lib/sysimage/rpm/Packages.db' in suse: the ndb rpmdb backend is not supported (only SQLite 'rpmdb.sqlite'); its packages are not used as components and their files are grouped by path instead"]);
  assert.equal(await readRpm(new LocalRootfs(tempDir(t))), undefined);
});

test('corrupt and truncated sqlite databases fail with the database path', async (t) => {
  const fixture = readFileSync(RPMDB);
  const cases: [string, Uint8Array, string][] = [
    ['junk', new TextEncoder().encode('this is not a database at all, just some text that is long enough to have a header'), 'file is not a database'],
    ['truncated', fixture.subarray(0, 8192), 'database disk image is malformed'],
    ['truncated-late', fixture.subarray(0, 1_000_000), 'database disk image is malformed'],
    ['empty', new Uint8Array(), 'no such table: Packages'],
  ];
  for (const [name, bytes, why] of cases) {
    const root = tempDir(t);
    writeTree(root, { [DB]: bytes });
    await assert.rejects(readRpm(new LocalRootfs(root, name)), {
      message: `rpmdb '${DB}' in ${name}: cannot read SQLite database: ${why}`,
    }, name);
  }
});

test('a header blob that lies inside the sqlite names the database and the package', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'var/lib/rpm'), { recursive: true });
  const good = buildHeaderBlob(qfHeaderValues(loadQf()[0]));
  const bad = good.slice();
  new DataView(bad.buffer).setUint32(4, new DataView(bad.buffer).getUint32(4) + 100); // dl += 100
  writeRpmdbSqlite(join(root, 'var/lib/rpm/rpmdb.sqlite'), [good, bad]);
  const dl = new DataView(bad.buffer).getUint32(4);
  const il = new DataView(bad.buffer).getUint32(0);
  await assert.rejects(readRpm(new LocalRootfs(root)), {
    message: `rpmdb 'var/lib/rpm/rpmdb.sqlite' package #2: header declares ${il} index entries and ${dl} data bytes (${8 + il * 16 + dl} bytes in all) but the blob is ${bad.length} bytes`,
  });
});

test('lying headers: every offset, count and length is checked', () => {
  const W = 'db #7';
  const parse = (blob: Uint8Array) => packageFromHeader(new RpmHeader(blob, W), 7);
  const str = (s: string) => new TextEncoder().encode(`${s}\0`);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(4), 'header blob is 4 bytes, too short for its 8-byte preamble'],
    [rawBlob([], new Uint8Array()), 'header declares 0 index entries (want 1..65535)'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: 0, count: 1 }], str('x'), { il: 70000 }), 'header declares 70000 index entries (want 1..65535)'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: 0, count: 1 }], str('x'), { dl: 300_000_000 }), 'header declares 300000000 data bytes (limit 268435456)'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: 0, count: 1 }], str('x'), { il: 2 }), 'header declares 2 index entries and 2 data bytes (42 bytes in all) but the blob is 26 bytes'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: 9, count: 1 }], str('bash')), 'index entry 0 (tag 1000) has data offset 9 outside the 5-byte data store'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: -4, count: 1 }], str('bash')), 'index entry 0 (tag 1000) has data offset -4 outside the 5-byte data store'],
    [rawBlob([{ tag: TAG.NAME, type: 12, offset: 0, count: 1 }], str('bash')), 'index entry 0 (tag 1000) has unknown data type 12'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: 0, count: 0 }], str('bash')), 'index entry 0 (tag 1000) has implausible count 0 for a 5-byte data store'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: 0, count: 2 }], str('bash')), 'index entry 0 (tag 1000) is a STRING with count 2 (want 1)'],
    [rawBlob([{ tag: TAG.NAME, type: 6, offset: 0, count: 1 }], new TextEncoder().encode('bash')), 'index entry 0 (tag 1000): string 1 of 1 at offset 0 runs past the end of the 4-byte data store'],
    [rawBlob([{ tag: TAG.BASENAMES, type: 8, offset: 0, count: 3 }], str('a\0b')), 'index entry 0 (tag 1117): string 3 of 3 at offset 4 runs past the end of the 4-byte data store'],
    [rawBlob([{ tag: TAG.FILESIZES, type: 4, offset: 4, count: 2 }], new Uint8Array(8)), 'index entry 0 (tag 1028): 2 INT32 values (8 bytes) at offset 4 run past the end of the 8-byte data store'],
    [buildHeaderBlob([{ tag: TAG.VERSION, type: 'STRING', value: '1' }, { tag: TAG.RELEASE, type: 'STRING', value: '1' }]), 'header has no NAME'],
    [buildHeaderBlob([{ tag: TAG.NAME, type: 'INT32', value: [5] }]), 'NAME (index entry 0) has type INT32, want a string'],
  ];
  const base = [
    { tag: TAG.NAME, type: 'STRING', value: 'p' }, { tag: TAG.VERSION, type: 'STRING', value: '1' }, { tag: TAG.RELEASE, type: 'STRING', value: '1' },
  ] as const;
  cases.push(
    [buildHeaderBlob([...base, { tag: TAG.BASENAMES, type: 'STRING_ARRAY', value: ['a', 'b'] }, { tag: TAG.DIRNAMES, type: 'STRING_ARRAY', value: ['/'] }, { tag: TAG.DIRINDEXES, type: 'INT32', value: [0, 3] }]),
      'DIRINDEXES[1] = 3 but there are 1 DIRNAMES'],
    [buildHeaderBlob([...base, { tag: TAG.BASENAMES, type: 'STRING_ARRAY', value: ['a', 'b'] }, { tag: TAG.DIRNAMES, type: 'STRING_ARRAY', value: ['/'] }, { tag: TAG.DIRINDEXES, type: 'INT32', value: [0] }]),
      'DIRINDEXES has 1 values for 2 BASENAMES'],
    [buildHeaderBlob([...base, { tag: TAG.BASENAMES, type: 'STRING_ARRAY', value: ['a'] }]), 'header has BASENAMES but no DIRNAMES/DIRINDEXES'],
    [buildHeaderBlob([...base, { tag: TAG.BASENAMES, type: 'STRING_ARRAY', value: ['a', 'b'] }, { tag: TAG.DIRNAMES, type: 'STRING_ARRAY', value: ['/'] }, { tag: TAG.DIRINDEXES, type: 'INT32', value: [0, 0] }, { tag: TAG.FILESIZES, type: 'INT32', value: [1, 2, 3] }]),
      'FILESIZES has 3 values for 2 files'],
  );
  for (const [blob, msg] of cases) assert.throws(() => parse(blob), { message: `${W}: ${msg}` });
});

test('header details: dribble entries replace region entries, LONGFILESIZES, OLDFILENAMES, epoch', () => {
  const blob = buildHeaderBlob([
    { tag: TAG.NAME, type: 'STRING', value: 'old' },
    { tag: TAG.VERSION, type: 'STRING', value: '1' },
    { tag: TAG.RELEASE, type: 'STRING', value: '2' },
    { tag: TAG.EPOCH, type: 'INT32', value: [3] },
    { tag: 1027, type: 'STRING_ARRAY', value: ['/usr/bin/a', '/usr/lib/big'] },
    { tag: TAG.FILESIZES, type: 'INT32', value: [1, 0] },
    { tag: TAG.LONGFILESIZES, type: 'INT64', value: [1, 2 ** 40] },
    { tag: TAG.NAME, type: 'STRING', value: 'new' },
  ]);
  const p = packageFromHeader(new RpmHeader(blob, 'x'), 1);
  assert.equal(nevra(p), 'new-3:1-2');
  assert.deepEqual(p.files.map((f) => [f.path, f.size, f.mode, f.state]), [['/usr/bin/a', 1, 0o100644, 0], ['/usr/lib/big', 2 ** 40, 0o100644, 0]]);
});
