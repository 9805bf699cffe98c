import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LocalRootfs } from '../../../src/rootfs/local.ts';
import { scanRootfs } from '../../../src/rootfs/scan.ts';
import { buildComponents } from '../../../src/chunking/components/index.ts';
import { readAlpm } from '../../../src/chunking/components/alpm.ts';
import { readSqliteRpmdb } from '../../../src/chunking/components/rpmdb.ts';
import { loadQf, qfBlobs } from './fedora-qf.ts';
import { tempDir, writeTree } from './helpers.ts';

test('rpmdb with an un-checkpointed -wal file: committed packages in the WAL are read', async (t) => {
  const scratch = tempDir(t);
  const root = tempDir(t);
  const blobs = qfBlobs(loadQf());
  const db = new DatabaseSync(join(scratch, 'rpmdb.sqlite'));
  db.exec('PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0');
  db.exec("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)");
  const ins = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  for (const b of blobs.slice(0, 3)) ins.run(b);
  // Copy while the writer is still open, as an image build that did not checkpoint would leave it.
  mkdirSync(join(root, 'usr/lib/sysimage/rpm'), { recursive: true });
  copyFileSync(join(scratch, 'rpmdb.sqlite'), join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite'));
  copyFileSync(join(scratch, 'rpmdb.sqlite-wal'), join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite-wal'));
  db.close();
  const pkgs = await readSqliteRpmdb(new LocalRootfs(root), 'usr/lib/sysimage/rpm/rpmdb.sqlite');
  assert.deepEqual(pkgs.map((p) => p.name), ['bash', 'coreutils', 'fedora-release-common']);
});

test('alpm: packages grouped by %BASE%, build date as change time, dirs marked', async (t) => {
  const root = tempDir(t);
  writeTree(root, {
    'var/lib/pacman/local/ALPM_DB_VERSION': '9\n',
    'var/lib/pacman/local/bash-5.2.026-2/desc': '%NAME%\nbash\n\n%VERSION%\n5.2.026-2\n\n%BASE%\nbash\n\n%BUILDDATE%\n1700000000\n\n',
    'var/lib/pacman/local/bash-5.2.026-2/files': '%FILES%\nusr/\nusr/bin/\nusr/bin/bash\nusr/bin/sh\n\n%BACKUP%\netc/bash.bashrc\tabc\n',
    'var/lib/pacman/local/gcc-libs-14.1-1/desc': '%NAME%\ngcc-libs\n\n%VERSION%\n14.1-1\n\n%BASE%\ngcc\n\n%BUILDDATE%\n1710000000\n',
    'var/lib/pacman/local/gcc-libs-14.1-1/files': '%FILES%\nusr/\nusr/lib/\nusr/lib/libstdc++.so.6\n',
    'var/lib/pacman/local/gcc-14.1-1/desc': '%NAME%\ngcc\n\n%VERSION%\n14.1-1\n\n%BASE%\ngcc\n\n%BUILDDATE%\n1710000001\n',
    'var/lib/pacman/local/nofiles-1-1/desc': '%NAME%\nnofiles\n\n%VERSION%\n1-1\n',
    'var/lib/pacman/sync/core.db': 'sync',
    'usr/bin/bash': 'bash', 'usr/bin/sh': { link: 'bash' }, 'usr/lib/libstdc++.so.6': 'lib',
  });
  const view = new LocalRootfs(root, 'arch');
  const db = await readAlpm(view);
  assert.deepEqual(db, {
    label: "pacman database 'var/lib/pacman/local'", dir: 'var/lib/pacman', warnings: [],
    groups: [
      { id: 'alpm:bash', versions: ['5.2.026-2'], changelogs: [], changeTime: 1700000000, paths: [{ path: 'usr', kind: 'dir' }, { path: 'usr/bin', kind: 'dir' }, { path: 'usr/bin/bash' }, { path: 'usr/bin/sh' }] },
      { id: 'alpm:gcc', versions: ['14.1-1', '14.1-1'], changelogs: [], changeTime: 1710000001, paths: [{ path: 'usr', kind: 'dir' }, { path: 'usr/lib', kind: 'dir' }, { path: 'usr/lib/libstdc++.so.6' }] },
      { id: 'alpm:nofiles', versions: ['1-1'], changelogs: [], paths: [] },
    ],
  });
  const { entries } = await scanRootfs(view);
  const { components, warnings } = await buildComponents(view, entries);
  assert.deepEqual(warnings, []);
  assert.deepEqual(components.map((c) => [c.id, c.paths]), [
    ['alpm:bash', ['usr', 'usr/bin', 'usr/bin/bash', 'usr/bin/sh']],
    ['alpm:gcc', ['usr/lib', 'usr/lib/libstdc++.so.6']],
    ['rest:var', ['var']],
    ['rest:var/lib', ['var/lib']],
    ['rest:var/lib/pacman', ['var/lib/pacman', 'var/lib/pacman/local', 'var/lib/pacman/local/ALPM_DB_VERSION', 'var/lib/pacman/local/bash-5.2.026-2',
      'var/lib/pacman/local/bash-5.2.026-2/desc', 'var/lib/pacman/local/bash-5.2.026-2/files', 'var/lib/pacman/local/gcc-14.1-1',
      'var/lib/pacman/local/gcc-14.1-1/desc', 'var/lib/pacman/local/gcc-libs-14.1-1', 'var/lib/pacman/local/gcc-libs-14.1-1/desc',
      'var/lib/pacman/local/gcc-libs-14.1-1/files', 'var/lib/pacman/local/nofiles-1-1', 'var/lib/pacman/local/nofiles-1-1/desc',
      'var/lib/pacman/sync', 'var/lib/pacman/sync/core.db']],
  ]);
  writeTree(root, { 'var/lib/pacman/local/broken-1-1/desc': '%VERSION%\n1\n' });
  await assert.rejects(readAlpm(view), { message: "pacman database 'var/lib/pacman/local': 'var/lib/pacman/local/broken-1-1/desc' has no %NAME%" });
});
