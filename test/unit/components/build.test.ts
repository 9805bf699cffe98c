import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRootfs } from '../../../src/rootfs/local.ts';
import { compareBytewise, scanRootfs } from '../../../src/rootfs/scan.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';
import type { Component } from '../../../src/chunking/types.ts';
import { buildComponents, EVERY_BUILD, restKey, type PackageDb } from '../../../src/chunking/components/index.ts';
import { readRpm } from '../../../src/chunking/components/rpmsource.ts';
import { FIXTURES, loadQf, qfBlobs, writeRpmdbSqlite } from './fedora-qf.ts';
import { dir, file, link, MemView, shuffled, tempDir, writeTree } from './helpers.ts';

const DAY = 86400;
const xattr = (v: string | Uint8Array) => ({ 'user.component': typeof v === 'string' ? new TextEncoder().encode(v) : v });

/** The invariants every result must satisfy, whatever the rootfs. */
function assertPartition(entries: readonly FsEntry[], components: Component[]): void {
  const owner = new Map<string, string>();
  for (const c of components) {
    assert.ok(c.paths.length > 0, `${c.id} is empty`);
    assert.deepEqual(c.paths, [...c.paths].sort(compareBytewise), `${c.id}: paths not sorted`);
    for (const p of c.paths) {
      assert.equal(owner.get(p), undefined, `${p} in ${owner.get(p)} and ${c.id}`);
      owner.set(p, c.id);
    }
  }
  assert.deepEqual(components.map((c) => c.id), components.map((c) => c.id).sort(compareBytewise));
  assert.equal(owner.size, entries.length);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const c of components) {
    const seen = new Set<string>();
    let size = 0;
    for (const p of c.paths) {
      const e = byPath.get(p)!;
      assert.ok(e !== undefined, `${c.id} has unknown path ${p}`);
      if (e.kind !== 'file' || (e.linkGroup !== undefined && seen.has(e.linkGroup))) continue;
      if (e.linkGroup !== undefined) seen.add(e.linkGroup);
      size += e.size;
    }
    assert.equal(c.size, size, `${c.id}: size`);
  }
  for (const e of entries) {
    if (e.linkGroup !== undefined) assert.equal(owner.get(e.path), owner.get(e.linkGroup), `hard link ${e.path} apart from ${e.linkGroup}`);
  }
}

// A rootfs exercising every rule, with its package database given directly.
const T = 1_700_000_000;
const ENTRIES: FsEntry[] = [
  link('bin', 'usr/bin'),
  dir('etc'), file('etc/passwd', 100), file('etc/pkg.conf', 7),
  dir('opt'), dir('opt/app'), file('opt/app/big.bin', 2 * 1024 * 1024), file('opt/app/small', 10), dir('opt/other'), file('opt/other/x', 5),
  dir('usr'), dir('usr/bin'), file('usr/bin/a', 1), file('usr/bin/b', 2), file('usr/bin/ghosted', 3),
  file('usr/bin/hl1', 4, { linkGroup: 'usr/bin/hl1' }), file('usr/bin/shared', 5),
  dir('usr/lib'), file('usr/lib/hl2', 4, { linkGroup: 'usr/bin/hl1' }),
  dir('usr/lib/modules'), dir('usr/lib/modules/6.1'), file('usr/lib/modules/6.1/initramfs.img', 3_000_000), file('usr/lib/modules/6.1/vmlinuz', 6),
  file('usr/lib/os-release', 8), dir('usr/lib/sysimage'), dir('usr/lib/sysimage/rpm'), file('usr/lib/sysimage/rpm/rpmdb.sqlite', 9),
  dir('usr/share'), dir('usr/share/x', { xattrs: xattr('mine') }), file('usr/share/x/f', 11), dir('usr/share/x/sub'),
  file('usr/share/x/sub/g', 12, { xattrs: xattr('other\0') }),
  dir('var'), dir('var/log'), file('var/log/big.log', 1024 * 1024), file('var/log/small.log', 1024 * 1024 - 1),
];
const DB: PackageDb = {
  label: "rpmdb 'usr/lib/sysimage/rpm/rpmdb.sqlite'",
  dir: 'usr/lib/sysimage/rpm',
  warnings: ['a warning from the reader'],
  groups: [
    {
      id: 'rpm:a', versions: ['1.0-1'], changeTime: T, changelogs: [[T - 10 * DAY, T - 400 * DAY]],
      paths: [
        { path: '/bin/a', kind: 'file' }, { path: '/etc/pkg.conf', kind: 'file' }, { path: '/usr/bin/shared', kind: 'file' },
        { path: '/usr/bin/ghosted', kind: 'file', ghost: true }, { path: '/usr/bin/hl1', kind: 'file' }, { path: '/usr/share/x/f', kind: 'file' },
        { path: '/usr/bin', kind: 'dir' }, { path: '/usr/lib/sysimage/rpm', kind: 'dir' }, { path: '/missing/file', kind: 'file' },
        { path: '/usr/lib/os-release', kind: 'dir' }, { path: '/dev/null', kind: 'other' },
      ],
    },
    {
      id: 'rpm:b', versions: ['2-1', '2-1'], changeTime: T - 10_000_000, changelogs: [[], []],
      paths: [{ path: '/usr/bin/b', kind: 'file' }, { path: '/usr/bin/shared', kind: 'file' }, { path: '/usr/bin', kind: 'dir' }, { path: '/bin', kind: 'dir' }],
    },
    {
      id: 'rpm:kernel', versions: ['6.1-1'], changeTime: T - 50_000_000, changelogs: [[T - 50_000_000]],
      paths: [
        { path: '/usr/lib/modules/6.1/vmlinuz', kind: 'file' }, { path: '/usr/lib/modules/6.1/initramfs.img', kind: 'file' },
        { path: '/usr/lib/modules/6.1', kind: 'dir' }, { path: '/usr/lib/modules', kind: 'dir' },
      ],
    },
  ],
};

test('buildComponents: every rule on a synthetic rootfs', async () => {
  const view = new MemView(ENTRIES);
  const { components, warnings } = await buildComponents(view, ENTRIES, { readers: [async () => DB] });
  assertPartition(ENTRIES, components);
  assert.deepEqual(components, [
    { id: 'big:opt/app/big.bin', paths: ['opt/app/big.bin'], size: 2097152 },
    { id: 'big:var/log/big.log', paths: ['var/log/big.log'], size: 1048576 },
    { id: 'rest:/', paths: ['bin'], size: 0 },
    { id: 'rest:etc', paths: ['etc', 'etc/passwd'], size: 100, changeFrequency: EVERY_BUILD },
    { id: 'rest:opt', paths: ['opt'], size: 0 },
    { id: 'rest:opt/app', paths: ['opt/app', 'opt/app/small'], size: 10 },
    { id: 'rest:opt/other', paths: ['opt/other', 'opt/other/x'], size: 5 },
    { id: 'rest:usr', paths: ['usr'], size: 0 },
    { id: 'rest:usr/bin', paths: ['usr/bin/ghosted'], size: 3 },
    { id: 'rest:usr/lib', paths: ['usr/lib', 'usr/lib/os-release'], size: 8 },
    { id: 'rest:usr/lib/modules/6.1/initramfs.img', paths: ['usr/lib/modules/6.1/initramfs.img'], size: 3000000, changeFrequency: EVERY_BUILD },
    { id: 'rest:usr/lib/sysimage', paths: ['usr/lib/sysimage'], size: 0 },
    { id: 'rest:usr/lib/sysimage/rpm', paths: ['usr/lib/sysimage/rpm', 'usr/lib/sysimage/rpm/rpmdb.sqlite'], size: 9, changeFrequency: EVERY_BUILD },
    { id: 'rest:usr/share', paths: ['usr/share'], size: 0 },
    { id: 'rest:var', paths: ['var'], size: 0 },
    { id: 'rest:var/log', paths: ['var/log', 'var/log/small.log'], size: 1048575 },
    {
      id: 'rpm:a', paths: ['etc/pkg.conf', 'usr/bin', 'usr/bin/a', 'usr/bin/hl1', 'usr/bin/shared', 'usr/lib/hl2'], size: 17,
      version: '1.0-1', changeTime: T, changeFrequency: 1,
    },
    { id: 'rpm:b', paths: ['usr/bin/b'], size: 2, version: '2-1', changeTime: T - 10_000_000 },
    {
      id: 'rpm:kernel', paths: ['usr/lib/modules', 'usr/lib/modules/6.1', 'usr/lib/modules/6.1/vmlinuz'], size: 6,
      version: '6.1-1', changeTime: T - 50_000_000, changeFrequency: 0,
    },
    { id: 'xattr:mine', paths: ['usr/share/x', 'usr/share/x/f', 'usr/share/x/sub'], size: 11 },
    { id: 'xattr:other', paths: ['usr/share/x/sub/g'], size: 12 },
  ]);
  assert.deepEqual(warnings, [
    'a warning from the reader',
    "rpmdb 'usr/lib/sysimage/rpm/rpmdb.sqlite': 1 paths listed by installed packages are not in the rootfs and were ignored ('missing/file')",
    "rpmdb 'usr/lib/sysimage/rpm/rpmdb.sqlite': 1 paths have another type in the rootfs than in the database and were left unowned ('usr/lib/os-release' (dir in the database, file in the rootfs))",
    "test rootfs: 8 regular files belong to no package and are grouped by path ('etc/passwd', 'opt/app/big.bin', 'opt/app/small', 'opt/other/x', 'usr/bin/ghosted', …)",
  ]);
});

test('buildComponents: deterministic under reordering of entries, packages and their paths', async () => {
  const view = new MemView(ENTRIES);
  const base = await buildComponents(view, ENTRIES, { readers: [async () => DB] });
  for (const seed of [1, 7, 42, 1234]) {
    const db: PackageDb = { ...DB, groups: shuffled(DB.groups, seed).map((g) => ({ ...g, paths: shuffled(g.paths, seed + 1) })) };
    const again = await buildComponents(view, shuffled(ENTRIES, seed), { readers: [async () => db] });
    assert.deepEqual(again, base, `seed ${seed}`);
  }
});

test('buildComponents: options, hard-linked big files, duplicates, bad xattrs', async () => {
  const entries = [
    dir('data'), file('data/a', 500, { linkGroup: 'data/a' }), file('data/b', 500, { linkGroup: 'data/a' }),
    file('data/c', 499, { xattrs: xattr(new Uint8Array([0xff])) }),
  ];
  const r = await buildComponents(new MemView(entries), entries, { readers: [], bigFileThreshold: 500 });
  assertPartition(entries, r.components);
  assert.deepEqual(r.components, [
    { id: 'big:data/a', paths: ['data/a', 'data/b'], size: 500 },
    { id: 'rest:data', paths: ['data', 'data/c'], size: 499 },
  ]);
  assert.deepEqual(r.warnings, ["test rootfs: ignoring user.component of 'data/c': not valid UTF-8"]);
  await assert.rejects(buildComponents(new MemView([]), [dir('x'), dir('x')], { readers: [] }), { message: "test rootfs: entry 'x' listed twice" });
});

test('buildComponents: ostree layout maps /etc to usr/etc; referenceTime option', async () => {
  const entries = [dir('usr'), dir('usr/etc'), file('usr/etc/owned', 1), file('usr/etc/generated', 2)];
  const db: PackageDb = {
    label: 'db', dir: 'var/lib/x', warnings: [],
    groups: [{ id: 'rpm:p', versions: ['1'], changeTime: T, changelogs: [[T, T - 100 * DAY, T - 200 * DAY]], paths: [{ path: '/etc/owned', kind: 'file' }] }],
  };
  const r = await buildComponents(new MemView(entries), entries, { readers: [async () => db], referenceTime: T + 250 * DAY });
  assert.deepEqual(r.components, [
    { id: 'rest:usr', paths: ['usr'], size: 0 },
    { id: 'rest:usr/etc', paths: ['usr/etc', 'usr/etc/generated'], size: 2, changeFrequency: EVERY_BUILD },
    { id: 'rpm:p', paths: ['usr/etc/owned'], size: 1, version: '1', changeTime: T, changeFrequency: 2 },
  ]);
});

test('restKey', () => {
  const cases: [string, FsEntry['kind'], string][] = [
    ['bin', 'symlink', '/'], ['.dockerenv', 'file', '/'], ['root', 'dir', 'root'], ['root/.bashrc', 'file', 'root'],
    ['usr', 'dir', 'usr'], ['usr/lib', 'dir', 'usr/lib'], ['usr/lib/os-release', 'file', 'usr/lib'],
    ['usr/lib/python3', 'dir', 'usr/lib/python3'], ['usr/lib/python3/dist-packages/x/__pycache__/y.pyc', 'file', 'usr/lib/python3'],
    ['usr/bin/foo', 'file', 'usr/bin'], ['usr/local/go/bin/go', 'file', 'usr/local/go'], ['opt/app/bin/app', 'file', 'opt/app'],
    ['opt/README', 'file', 'opt'], ['var/lib/apt/extended_states', 'file', 'var/lib/apt'], ['var/log/x.log', 'file', 'var/log'],
    ['usr/share/mime/mime.cache', 'file', 'usr/share/mime'],
  ];
  for (const [p, k, want] of cases) assert.equal(restKey(p, k), want, p);
});

// End to end on real package data: the ten Fedora 43 packages of upstream chunkah's fedora.qf,
// installed as files in a temporary rootfs, with an rpmdb.sqlite built from the same records.
test('fedora.qf rootfs: scan + rpmdb + buildComponents', async (t) => {
  const root = tempDir(t);
  const qf = loadQf();
  const skip = new Set(['/usr/bin/bashbug-64']); // listed but absent from the rootfs
  for (const p of qf) {
    for (const f of p.files) {
      if ((f.flags & 64) !== 0 || skip.has(f.path)) continue; // %ghost
      const abs = join(root, f.path);
      const type = f.mode & 0o170000;
      if (type === 0o040000) { mkdirSync(abs, { recursive: true }); continue; }
      mkdirSync(join(abs, '..'), { recursive: true });
      if (type === 0o120000) symlinkSync(f.linkTo, abs);
      else { writeFileSync(abs, ''); truncateSync(abs, f.size); }
    }
  }
  writeTree(root, { 'usr/bin/local-tool': 'x', bin: { link: 'usr/bin' }, 'usr/sbin': { link: 'bin' }, 'usr/lib/sysimage/rpm': { dir: true } });
  writeRpmdbSqlite(join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite'), qfBlobs(qf));
  const view = new LocalRootfs(root, 'fedora');
  const { entries, warnings: scanWarnings } = await scanRootfs(view);
  assert.deepEqual(scanWarnings, []);
  const { components, warnings } = await buildComponents(view, entries);
  assertPartition(entries, components);
  assert.deepEqual(warnings, [
    "rpmdb 'usr/lib/sysimage/rpm/rpmdb.sqlite': 1 paths listed by installed packages are not in the rootfs and were ignored ('usr/bin/bashbug-64')",
    "fedora: 1 regular files belong to no package and are grouped by path ('usr/bin/local-tool')",
  ]);
  const pkgComponents = components.filter((c) => c.id.startsWith('rpm:'));
  const expected = JSON.parse(readFileSync(`${FIXTURES}/derived/fedora-qf-objectsourcemeta.json`, 'utf8')).components as
    { identifier: string; srcid: string; change_frequency: number; _inputs: { buildtime: number } }[];
  // One binary per source here, so each component carries its package's rpm-ostree metadata.
  assert.deepEqual(pkgComponents.map((c) => [c.id, c.version, c.changeTime, c.changeFrequency]), expected.map((e) => [
    `rpm:${e.srcid.replace(/-[^-]+-[^-]+\.src\.rpm$/, '')}`,
    e.identifier.replace(/^.*?-((?:\d+:)?[^-]+-[^-]+)\.[^.]+$/, '$1'),
    e._inputs.buildtime,
    e.change_frequency,
  ]).sort((a, b) => compareBytewise(a[0] as string, b[0] as string)));
  const bash = components.find((c) => c.id === 'rpm:bash')!;
  const bashFiles = qf.find((p) => p.name === 'bash')!.files.filter((f) => (f.mode & 0o170000) === 0o100000 && (f.flags & 64) === 0 && !skip.has(f.path));
  assert.equal(bash.size, bashFiles.reduce((s, f) => s + f.size, 0));
  assert.ok(bash.paths.includes('usr/bin/bash') && bash.paths.includes('usr/bin/sh'));
  assert.deepEqual(components.find((c) => c.id === 'rest:usr/lib/sysimage/rpm')?.paths, ['usr/lib/sysimage/rpm', 'usr/lib/sysimage/rpm/rpmdb.sqlite']);
  // `usr/lib/.build-id` is listed by several packages: the smallest component id gets it.
  const owners = qf.filter((p) => p.files.some((f) => f.path === '/usr/lib/.build-id')).map((p) => `rpm:${p.sourceRpm.replace(/-[^-]+-[^-]+\.src\.rpm$/, '')}`);
  assert.ok(owners.length > 1);
  assert.ok(components.find((c) => c.id === owners.sort(compareBytewise)[0])!.paths.includes('usr/lib/.build-id'));
});

test('upstream rpmdb fixture: files it lists that the rootfs lacks are counted, the rest go unowned', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'usr/lib/sysimage/rpm/rpmdb.sqlite': readFileSync(`${FIXTURES}/upstream/chunkah/rpmdb.sqlite`), 'etc/local.conf': 'x', 'usr/bin': { dir: true } });
  const view = new LocalRootfs(root, 'tiny');
  const { entries } = await scanRootfs(view);
  const db = await readRpm(view);
  const listed = new Set(db!.groups.flatMap((g) => g.paths.filter((p) => !p.ghost && p.kind !== 'other' && p.path !== '/').map((p) => p.path.slice(1))));
  const { components, warnings } = await buildComponents(view, entries);
  assertPartition(entries, components);
  const present = ['usr', 'usr/bin', 'etc', 'usr/lib', 'usr/lib/sysimage', 'usr/lib/sysimage/rpm'].filter((p) => listed.has(p));
  assert.deepEqual(warnings, [
    `rpmdb 'usr/lib/sysimage/rpm/rpmdb.sqlite': ${listed.size - present.length} paths listed by installed packages are not in the rootfs and were ignored ('afs', 'bin', 'boot', 'dev', 'etc/X11', …)`,
    "tiny: 1 regular files belong to no package and are grouped by path ('etc/local.conf')",
  ]);
  assert.deepEqual(components.map((c) => [c.id, c.paths]), [
    ['rest:etc', ['etc/local.conf']],
    ['rest:usr/lib/sysimage/rpm', ['usr/lib/sysimage/rpm', 'usr/lib/sysimage/rpm/rpmdb.sqlite']],
    ['rpm:filesystem', ['etc', 'usr', 'usr/bin', 'usr/lib', 'usr/lib/sysimage']],
  ]);
});

test('unsupported rpmdb backend: warning, then non-package components with the db dir alone', async (t) => {
  const root = tempDir(t);
  writeTree(root, { 'var/lib/rpm/Packages': 'bdb', 'usr/bin/bash': 'bash', 'etc/passwd': 'root' });
  const view = new LocalRootfs(root, 'el7');
  const { entries } = await scanRootfs(view);
  const { components, warnings } = await buildComponents(view, entries);
  assertPartition(entries, components);
  assert.deepEqual(warnings, [
    "rpmdb 'var/lib/rpm/Packages' in el7: the BerkeleyDB rpmdb backend is not supported (only SQLite 'rpmdb.sqlite'); its packages are not used as components and their files are grouped by path instead",
  ]);
  assert.deepEqual(components.map((c) => c.id), ['rest:etc', 'rest:usr', 'rest:usr/bin', 'rest:var', 'rest:var/lib', 'rest:var/lib/rpm']);
});

test('dpkg rootfs with usrmerge symlinks, end to end', async (t) => {
  const root = tempDir(t);
  writeTree(root, {
    bin: { link: 'usr/bin' }, lib: { link: 'usr/lib' }, sbin: { link: 'usr/sbin' },
    'usr/bin/bash': 'bash', 'usr/lib/x86_64-linux-gnu/libc.so.6': 'libc', 'usr/sbin/ldconfig': 'wrapper', 'usr/sbin/ldconfig.real': 'ldconfig',
    'usr/share/doc/bash/changelog.Debian.gz': 'x', 'usr/share/doc/libc-bin': { link: 'libc6' }, 'usr/share/doc/libc6/copyright': 'c',
    'var/lib/dpkg/status': 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5\n\n'
      + 'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36\nSource: glibc\n\n'
      + 'Package: libc-bin\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36\nSource: glibc\n\n'
      + 'Package: tool\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n',
    'var/lib/dpkg/info/bash.list': '/.\n/bin\n/bin/bash\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/bash\n/usr/share/doc/bash/changelog.Debian.gz\n',
    'var/lib/dpkg/info/libc6:amd64.list': '/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/libc6\n/usr/share/doc/libc6/copyright\n',
    'var/lib/dpkg/info/libc-bin.list': '/.\n/sbin\n/sbin/ldconfig\n/usr/share/doc/libc-bin\n',
    'var/lib/dpkg/info/tool.list': '/.\n/sbin\n/sbin/ldconfig\n',
    'var/lib/dpkg/diversions': '/sbin/ldconfig\n/sbin/ldconfig.real\ntool\n',
  });
  const view = new LocalRootfs(root, 'debian');
  const { entries } = await scanRootfs(view);
  const { components, warnings } = await buildComponents(view, entries);
  assertPartition(entries, components);
  assert.deepEqual(warnings, ['usr/share/doc/bash/changelog.Debian.gz: cannot decompress the changelog (unexpected end of file); no change history for it']);
  assert.deepEqual(components.map((c) => [c.id, c.paths, c.version ?? null]), [
    ['deb:bash', ['usr', 'usr/bin/bash', 'usr/share', 'usr/share/doc', 'usr/share/doc/bash', 'usr/share/doc/bash/changelog.Debian.gz'], '5'],
    ['deb:glibc', ['usr/lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu/libc.so.6', 'usr/sbin/ldconfig.real', 'usr/share/doc/libc-bin', 'usr/share/doc/libc6', 'usr/share/doc/libc6/copyright'], '2.36'],
    ['deb:tool', ['usr/sbin/ldconfig'], '1'],
    ['rest:/', ['bin', 'lib', 'sbin'], null],
    ['rest:usr/bin', ['usr/bin'], null],
    ['rest:usr/lib', ['usr/lib'], null],
    ['rest:usr/sbin', ['usr/sbin'], null],
    ['rest:var', ['var'], null],
    ['rest:var/lib', ['var/lib'], null],
    ['rest:var/lib/dpkg', ['var/lib/dpkg', 'var/lib/dpkg/diversions', 'var/lib/dpkg/info', 'var/lib/dpkg/info/bash.list', 'var/lib/dpkg/info/libc-bin.list', 'var/lib/dpkg/info/libc6:amd64.list', 'var/lib/dpkg/info/tool.list', 'var/lib/dpkg/status'], null],
  ]);
});
