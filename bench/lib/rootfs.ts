// The real-rootfs input of the benchmarks: a Debian bookworm minbase tree, made once with debootstrap
// (or taken from a tree some earlier step already made) and kept under .cache/bench/. Device nodes in
// /dev are removed (a build context cannot carry them and bootc images must not hold them).
import { existsSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../test/harness/run.ts';

/** A debootstrap tree another tool may already have made on this machine. */
const KNOWN_TREES = ['/var/tmp/ostree-test/rootfs'];

function looksLikeDebian(dir: string): boolean {
  return existsSync(join(dir, 'var/lib/dpkg/status')) && existsSync(join(dir, 'usr/bin'));
}

/** `cacheDir/rootfs` holds a minbase bookworm tree afterwards; returns its path. */
export async function debianRootfs(cacheDir: string, log: (s: string) => void): Promise<string> {
  const dest = join(cacheDir, 'rootfs');
  if (looksLikeDebian(dest)) return dest;
  rmSync(dest, { recursive: true, force: true });
  const known = KNOWN_TREES.find(looksLikeDebian);
  if (known) {
    log(`copying the Debian tree ${known} to ${dest}`);
    await run('cp', ['-a', known, dest]);
  } else {
    log(`debootstrap --variant=minbase bookworm ${dest} (needs deb.debian.org; ~1-2 min)`);
    await run('debootstrap', ['--variant=minbase', 'bookworm', dest, 'http://deb.debian.org/debian'], { timeoutMs: 20 * 60_000 });
  }
  await run('find', [join(dest, 'dev'), '-mindepth', '1', '-delete']);
  if (!looksLikeDebian(dest)) throw new Error(`${dest}: no Debian tree after preparing it`);
  return dest;
}

/**
 * The regular file with a single link that lies deepest in the tree (first in path order among
 * equals): the "one file changed deep in the tree" of the warm-rebuild measurements.
 */
export function deepestFile(root: string): string {
  let best = '';
  let bestDepth = -1;
  const walk = (rel: string, depth: number) => {
    for (const d of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(p, depth + 1);
      else if (d.isFile() && depth > bestDepth && statSync(join(root, p)).nlink === 1) {
        best = p;
        bestDepth = depth;
      }
    }
  };
  walk('', 0);
  if (!best) throw new Error(`${root}: no regular file found`);
  return best;
}

export interface TreeCounts {
  entries: number;
  bytes: number;
}

/** Entries (files, dirs, links) and apparent bytes of regular files, for the report. */
export function countTree(root: string): TreeCounts {
  let entries = 0;
  let bytes = 0;
  const seen = new Set<string>();
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      entries++;
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.isFile()) {
        const st = lstatSync(p);
        const key = `${st.dev}:${st.ino}`;
        if (!seen.has(key)) {
          seen.add(key);
          bytes += st.size;
        }
      }
    }
  };
  walk(root);
  return { entries, bytes };
}
