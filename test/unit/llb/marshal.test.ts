// marshal(): digests, order, de-duplication, terminal op, metadata, caps
// checks, source maps, sizes, merge/diff, existing definitions.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Definition, Op } from '../../../src/gen/github.com/moby/buildkit/solver/pb/ops.ts';
import * as llb from '../../../src/llb/index.ts';
import { AMD64, ARM64, build, hex } from './helpers.ts';

const ctx = llb.local('context', { sessionId: 'sess' });

function graph(): llb.State {
  const base = llb.image('alpine:3.20');
  const files = base.file(llb.mkdir('/w', 0o755).copy(ctx, '/', '/w/'), { customName: 'copy ctx' });
  return files.run({ args: ['make'], cwd: '/w' }).root;
}

test('digest of every op is sha256 of its exact bytes; inputs point backwards; terminal last', () => {
  const d = build(graph());
  assert.equal(d.ops.length, 5); // image, local, file, exec, terminal
  const seen = new Set<string>();
  for (const { digest, bytes, op } of d.ops) {
    assert.equal(digest, 'sha256:' + createHash('sha256').update(bytes).digest('hex'));
    for (const inp of op.inputs) assert.ok(seen.has(inp.digest), `input ${inp.digest} defined before use`);
    seen.add(digest);
  }
  assert.deepEqual(d.terminal, Op.fromPartial({ inputs: [{ digest: d.ops[3]!.digest, index: 0n }] }));
  assert.equal(d.ops.at(-1)!.bytes.length, 2 + 2 + 71);
  assert.ok(d.head.exec);
});

test('identical graphs built separately give identical definition bytes', () => {
  const a = Definition.encode(llb.marshal(graph(), { platform: AMD64 })).finish();
  const b = Definition.encode(llb.marshal(graph(), { platform: AMD64 })).finish();
  assert.equal(hex(a), hex(b));
  const c = Definition.encode(llb.marshal(graph(), { platform: ARM64 })).finish();
  assert.notEqual(hex(a), hex(c));
});

test('identical ops reached through different vertices appear once, metadata merged', () => {
  const one = llb.scratch().file(llb.mkfile('/a', 0o644, 'x'), { customName: 'first' });
  const two = llb.scratch().file(llb.mkfile('/a', 0o644, 'x'), { ignoreCache: true });
  const d = build(llb.merge([one, two]));
  assert.equal(d.ops.length, 3); // one FileOp, the merge, the terminal
  const fileDigest = d.ops[0]!.digest;
  assert.deepEqual(d.head.inputs.map((i) => i.digest), [fileDigest, fileDigest]);
  assert.deepEqual(d.head.merge!.inputs.map((i) => i.input), [0n, 1n]);
  const meta = d.def.metadata[fileDigest]!;
  assert.equal(meta.ignoreCache, true);
  assert.deepEqual(meta.description, { 'llb.customname': 'first' });
});

test('merge drops scratch, returns a lone input itself, needs cap mergeop', () => {
  const a = llb.scratch().file(llb.mkdir('/a', 0o755));
  const b = llb.scratch().file(llb.mkdir('/b', 0o755));
  assert.equal(llb.merge([]).isScratch, true);
  assert.equal(llb.merge([llb.scratch(), llb.scratch()]).isScratch, true);
  assert.equal(llb.merge([llb.scratch(), a, llb.scratch()]), a);
  const d = build(llb.merge([b, llb.scratch(), a], { customName: 'layers' }));
  assert.equal(d.head.platform, undefined);
  assert.deepEqual(d.head.merge!.inputs.map((i) => i.input), [0n, 1n]);
  assert.equal(d.byDigest.get(d.head.inputs[0]!.digest)!.file!.actions[0]!.mkdir!.path, '/b');
  const md = d.def.metadata[d.ops.at(-2)!.digest]!;
  assert.deepEqual(md.caps, { mergeop: true });
  assert.deepEqual(md.description, { 'llb.customname': 'layers' });
});

test('diff: lower scratch is upper; both inputs listed otherwise', () => {
  const lower = llb.image('alpine');
  const upper = lower.file(llb.mkdir('/x', 0o755));
  assert.equal(llb.diff(llb.scratch(), upper), upper);
  const d = build(llb.diff(lower, upper));
  assert.deepEqual([d.head.diff!.lower!.input, d.head.diff!.upper!.input], [0n, 1n]);
  const up = build(llb.diff(lower, llb.scratch()));
  assert.deepEqual([up.head.diff!.lower!.input, up.head.diff!.upper!.input], [0n, -1n]);
});

test('scratch marshals to the empty definition (0 bytes on the wire)', () => {
  const def = llb.marshal(llb.scratch());
  assert.deepEqual(def, llb.emptyDefinition());
  assert.equal(Definition.encode(def).finish().length, 0);
  assert.equal(llb.definitionSize(def), 0);
  assert.equal(llb.marshalGraph(llb.scratch()).head, undefined);
});

test('metadata: custom names, descriptions, ignore_cache, per-op caps, terminal caps', () => {
  const s = llb.image('alpine', { customName: 'base', description: { 'com.example': 'v' } })
    .file(llb.mkdir('/a', 0o755), { ignoreCache: true, progressGroup: { id: 'g', name: 'Group' } });
  const res = llb.marshalGraph(s, { platform: AMD64 });
  const md = res.definition.metadata;
  const [img, file, term] = res.ops;
  assert.deepEqual(md[img!.digest], {
    ignoreCache: false, description: { 'com.example': 'v', 'llb.customname': 'base' }, exportCache: undefined,
    caps: { 'source.image': true }, progressGroup: undefined, linuxResources: undefined,
  });
  assert.equal(md[file!.digest]!.ignoreCache, true);
  assert.deepEqual(md[file!.digest]!.progressGroup, { id: 'g', name: 'Group', weak: false });
  assert.deepEqual(md[term!.digest]!.caps, { constraints: true, 'meta.description': true, 'meta.ignorecache': true, platform: true });
  assert.deepEqual(res.head, { digest: file!.digest, index: 0 });
  assert.deepEqual(Object.keys(md), [...Object.keys(md)].sort());
});

test('marshal({ignoreCache}) marks every op', () => {
  const d = build(graph(), { platform: AMD64, ignoreCache: true });
  for (const o of d.ops.slice(0, -1)) assert.equal(d.def.metadata[o.digest]!.ignoreCache, true, o.digest);
});

test('map entries are encoded sorted by key bytes, whatever the insertion order', () => {
  const s = llb.local('ctx', { sessionId: 'z', sharedKeyHint: 'h', excludePatterns: ['e'], includePatterns: ['i'], followPaths: ['f'], differ: 'metadata' });
  const d = build(s);
  const src = d.head.source!;
  const keys = ['local.differ', 'local.excludepatterns', 'local.followpaths', 'local.includepattern', 'local.session', 'local.sharedkeyhint'];
  assert.deepEqual(Object.keys(src.attrs), keys);
  const text = Buffer.from(d.ops[0]!.bytes).toString('latin1');
  const pos = keys.map((k) => text.indexOf(k));
  assert.deepEqual(pos, [...pos].sort((a, b) => a - b));
  assert.equal(src.attrs['local.includepattern'], '["i"]');
  // byte order, not UTF-16 order: U+FF5E sorts before U+1F600 in UTF-8, after it in UTF-16
  assert.deepEqual(Object.keys(llb.sortedRecord([['\u{1F600}', 1], ['\uFF5E', 2], ['a', 3]], 't')), ['a', '\uFF5E', '\u{1F600}']);
  assert.throws(() => llb.sortedRecord([['b', 1], ['10', 2]], 'op caps'), { message: 'op caps: key "10" is numeric; numeric map keys cannot be encoded in sorted order' });
});

test('Go-style JSON for pattern attrs', () => {
  assert.equal(llb.goJsonStringArray(['a<b>&c', 'q"\\', '\n\t\u0001', '\u2028', '\ud800x']), '["a\\u003cb\\u003e\\u0026c","q\\"\\\\","\\n\\t\\u0001","\\u2028","\\ufffdx"]');
});

test('caps check against the daemon names the missing or disabled feature and the op', () => {
  const all = ['source.image', 'file.base', 'constraints', 'platform', 'meta.description'];
  const caps = [...all.map((ID) => ({ ID, Enabled: true })), { ID: 'mergeop', Enabled: false, DisabledReasonMsg: 'only enabled with containerd image store backend' }];
  const a = llb.image('alpine').file(llb.mkdir('/a', 0o755), { customName: 'A' });
  const b = llb.image('alpine').file(llb.mkdir('/b', 0o755));
  assert.throws(() => llb.marshal(llb.merge([a, b], { customName: 'layers' }), { platform: AMD64, caps }), {
    name: 'LlbError',
    message: 'BuildKit daemon lacks LLB features this build needs:\n  cap "mergeop" needed by layers: disabled: only enabled with containerd image store backend',
  });
  assert.throws(() => llb.marshal(b.file(llb.symlink('x', '/y')), { platform: AMD64, caps }), {
    message: 'BuildKit daemon lacks LLB features this build needs:\n  cap "file.symlink.create" needed by file op: not listed by the daemon (BuildKit too old?)',
  });
  assert.doesNotThrow(() => llb.marshal(a, { platform: AMD64, caps }));
});

test('source mapping: one SourceInfo per file, locations keyed by op digest', () => {
  const yaml = 'image: alpine\nlayers:\n  - a\n';
  const f1 = llb.sourceFile('spec.yaml', yaml, 'yaml');
  const f1again = llb.sourceFile('spec.yaml', yaml, 'yaml');
  const base = llb.image('alpine', { locations: [{ file: f1, ranges: [llb.lineRange(1)] }] });
  const s = base.file(llb.mkdir('/a', 0o755), { locations: [{ file: f1again, ranges: [llb.lineRange(2, 3)] }] });
  const d = build(s);
  const src = d.def.Source!;
  assert.equal(src.infos.length, 1);
  assert.deepEqual({ ...src.infos[0]!, data: Buffer.from(src.infos[0]!.data).toString() }, { filename: 'spec.yaml', data: yaml, definition: undefined, language: 'yaml' });
  assert.deepEqual(src.locations[d.ops[0]!.digest], { locations: [{ sourceIndex: 0, ranges: [{ start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }] }] });
  assert.deepEqual(src.locations[d.ops[1]!.digest]!.locations[0]!.ranges, [{ start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }]);
  assert.equal(build(llb.image('alpine')).def.Source, undefined);
});

test('definitionSize is the encoded length and grows with inline data', () => {
  const small = llb.marshal(llb.scratch().file(llb.mkfile('/f', 0o644, 'x')));
  const big = llb.marshal(llb.scratch().file(llb.mkfile('/f', 0o644, new Uint8Array(100_000))));
  assert.equal(llb.definitionSize(small), Definition.encode(small).finish().length);
  assert.ok(llb.definitionSize(big) > 100_000 && llb.definitionSize(big) < 101_000);
  assert.equal(llb.LEGACY_MAX_REQUEST_BYTES, 4 * 1024 * 1024);
});

test('fromDefinition reuses ops byte for byte and keeps building on the head', () => {
  const sf = llb.sourceFile('Containerfile', 'FROM alpine\n');
  const inner = llb.image('alpine', { platform: ARM64, customName: 'inner', locations: [{ file: sf, ranges: [llb.lineRange(1)] }] })
    .run({ args: ['x'], mounts: [{ dest: '/out' }] }).mount('/out');
  const innerDef = llb.marshal(inner, { platform: AMD64 });
  const st = llb.fromDefinition(Definition.decode(Definition.encode(innerDef).finish()));
  assert.deepEqual(st.platform, ARM64);
  const d = build(st.file(llb.mkdir('/y', 0o755)), { platform: AMD64 });
  const innerOps = innerDef.def.slice(0, -1).map(hex);
  assert.deepEqual(d.ops.slice(0, 2).map((o) => hex(o.bytes)), innerOps);
  assert.deepEqual(d.head.inputs[0], { digest: d.ops[1]!.digest, index: 1n });
  assert.equal(d.def.metadata[d.ops[0]!.digest]!.description['llb.customname'], 'inner');
  assert.deepEqual(Object.keys(d.def.Source!.locations), [d.ops[0]!.digest]);
  assert.equal(d.def.Source!.infos[0]!.filename, 'Containerfile');
  assert.equal(llb.fromDefinition(llb.emptyDefinition()).isScratch, true);
  assert.deepEqual(llb.marshal(llb.fromDefinition(innerDef), { platform: AMD64 }).def.map(hex), innerDef.def.map(hex));
});

test('fromDefinition rejects a definition without a terminal op', () => {
  const def = llb.marshal(llb.image('alpine'));
  assert.throws(() => llb.fromDefinition({ ...def, def: def.def.slice(0, -1) }), { message: 'fromDefinition: the last op must be a terminal op (one input, no body)' });
  assert.throws(() => llb.fromDefinition({ ...def, def: [def.def.at(-1)!] }), { message: /^fromDefinition: terminal op points at sha256:[0-9a-f]{64}, which is not in the definition$/ });
});
