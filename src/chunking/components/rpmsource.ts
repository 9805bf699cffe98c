// rpmdb → package groups: binary packages grouped by source rpm (`rpm:<srpm name>`).
import type { RootfsView } from '../../rootfs/types.ts';
import { compareBytewise } from '../../rootfs/scan.ts';
import { findRpmdb, readSqliteRpmdb } from './rpmdb.ts';
import { evr, FILE_FLAG, FILE_STATE, sourceName, type RpmFile, type RpmPackage } from './rpmpackage.ts';
import type { OwnedKind, OwnedPath, PackageDb, PackageGroup } from './source.ts';

const BACKEND_NAMES = { bdb: 'BerkeleyDB', ndb: 'ndb' } as const;

function kindOf(mode: number): OwnedKind {
  switch (mode & 0o170000) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    default: return 'other';
  }
}

function owned(f: RpmFile): OwnedPath {
  const out: OwnedPath = { path: f.path, kind: kindOf(f.mode) };
  // %ghost content is made at install or run time (the rpmdb itself, logs, generated caches), and
  // files in another state (excluded docs/langs, replaced, other multilib color) are not this
  // package's payload: neither belongs in the package's layer.
  if ((f.flags & FILE_FLAG.GHOST) !== 0 || (f.state !== FILE_STATE.NORMAL && f.state !== FILE_STATE.NETSHARED)) out.ghost = true;
  return out;
}

/** The group key: source rpm name, else the package name (e.g. a package built without SOURCERPM). */
export function componentIdOf(p: RpmPackage): string {
  return `rpm:${(p.sourceRpm !== undefined ? sourceName(p.sourceRpm) : undefined) ?? p.name}`;
}

export function groupRpmPackages(packages: RpmPackage[]): PackageGroup[] {
  const byId = new Map<string, RpmPackage[]>();
  for (const p of packages) {
    if (p.files.length === 0) continue; // gpg-pubkey and other metadata-only packages own nothing
    const id = componentIdOf(p);
    const list = byId.get(id) ?? [];
    list.push(p);
    byId.set(id, list);
  }
  return [...byId.keys()].sort(compareBytewise).map((id) => {
    const members = byId.get(id)!;
    const group: PackageGroup = {
      id,
      versions: members.map(evr),
      changelogs: members.map((p) => p.changelogTimes),
      paths: members.flatMap((p) => p.files.map(owned)),
    };
    const times = members.flatMap((p) => (p.buildTime === undefined ? [] : [p.buildTime]));
    if (times.length > 0) group.changeTime = Math.max(...times);
    return group;
  });
}

export async function readRpm(view: RootfsView): Promise<PackageDb | undefined> {
  const loc = await findRpmdb(view);
  if (loc === undefined) return undefined;
  const label = `rpmdb '${loc.file}'`;
  if (loc.backend !== 'sqlite') {
    return {
      label, dir: loc.dir, groups: [],
      warnings: [`${label} in ${view.description}: the ${BACKEND_NAMES[loc.backend]} rpmdb backend is not supported (only SQLite 'rpmdb.sqlite'); its packages are not used as components and their files are grouped by path instead`],
    };
  }
  const packages = await readSqliteRpmdb(view, loc.file);
  return { label, dir: loc.dir, groups: groupRpmPackages(packages), warnings: [] };
}
