// Deterministic synthetic root filesystem for benchmarks: N leaf entries (regular files, symlinks,
// extra hard-link names) spread over ~N/20 directories shaped like a random recursive tree (depth
// ~ln(dirs), like a distro's /usr), log-normal file sizes, text-and-binary-like content that gzip
// compresses about 2x, 5% symlinks, 3% extra hard-link names, fixed mtimes. Same options → same tree,
// byte for byte.
import { closeSync, linkSync, lutimesSync, mkdirSync, openSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SynthOptions {
  /** Leaf entries (regular files + symlinks + extra hard-link names). */
  files: number;
  seed?: number;
  /** Median regular-file size in bytes (log-normal); default 1024. */
  medianBytes?: number;
  /** Sigma of ln(size); default 1.75 (mean ≈ 4.6 × median). */
  sigma?: number;
  /**
   * Where extra hard-link names go. 'clustered' (default, like real distros: pyc optimisation levels,
   * git-core, zoneinfo mirrors): 70% next to the file, 30% in a sibling directory. 'scattered': any
   * directory of the tree (a stress case: every stray name costs the layer selections patterns).
   */
  links?: 'clustered' | 'scattered';
}

export interface SynthSummary {
  dirs: number;
  regular: number;
  symlinks: number;
  hardlinks: number;
  bytes: number;
  /** Deepest regular file with a single link (first in path order): what a "one-file change" touches. */
  deepFile: string;
  depth: number;
}

/** Fixed mtime of every entry (2023-11-14), so the single-layer image is reproducible too. */
export const SYNTH_MTIME = 1_700_000_000;
const MAX_FILE = 16 * 1024 * 1024;

/** mulberry32: small, fast, good enough for shapes and content. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

const EXT = ['so', 'so.1', 'py', 'pyc', 'h', 'mo', 'gz', 'conf', 'pm', 'bin'];
const SYL = ['lib', 'gnu', 'x', 'core', 'net', 'sys', 'data', 'conf', 'util', 'man', 'doc', 'py', 'perl', 'share', 'font', 'loc', 'kit', 'io', 'ssl', 'db'];
function name(rnd: () => number, i: number): string {
  const n = 1 + Math.floor(rnd() * 3);
  let s = '';
  for (let k = 0; k < n; k++) s += SYL[Math.floor(rnd() * SYL.length)];
  return `${s}${i.toString(36)}`;
}

/** 8 MiB of content: runs of dictionary words (text-like) alternating with skewed random bytes (binary-like). */
function corpus(rnd: () => number): Buffer {
  const words: string[] = [];
  for (let i = 0; i < 2048; i++) {
    let w = '';
    const len = 2 + Math.floor(rnd() * 9);
    for (let k = 0; k < len; k++) w += String.fromCharCode(97 + Math.floor(rnd() * rnd() * 26));
    words.push(w);
  }
  const buf = Buffer.alloc(8 * 1024 * 1024);
  let off = 0;
  while (off < buf.length) {
    const run = Math.min(buf.length - off, 256 + Math.floor(rnd() * 4096));
    if (rnd() < 0.6) {
      let s = '';
      while (s.length < run) s += words[Math.floor(rnd() * rnd() * words.length)] + (rnd() < 0.1 ? '\n' : ' ');
      off += buf.write(s.slice(0, run), off, 'latin1');
    } else {
      for (let k = 0; k < run; k++) buf[off + k] = rnd() < 0.5 ? 0 : Math.floor(rnd() * rnd() * 256);
      off += run;
    }
  }
  return buf;
}

/** Writes the tree under `root` (which must exist and be empty). */
export function generateTree(root: string, o: SynthOptions): SynthSummary {
  const rnd = prng(o.seed ?? 0x5eed);
  const median = o.medianBytes ?? 1024;
  const sigma = o.sigma ?? 1.75;
  const data = corpus(rnd);

  // Directories: a distro-like skeleton, then uniform attachment (random recursive tree).
  const dirs: string[] = ['usr', 'usr/lib', 'usr/share', 'usr/bin', 'usr/lib64', 'etc', 'var', 'var/lib', 'opt'];
  const depthOf = new Map<string, number>(dirs.map((d) => [d, d.split('/').length]));
  const nDirs = Math.max(dirs.length, Math.round(o.files / 20));
  for (let i = dirs.length; i < nDirs; i++) {
    // Biased to earlier (shallower) directories: wide near the top, like /usr/share/*, depth ~4-10.
    const parent = dirs[Math.floor(rnd() * rnd() * dirs.length)];
    const d = `${parent}/${name(rnd, i)}`;
    dirs.push(d);
    depthOf.set(d, depthOf.get(parent)! + 1);
  }
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  const subdirs = new Map<string, string[]>();
  for (const d of dirs) {
    const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    subdirs.set(parent, [...(subdirs.get(parent) ?? []), d]);
  }

  // Files per directory: log-normal weights (a few huge directories, many small ones).
  const cum: number[] = [];
  let total = 0;
  for (let i = 0; i < dirs.length; i++) cum.push((total += Math.exp(1.5 * normal(rnd))));
  const pickDir = (): string => {
    const x = rnd() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return dirs[lo];
  };

  const s: SynthSummary = { dirs: dirs.length, regular: 0, symlinks: 0, hardlinks: 0, bytes: 0, deepFile: '', depth: -1 };
  const regular: string[] = [];
  const symlinks: string[] = [];
  const linked = new Set<string>();
  for (let i = 0; i < o.files; i++) {
    const dir = pickDir();
    // '-' keeps file names apart from directory names (both end in their index).
    const path = `${dir}/${name(rnd, i)}-${EXT[Math.floor(rnd() * EXT.length)]}`;
    const kind = regular.length < 8 ? 0 : rnd();
    if (kind < 0.92) {
      const size = rnd() < 0.02 ? 0 : Math.min(MAX_FILE, Math.round(median * Math.exp(sigma * normal(rnd))));
      const fd = openSync(join(root, path), 'wx', rnd() < 0.12 ? 0o755 : 0o644);
      const header = Buffer.from(`${path}\n`);
      let left = size;
      if (left > 0) left -= writeSync(fd, header, 0, Math.min(left, header.length));
      while (left > 0) {
        const off = Math.floor(rnd() * (data.length - 1));
        left -= writeSync(fd, data, off, Math.min(left, data.length - off));
      }
      closeSync(fd);
      regular.push(path);
      s.regular++;
      s.bytes += size;
    } else if (kind < 0.97) {
      // Link to an existing file: relative within its directory (libfoo.so -> libfoo.so.1), else absolute.
      const target = regular[Math.floor(rnd() * regular.length)];
      const rel = target.startsWith(`${dir}/`) && !target.slice(dir.length + 1).includes('/') ? target.slice(dir.length + 1) : `/${target}`;
      symlinkSync(rel, join(root, path));
      symlinks.push(path);
      s.symlinks++;
    } else {
      // Extra name for an existing file (what the exec scan must pair up).
      const target = regular[Math.floor(rnd() * regular.length)];
      const u = rnd();
      let at = path;
      if ((o.links ?? 'clustered') === 'clustered') {
        const tdir = target.slice(0, target.lastIndexOf('/'));
        const siblings = subdirs.get(tdir.includes('/') ? tdir.slice(0, tdir.lastIndexOf('/')) : '') ?? [tdir];
        const where = u < 0.7 ? tdir : siblings[Math.floor(((u - 0.7) / 0.3) * siblings.length)];
        at = `${where}/${path.slice(path.lastIndexOf('/') + 1)}`;
      }
      linkSync(join(root, target), join(root, at));
      linked.add(target);
      s.hardlinks++;
    }
  }

  for (const p of regular) {
    const depth = p.split('/').length;
    if (!linked.has(p) && (depth > s.depth || (depth === s.depth && p < s.deepFile))) {
      s.depth = depth;
      s.deepFile = p;
    }
  }
  // Fixed mtimes: leaves first, then directories deepest first (creating children moved their mtime).
  for (const p of regular) utimesSync(join(root, p), SYNTH_MTIME, SYNTH_MTIME);
  for (const p of symlinks) lutimesSync(join(root, p), SYNTH_MTIME, SYNTH_MTIME);
  const byDepth = [...dirs].sort((a, b) => depthOf.get(b)! - depthOf.get(a)! || (a < b ? -1 : 1));
  for (const d of byDepth) utimesSync(join(root, d), SYNTH_MTIME, SYNTH_MTIME);
  lutimesSync(root, SYNTH_MTIME, SYNTH_MTIME);
  return s;
}
