import { test } from 'node:test';
import assert from 'node:assert/strict';
import { componentFingerprints } from '../../../src/chunking/fingerprint.ts';
import { packPlanner } from '../../../src/chunking/pack.ts';
import { decodePlanLabel, encodePlanLabel, PLAN_LABEL_LIMIT } from '../../../src/chunking/plan-label.ts';
import type { LayerPlan } from '../../../src/chunking/types.ts';
import { input, population, previousOf } from './helpers.ts';

const plan = (layers: [string, string[]][]): LayerPlan => ({ layers: layers.map(([name, components]) => ({ name, components, paths: ['x'], size: 1 })) });

test('label: exact format, with and without fingerprints', () => {
  const p = plan([['rpm:kernel', ['rpm:kernel']], ['cold-03', ['rpm:a', 'rpm:b']]]);
  assert.equal(encodePlanLabel(p), '{"v":1,"l":[["rpm:kernel",["rpm:kernel"]],["cold-03",["rpm:a","rpm:b"]]]}');
  const fps = new Map([['rpm:kernel', '0123abcd'], ['rpm:a', 'aaaaaaaa'], ['rpm:b', 'bbbbbbbb']]);
  const text = encodePlanLabel(p, fps);
  assert.equal(text, '{"v":1,"l":[["rpm:kernel",["rpm:kernel"],"0123abcd"],["cold-03",["rpm:a","rpm:b"],"aaaaaaaabbbbbbbb"]]}');
  assert.deepEqual(decodePlanLabel(text), {
    layers: [{ name: 'rpm:kernel', components: ['rpm:kernel'] }, { name: 'cold-03', components: ['rpm:a', 'rpm:b'] }],
    fingerprints: { 'rpm:kernel': '0123abcd', 'rpm:a': 'aaaaaaaa', 'rpm:b': 'bbbbbbbb' },
  });
  // a layer with a component lacking a fingerprint is written without fingerprints
  assert.equal(encodePlanLabel(p, new Map([['rpm:kernel', '0123abcd']])), '{"v":1,"l":[["rpm:kernel",["rpm:kernel"],"0123abcd"],["cold-03",["rpm:a","rpm:b"]]]}');
});

test('label: round trip of a real plan feeds the next build', () => {
  const specs = population(500, 61);
  const inp = input(specs, 64);
  const p = packPlanner(inp);
  const fps = componentFingerprints(inp.entries, inp.components);
  const text = encodePlanLabel(p, fps);
  assert.ok(text.length < PLAN_LABEL_LIMIT);
  const prev = decodePlanLabel(text);
  assert.deepEqual({ layers: prev.layers }, previousOf(p));
  assert.equal(Object.keys(prev.fingerprints!).length, inp.components.length);
  // unchanged input + its own label → the same plan
  assert.deepEqual(packPlanner({ ...inp, previous: prev }), p);
});

test('label: over the bound, the longest entries lose their lists first; names stay', () => {
  const many = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `rpm:${tag}-${'x'.repeat(20)}-${i}`);
  const p = plan([['single', ['rpm:single']], ['big-bin', many(3000, 'b')], ['mid-bin', many(1500, 'm')], ['small-bin', many(10, 's')]]);
  const text = encodePlanLabel(p);
  assert.ok(Buffer.byteLength(text) <= PLAN_LABEL_LIMIT, `${Buffer.byteLength(text)} bytes`);
  const back = decodePlanLabel(text);
  assert.deepEqual(back.layers.map((l) => [l.name, l.components.length]), [['single', 1], ['big-bin', 0], ['mid-bin', 1500], ['small-bin', 10]]);
  // a tiny limit keeps dropping, down to names only, then whole entries with the longest names
  const tight = encodePlanLabel(p, undefined, 80);
  assert.ok(tight.length <= 80);
  assert.equal(tight, '{"v":1,"l":[["single",["rpm:single"]],["big-bin"],["mid-bin"],["small-bin"]]}');
  assert.equal(encodePlanLabel(p, undefined, 40), '{"v":1,"l":[["single"],["mid-bin"]]}');
});

test('label: bad input, clear errors', () => {
  const bad = (text: string, message: string) => assert.throws(() => decodePlanLabel(text), { message });
  bad('{', "plan label: not JSON (Expected property name or '}' in JSON at position 1 (line 1 column 2))");
  bad('[1]', 'plan label: expected a JSON object {"v":1,"l":[…]}');
  bad('{"v":2,"l":[]}', 'plan label: unsupported version 2 (this build reads version 1)');
  bad('{"l":[]}', 'plan label: unsupported version undefined (this build reads version 1)');
  bad('{"v":1,"l":{}}', 'plan label: "l" must be an array of layers');
  bad('{"v":1,"l":[[]]}', 'plan label: layer #1: expected [name, components?, fingerprints?, attributes?]');
  bad('{"v":1,"l":[[""]]}', 'plan label: layer #1: name must be a non-empty string');
  bad('{"v":1,"l":[["a"],["a"]]}', "plan label: layer 'a' appears twice");
  bad('{"v":1,"l":[["a","rpm:x"]]}', "plan label: layer 'a': components must be an array of non-empty strings");
  bad('{"v":1,"l":[["a",["rpm:x"]],["b",["rpm:x"]]]}', "plan label: component 'rpm:x' is in layers 'a' and 'b'");
  bad('{"v":1,"l":[["a",["rpm:x"],"abc"]]}', "plan label: layer 'a': fingerprints must be 1 × 8 lowercase hex digits");
  bad('{"v":1,"l":[["a",["rpm:x"],"ABCDEF01"]]}', "plan label: layer 'a': fingerprints must be 1 × 8 lowercase hex digits");
  bad(`{"v":1,"l":[["${'a'.repeat(1024 * 1024)}"]]}`, 'plan label: 1048594 bytes, more than the 1048576 accepted');
});

test('fingerprints: version or entry metadata changes show; unrelated changes do not', () => {
  const specs = population(3, 62);
  const a = input(specs, 8);
  const fa = componentFingerprints(a.entries, a.components);
  assert.match(fa.get(specs[0].id)!, /^[0-9a-f]{8}$/);
  const b = input(specs.map((s, i) => (i === 0 ? { ...s, version: '2' } : i === 1 ? { ...s, size: s.size + 1 } : s)), 8);
  const fb = componentFingerprints(b.entries, b.components);
  assert.notEqual(fb.get(specs[0].id), fa.get(specs[0].id));
  assert.notEqual(fb.get(specs[1].id), fa.get(specs[1].id));
  assert.equal(fb.get(specs[2].id), fa.get(specs[2].id));
});
