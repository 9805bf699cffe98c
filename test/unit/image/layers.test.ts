import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerPlan } from '../../../src/chunking/types.ts';
import { stampSteps } from '../../../src/image/dir-stamps.ts';
import { buildLayers, layerCopyPlans, layerLinkGroups } from '../../../src/image/layers.ts';
import * as llb from '../../../src/llb/index.ts';
import type { FsEntry } from '../../../src/rootfs/types.ts';

const f = (path: string, linkGroup?: string): FsEntry => ({ path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, ...(linkGroup ? { linkGroup } : {}) });
const d = (path: string, mode = 0o755, uid = 0, gid = 0): FsEntry => ({ path, kind: 'dir', mode, uid, gid, size: 0 });

// usr/bin/perl{,5.36} are one inode; tmp is sticky, var/mail setgid mail, home/u private and owned.
const entries: FsEntry[] = [
  d('usr'), d('usr/bin'), f('usr/bin/perl', 'usr/bin/perl'), f('usr/bin/perl5.36', 'usr/bin/perl'), f('usr/bin/sh'),
  d('usr/share'), d('usr/share/doc'), d('usr/share/doc/a'), f('usr/share/doc/a/copyright'), f('usr/share/doc/b'),
  d('tmp', 0o1777), d('var'), d('var/mail', 0o2775, 0, 8), f('var/mail/root'), f('var/log'),
  d('home', 0o755), d('home/u', 0o700, 1000, 1000), f('home/u/.profile'), f('home/notes'),
];
const plan: LayerPlan = { layers: [
  { name: 'a', components: [], paths: ['usr/bin/perl', 'usr/bin/perl5.36', 'usr/share/doc/a/copyright', 'tmp', 'home/u/.profile', 'var/log'], size: 1 },
  { name: 'b', components: [], paths: ['usr/bin/sh', 'usr/share/doc/b', 'var/mail/root', 'home/notes'], size: 1 },
] };

test('hard-link groups per layer: only groups with two or more names in that layer', () => {
  assert.deepEqual(layerLinkGroups(entries, plan), [[['usr/bin/perl', 'usr/bin/perl5.36']], []]);
});

test('layer copy plans: rooted copies, and the directories the last action stamps', () => {
  const plans = layerCopyPlans(entries, [], plan, 1);
  // The perl names stay together in one copy; a name alone is its own root at this cost.
  assert.deepEqual(plans[0].copies, [
    { src: 'home/u', include: [], exclude: [] },
    { src: 'tmp', include: [], exclude: [] },
    { src: 'usr/bin', include: ['perl', 'perl5.36'], exclude: [] },
    { src: 'usr/share/doc/a', include: [], exclude: [] },
    { src: 'var/log', include: [], exclude: [] },
  ]);
  // Above roots: home, usr, usr/share, usr/share/doc, var; special roots: home/u, tmp. usr/bin and
  // usr/share/doc/a are plain roots (their copy makes them 0755 root:root and stamps them).
  assert.deepEqual(plans[0].stamp, ['home', 'home/u', 'tmp', 'usr', 'usr/share', 'usr/share/doc', 'var']);
  assert.deepEqual(plans[1].copies, [
    { src: 'home/notes', include: [], exclude: [] },
    { src: 'usr/bin/sh', include: [], exclude: [] },
    { src: 'usr/share/doc/b', include: [], exclude: [] },
    { src: 'var/mail', include: [], exclude: [] },
  ]);
  assert.deepEqual(plans[1].stamp, ['home', 'usr', 'usr/bin', 'usr/share', 'usr/share/doc', 'var', 'var/mail']);
});

test('stamp steps: mkdir -p for plain leaves, mode copies for special directories and plain parents of special ones', () => {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const withX = (e: FsEntry): FsEntry => ({ ...e, xattrs: { 'user.x': new Uint8Array([1]) } });
  byPath.set('usr/share', withX(byPath.get('usr/share')!));
  assert.deepEqual(stampSteps(['home', 'home/u', 'tmp', 'usr', 'usr/bin', 'usr/share', 'usr/share/doc', 'var', 'var/mail'], (p) => byPath.get(p)), [
    { path: 'home', how: 'mkdir' },
    { path: 'home/u', how: 'mode' },
    { path: 'tmp', how: 'mode' },
    { path: 'usr', how: 'mkdir' },
    { path: 'usr/bin', how: 'mkdir' },
    { path: 'usr/share', how: 'rootfs' },
    { path: 'usr/share/doc', how: 'mkdir' },
    { path: 'var', how: 'mkdir' },
    { path: 'var/mail', how: 'mode' },
  ]);
  // All plain: only the deepest directories need a step.
  assert.deepEqual(stampSteps(['usr', 'usr/bin', 'usr/share', 'usr/share/doc'], () => undefined), [
    { path: 'usr/bin', how: 'mkdir' },
    { path: 'usr/share/doc', how: 'mkdir' },
  ]);
});

type Act = { kind: string; input: number; secondary: number; src?: string; dest?: string; path?: string; include?: string[]; exclude?: string[]; contents?: boolean; mode?: number; ts?: number; owner?: string };

function layerOps(useMerge: boolean) {
  const rootfs = llb.local('context', { sessionId: 's' });
  const state = buildLayers({ rootfs, prefix: 'rootfs', entries, skipped: [], plan, times: [100, 200], useMerge, ignoreCache: false, actionCost: 1 });
  const g = llb.marshalGraph(state, { platform: { os: 'linux', architecture: 'amd64' } });
  const name = (digest: string) => g.definition.metadata[digest]?.description['llb.customname'] ?? '';
  const byDigest = new Map(g.ops.map((o) => [o.digest, o]));
  const ops = g.ops.filter((o) => o.op.file).map((o) => ({
    name: name(o.digest),
    inputs: o.op.inputs.map((i) => name(i.digest) || (byDigest.get(i.digest)?.op.source?.identifier ?? '?')),
    actions: o.op.file!.actions.map((a): Act => {
      const c = a.copy;
      if (c) return { kind: 'copy', input: Number(a.input), secondary: Number(a.secondaryInput), src: c.src, dest: c.dest, include: c.includePatterns, exclude: c.excludePatterns, contents: c.dirCopyContents, mode: Number(c.mode), ts: Number(c.timestamp) / 1e9, owner: c.owner ? `${c.owner.user?.byID}:${c.owner.group?.byID}` : undefined };
      return { kind: 'mkdir', input: Number(a.input), secondary: Number(a.secondaryInput), path: a.mkdir!.path, mode: a.mkdir!.mode };
    }),
  }));
  return { ops, merge: g.ops.some((o) => o.op.merge) };
}

test('LLB: each layer FileOp copies its roots from the rootfs, then stamps from its part of the skeleton', () => {
  const { ops, merge } = layerOps(true);
  assert.ok(merge);
  const l1 = ops.find((o) => o.name.startsWith('[layer 1/2]'))!;
  assert.deepEqual(l1.inputs, ['local://context', '[layers] directory metadata for 2 layers']);
  assert.deepEqual(l1.actions.map((a) => [a.src, a.dest, a.include, a.exclude, a.contents, a.ts, a.secondary]), [
    ['/rootfs/home/u', '/home/u', [], [], true, 100, 0],
    ['/rootfs/tmp', '/tmp', [], [], true, 100, 0],
    ['/rootfs/usr/bin', '/usr/bin', ['perl', 'perl5.36'], [], true, 100, 0],
    ['/rootfs/usr/share/doc/a', '/usr/share/doc/a', [], [], true, 100, 0],
    ['/rootfs/var/log', '/var/log', [], [], true, 100, 0],
    ['/0', '/', [], [], true, 100, 1],
  ]);
  // Layer 1 starts on scratch (-1), each next action on the previous one.
  assert.deepEqual(l1.actions.map((a) => a.input), [-1, 2, 3, 4, 5, 6]);
  const skel = ops.find((o) => o.name === '[layers] directory metadata for 2 layers')!;
  assert.deepEqual(skel.actions.map((a) => (a.kind === 'mkdir' ? `mkdir ${a.path}` : `copy ${a.src} -> ${a.dest} mode ${a.mode!.toString(8)} owner ${a.owner}`)), [
    'mkdir /0/home', 'copy /empty -> /0/home/u mode 700 owner 1000:1000', 'copy /empty -> /0/tmp mode 1777 owner 0:0', 'mkdir /0/usr/share/doc', 'mkdir /0/var',
    'mkdir /1/home', 'mkdir /1/usr/bin', 'mkdir /1/usr/share/doc', 'mkdir /1/var', 'copy /empty -> /1/var/mail mode 2775 owner 0:8',
  ]);
});

test('LLB without MergeOp: the layers are one chain, each on the previous one', () => {
  const { ops, merge } = layerOps(false);
  assert.ok(!merge);
  const l2 = ops.find((o) => o.name.startsWith('[layer 2/2]'))!;
  assert.equal(l2.inputs[0], ops.find((o) => o.name.startsWith('[layer 1/2]'))!.name);
  assert.equal(l2.actions[0].input, 0);
  assert.deepEqual(l2.actions.map((a) => [a.src, a.dest, a.ts]), [
    ['/rootfs/home/notes', '/home/notes', 200], ['/rootfs/usr/bin/sh', '/usr/bin/sh', 200], ['/rootfs/usr/share/doc/b', '/usr/share/doc/b', 200],
    ['/rootfs/var/mail', '/var/mail', 200], ['/1', '/', 200],
  ]);
});
