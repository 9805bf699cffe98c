// rpmdb-normalize: header rewrite (INSTALLTID, INSTALLTIME), the Installtid index, journal mode,
// the base copy re-linked, and the errors.
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { RpmHeader } from '../../../src/chunking/components/rpmheader.ts';
import {
  normalizeRpmdb, normalizeTreeRpmdb, rewriteInstallTimes, rpmdbNormalizeCommand, RPMTAG_INSTALLTID, RPMTAG_INSTALLTIME,
} from '../../../src/compose/rpmdb-normalize.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A header blob: NAME (STRING), INSTALLTIME and INSTALLTID (INT32), as rpm stores it. */
function header(name: string, time: number, tid: number, tidType = 4): Uint8Array {
  const str = new TextEncoder().encode(`${name}\0`);
  const dl = 8 + str.length;
  const b = new Uint8Array(8 + 3 * 16 + dl);
  const v = new DataView(b.buffer);
  v.setUint32(0, 3);
  v.setUint32(4, dl);
  const entries: [number, number, number, number][] = [[RPMTAG_INSTALLTID, tidType, 0, 1], [RPMTAG_INSTALLTIME, 4, 4, 1], [1000, 6, 8, 1]];
  entries.forEach(([tag, type, off, count], i) => {
    v.setUint32(8 + i * 16, tag);
    v.setUint32(12 + i * 16, type);
    v.setInt32(16 + i * 16, off);
    v.setUint32(20 + i * 16, count);
  });
  const data = 8 + 3 * 16;
  v.setUint32(data, tid);
  v.setUint32(data + 4, time);
  b.set(str, data + 8);
  return b;
}

function key(n: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, n, endianness() === 'LE');
  return k;
}

/** A tree with /usr/share/rpm/rpmdb.sqlite in WAL mode (as rpm leaves it) and a hard-linked base copy. */
function tree(pkgs: string[], wal = true): string {
  const root = mkdtempSync(join(tmpdir(), 'cf-rpmdb-'));
  dirs.push(root);
  const dir = join(root, 'usr/share/rpm');
  mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(join(dir, 'rpmdb.sqlite'));
  if (wal) db.exec('PRAGMA journal_mode = WAL');
  db.exec("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL); CREATE TABLE Installtid (key 'BLOB' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL)");
  pkgs.forEach((p, i) => {
    db.prepare('INSERT INTO Packages (blob) VALUES (?)').run(header(p, 1795328287 + i, 1795328287));
    db.prepare('INSERT INTO Installtid VALUES (?, ?, 0)').run(key(1795328287), i + 1);
  });
  db.close();
  return root;
}

function read(root: string): { names: string[]; times: number[]; tids: number[]; keys: string[]; mode: string } {
  const db = new DatabaseSync(join(root, 'usr/share/rpm/rpmdb.sqlite'), { readOnly: true });
  const rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all();
  const hs = rows.map((r) => new RpmHeader(r.blob as Uint8Array, 't'));
  const out = {
    names: hs.map((h) => h.string(1000, 'NAME')!),
    times: hs.map((h) => h.number(RPMTAG_INSTALLTIME, 'INSTALLTIME')!),
    tids: hs.map((h) => h.number(RPMTAG_INSTALLTID, 'INSTALLTID')!),
    keys: db.prepare('SELECT key FROM Installtid ORDER BY hnum').all().map((r) => Buffer.from(r.key as Uint8Array).toString('hex')),
    mode: String(db.prepare('PRAGMA journal_mode').get()!.journal_mode),
  };
  db.close();
  return out;
}

describe('rewriteInstallTimes', () => {
  test('sets both values in place and leaves every other byte', () => {
    const before = header('cf-app', 111, 222);
    const after = rewriteInstallTimes(before, 'h', 1700000000, 1700000005);
    const h = new RpmHeader(after, 'h');
    assert.equal(h.number(RPMTAG_INSTALLTID, 'INSTALLTID'), 1700000000);
    assert.equal(h.number(RPMTAG_INSTALLTIME, 'INSTALLTIME'), 1700000005);
    assert.equal(h.string(1000, 'NAME'), 'cf-app');
    assert.equal(after.length, before.length);
    const diff = [...before].flatMap((b, i) => (b === after[i] ? [] : [i]));
    assert.ok(diff.every((i) => i >= 56 && i < 64), `changed bytes ${diff.join(',')}`);
    assert.equal(new RpmHeader(before, 'h').number(RPMTAG_INSTALLTID, 'x'), 222, 'input untouched');
  });

  test('a header whose INSTALLTID is not an INT32 is refused', () => {
    assert.throws(() => rewriteInstallTimes(header('x', 1, 2, 5), 'rpmdb.sqlite package #7', 0, 0), {
      message: 'rpmdb.sqlite package #7: INSTALLTID is not a single INT32 (type 5, count 1)',
    });
  });
});

describe('normalizeTreeRpmdb', () => {
  test('headers in hnum order, the index, journal mode DELETE, no -wal/-shm, base copy re-linked', () => {
    const root = tree(['cf-filesystem', 'cf-lib', 'cf-app']);
    const base = join(root, 'usr/lib/sysimage/rpm-ostree-base-db');
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'rpmdb.sqlite'), 'stale copy');
    const r = normalizeTreeRpmdb(root, 1700000000);
    assert.deepEqual(r, { packages: 3, relinked: ['rpmdb.sqlite'] });
    assert.deepEqual(read(root), {
      names: ['cf-filesystem', 'cf-lib', 'cf-app'],
      times: [1700000000, 1700000001, 1700000002],
      tids: [1700000000, 1700000000, 1700000000],
      keys: Array(3).fill(Buffer.from(key(1700000000)).toString('hex')),
      mode: 'delete',
    });
    assert.equal(existsSync(join(root, 'usr/share/rpm/rpmdb.sqlite-wal')), false);
    assert.equal(existsSync(join(root, 'usr/share/rpm/rpmdb.sqlite-shm')), false);
    assert.equal(statSync(join(base, 'rpmdb.sqlite')).ino, statSync(join(root, 'usr/share/rpm/rpmdb.sqlite')).ino);
  });

  test('the same packages normalize to the same content whatever times rpm wrote', () => {
    const a = tree(['a', 'b']);
    const b = tree(['a', 'b']);
    const db = new DatabaseSync(join(b, 'usr/share/rpm/rpmdb.sqlite'));
    db.prepare('UPDATE Packages SET blob = ? WHERE hnum = 2').run(header('b', 42, 43));
    db.close();
    normalizeTreeRpmdb(a, 5);
    normalizeTreeRpmdb(b, 5);
    assert.deepEqual(read(a), read(b));
  });

  test('without an epoch only the journal mode changes', () => {
    const root = tree(['a']);
    assert.equal(normalizeRpmdb(join(root, 'usr/share/rpm'), undefined), 0);
    const r = read(root);
    assert.deepEqual([r.times, r.tids, r.mode], [[1795328287], [1795328287], 'delete']);
  });

  test('errors: BerkeleyDB, no rpmdb, epoch out of range; the CLI', () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-rpmdb-'));
    dirs.push(root);
    mkdirSync(join(root, 'usr/share/rpm'), { recursive: true });
    assert.throws(() => normalizeRpmdb(join(root, 'usr/share/rpm'), 1), { message: `rpmdb-normalize: no rpmdb.sqlite in ${root}/usr/share/rpm` });
    writeFileSync(join(root, 'usr/share/rpm/Packages'), '');
    assert.throws(() => normalizeRpmdb(join(root, 'usr/share/rpm'), 1), {
      message: `rpmdb-normalize: ${root}/usr/share/rpm holds a BerkeleyDB rpmdb (Packages); only the sqlite rpmdb (rpmdb.sqlite) is supported`,
    });
    const t = tree(['a', 'b']);
    assert.throws(() => normalizeRpmdb(join(t, 'usr/share/rpm'), 2 ** 32 - 1), {
      message: 'rpmdb-normalize: SOURCE_DATE_EPOCH 4294967295 + 2 packages overflows rpm\'s 32-bit install time',
    });
    assert.deepEqual(read(t).times, [1795328287, 1795328288], 'rolled back');
    assert.equal(rpmdbNormalizeCommand([t, '--source-date-epoch', 'x']), 2);
    assert.equal(rpmdbNormalizeCommand([t, '--source-date-epoch', '9']), 0);
    assert.deepEqual(read(t).times, [9, 10]);
  });
});
