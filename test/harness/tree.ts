// File-for-file comparison of two directory trees, reported as readable lines.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

export interface TreeEntry {
  /** '/'-rooted path inside the tree ('/' is the root itself). */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  perm: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSec: number;
  target?: string;
  rdev?: number;
  /** Other paths of this tree sharing the inode (non-directories only), sorted. */
  links: string[];
}

export interface CompareOptions {
  /** Skip these paths (and everything below them); called with '/'-rooted paths. */
  ignore?: (path: string) => boolean;
  /** Also compare mtimes (seconds). Default false. */
  mtime?: boolean;
  /** Also compare the roots' own mode, owner and mtime. Default false. */
  root?: boolean;
  /** Names for the two sides in the report. Default ['a', 'b']. */
  labels?: [string, string];
  /** Report at most this many lines (the count of the rest is appended). Default 60. */
  maxLines?: number;
}

export interface TreeDiff {
  equal: boolean;
  /** Every difference, one line each, in path order. */
  differences: string[];
  /** Report for assertion messages ('' when equal). */
  text: string;
}

function typeOf(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  return 'block';
}

/** Every entry of the tree under `root`, keyed by '/'-rooted path, in sorted walk order. */
export async function scanTree(root: string, ignore?: (path: string) => boolean): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  const inodes = new Map<string, string[]>();
  const visit = async (abs: string, rel: string): Promise<void> => {
    if (rel !== '/' && ignore?.(rel)) return;
    const st = await lstat(abs);
    const type = typeOf(st);
    const e: TreeEntry = {
      path: rel,
      type,
      perm: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === 'file' ? st.size : 0,
      mtimeSec: Math.floor(st.mtimeMs / 1000),
      links: [],
    };
    if (type === 'symlink') e.target = await readlink(abs);
    if (type === 'char' || type === 'block') e.rdev = st.rdev;
    entries.set(rel, e);
    if (type !== 'dir' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      inodes.set(key, [...(inodes.get(key) ?? []), rel]);
    }
    if (type === 'dir') {
      const names = (await readdir(abs)).sort();
      for (const n of names) await visit(join(abs, n), rel === '/' ? `/${n}` : `${rel}/${n}`);
    }
  };
  await visit(root, '/');
  for (const group of inodes.values()) {
    if (group.length < 2) continue;
    for (const p of group) entries.get(p)!.links = group.filter((q) => q !== p).sort();
  }
  return entries;
}

async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const oct = (n: number): string => n.toString(8).padStart(4, '0');

function describe(e: TreeEntry): string {
  const t = e.type === 'symlink' ? `symlink -> ${e.target}` : e.type;
  return `${t} ${oct(e.perm)} ${e.uid}:${e.gid}`;
}

/**
 * Compares two trees: presence, type, permission bits (incl. setuid/setgid/sticky), uid/gid, file
 * content (size, then sha256), symlink targets, device numbers, hard-link groups and, optionally,
 * mtimes. Empty directories count as entries like any other.
 */
export async function compareTrees(a: string, b: string, opts: CompareOptions = {}): Promise<TreeDiff> {
  const [la, lb] = opts.labels ?? ['a', 'b'];
  const ta = await scanTree(a, opts.ignore);
  const tb = await scanTree(b, opts.ignore);
  const paths = [...new Set([...ta.keys(), ...tb.keys()])].sort();
  const diffs: string[] = [];
  let skipUnder: string | undefined; // a directory present on one side only: its subtree is summarized

  for (const p of paths) {
    if (skipUnder !== undefined && p.startsWith(skipUnder)) continue;
    skipUnder = undefined;
    const x = ta.get(p);
    const y = tb.get(p);
    if (!x || !y) {
      const [side, e, tree] = x ? [la, x, ta] : [lb, y!, tb];
      let below = '';
      if (e.type === 'dir') {
        skipUnder = `${p}/`;
        const n = [...tree.keys()].filter((q) => q.startsWith(skipUnder!)).length;
        if (n > 0) below = `, ${n} entries below`;
      }
      diffs.push(`only in ${side}: ${p} (${describe(e)}${below})`);
      continue;
    }
    if (x.type !== y.type) {
      diffs.push(`${p}: type ${x.type} != ${y.type}`);
      if (x.type === 'dir' || y.type === 'dir') skipUnder = `${p}/`;
      continue;
    }
    const isRoot = p === '/';
    if ((!isRoot || opts.root) && x.type !== 'symlink' && x.perm !== y.perm) {
      diffs.push(`${p}: mode ${oct(x.perm)} != ${oct(y.perm)}`);
    }
    if ((!isRoot || opts.root) && (x.uid !== y.uid || x.gid !== y.gid)) {
      diffs.push(`${p}: owner ${x.uid}:${x.gid} != ${y.uid}:${y.gid}`);
    }
    if (x.type === 'symlink' && x.target !== y.target) {
      diffs.push(`${p}: symlink target ${JSON.stringify(x.target)} != ${JSON.stringify(y.target)}`);
    }
    if (x.rdev !== y.rdev) diffs.push(`${p}: device ${x.rdev} != ${y.rdev}`);
    if (x.type === 'file') {
      if (x.size !== y.size) {
        diffs.push(`${p}: content differs (size ${x.size} != ${y.size})`);
      } else if (x.size > 0) {
        const [hx, hy] = await Promise.all([fileHash(join(a, p)), fileHash(join(b, p))]);
        if (hx !== hy) diffs.push(`${p}: content differs (sha256 ${hx.slice(0, 12)}… != ${hy.slice(0, 12)}…)`);
      }
    }
    if (x.links.join('\0') !== y.links.join('\0')) {
      const show = (l: string[]): string => (l.length ? `[${l.join(' ')}]` : 'none');
      diffs.push(`${p}: hard links ${show(x.links)} != ${show(y.links)}`);
    }
    if (opts.mtime && (!isRoot || opts.root) && x.mtimeSec !== y.mtimeSec) diffs.push(`${p}: mtime ${x.mtimeSec} != ${y.mtimeSec}`);
  }

  const max = opts.maxLines ?? 60;
  const shown = diffs.slice(0, max);
  if (diffs.length > max) shown.push(`… and ${diffs.length - max} more differences`);
  const text = diffs.length ? [`trees differ (${la}=${a}, ${lb}=${b}):`, ...shown.map((l) => `  ${l}`)].join('\n') : '';
  return { equal: diffs.length === 0, differences: diffs, text };
}
