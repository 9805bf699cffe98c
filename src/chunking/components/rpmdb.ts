// Finds and reads the rpmdb of a rootfs. Only the SQLite backend (rpm ≥ 4.16, Fedora ≥ 33,
// RHEL/CentOS ≥ 9) is read; BerkeleyDB (`Packages`) and ndb (`Packages.db`) are reported as
// unsupported so that the caller falls back to non-package components.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { RootfsView } from '../../rootfs/types.ts';
import { resolveInView } from './resolve.ts';
import { RpmHeader } from './rpmheader.ts';
import { packageFromHeader, type RpmPackage } from './rpmpackage.ts';

/** Where rpm keeps its database, in the order we look (the first that holds one wins). */
export const RPMDB_DIRS = ['usr/lib/sysimage/rpm', 'usr/share/rpm', 'var/lib/rpm'];

export type RpmdbBackend = 'sqlite' | 'bdb' | 'ndb';

export interface RpmdbLocation {
  /** The database directory, symlinks resolved. */
  dir: string;
  /** The database file (rpmdb.sqlite, Packages.db or Packages), symlinks resolved. */
  file: string;
  backend: RpmdbBackend;
}

const BACKEND_FILES: [string, RpmdbBackend][] = [['rpmdb.sqlite', 'sqlite'], ['Packages.db', 'ndb'], ['Packages', 'bdb']];

export async function findRpmdb(view: RootfsView): Promise<RpmdbLocation | undefined> {
  for (const d of RPMDB_DIRS) {
    const dir = await resolveInView(view, d);
    if (dir === undefined || dir.entry.kind !== 'dir') continue;
    for (const [name, backend] of BACKEND_FILES) {
      const e = await view.stat(`${dir.path}/${name}`);
      if (e?.kind === 'file') return { dir: dir.path, file: `${dir.path}/${name}`, backend };
    }
  }
  return undefined;
}

/**
 * Reads every package of an SQLite rpmdb. The database is copied out of the view into a private
 * temporary directory (SQLite needs a real file) and opened read-only; a `-wal` file next to it is
 * copied too so that committed transactions not yet checkpointed are seen.
 */
export async function readSqliteRpmdb(view: RootfsView, file: string): Promise<RpmPackage[]> {
  const label = `rpmdb '${file}'`;
  const tmp = await mkdtemp(join(tmpdir(), 'compose-rpmdb-'));
  try {
    const copy = join(tmp, 'rpmdb.sqlite');
    await writeFile(copy, await view.readFile(file));
    const wal = await view.stat(`${file}-wal`);
    if (wal?.kind === 'file' && wal.size > 0) await writeFile(`${copy}-wal`, await view.readFile(`${file}-wal`));
    let db: DatabaseSync;
    try {
      // With a WAL, SQLite must create the -shm index next to our private copy, so open read-write.
      db = new DatabaseSync(copy, { readOnly: wal === undefined || wal.size === 0 });
    } catch (err) {
      throw new Error(`${label} in ${view.description}: cannot open SQLite database: ${(err as Error).message}`);
    }
    try {
      const packages: RpmPackage[] = [];
      let rows: Iterable<Record<string, unknown>>;
      try {
        rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').iterate();
        for (const row of rows) {
          const hnum = Number(row.hnum);
          const blob = row.blob;
          const where = `${label} package #${hnum}`;
          if (!(blob instanceof Uint8Array)) throw new Error(`${where}: blob is not a BLOB`);
          packages.push(packageFromHeader(new RpmHeader(blob, where), hnum));
        }
      } catch (err) {
        const msg = (err as Error).message;
        if (msg.startsWith(label)) throw err;
        throw new Error(`${label} in ${view.description}: cannot read SQLite database: ${msg}`);
      }
      return packages;
    } finally {
      db.close();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
