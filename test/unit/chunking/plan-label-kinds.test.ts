// The plan label leaves room for other layer kinds (a later delta mode): an optional attribute
// object per entry; unknown kinds are refused with a clear error instead of being misread.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePlanLabel } from '../../../src/chunking/plan-label.ts';

test('label: attribute object with kind "components" (or none) reads as an ordinary layer', () => {
  const text = '{"v":1,"x":"ignored","l":[["a",["rpm:a"],"0123abcd",{"kind":"components"}],["b",["rpm:b"],null,{}],["c",[],"",{"note":1}]]}';
  assert.deepEqual(decodePlanLabel(text), {
    layers: [{ name: 'a', components: ['rpm:a'] }, { name: 'b', components: ['rpm:b'] }, { name: 'c', components: [] }],
    fingerprints: { 'rpm:a': '0123abcd' },
  });
});

test('label: an unknown layer kind or bad attributes are refused, naming the layer', () => {
  assert.throws(() => decodePlanLabel('{"v":1,"l":[["base",["rpm:a"]],["delta-1",[],"",{"kind":"delta"}]]}'),
    { message: 'plan label: layer \'delta-1\': kind "delta" is not supported by this build (known: components)' });
  assert.throws(() => decodePlanLabel('{"v":1,"l":[["a",["rpm:a"],"0123abcd",[1]]]}'),
    { message: 'plan label: layer \'a\': attributes must be a JSON object' });
  assert.throws(() => decodePlanLabel('{"v":1,"l":[["a",["rpm:a"],"0123abcd",{},5]]}'),
    { message: 'plan label: layer #1: expected [name, components?, fingerprints?, attributes?]' });
  // without attributes, null fingerprints stay an error (the three-element form is unchanged)
  assert.throws(() => decodePlanLabel('{"v":1,"l":[["a",["rpm:a"],null]]}'), /layer 'a': fingerprints must be 1 × 8 lowercase hex digits/);
});
