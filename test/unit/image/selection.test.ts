import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapePattern, selections } from '../../../src/image/selection.ts';
import { leafEntries } from '../../../src/chunking/simple.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';

const f = (path: string, size = 1): FsEntry => ({ path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size });
const d = (path: string): FsEntry => ({ path, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });

/** fsutil copy semantics: taken iff an include pattern names it or an ancestor, and no exclude does. */
function copied(leaves: string[], include: string[], exclude: string[]): string[] {
  const unesc = (p: string) => p.replace(/\\(.)/g, '$1');
  const inc = include.map(unesc);
  const exc = exclude.map(unesc);
  const under = (p: string, q: string) => p === q || p.startsWith(q + '/');
  return leaves.filter((p) => inc.some((q) => under(p, q)) && !exc.some((q) => under(p, q)));
}

function check(entries: FsEntry[], layerOf: Record<string, number>, n: number) {
  const leaves = leafEntries(entries).map((e) => e.path);
  const sels = selections(entries, new Map(Object.entries(layerOf)), n);
  for (let l = 0; l < n; l++) {
    const want = leaves.filter((p) => layerOf[p] === l).sort();
    assert.deepEqual(copied(leaves, sels[l].include, sels[l].exclude).sort(), want, `layer ${l}`);
  }
  return sels;
}

test('a subtree wholly in one layer is one pattern', () => {
  const entries = [d('usr'), d('usr/bin'), f('usr/bin/a'), f('usr/bin/b'), d('usr/lib'), f('usr/lib/x'), d('etc'), f('etc/os-release')];
  const sels = check(entries, { 'usr/bin/a': 0, 'usr/bin/b': 0, 'usr/lib/x': 0, 'etc/os-release': 1 }, 2);
  assert.deepEqual(sels[0], { include: ['usr'], exclude: [] });
  assert.deepEqual(sels[1], { include: ['etc'], exclude: [] });
});

test('a mostly-one-layer directory becomes include + excludes', () => {
  const names = Array.from({ length: 20 }, (_, i) => `usr/lib/f${String(i).padStart(2, '0')}`);
  const entries = [d('usr'), d('usr/lib'), ...names.map((p) => f(p))];
  const layerOf: Record<string, number> = {};
  names.forEach((p, i) => (layerOf[p] = i === 7 ? 1 : 0));
  const sels = check(entries, layerOf, 2);
  assert.deepEqual(sels[0], { include: ['usr/lib'], exclude: ['usr/lib/f07'] });
  assert.deepEqual(sels[1], { include: ['usr/lib/f07'], exclude: [] });
});

test('empty directories are leaves and special paths (layer -1) are always excluded', () => {
  const entries = [d('run'), d('var'), d('var/empty'), f('var/a'), f('var/fifo')];
  const sels = check(entries, { run: 0, 'var/empty': 0, 'var/a': 0, 'var/fifo': -1 }, 1);
  assert.deepEqual(sels[0], { include: ['run', 'var/empty', 'var/a'], exclude: [] });
});

test('nested mixes stay exact', () => {
  const entries: FsEntry[] = [];
  const layerOf: Record<string, number> = {};
  for (const a of ['a', 'b', 'c']) {
    entries.push(d(a));
    for (const b of ['x', 'y']) {
      entries.push(d(`${a}/${b}`));
      for (let i = 0; i < 5; i++) {
        const p = `${a}/${b}/${i}`;
        entries.push(f(p));
        layerOf[p] = (a.charCodeAt(0) * 7 + b.charCodeAt(0) * 3 + i * (a === 'b' ? 1 : 0)) % 3;
      }
    }
  }
  check(entries, layerOf, 3);
});

test('pattern metacharacters are escaped', () => {
  assert.equal(escapePattern('usr/share/a[1]*?.txt'), 'usr/share/a\\[1\\]\\*\\?.txt');
  assert.equal(escapePattern('!bang'), '\\!bang');
  assert.equal(escapePattern('back\\slash'), 'back\\\\slash');
});
