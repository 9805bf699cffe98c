// rpm-md repo files: upstream reads every `*.repo` in the directory of the top-level
// treefile. These helpers load them from the build context and check that the repo IDs the
// treefile names exist, so a missing repo file fails before any builder runs.

import type { ContextFs } from './context-fs.ts';
import type { Origin } from './errors.ts';
import { TreefileError } from './errors.ts';
import { compareBytes } from './packages.ts';
import { ResolveError, joinRel, resolveInContext } from './resolve.ts';
import type { ExternalFile, LoadedTreefile } from './types.ts';

export interface RepoFile extends ExternalFile {
  /** Section names ([id]) in file order. */
  ids: string[];
}

export function repoIdsOf(text: string): string[] {
  const ids: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (m) ids.push(m[1]!.trim());
  }
  return ids;
}

/** `*.repo` regular files (symlinks followed, inside the context) in `dir`, sorted by name. */
export async function loadRepoFiles(fs: ContextFs, dir: string): Promise<RepoFile[]> {
  const out: RepoFile[] = [];
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.repo')).sort(compareBytes);
  for (const name of names) {
    const origin: Origin = { file: joinRel(dir, name), line: 0 };
    try {
      const r = await resolveInContext(fs, dir, name);
      const data = await fs.readFile(r.real);
      out.push({ path: r.real, name, mode: r.stat.mode, data, origin, ids: repoIdsOf(new TextDecoder().decode(data)) });
    } catch (e) {
      if (e instanceof ResolveError) throw new TreefileError([{ ...origin, key: '', message: e.message }]);
      throw e;
    }
  }
  return out;
}

/** Every `repos` / `lockfile-repos` / `repo-packages` repo must be a section of some repo file. */
export function checkRepoIds(loaded: LoadedTreefile, repoFiles: RepoFile[]): void {
  const known = new Set(repoFiles.flatMap((f) => f.ids));
  const errors = [];
  for (const key of ['repos', 'lockfile-repos'] as const) {
    const origins = (loaded.origins[key] as Origin[] | undefined) ?? [];
    for (const [i, id] of (loaded.treefile[key] ?? []).entries()) {
      if (known.has(id)) continue;
      const o = origins[i] ?? { file: loaded.files[0]!, line: 0 };
      const where = repoFiles.length === 0 ? `no *.repo files in "${loaded.topDir || '.'}"` : `known: ${[...known].sort(compareBytes).join(', ')}`;
      errors.push({ file: o.file, line: o.line, key, message: `Unknown rpm-md repository: ${id} (${where})` });
    }
  }
  const rpOrigins = (loaded.origins['repo-packages'] as Origin[] | undefined) ?? [];
  for (const [i, rp] of (loaded.treefile['repo-packages'] ?? []).entries()) {
    if (known.has(rp.repo)) continue;
    const o = rpOrigins[i] ?? { file: loaded.files[0]!, line: 0 };
    const where = repoFiles.length === 0 ? `no *.repo files in "${loaded.topDir || '.'}"` : `known: ${[...known].sort(compareBytes).join(', ')}`;
    errors.push({ file: o.file, line: o.line, key: `repo-packages[${i}].repo`, message: `Unknown rpm-md repository: ${rp.repo} (${where})` });
  }
  if (errors.length > 0) throw new TreefileError(errors);
}
