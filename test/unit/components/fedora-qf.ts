// Test helper: reads upstream chunkah's `fedora.qf` (an `rpm -q --queryformat` dump) and turns its
// packages into RPM header blobs and an SQLite rpmdb, so the reader can be checked against what
// rpm itself printed for the same packages.
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { TAG } from '../../../src/chunking/components/rpmpackage.ts';
import { buildHeaderBlob, splitPaths, type HeaderValue } from './rpmheader-writer.ts';

export const FIXTURES = '/work/shared/fixtures';
export const QF_PATH = `${FIXTURES}/upstream/chunkah/fedora.qf`;

export interface QfFile { path: string; size: number; mode: number; mtime: number; digest: string; flags: number; user: string; group: string; linkTo: string }
export interface QfPackage {
  name: string; version: string; release: string; epoch?: number; arch: string; license: string; size: number;
  buildTime: number; installTime: number; sourceRpm: string; digestAlgo: number; files: QfFile[]; changelogTimes: number[];
}

export function parseQf(text: string): QfPackage[] {
  const out: QfPackage[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f[0] === '@@PKG@@') {
      const p: QfPackage = {
        name: f[1], version: f[2], release: f[3], arch: f[5], license: f[6], size: Number(f[7]), buildTime: Number(f[8]),
        installTime: Number(f[9]), sourceRpm: f[10], digestAlgo: Number(f[11]), files: [], changelogTimes: [],
      };
      if (f[4] !== '(none)') p.epoch = Number(f[4]);
      out.push(p);
    } else if (f[0] === '@@FILE@@') {
      out.at(-1)!.files.push({
        path: f[1], size: Number(f[2]), mode: Number(f[3]), mtime: Number(f[4]), digest: f[5], flags: Number(f[6]),
        user: f[7], group: f[8], linkTo: f[9] ?? '',
      });
    } else if (f[0] === '@@CL@@') {
      out.at(-1)!.changelogTimes.push(Number(f[1]));
    } else {
      throw new Error(`${QF_PATH}: unexpected record '${f[0]}'`);
    }
  }
  return out;
}

export function loadQf(): QfPackage[] {
  return parseQf(readFileSync(QF_PATH, 'utf8'));
}

/** The header rpm would store for `p` (the tags the reader uses, plus a few it must skip). */
export function qfHeaderValues(p: QfPackage): HeaderValue[] {
  const { dirnames, basenames, dirindexes } = splitPaths(p.files.map((f) => f.path));
  const v: HeaderValue[] = [
    { tag: 100, type: 'STRING_ARRAY', value: ['C'] }, // HEADERI18NTABLE, ignored
    { tag: TAG.NAME, type: 'STRING', value: p.name },
    { tag: TAG.VERSION, type: 'STRING', value: p.version },
    { tag: TAG.RELEASE, type: 'STRING', value: p.release },
    { tag: 1004, type: 'I18NSTRING', value: `summary of ${p.name}` },
    { tag: TAG.BUILDTIME, type: 'INT32', value: [p.buildTime] },
    { tag: 1009, type: 'INT32', value: [p.size] },
    { tag: 1014, type: 'STRING', value: p.license },
    { tag: TAG.ARCH, type: 'STRING', value: p.arch },
    { tag: TAG.SOURCERPM, type: 'STRING', value: p.sourceRpm },
    { tag: TAG.FILEDIGESTALGO, type: 'INT32', value: [p.digestAlgo] },
  ];
  if (p.epoch !== undefined) v.push({ tag: TAG.EPOCH, type: 'INT32', value: [p.epoch] });
  if (p.changelogTimes.length > 0) v.push({ tag: TAG.CHANGELOGTIME, type: 'INT32', value: p.changelogTimes });
  if (p.files.length > 0) {
    v.push(
      { tag: TAG.FILESIZES, type: 'INT32', value: p.files.map((f) => f.size) },
      { tag: TAG.FILEMODES, type: 'INT16', value: p.files.map((f) => f.mode) },
      { tag: 1034, type: 'INT32', value: p.files.map((f) => f.mtime) }, // FILEMTIMES, ignored
      { tag: TAG.FILEDIGESTS, type: 'STRING_ARRAY', value: p.files.map((f) => f.digest) },
      { tag: TAG.FILELINKTOS, type: 'STRING_ARRAY', value: p.files.map((f) => f.linkTo) },
      { tag: TAG.FILEFLAGS, type: 'INT32', value: p.files.map((f) => f.flags) },
      { tag: 1039, type: 'STRING_ARRAY', value: p.files.map((f) => f.user) },
      { tag: TAG.DIRINDEXES, type: 'INT32', value: dirindexes },
      { tag: TAG.BASENAMES, type: 'STRING_ARRAY', value: basenames },
      { tag: TAG.DIRNAMES, type: 'STRING_ARRAY', value: dirnames },
      { tag: TAG.FILESTATES, type: 'CHAR', value: p.files.map(() => 0) },
    );
  }
  return v;
}

/** Writes an rpmdb.sqlite with rpm's Packages table holding the given blobs (hnum 1, 2, …). */
export function writeRpmdbSqlite(path: string, blobs: Uint8Array[]): void {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)");
  const ins = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  for (const b of blobs) ins.run(b);
  db.close();
}

export function qfBlobs(pkgs: QfPackage[]): Uint8Array[] {
  return pkgs.map((p) => buildHeaderBlob(qfHeaderValues(p)));
}
