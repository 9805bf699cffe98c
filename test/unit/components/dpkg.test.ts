import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { LocalRootfs } from '../../../src/rootfs/local.ts';
import { changelogDates, parseChangelogDate } from '../../../src/chunking/components/debchangelog.ts';
import { parseDiversions, parseDpkgStatus, readDpkg } from '../../../src/chunking/components/dpkg.ts';
import { tempDir, writeTree } from './helpers.ts';

const STATUS = `Package: bash
Status: install ok installed
Priority: required
Architecture: amd64
Version: 5.2.15-2+b8
Source: bash (5.2.15-2)
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 More text.

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.36-9
Source: glibc

Package: libc-bin
Status: install ok installed
Architecture: amd64
Version: 2.36-9
Source: glibc
Conffiles:
 /etc/ld.so.conf 4317c6de8564b68d628c21efa96b37e4

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1

Package: never
Status: purge ok not-installed
Architecture: amd64

Package: tool
Status: install ok unpacked
Architecture: all
Version: 3

Package: nolist
Status: install ok installed
Architecture: amd64
Version: 1
`;

function changelog(pkg: string, entries: [string, string][]): Uint8Array {
  return gzipSync(entries.map(([v, d]) => `${pkg} (${v}) unstable; urgency=medium\n\n  * Change.\n\n -- Some One <one@example.org>  ${d}\n\n`).join(''));
}

function syntheticDebian(root: string): void {
  writeTree(root, {
    'var/lib/dpkg/status': STATUS,
    'var/lib/dpkg/info/bash.list': '/.\n/bin\n/bin/bash\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/bash\n/usr/share/doc/bash/changelog.Debian.gz\n',
    'var/lib/dpkg/info/libc6:amd64.list': '/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/libc6\n',
    'var/lib/dpkg/info/libc-bin.list': '/.\n/sbin\n/sbin/ldconfig\n/usr/share/doc/libc-bin\n',
    'var/lib/dpkg/info/tool.list': '/.\n/sbin\n/sbin/ldconfig\n',
    'var/lib/dpkg/info/gone.list': '/etc/gone.conf\n',
    'var/lib/dpkg/diversions': '/sbin/ldconfig\n/sbin/ldconfig.real\ntool\n',
    'usr/share/doc/bash/changelog.Debian.gz': changelog('bash', [
      ['5.2.15-2', 'Mon, 02 Jan 2023 13:06:21 +0100'],
      ['5.2.15-1', 'Sat, 31 Dec 2022 16:40:30 +0100'],
    ]),
    'usr/share/doc/bash/changelog.Debian.amd64.gz': changelog('bash', [['5.2.15-2+b8', 'Fri, 18 Apr 2025 22:47:34 +0000']]),
    'usr/share/doc/libc6/changelog.Debian.gz': changelog('glibc', [['2.36-9', 'Sat, 1 Apr 2023 10:00:00 +0200']]),
    'usr/share/doc/libc-bin': { link: 'libc6' },
    'usr/share/doc/tool/changelog.gz': changelog('tool', [['3', 'Tue, 05 Mar 2024 08:00:00 -0500'], ['2', 'Tue, 05 Mar 2023 08:00:00 -0500']]),
  });
}

test('readDpkg: status, lists (multi-arch names), diversions, source grouping, changelogs', async (t) => {
  const root = tempDir(t);
  syntheticDebian(root);
  const db = await readDpkg(new LocalRootfs(root));
  assert.ok(db !== undefined);
  assert.equal(db.label, "dpkg database 'var/lib/dpkg'");
  assert.equal(db.dir, 'var/lib/dpkg');
  assert.deepEqual(db.warnings, [
    "dpkg database 'var/lib/dpkg': 1 installed packages have no file list in 'var/lib/dpkg/info' (nolist:amd64); their files count as unowned",
  ]);
  const d = (s: string) => parseChangelogDate(s)!;
  assert.deepEqual(db.groups, [
    {
      id: 'deb:bash', versions: ['5.2.15-2+b8'],
      changelogs: [[d('18 Apr 2025 22:47:34 +0000'), d('02 Jan 2023 13:06:21 +0100'), d('31 Dec 2022 16:40:30 +0100')]],
      changeTime: d('18 Apr 2025 22:47:34 +0000'),
      paths: [
        { path: '/bin', kind: 'dir' }, { path: '/bin/bash' }, { path: '/usr', kind: 'dir' }, { path: '/usr/share', kind: 'dir' },
        { path: '/usr/share/doc', kind: 'dir' }, { path: '/usr/share/doc/bash', kind: 'dir' }, { path: '/usr/share/doc/bash/changelog.Debian.gz' },
      ],
    },
    {
      // libc-bin sorts first; its doc dir is a symlink to libc6's. Its /sbin/ldconfig is diverted by 'tool'.
      id: 'deb:glibc', versions: ['2.36-9', '2.36-9'],
      changelogs: [[d('Sat, 1 Apr 2023 10:00:00 +0200')]], changeTime: d('Sat, 1 Apr 2023 10:00:00 +0200'),
      paths: [
        { path: '/sbin', kind: 'dir' }, { path: '/sbin/ldconfig.real' }, { path: '/usr/share/doc/libc-bin' },
        { path: '/lib', kind: 'dir' }, { path: '/lib/x86_64-linux-gnu', kind: 'dir' }, { path: '/lib/x86_64-linux-gnu/libc.so.6' }, { path: '/usr/share/doc/libc6' },
      ],
    },
    { id: 'deb:nolist', versions: ['1'], changelogs: [[]], paths: [] },
    {
      // native package: only changelog.gz, in Debian format
      id: 'deb:tool', versions: ['3'],
      changelogs: [[d('Tue, 05 Mar 2024 08:00:00 -0500'), d('Tue, 05 Mar 2023 08:00:00 -0500')]], changeTime: d('Tue, 05 Mar 2024 08:00:00 -0500'),
      paths: [{ path: '/sbin', kind: 'dir' }, { path: '/sbin/ldconfig' }],
    },
  ]);
});

test('readDpkg: no database → undefined; a broken changelog is a warning', async (t) => {
  assert.equal(await readDpkg(new LocalRootfs(tempDir(t))), undefined);
  const root = tempDir(t);
  writeTree(root, {
    'var/lib/dpkg/status': 'Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n',
    'var/lib/dpkg/info/a.list': '/usr/bin/a\n',
    'usr/share/doc/a/changelog.Debian.gz': 'not gzip',
  });
  const db = await readDpkg(new LocalRootfs(root));
  assert.deepEqual(db?.warnings, ['usr/share/doc/a/changelog.Debian.gz: cannot decompress the changelog (incorrect header check); no change history for it']);
  assert.deepEqual(db?.groups.map((g) => [g.id, g.changeTime, g.changelogs]), [['deb:a', undefined, [[]]]]);
});

test('parseDpkgStatus: malformed input names the file and line', () => {
  const W = 'var/lib/dpkg/status';
  assert.throws(() => parseDpkgStatus('Status: install ok installed\n', W), { message: `${W}: the paragraph at line 1 has no Package field` });
  assert.throws(() => parseDpkgStatus('Package: a\nStatus: install ok installed\n\nPackage: b\nVersion: 1\n', W), { message: `${W}: package 'b' (line 4) has no Status field` });
  assert.throws(() => parseDpkgStatus('Package: a\nStatus: installed\n', W), { message: `${W}: package 'a' (line 1) has a malformed Status 'installed'` });
  assert.throws(() => parseDpkgStatus('Package: a\nthis is not a field\n', W), { message: `${W}: line 2 is not a 'Field: value' line: 'this is not a field'` });
  assert.throws(() => parseDpkgStatus(' continuation\n', W), { message: `${W}: line 1 continues a field but no field precedes it` });
  assert.deepEqual(parseDpkgStatus('package: a\nstatus: hold ok installed\nsource: src (1.0)\n', W), [
    { name: 'a', arch: '', version: '', source: 'src', state: 'installed' },
  ]);
});

test('parseDiversions: triples; a partial trailing triple is a warning', () => {
  assert.deepEqual(parseDiversions('/a\n/a.real\npkg\n/b\n/b.x\n', 'div'), {
    diversions: [{ from: '/a', to: '/a.real', by: 'pkg' }],
    warnings: ['div: 5 lines is not a multiple of 3; the last 2 ignored'],
  });
});

test('Debian changelog dates: the forms found in real changelogs', () => {
  assert.equal(parseChangelogDate('Mon, 02 Jan 2023 13:06:21 +0100'), 1672661181);
  assert.equal(parseChangelogDate('Fri,  30 May 1997 14:48:42 -0600'), 865025322);
  assert.equal(parseChangelogDate('Mon,  23 February 2004 13:10:00 +0900'), 1077509400);
  // expected values from GNU `date -d '…' +%s`
  assert.equal(parseChangelogDate('Sat, 8 Feb 1997 22:18:37 -0500'), 855458317);
  assert.equal(parseChangelogDate('Sat, 08 Feb 1997 22:18 -0500'), 855458280);
  assert.equal(parseChangelogDate('yesterday'), undefined);
  assert.equal(parseChangelogDate('Sat, 08 Foo 1997 22:18:37 -0500'), undefined);
  assert.equal(parseChangelogDate('Sat, 08 Feb 1997 25:18:37 -0500'), undefined);
  assert.deepEqual(changelogDates('p (1) u; urgency=low\n\n  * x\n\n -- A <a@b>  Mon, 02 Jan 2023 13:06:21 +0100\n -- broken trailer\n'), [1672661181]);
});

// Real data: the Debian host this runs on (read-only).
const HOST_DPKG = existsSync('/var/lib/dpkg/status') && existsSync('/usr/bin/dpkg-query');

test('host dpkg database: packages, sources and versions agree with dpkg-query', { skip: !HOST_DPKG && 'no dpkg on this host' }, async () => {
  const db = await readDpkg(new LocalRootfs('/', 'host'));
  assert.ok(db !== undefined);
  const out = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status}|${Package}|${Version}|${source:Package}\\n']).toString();
  const want = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const [state, , version, source] = line.split('|');
    if (line === '' || state === 'not-installed' || state === 'config-files') continue;
    want.set(`deb:${source}`, [...(want.get(`deb:${source}`) ?? []), version].sort());
  }
  assert.deepEqual(new Map(db.groups.map((g) => [g.id, [...g.versions].sort()])), want);
  const bashFiles = execFileSync('dpkg-query', ['-L', 'bash']).toString().split('\n').filter((l) => l !== '' && l !== '/.');
  const bash = db.groups.find((g) => g.id === 'deb:bash')!;
  assert.deepEqual(bash.paths.map((p) => p.path).filter((p) => bashFiles.includes(p)), bashFiles);
});

test('host changelogs: dates agree with dpkg-parsechangelog', { skip: !existsSync('/usr/bin/dpkg-parsechangelog') && 'no dpkg-parsechangelog' }, () => {
  let checked = 0;
  for (const f of ['bash/changelog.Debian.gz', 'coreutils/changelog.Debian.gz', 'libc6/changelog.Debian.gz', 'systemd/changelog.Debian.gz', 'dpkg/changelog.gz', 'apt/changelog.gz']) {
    const path = `/usr/share/doc/${f}`;
    if (!existsSync(path)) continue;
    const theirs = execFileSync('dpkg-parsechangelog', ['-l', path, '--all', '--format', 'rfc822', '-S', 'Timestamp']).toString().split('\n').filter(Boolean).map(Number);
    // dpkg-parsechangelog stops at ancient entries in pre-1997 formats; those it reads must match.
    const mine = changelogDates(new TextDecoder().decode(gunzipSync(readFileSync(path))));
    assert.ok(theirs.length >= 20, `${path}: only ${theirs.length} entries`);
    assert.deepEqual(mine.slice(0, theirs.length), theirs, path);
    checked++;
  }
  assert.ok(checked >= 3, `only ${checked} host changelogs found`);
});
