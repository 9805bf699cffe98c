// What the install step needs to know about the `.repo` files: which repos end up enabled, and
// whether they are all served from the build context (then dnf runs without network). A repo in
// the context is written `baseurl=file:///context/<dir>`: the install step mounts exactly those
// directories of the context, read-only, at /context.

import type { RepoFile } from './treefile/repos.ts';
import { TreefileError, type Diagnostic } from './treefile/errors.ts';
import { compareBytes } from './treefile/packages.ts';

/** Where the install step mounts the build context's repo directories. */
export const CONTEXT_MOUNT = '/context';

export interface RepoSection {
  id: string;
  file: string;
  line: number;
  enabled: boolean;
  /** baseurl entries (comma or whitespace separated in the file). */
  baseurls: string[];
  /** metalink or mirrorlist, which always need the network. */
  remoteLists: string[];
}

/** Sections of one `.repo` file (dnf's INI dialect: `key=value`, `#`/`;` comments). */
export function parseRepoSections(file: RepoFile): RepoSection[] {
  const out: RepoSection[] = [];
  let cur: RepoSection | undefined;
  let lastKey = '';
  const lines = new TextDecoder().decode(file.data).split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (/^\s*([#;]|$)/.test(line)) return;
    const sec = /^\s*\[([^\]]+)\]$/.exec(line);
    if (sec) {
      cur = { id: sec[1]!.trim(), file: file.path, line: i + 1, enabled: true, baseurls: [], remoteLists: [] };
      out.push(cur);
      lastKey = '';
      return;
    }
    if (!cur) return;
    // Continuation lines (leading whitespace) extend a baseurl list.
    if (/^\s/.test(line) && lastKey === 'baseurl') {
      cur.baseurls.push(...splitList(line));
      return;
    }
    const kv = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) return;
    const key = kv[1]!.toLowerCase();
    const value = kv[2]!.trim();
    lastKey = key;
    if (key === 'enabled') cur.enabled = !/^(0|false|no|off)$/i.test(value);
    else if (key === 'baseurl') cur.baseurls.push(...splitList(value));
    else if ((key === 'metalink' || key === 'mirrorlist') && value !== '') cur.remoteLists.push(value);
  });
  return out;
}

function splitList(s: string): string[] {
  return s.split(/[\s,]+/).filter((x) => x !== '');
}

export interface RepoSelection {
  /** Enabled repo sections, sorted by id. */
  enabled: RepoSection[];
  /** Context directories (context-relative) that `file:///context/…` baseurls point into. */
  contextDirs: string[];
  /** True when some enabled repo is not a `file:///context/…` repo. */
  needsNetwork: boolean;
}

/**
 * The repos dnf will use: `ids` (treefile `repos` + lockfile-repos when locking), or every
 * `enabled=1` repo when `ids` is empty. Unknown ids are checked earlier (checkRepoIds).
 */
export function selectRepos(files: readonly RepoFile[], ids: readonly string[]): RepoSelection {
  const sections = files.flatMap(parseRepoSections);
  const wanted = new Set(ids);
  const enabled = sections
    .filter((s) => (ids.length > 0 ? wanted.has(s.id) : s.enabled))
    .sort((a, b) => compareBytes(a.id, b.id));
  const dirs = new Set<string>();
  let needsNetwork = false;
  const errors: Diagnostic[] = [];
  for (const s of enabled) {
    if (s.remoteLists.length > 0) needsNetwork = true;
    for (const url of s.baseurls) {
      if (!url.startsWith('file:')) {
        needsNetwork = true;
        continue;
      }
      const path = url.replace(/^file:\/\//, '');
      const prefix = `${CONTEXT_MOUNT}/`;
      if (!path.startsWith(prefix)) {
        errors.push({
          file: s.file, line: s.line, key: s.id,
          message: `baseurl ${url} is not in the build context: local repos must be written file://${CONTEXT_MOUNT}/<directory in the context>`,
        });
        continue;
      }
      // Mount up to the first dnf variable ($basearch, $releasever, …): resolved by dnf later.
      const rel = path.slice(prefix.length).split('/').filter((p) => p !== '' && p !== '.');
      const fixed: string[] = [];
      for (const part of rel) {
        if (part.includes('$')) break;
        if (part === '..') {
          errors.push({ file: s.file, line: s.line, key: s.id, message: `baseurl ${url} must not contain ".."` });
          break;
        }
        fixed.push(part);
      }
      if (fixed.length === 0) {
        errors.push({ file: s.file, line: s.line, key: s.id, message: `baseurl ${url} must name a directory below file://${CONTEXT_MOUNT}/` });
        continue;
      }
      dirs.add(fixed.join('/'));
    }
    if (s.baseurls.length === 0 && s.remoteLists.length === 0) {
      errors.push({ file: s.file, line: s.line, key: s.id, message: `repo ${s.id} has no baseurl, metalink or mirrorlist` });
    }
  }
  if (errors.length > 0) throw new TreefileError(errors);
  // A directory inside another mounted one needs no mount of its own.
  const sorted = [...dirs].sort(compareBytes);
  const contextDirs = sorted.filter((d) => !sorted.some((o) => o !== d && d.startsWith(`${o}/`)));
  return { enabled, contextDirs, needsNetwork };
}
