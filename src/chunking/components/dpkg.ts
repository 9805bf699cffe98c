// Debian/Ubuntu: `var/lib/dpkg/status` (installed packages), `info/<pkg>[:<arch>].list` (their
// files), `diversions` (files moved aside), and each package's changelog for its change history.
// Binary packages are grouped by their `Source:` (the unit Debian versions and rebuilds together).
import { gunzipSync } from 'node:zlib';
import type { RootfsView } from '../../rootfs/types.ts';
import { changelogDates, looksLikeDebianChangelog } from './debchangelog.ts';
import { mapLimit } from './limit.ts';
import { resolveInView } from './resolve.ts';
import type { OwnedPath, PackageDb, PackageGroup } from './source.ts';
import { compareBytewise } from '../../rootfs/scan.ts';

export const DPKG_DIR = 'var/lib/dpkg';

export interface DebPackage {
  name: string;
  arch: string;
  version: string;
  source: string;
  /** Third word of `Status:`. */
  state: string;
}

/** States in which a package's files are (at least partly) on disk. */
const STATES_WITH_FILES = new Set(['installed', 'unpacked', 'half-installed', 'half-configured', 'triggers-awaited', 'triggers-pending']);

/** Parses the status file; returns the packages whose files are on disk. */
export function parseDpkgStatus(text: string, where: string): DebPackage[] {
  const out: DebPackage[] = [];
  let fields = new Map<string, string>();
  let start = 1;
  let last: string | undefined;
  const flush = () => {
    if (fields.size === 0) return;
    const get = (k: string) => fields.get(k.toLowerCase());
    const name = get('Package');
    const status = get('Status');
    if (name === undefined) throw new Error(`${where}: the paragraph at line ${start} has no Package field`);
    if (status === undefined) throw new Error(`${where}: package '${name}' (line ${start}) has no Status field`);
    const words = status.split(/\s+/);
    if (words.length !== 3) throw new Error(`${where}: package '${name}' (line ${start}) has a malformed Status '${status}'`);
    if (STATES_WITH_FILES.has(words[2])) {
      const srcField = get('Source');
      out.push({
        name,
        arch: get('Architecture') ?? '',
        version: get('Version') ?? '',
        // `Source: glibc (2.36-9)` names the source version when it differs from the binary's.
        source: srcField === undefined || srcField === '' ? name : srcField.split(/\s+/)[0],
        state: words[2],
      });
    }
    fields = new Map();
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') { flush(); last = undefined; start = i + 2; continue; }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) throw new Error(`${where}: line ${i + 1} continues a field but no field precedes it`);
      continue; // continuation lines (Description, Conffiles) are not needed
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${where}: line ${i + 1} is not a 'Field: value' line: '${line.slice(0, 80)}'`);
    last = line.slice(0, colon).toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  }
  flush();
  return out;
}

export interface Diversion {
  from: string;
  to: string;
  /** The package that diverts (':' for a local diversion). */
  by: string;
}

/** `diversions` holds three lines per diversion: from, to, diverting package. */
export function parseDiversions(text: string, where: string): { diversions: Diversion[]; warnings: string[] } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const diversions: Diversion[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) diversions.push({ from: lines[i], to: lines[i + 1], by: lines[i + 2] });
  const warnings = lines.length % 3 === 0 ? [] : [`${where}: ${lines.length} lines is not a multiple of 3; the last ${lines.length % 3} ignored`];
  return { diversions, warnings };
}

/** Paths listed by `pkg`, with diversions applied: a path diverted by another package lives at `to`. */
function applyDiversions(pkg: string, paths: string[], diversions: Map<string, Diversion>): string[] {
  if (diversions.size === 0) return paths;
  return paths.map((p) => {
    const d = diversions.get(p);
    return d !== undefined && d.by !== pkg ? d.to : p;
  });
}

/** Directories are not marked in `.list` files; a listed path that is the parent of another is one. */
function ownedPaths(paths: string[]): OwnedPath[] {
  const parents = new Set<string>();
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    if (slash > 0) parents.add(p.slice(0, slash));
  }
  return paths.map((p) => (parents.has(p) ? { path: p, kind: 'dir' } : { path: p }));
}

async function readText(view: RootfsView, path: string): Promise<string | undefined> {
  const e = await view.stat(path);
  if (e?.kind !== 'file') return undefined;
  return new TextDecoder().decode(await view.readFile(path));
}

/** Reads a (gzipped) changelog through symlinked doc dirs; undefined when absent. */
async function readChangelog(view: RootfsView, path: string, warnings: string[]): Promise<string | undefined> {
  const r = await resolveInView(view, path);
  if (r === undefined || r.entry.kind !== 'file') return undefined;
  try {
    return new TextDecoder().decode(gunzipSync(await view.readFile(r.path)));
  } catch (err) {
    warnings.push(`${path}: cannot decompress the changelog (${(err as Error).message}); no change history for it`);
    return undefined;
  }
}

/**
 * Change history of a source package: the changelog of the first member (by name, arch) that ships
 * one, plus its binNMU changelog (`changelog.Debian.<arch>.gz`, rebuilds without source changes).
 * Native packages have only `changelog.gz`, accepted when it is in Debian format.
 */
async function sourceHistory(view: RootfsView, members: DebPackage[], warnings: string[]): Promise<number[]> {
  for (const m of members) {
    const doc = `usr/share/doc/${m.name}`;
    let text = await readChangelog(view, `${doc}/changelog.Debian.gz`, warnings);
    if (text === undefined) {
      const native = await readChangelog(view, `${doc}/changelog.gz`, warnings);
      if (native !== undefined && looksLikeDebianChangelog(native)) text = native;
    }
    if (text === undefined) continue;
    const dates = changelogDates(text);
    if (m.arch !== '' && m.arch !== 'all') {
      const binnmu = await readChangelog(view, `${doc}/changelog.Debian.${m.arch}.gz`, warnings);
      if (binnmu !== undefined) dates.unshift(...changelogDates(binnmu));
    }
    return dates;
  }
  return [];
}

export async function readDpkg(view: RootfsView, concurrency = 8): Promise<PackageDb | undefined> {
  const dirRes = await resolveInView(view, DPKG_DIR);
  if (dirRes === undefined || dirRes.entry.kind !== 'dir') return undefined;
  const dir = dirRes.path;
  const statusPath = `${dir}/status`;
  const statusText = await readText(view, statusPath);
  if (statusText === undefined) return undefined;
  const label = `dpkg database '${dir}'`;
  const warnings: string[] = [];
  const packages = parseDpkgStatus(statusText, statusPath);

  const divText = await readText(view, `${dir}/diversions`);
  const divs = new Map<string, Diversion>();
  if (divText !== undefined) {
    const parsed = parseDiversions(divText, `${dir}/diversions`);
    warnings.push(...parsed.warnings);
    for (const d of parsed.diversions) divs.set(d.from, d);
  }

  const noList: string[] = [];
  const lists = await mapLimit(packages, concurrency, async (p) => {
    for (const name of [`${p.name}:${p.arch}.list`, `${p.name}.list`]) {
      const text = await readText(view, `${dir}/info/${name}`);
      if (text !== undefined) return text.split('\n').filter((l) => l !== '' && l !== '/.');
    }
    noList.push(`${p.name}:${p.arch}`);
    return [];
  });
  if (noList.length > 0) {
    noList.sort(compareBytewise);
    warnings.push(`${label}: ${noList.length} installed packages have no file list in '${dir}/info' (${noList.slice(0, 5).join(', ')}${noList.length > 5 ? ', …' : ''}); their files count as unowned`);
  }

  const bySource = new Map<string, { pkg: DebPackage; files: string[] }[]>();
  packages.forEach((pkg, i) => {
    const members = bySource.get(pkg.source) ?? [];
    members.push({ pkg, files: applyDiversions(pkg.name, lists[i], divs) });
    bySource.set(pkg.source, members);
  });
  const sources = [...bySource.keys()].sort(compareBytewise);
  const groups = await mapLimit(sources, concurrency, async (source): Promise<PackageGroup> => {
    const members = bySource.get(source)!;
    members.sort((a, b) => compareBytewise(a.pkg.name, b.pkg.name) || compareBytewise(a.pkg.arch, b.pkg.arch));
    const dates = await sourceHistory(view, members.map((m) => m.pkg), warnings);
    const group: PackageGroup = {
      id: `deb:${source}`,
      versions: members.map((m) => m.pkg.version),
      changelogs: [dates],
      paths: members.flatMap((m) => ownedPaths(m.files)),
    };
    if (dates.length > 0) group.changeTime = Math.max(...dates);
    return group;
  });
  warnings.sort(compareBytewise);
  return { label, dir, groups, warnings };
}
