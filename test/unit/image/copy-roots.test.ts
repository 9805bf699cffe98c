import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootedCopies, subtreeSizes, type RootedCopy } from '../../../src/image/copy-roots.ts';
import { escapePattern, selections } from '../../../src/image/selection.ts';
import { leafEntries } from '../../../src/chunking/simple.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';

const f = (path: string): FsEntry => ({ path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 1 });
const d = (path: string): FsEntry => ({ path, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
const sizes = (paths: string[]) => subtreeSizes(paths);

/** fsutil semantics of one copy action: under src, taken iff (no includes or an include names it or an ancestor) and no exclude does. */
function copiedBy(c: RootedCopy, leaves: string[]): string[] {
  const unesc = (p: string) => p.replace(/\\(.)/g, '$1');
  const inc = c.include.map(unesc);
  const exc = c.exclude.map(unesc);
  const under = (p: string, q: string) => p === q || p.startsWith(q + '/');
  return leaves.flatMap((p) => {
    if (c.src !== '' && !under(p, c.src)) return [];
    const rel = c.src === '' ? p : p.slice(c.src.length + 1);
    if (rel === '') return [p];
    return (inc.length === 0 || inc.some((q) => under(rel, q))) && !exc.some((q) => under(rel, q)) ? [p] : [];
  });
}

test('subtree sizes count every entry below a directory and the directory itself', () => {
  assert.deepEqual([...subtreeSizes(['usr', 'usr/bin', 'usr/bin/a', 'etc', 'etc/x']).entries()].sort(), [
    ['', 5], ['etc', 2], ['etc/x', 1], ['usr', 3], ['usr/bin', 2], ['usr/bin/a', 1],
  ]);
});

test('patterns in separate subtrees get one copy each, rooted at their directory, patterns made relative', () => {
  const s = sizes(['usr', 'usr/bin', 'usr/bin/a', 'usr/bin/b', 'usr/share', 'usr/share/doc', 'usr/share/doc/pkg', 'usr/share/doc/pkg/x', 'etc', 'etc/os-release']);
  const out = rootedCopies({ include: ['usr/bin/a', 'usr/bin/b', 'usr/share/doc/pkg', 'etc/os-release'], exclude: [] }, s, [], 1);
  assert.deepEqual(out, [
    { src: 'etc/os-release', include: [], exclude: [] },
    { src: 'usr/bin', include: ['a', 'b'], exclude: [] },
    { src: 'usr/share/doc/pkg', include: [], exclude: [] },
  ]);
});

test('a high action cost merges nearby patterns into one copy at their common directory', () => {
  const paths = ['usr', 'usr/bin', 'usr/bin/a', 'usr/lib', 'usr/lib/b', 'usr/lib/c'];
  const sel = { include: ['usr/bin/a', 'usr/lib/b'], exclude: [] };
  assert.deepEqual(rootedCopies(sel, sizes(paths), [], 1), [
    { src: 'usr/bin/a', include: [], exclude: [] },
    { src: 'usr/lib/b', include: [], exclude: [] },
  ]);
  // One action walking usr (6 entries) beats two actions once an action costs more than 4 entries.
  assert.deepEqual(rootedCopies(sel, sizes(paths), [], 10), [{ src: 'usr', include: ['bin/a', 'lib/b'], exclude: [] }]);
});

test('the rootfs root is a root when that is cheapest, patterns then stay as they are', () => {
  const sel = { include: ['a', 'b', 'c'], exclude: [] };
  assert.deepEqual(rootedCopies(sel, sizes(['a', 'b', 'c', 'd']), [], 100), [{ src: '', include: ['a', 'b', 'c'], exclude: [] }]);
});

test('excludes move to the copy of the directory they are in', () => {
  const s = sizes(['usr', 'usr/lib', 'usr/lib/a', 'usr/lib/b', 'usr/lib/sub', 'usr/lib/sub/c', 'etc', 'etc/x']);
  const out = rootedCopies({ include: ['usr/lib', 'etc/x'], exclude: ['usr/lib/b', 'usr/lib/sub/c'] }, s, [], 1);
  assert.deepEqual(out, [
    { src: 'etc/x', include: [], exclude: [] },
    { src: 'usr/lib', include: [], exclude: ['b', 'sub/c'] },
  ]);
});

test('relative patterns are escaped again (metacharacters, a leading "!")', () => {
  const s = sizes(['doc', 'doc/!bang', 'doc/a[1]*', 'doc/ok', 'x']);
  const sel = { include: [escapePattern('doc/!bang'), escapePattern('doc/a[1]*')], exclude: [] };
  assert.deepEqual(sel.include, ['doc/!bang', 'doc/a\\[1\\]\\*']);
  assert.deepEqual(rootedCopies(sel, s, [], 100), [{ src: 'doc', include: ['\\!bang', 'a\\[1\\]\\*'], exclude: [] }]);
});

test('names of one inode stay in one copy: the root rises to the directory holding them all', () => {
  const paths = ['usr', 'usr/lib', 'usr/lib/libdata.so.1', 'usr/lib/other', 'usr/share', 'usr/share/doc', 'usr/share/doc/libdata-hardlink', 'usr/share/doc/x', 'usr/bin', 'usr/bin/perl', 'usr/bin/perl5.36', 'usr/bin/sh'];
  const sel = { include: ['usr/lib/libdata.so.1', 'usr/share/doc/libdata-hardlink', 'usr/bin/perl', 'usr/bin/perl5.36'], exclude: [] };
  // Without the links, every name is its own copy at this cost.
  assert.equal(rootedCopies(sel, sizes(paths), [], 1).length, 4);
  const links = [['usr/lib/libdata.so.1', 'usr/share/doc/libdata-hardlink'], ['usr/bin/perl', 'usr/bin/perl5.36']];
  assert.deepEqual(rootedCopies(sel, sizes(paths), links, 1), [
    { src: 'usr', include: ['bin/perl', 'bin/perl5.36', 'lib/libdata.so.1', 'share/doc/libdata-hardlink'], exclude: [] },
  ]);
  // A group inside one directory only lifts the root to that directory.
  assert.deepEqual(rootedCopies({ include: ['usr/bin/perl', 'usr/bin/perl5.36', 'usr/lib/other'], exclude: [] }, sizes(paths), [links[1]], 1), [
    { src: 'usr/bin', include: ['perl', 'perl5.36'], exclude: [] },
    { src: 'usr/lib/other', include: [], exclude: [] },
  ]);
});

test('no include patterns, no copies', () => {
  assert.deepEqual(rootedCopies({ include: [], exclude: [] }, new Map()), []);
});

test('the copies of every layer take exactly that layer\'s leaves (selections of a mixed tree, several costs)', () => {
  const entries: FsEntry[] = [];
  const layerOf = new Map<string, number>();
  let k = 0;
  for (const a of ['usr', 'var', 'opt']) {
    entries.push(d(a));
    for (const b of ['x', 'y', 'z']) {
      entries.push(d(`${a}/${b}`));
      for (const c of ['p', 'q']) {
        entries.push(d(`${a}/${b}/${c}`));
        for (let i = 0; i < 4; i++) {
          const p = `${a}/${b}/${c}/f${i}`;
          entries.push(f(p));
          layerOf.set(p, (k++ * 7 + (a === 'var' ? 0 : i)) % 4);
        }
      }
    }
  }
  const leaves = leafEntries(entries).map((e) => e.path);
  const s = subtreeSizes(entries.map((e) => e.path));
  const sels = selections(entries, layerOf, 4);
  for (const cost of [0, 1, 5, 30, 1000]) {
    for (let l = 0; l < 4; l++) {
      const copies = rootedCopies(sels[l], s, [], cost);
      const got = copies.flatMap((c) => copiedBy(c, leaves)).sort();
      assert.deepEqual(got, leaves.filter((p) => layerOf.get(p) === l).sort(), `layer ${l}, cost ${cost}`);
      // Roots never nest: no leaf is written by two copies.
      assert.equal(new Set(got).size, got.length);
    }
  }
});
