// `rpmdb-normalize: true` (spec/treefile.md §2.6): the sqlite rpmdb is switched to journal mode
// DELETE (no -wal/-shm next to it), and every header's install transaction id and install time
// are set from SOURCE_DATE_EPOCH (INSTALLTID = epoch, INSTALLTIME = epoch + n for the n-th header
// in hnum order), with the Installtid index to match. rpm writes wall-clock times there, so
// without this two builds of the same inputs differ in the rpmdb alone.
//
// Runs inside BuildKit as a sub-command of the frontend image (an ExecOp over the tree), because
// builder images need not have sqlite or any runtime we control.

import { existsSync, linkSync, lstatSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { RpmHeader, TYPE } from '../chunking/components/rpmheader.ts';

export const RPMTAG_INSTALLTIME = 1008;
export const RPMTAG_INSTALLTID = 1128;

/** Where the compose leaves the rpmdb and its base copy (postprocess.ts). */
export const RPMDB_DIR = 'usr/share/rpm';
export const BASE_RPMDB_DIR = 'usr/lib/sysimage/rpm-ostree-base-db';

const MAX_U32 = 0xffff_ffff;

/** A copy of `blob` with INSTALLTID and INSTALLTIME set; tags the header lacks stay absent. */
export function rewriteInstallTimes(blob: Uint8Array, where: string, tid: number, time: number): Uint8Array {
  const h = new RpmHeader(blob, where);
  const out = Uint8Array.from(blob);
  const view = new DataView(out.buffer);
  for (const [tag, name, value] of [[RPMTAG_INSTALLTID, 'INSTALLTID', tid], [RPMTAG_INSTALLTIME, 'INSTALLTIME', time]] as const) {
    const r = h.dataRange(tag);
    if (r === undefined) continue;
    if (r.type !== TYPE.INT32 || r.count !== 1) throw new Error(`${where}: ${name} is not a single INT32 (type ${r.type}, count ${r.count})`);
    view.setUint32(r.offset, value);
  }
  return out;
}

export interface NormalizeResult {
  packages: number;
  /** Files of the base rpmdb copy turned back into hard links of the normalized ones. */
  relinked: string[];
}

/**
 * Normalizes the sqlite rpmdb in `dir`. With `epoch`, headers and the Installtid index are
 * rewritten; without, only the journal mode changes.
 */
export function normalizeRpmdb(dir: string, epoch: number | undefined): number {
  const file = join(dir, 'rpmdb.sqlite');
  if (!existsSync(file)) {
    const other = ['Packages.db', 'Packages'].find((f) => existsSync(join(dir, f)));
    throw new Error(other
      ? `rpmdb-normalize: ${dir} holds a ${other === 'Packages' ? 'BerkeleyDB' : 'ndb'} rpmdb (${other}); only the sqlite rpmdb (rpmdb.sqlite) is supported`
      : `rpmdb-normalize: no rpmdb.sqlite in ${dir}`);
  }
  if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_U32)) {
    throw new Error(`rpmdb-normalize: SOURCE_DATE_EPOCH ${epoch} does not fit rpm's 32-bit install time`);
  }
  const db = new DatabaseSync(file);
  let n = 0;
  try {
    if (epoch !== undefined) {
      db.exec('BEGIN IMMEDIATE');
      const rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all();
      if (epoch + rows.length > MAX_U32) throw new Error(`rpmdb-normalize: SOURCE_DATE_EPOCH ${epoch} + ${rows.length} packages overflows rpm's 32-bit install time`);
      const update = db.prepare('UPDATE Packages SET blob = ? WHERE hnum = ?');
      for (const row of rows) {
        const where = `${file} package #${String(row.hnum)}`;
        if (!(row.blob instanceof Uint8Array)) throw new Error(`${where}: blob is not a BLOB`);
        update.run(rewriteInstallTimes(row.blob, where, epoch, epoch + n), row.hnum as number);
        n++;
      }
      // The index key is the INT32 in the byte order of the rpm that wrote it (the builder's, same platform).
      const hasIndex = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Installtid'").get() !== undefined;
      if (hasIndex) {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, epoch, endianness() === 'LE');
        db.prepare('UPDATE Installtid SET key = ?').run(key);
      }
      db.exec('COMMIT');
    }
    db.exec('PRAGMA journal_mode = DELETE');
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    db.close();
  }
  for (const f of ['rpmdb.sqlite-shm', 'rpmdb.sqlite-wal']) rmSync(join(dir, f), { force: true });
  return n;
}

/** Makes every regular file of `copy` that also exists in `dir` a hard link of it again. */
export function relinkCopy(dir: string, copy: string): string[] {
  if (!existsSync(copy)) return [];
  const out: string[] = [];
  for (const name of readdirSync(copy).sort()) {
    const src = join(dir, name);
    if (!lstatSync(join(copy, name)).isFile() || !existsSync(src) || !lstatSync(src).isFile()) continue;
    unlinkSync(join(copy, name));
    linkSync(src, join(copy, name));
    out.push(name);
  }
  return out;
}

/** The rpmdb of a composed tree at `root`, and its base copy. */
export function normalizeTreeRpmdb(root: string, epoch: number | undefined): NormalizeResult {
  const dir = join(root, RPMDB_DIR);
  const packages = normalizeRpmdb(dir, epoch);
  // The base copy was hard-linked before this step; writing the db broke the links (copy-up).
  return { packages, relinked: relinkCopy(dir, join(root, BASE_RPMDB_DIR)) };
}

/** CLI: `rpmdb-normalize ROOT [--source-date-epoch N]` (used by the compose inside BuildKit). */
export function rpmdbNormalizeCommand(args: string[]): number {
  const usage = 'usage: compose-frontend rpmdb-normalize ROOT [--source-date-epoch N]\n';
  let root: string | undefined;
  let epoch: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--source-date-epoch') {
      const v = args[++i];
      if (v === undefined || !/^\d+$/.test(v)) {
        process.stderr.write(`rpmdb-normalize: --source-date-epoch needs Unix seconds, got ${JSON.stringify(v ?? '')}\n${usage}`);
        return 2;
      }
      epoch = Number(v);
    } else if (root === undefined && !a.startsWith('-')) {
      root = a;
    } else {
      process.stderr.write(`rpmdb-normalize: unexpected argument ${JSON.stringify(a)}\n${usage}`);
      return 2;
    }
  }
  if (root === undefined) {
    process.stderr.write(usage);
    return 2;
  }
  try {
    const r = normalizeTreeRpmdb(root, epoch);
    const what = epoch === undefined ? 'journal mode DELETE' : `${r.packages} headers: INSTALLTID ${epoch}, INSTALLTIME ${epoch}..${epoch + Math.max(0, r.packages - 1)}; journal mode DELETE`;
    process.stderr.write(`[rpmdb-normalize] /${RPMDB_DIR}: ${what}${r.relinked.length ? `; /${BASE_RPMDB_DIR} re-linked` : ''}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}
