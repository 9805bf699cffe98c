// Turns a Debian rootfs into RPM spec files, one per Debian *source* package, so that the same
// files can be registered in an rpmdb (bench/series/make-rpm.sh: rpmbuild with the rootfs as the
// build root, then `rpm --justdb -i`). Each spec carries the source's version (Debian
// `epoch:upstream-revision` → Epoch/Version/Release), its real changelog dates (from
// changelog.Debian.gz, binNMU changelog included) and the paths its binary packages own, with parent
// symlinks resolved (`/bin/bash` → `/usr/bin/bash`, the layout a Fedora package would list).
//
//   node bench/lib/deb-rpm-specs.ts DEB_ROOTFS OUT_DIR
// Writes OUT_DIR/<source>.spec and OUT_DIR/index.tsv (`<source>\t<build time>` per line, sorted);
// the build time (newest changelog date) becomes BUILDTIME through SOURCE_DATE_EPOCH.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDpkg } from '../../src/chunking/components/dpkg.ts';
import { Canonicalizer } from '../../src/chunking/components/resolve.ts';
import { LocalRootfs } from '../../src/rootfs/local.ts';
import { compareBytewise, scanRootfs } from '../../src/rootfs/scan.ts';
import type { FsEntry } from '../../src/rootfs/types.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** rpm's extended %changelog date: `Wed Jan 01 13:05:06 UTC 2020` (keeps the exact second). */
export function rpmChangelogDate(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Debian `[epoch:]upstream[-revision]` → RPM fields ('-' is not allowed in an RPM version). */
export function rpmEvr(debVersion: string): { epoch?: string; version: string; release: string } {
  let v = debVersion;
  let epoch: string | undefined;
  const colon = v.indexOf(':');
  if (colon > 0) { epoch = v.slice(0, colon); v = v.slice(colon + 1); }
  const dash = v.lastIndexOf('-');
  const upstream = dash > 0 ? v.slice(0, dash) : v;
  const release = dash > 0 ? v.slice(dash + 1) : '0';
  return { epoch, version: upstream.replace(/-/g, '_').replace(/:/g, '_'), release: release.replace(/-/g, '_') };
}

/** A %files line for a literal path (quoted; `%` doubled). Undefined for names rpm cannot take. */
export function filesLine(path: string, dir: boolean): string | undefined {
  if (/["\n\r\t]/.test(path)) return undefined;
  const q = `"/${path.replace(/%/g, '%%')}"`;
  return dir ? `%dir ${q}` : q;
}

export async function writeSpecs(root: string, out: string): Promise<{ sources: number; skipped: string[]; warnings: string[] }> {
  const view = new LocalRootfs(root);
  const { entries } = await scanRootfs(view);
  const byPath = new Map<string, FsEntry>(entries.map((e) => [e.path, e]));
  const db = await readDpkg(view);
  if (db === undefined) throw new Error(`${root}: no dpkg database (var/lib/dpkg/status)`);
  const canon = new Canonicalizer(byPath);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const skipped: string[] = [];
  const index: string[] = [];
  const newest = Math.max(...db.groups.flatMap((g) => (g.changeTime === undefined ? [] : [g.changeTime])));

  for (const g of db.groups) {
    const name = g.id.replace(/^deb:/, '');
    const files = new Map<string, boolean>(); // path → is a directory
    for (const op of g.paths) {
      const p = canon.canonical(op.path);
      if (p === undefined || p === '') continue;
      const e = byPath.get(p);
      if (e === undefined) continue; // listed but absent (removed conffile, excluded path)
      if (op.kind === 'dir' && e.kind !== 'dir') continue; // usrmerge: `/bin` is a symlink here
      files.set(p, e.kind === 'dir');
    }
    const lines: string[] = [];
    for (const p of [...files.keys()].sort(compareBytewise)) {
      const l = filesLine(p, files.get(p)!);
      if (l === undefined) skipped.push(p);
      else lines.push(l);
    }
    const version = [...new Set(g.versions)].sort(compareBytewise).at(-1) ?? '0';
    const evr = rpmEvr(version);
    const dates = [...new Set(g.changelogs.flat())].sort((a, b) => b - a);
    const buildTime = dates[0] ?? newest;
    const changelog = dates.map((t, i) => `* ${rpmChangelogDate(t)} Debian <debian@localhost> - ${dates.length - i}\n- entry ${dates.length - i}\n`);
    const spec = [
      `Name: ${name}`,
      ...(evr.epoch !== undefined ? [`Epoch: ${evr.epoch}`] : []),
      `Version: ${evr.version}`,
      `Release: ${evr.release}`,
      `Summary: Debian source package ${name} ${version}`,
      'License: see /usr/share/doc',
      'AutoReqProv: no',
      '',
      '%description',
      `Files of the Debian source package ${name} ${version}, registered for the update-size benchmark.`,
      '',
      '%files',
      '%defattr(-,root,root,-)',
      ...lines,
      '',
      '%changelog',
      ...changelog,
    ].join('\n');
    writeFileSync(join(out, `${name}.spec`), spec);
    index.push(`${name}\t${buildTime}`);
  }
  writeFileSync(join(out, 'index.tsv'), index.join('\n') + '\n');
  return { sources: db.groups.length, skipped, warnings: db.warnings };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [root, out] = process.argv.slice(2);
  if (!root || !out) {
    console.error('usage: node bench/lib/deb-rpm-specs.ts DEB_ROOTFS OUT_DIR');
    process.exit(2);
  }
  const r = await writeSpecs(root, out);
  for (const w of r.warnings) console.error(`warning: ${w}`);
  if (r.skipped.length) console.error(`skipped ${r.skipped.length} paths rpm cannot list: ${r.skipped.slice(0, 5).join(', ')}`);
  console.error(`${r.sources} specs in ${out}`);
}
