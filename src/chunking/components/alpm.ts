// Arch Linux: `var/lib/pacman/local/<name>-<version>/{desc,files}`. Grouped by %BASE% (the
// PKGBUILD, i.e. the source package). pacman keeps no changelog, so only %BUILDDATE% is known.
import type { RootfsView } from '../../rootfs/types.ts';
import { compareBytewise } from '../../rootfs/scan.ts';
import { mapLimit } from './limit.ts';
import { resolveInView } from './resolve.ts';
import type { OwnedPath, PackageDb, PackageGroup } from './source.ts';

export const ALPM_DIR = 'var/lib/pacman';

/** `%KEY%` sections of a desc/files file: key → lines until the next blank line. */
export function parseAlpmSections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    const m = /^%([A-Z0-9]+)%$/.exec(line);
    if (m !== null) { cur = []; out.set(m[1], cur); continue; }
    if (line === '') { cur = undefined; continue; }
    cur?.push(line);
  }
  return out;
}

export async function readAlpm(view: RootfsView, concurrency = 8): Promise<PackageDb | undefined> {
  const res = await resolveInView(view, `${ALPM_DIR}/local`);
  if (res === undefined || res.entry.kind !== 'dir') return undefined;
  const local = res.path;
  const dir = local.slice(0, local.lastIndexOf('/'));
  const label = `pacman database '${local}'`;
  const entries = (await view.readDir(local)).filter((e) => e.kind === 'dir').sort((a, b) => compareBytewise(a.path, b.path));
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  const pkgs = await mapLimit(entries, concurrency, async (e) => {
    const desc = parseAlpmSections(decode(await view.readFile(`${e.path}/desc`)));
    const filesEntry = await view.stat(`${e.path}/files`);
    const files = filesEntry?.kind === 'file' ? parseAlpmSections(decode(await view.readFile(`${e.path}/files`))).get('FILES') ?? [] : [];
    const name = desc.get('NAME')?.[0];
    if (name === undefined) throw new Error(`${label}: '${e.path}/desc' has no %NAME%`);
    const built = Number(desc.get('BUILDDATE')?.[0]);
    return {
      base: desc.get('BASE')?.[0] ?? name,
      version: desc.get('VERSION')?.[0] ?? '',
      buildDate: Number.isSafeInteger(built) ? built : undefined,
      paths: files.map((f): OwnedPath => (f.endsWith('/') ? { path: f.slice(0, -1), kind: 'dir' } : { path: f })),
    };
  });
  const byBase = new Map<string, typeof pkgs>();
  for (const p of pkgs) byBase.set(p.base, [...(byBase.get(p.base) ?? []), p]);
  const groups = [...byBase.keys()].sort(compareBytewise).map((base): PackageGroup => {
    const members = byBase.get(base)!;
    const g: PackageGroup = { id: `alpm:${base}`, versions: members.map((m) => m.version), changelogs: [], paths: members.flatMap((m) => m.paths) };
    const times = members.flatMap((m) => (m.buildDate === undefined ? [] : [m.buildDate]));
    if (times.length > 0) g.changeTime = Math.max(...times);
    return g;
  });
  return { label, dir, groups, warnings: [] };
}
