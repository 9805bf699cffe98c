// FileOp encoding: Go's -1 defaults, action index math, outputs, owners, caps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as llb from '../../../src/llb/index.ts';
import { build } from './helpers.ts';

const img = llb.image('alpine:3.20');
const ctxA = llb.local('a', { sessionId: 's' });
const ctxB = llb.local('b', { sessionId: 's' });

test('omitted mode/timestamp encode as Go\'s -1 ("keep" / "now")', () => {
  const d = build(img.file(llb.copy(ctxA, 'src', '/dst').mkdir('/d', 0o755).mkfile('/f', 0o600, 'x').symlink('t', '/l')));
  const [cp, md, mf, sl] = d.head.file!.actions;
  assert.equal(cp!.copy!.mode, -1);
  assert.equal(cp!.copy!.timestamp, -1n);
  assert.equal(cp!.copy!.modeStr, '');
  assert.equal(md!.mkdir!.mode, 0o755);
  assert.equal(md!.mkdir!.timestamp, -1n);
  assert.equal(mf!.mkfile!.timestamp, -1n);
  assert.deepEqual([...mf!.mkfile!.data], [120]);
  assert.equal(sl!.symlink!.timestamp, -1n);
  assert.equal(sl!.symlink!.oldpath, 't');
  assert.equal(sl!.symlink!.newpath, '/l');
});

test('explicit values: Unix-ns timestamps (bigint or integral number), copy mode, mode string', () => {
  const ns = 1_700_000_000_000_000_000n;
  const d = build(llb.scratch().file(
    llb.copy(ctxA, '/x', '/y', { mode: 0o4755, timestamp: ns })
      .copy(ctxA, '/x', '/z', { mode: 'u+x', timestamp: 1_700_000_000 * 1e9 })
      .mkdir('/m', 0o700, { timestamp: 0n, makeParents: true }),
  ));
  const [a, b, c] = d.head.file!.actions;
  assert.equal(a!.copy!.mode, 0o4755);
  assert.equal(a!.copy!.timestamp, ns);
  assert.equal(b!.copy!.mode, 0);
  assert.equal(b!.copy!.modeStr, 'u+x');
  assert.equal(b!.copy!.timestamp, ns);
  assert.equal(c!.mkdir!.timestamp, 0n);
  assert.equal(c!.mkdir!.makeParents, true);
  const meta = d.def.metadata[d.ops.find((o) => o.op === d.head)!.digest]!;
  assert.deepEqual(Object.keys(meta.caps), ['file.base', 'file.copy.modestring']);
});

test('index math: base, de-duplicated copy sources, len(inputs)+k chaining, single output', () => {
  const chain = llb.copy(ctxA, '/1', '/1')
    .copy(ctxB, '/2', '/2')
    .copy(ctxA, '/3', '/3') // same source again: shares input 1
    .copy(llb.scratch(), '/4', '/4')
    .rm('/5');
  const d = build(img.file(chain));
  const op = d.head;
  assert.equal(op.inputs.length, 3);
  const src = (i: number) => d.byDigest.get(op.inputs[i]!.digest)!.source!.identifier;
  assert.deepEqual([0, 1, 2].map(src), ['docker-image://docker.io/library/alpine:3.20', 'local://a', 'local://b']);
  const acts = op.file!.actions.map((a) => [a.input, a.secondaryInput, a.output]);
  assert.deepEqual(acts, [
    [0n, 1n, -1n], // action 0 on the base input
    [3n, 2n, -1n], // len(inputs)=3 + 0
    [4n, 1n, -1n],
    [5n, -1n, -1n], // copy from scratch
    [6n, -1n, 0n], // last action is output 0
  ]);
});

test('scratch base: action 0 reads -1, later actions index past the op inputs', () => {
  const d = build(llb.scratch().file(llb.mkdir('/a', 0o755).copy(ctxA, '/x', '/a/')));
  const acts = d.head.file!.actions;
  assert.equal(d.head.inputs.length, 1);
  assert.deepEqual(acts.map((a) => [a.input, a.secondaryInput, a.output]), [[-1n, -1n, -1n], [1n, 0n, 0n]]);
  assert.equal(acts[1]!.copy!.dest, '/a/');
});

test('several chains given to file() form ONE FileOp in order', () => {
  const d = build(llb.scratch().file([llb.mkdir('/a', 0o755), llb.mkfile('/a/b', 0o644, 'b').rm('/a/c')], { customName: 'one op' }));
  assert.equal(d.ops.length, 2);
  assert.deepEqual(d.head.file!.actions.map((a) => Object.keys(a).find((k) => ['mkdir', 'mkfile', 'rm'].includes(k) && (a as never)[k])),
    ['mkdir', 'mkfile', 'rm']);
  assert.deepEqual(d.head.file!.actions.map((a) => a.input), [-1n, 0n, 1n]);
});

test('each file() call is its own FileOp stacked on the previous one', () => {
  const d = build(llb.scratch().file(llb.mkdir('/a', 0o755)).file(llb.mkdir('/b', 0o755)));
  assert.equal(d.ops.length, 3);
  const first = d.byDigest.get(d.head.inputs[0]!.digest)!;
  assert.equal(first.file!.actions[0]!.mkdir!.path, '/a');
  assert.equal(d.head.file!.actions[0]!.input, 0n);
});

test('owners: ids, "root", numeric strings and names looked up in the base input', () => {
  const d = build(img.file(
    llb.copy(ctxA, '/x', '/x', { owner: { user: 'app', group: 'wheel' } })
      .mkdir('/d', 0o755, { owner: { user: 1000, group: 0 } })
      .mkfile('/f', 0o644, '', { owner: { user: 'root' } })
      .symlink('/t', '/l', { owner: { user: '42', group: '7' } }),
  ));
  const [cp, md, mf, sl] = d.head.file!.actions;
  assert.deepEqual(cp!.copy!.owner, { user: { byName: { name: 'app', input: 0n }, byID: undefined }, group: { byName: { name: 'wheel', input: 0n }, byID: undefined } });
  assert.deepEqual(md!.mkdir!.owner, { user: { byName: undefined, byID: 1000 }, group: { byName: undefined, byID: 0 } });
  assert.deepEqual(mf!.mkfile!.owner, { user: { byName: undefined, byID: 0 }, group: undefined });
  assert.deepEqual(sl!.symlink!.owner, { user: { byName: undefined, byID: 42 }, group: { byName: undefined, byID: 7 } });
});

test('named owner on a scratch base looks up input -1 (as Go does)', () => {
  const d = build(llb.scratch().file(llb.mkdir('/d', 0o755, { owner: { user: 'app' } })));
  assert.equal(d.head.file!.actions[0]!.mkdir!.owner!.user!.byName!.input, -1n);
});

test('paths are cleaned and absolute; copy dest keeps "/" and "/."', () => {
  const d = build(llb.scratch().file(
    llb.copy(ctxA, 'a/../b/', 'out/', {}).copy(ctxA, './c', '/x/./y/.').copy(ctxA, '/d', '/').mkdir('e//f/', 0o755).rm('../../g'),
  ));
  const a = d.head.file!.actions;
  assert.deepEqual([a[0]!.copy!.src, a[0]!.copy!.dest], ['/b', '/out/']);
  assert.deepEqual([a[1]!.copy!.src, a[1]!.copy!.dest], ['/c', '/x/y/.']);
  assert.deepEqual([a[2]!.copy!.src, a[2]!.copy!.dest], ['/d', '/']);
  assert.equal(a[3]!.mkdir!.path, '/e/f');
  assert.equal(a[4]!.rm!.path, '/g');
});

test('copy flags and patterns land in the right fields with their caps', () => {
  const d = build(llb.scratch().file(llb.copy(ctxA, '/src', '/dst', {
    includePatterns: ['usr/**', 'etc/os-release'], excludePatterns: ['usr/share/doc'], requiredPaths: ['usr'],
    dirCopyContents: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, followSymlink: true,
    attemptUnpack: true, alwaysReplaceExistingDestPaths: true,
  }).rm('/w*', { allowWildcard: true, allowNotFound: true }).symlink('a', '/b')));
  const c = d.head.file!.actions[0]!.copy!;
  assert.deepEqual(c.includePatterns, ['usr/**', 'etc/os-release']);
  assert.deepEqual(c.excludePatterns, ['usr/share/doc']);
  assert.deepEqual(c.requiredPaths, ['usr']);
  for (const k of ['dirCopyContents', 'createDestPath', 'allowWildcard', 'allowEmptyWildcard', 'followSymlink', 'attemptUnpackDockerCompatibility', 'alwaysReplaceExistingDestPaths'] as const) {
    assert.equal(c[k], true, k);
  }
  const rmA = d.head.file!.actions[1]!.rm!;
  assert.deepEqual([rmA.allowWildcard, rmA.allowNotFound], [true, true]);
  const meta = d.def.metadata[d.ops.at(-2)!.digest]!;
  assert.deepEqual(Object.keys(meta.caps), [
    'file.base', 'file.copy.alwaysreplaceexistingdestpaths', 'file.copy.includeexcludepatterns', 'file.copy.requiredpaths',
    'file.rm.wildcard', 'file.symlink.create',
  ]);
});

test('FileOps carry no platform, only empty worker constraints', () => {
  const d = build(img.file(llb.mkdir('/a', 0o755)));
  assert.equal(d.head.platform, undefined);
  assert.deepEqual(d.head.constraints, { filter: [] });
});

test('bad file actions fail early with the path in the message', () => {
  assert.throws(() => llb.mkdir('/x', 0o1777), { name: 'LlbError', message: 'mkdir "/x": mode 1023 must be an integer in 0..0o777 (BuildKit masks setuid/setgid/sticky bits here)' });
  assert.throws(() => llb.mkfile('', 0o644, 'x'), { message: 'mkfile "": path must be a non-empty string' });
  assert.throws(() => llb.mkfile('/f', 0o644, 'x', { timestamp: -5n }), { message: 'mkfile "/f": timestamp -5 out of range (0..2^63-1 ns)' });
  assert.throws(() => llb.mkfile('/f', 0o644, 'x', { timestamp: 1.5 }), { message: 'mkfile "/f": timestamp 1.5 must be an integer of Unix nanoseconds' });
  assert.throws(() => llb.copy(ctxA, '/a', '/b', { requiredPaths: ['a'] }), { message: 'copy "/a" -> "/b": requiredPaths needs includePatterns' });
  assert.throws(() => llb.copy(ctxA, '/a', '/b', { mode: 0o17777 }), { message: 'copy "/a" -> "/b": mode 8191 must be an integer in 0..0o7777' });
  assert.throws(() => llb.copy({} as llb.State, '/a', '/b'), { message: 'copy "/a" -> "/b": source must be an llb State (use scratch() for an empty one)' });
  assert.throws(() => llb.mkdir('/d', 0o755, { owner: { user: 'a:b' } }), { message: 'mkdir "/d": owner user must be a number or a non-empty name without \':\'' });
  assert.throws(() => llb.symlink('t', '/l', { owner: { user: -1 } }), { message: 'symlink "/l" -> "t": owner user id -1 out of range' });
  assert.throws(() => llb.scratch().file([]), { message: 'file(): at least one action is required' });
});

test('FileAction chains are immutable and reusable', () => {
  const base = llb.mkdir('/a', 0o755);
  const one = base.mkfile('/a/1', 0o644, '1');
  const two = base.mkfile('/a/2', 0o644, '2');
  assert.deepEqual(one.list().map((s) => s.kind), ['mkdir', 'mkfile']);
  assert.deepEqual(two.list().map((s) => (s.kind === 'mkfile' ? s.path : s.kind)), ['mkdir', '/a/2']);
  assert.ok(Object.isFrozen(one));
});
