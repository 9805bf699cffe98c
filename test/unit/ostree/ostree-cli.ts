// Test helpers around the real `ostree` CLI (Debian trixie's libostree 2025.2): commit a directory,
// read back every object of the repo, and compare with a commitTree() result.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FsEntry, RootfsView } from '../../../src/rootfs/types.ts';
import type { CommitTreeResult } from '../../../src/ostree/commit.ts';
import { objectPath, type ObjectType } from '../../../src/ostree/objects.ts';

export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export const hasOstree = spawnSync('ostree', ['--version'], { stdio: 'ignore' }).status === 0;
export const hasPythonXattrs = spawnSync('/usr/bin/python3', ['-c', 'import os; os.listxattr'], { stdio: 'ignore' }).status === 0;

const made: string[] = [];

/** A fresh directory under the OS temp dir; removed by removeTempDirs(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export type RepoMode = 'archive' | 'bare-user' | 'bare-user-only';

/** `ostree init` + `ostree commit --tree=dir=DIR`; returns the repo path and commit checksum. */
export function ostreeCommit(dir: string, mode: RepoMode, extra: string[] = [], repo?: string): { repo: string; commit: string } {
  if (repo === undefined) {
    repo = tempDir('ostree-repo-');
    run('ostree', ['init', `--repo=${repo}`, `--mode=${mode}`]);
  }
  const out = run('ostree', ['commit', `--repo=${repo}`, `--tree=dir=${dir}`, '--orphan', '--no-bindings', ...extra]);
  return { repo, commit: out.trim() };
}

/** Every object file of a repo: `checksum.type` → absolute path (`.filez` listed as `.file`). */
export function repoObjects(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  const objects = join(repo, 'objects');
  for (const d of readdirSync(objects).sort()) {
    for (const f of readdirSync(join(objects, d)).sort()) {
      const [rest, type] = f.split('.');
      // archive repos store content objects zlib-compressed as `.filez`; the checksum is the same.
      out.set(`${d}${rest}.${type === 'filez' ? 'file' : type}`, join(objects, d, f));
    }
  }
  return out;
}

/**
 * Asserts that the repo holds exactly the objects of `result` (as `checksum.type`), that every
 * metadata object is byte-identical, and that the commit checksums agree.
 */
export function assertSameObjects(result: CommitTreeResult, repo: string, commit: string): { files: number; dirtrees: number; dirmetas: number } {
  assert.equal(result.commit, commit, 'commit checksum');
  const theirs = repoObjects(repo);
  const ours = new Map<string, ObjectType>();
  for (const [sum, o] of result.objects) ours.set(`${sum}.${o.type}`, o.type);
  const only = (a: Map<string, unknown>, b: Map<string, unknown>) => [...a.keys()].filter((k) => !b.has(k)).sort();
  // A repo may hold objects of earlier commits; ours must all be there, and theirs reachable from
  // this commit must all be ours (checked through `ostree ls` by the callers when sharing a repo).
  assert.deepEqual(only(ours, theirs), [], 'objects we made that ostree did not');
  const counts = { files: 0, dirtrees: 0, dirmetas: 0 };
  for (const [sum, o] of result.objects) {
    if (o.type === 'file') { counts.files++; continue; }
    if (o.type === 'dirtree') counts.dirtrees++;
    if (o.type === 'dirmeta') counts.dirmetas++;
    const bytes = readFileSync(join(repo, objectPath(sum, o.type)));
    assert.equal(Buffer.from(o.bytes).toString('hex'), bytes.toString('hex'), `${o.type} ${sum}`);
  }
  return counts;
}

/** Asserts the repo has no objects beyond ours (use on a fresh repo holding one commit). */
export function assertNoExtraObjects(result: CommitTreeResult, repo: string): void {
  const ours = new Set([...result.objects].map(([sum, o]) => `${sum}.${o.type}`));
  const extra = [...repoObjects(repo).keys()].filter((k) => !ours.has(k) && !k.endsWith('.commitmeta'));
  assert.deepEqual(extra, [], 'objects ostree made that we did not');
}

export interface LsEntry {
  type: string;
  /** Content checksum (files, symlinks) or dirtree checksum (dirs). */
  checksum: string;
  /** dirmeta checksum for directories. */
  meta?: string;
}

/** `ostree ls -R -C` of a commit: commit path (no leading '/', root = '') → checksums. */
export function ostreeLs(repo: string, commit: string): Map<string, LsEntry> {
  const out = new Map<string, LsEntry>();
  for (const line of run('ostree', ['ls', `--repo=${repo}`, '-R', '-C', commit]).split('\n')) {
    if (line === '') continue;
    const m = /^(\S)\S+ +\d+ +\d+ +\d+ ([0-9a-f]{64})(?: ([0-9a-f]{64}))? \/(.*)$/.exec(line);
    if (!m) throw new Error(`unexpected ostree ls line: ${line}`);
    const [, type, checksum, meta, rest] = m;
    const path = type === 'l' ? rest!.replace(/ -> .*$/, '') : rest!;
    out.set(path, { type: type!, checksum: checksum!, ...(meta ? { meta } : {}) });
  }
  return out;
}

/** All xattrs under `root` (not following symlinks), read with Python's os.listxattr. */
export function readAllXattrs(root: string): Map<string, Record<string, Uint8Array>> {
  const py = `
import os, sys, json
root = sys.argv[1]
out = {}
def dump(rel, p):
    names = os.listxattr(p, follow_symlinks=False)
    if names:
        out[rel] = {n: os.getxattr(p, n, follow_symlinks=False).hex() for n in names}
dump('', root)
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        dump(os.path.relpath(p, root), p)
print(json.dumps(out))
`;
  const raw = JSON.parse(run('/usr/bin/python3', ['-c', py, root])) as Record<string, Record<string, string>>;
  const out = new Map<string, Record<string, Uint8Array>>();
  for (const [path, attrs] of Object.entries(raw)) {
    out.set(path, Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, Uint8Array.from(Buffer.from(v, 'hex'))])));
  }
  return out;
}

/** Decorates a view's entries with xattrs read from disk (LocalRootfs does not read them). */
export function withXattrs(view: RootfsView, xattrs: Map<string, Record<string, Uint8Array>>): RootfsView {
  const add = (e: FsEntry): FsEntry => (xattrs.has(e.path) ? { ...e, xattrs: xattrs.get(e.path) } : e);
  return Object.assign(Object.create(view) as RootfsView, {
    readDir: async (dir: string) => (await view.readDir(dir)).map(add),
    stat: async (path: string) => {
      const e = await view.stat(path);
      return e && add(e);
    },
    readFile: view.readFile.bind(view),
    linkKey: (view as unknown as { linkKey?: (p: string) => string | undefined }).linkKey?.bind(view),
  });
}
