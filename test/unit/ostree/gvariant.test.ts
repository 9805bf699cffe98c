// GVariant serializer: examples from the GVariant specification, framing-offset widths, strict
// decoding, bad input, and a differential test against GLib itself (python3-gi) on random types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { be32, be64, decode, encode, parseType, type GValue } from '../../../src/ostree/gvariant.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

test('examples from the GVariant specification', () => {
  assert.equal(hex(encode('s', 'hello world')), Buffer.from('hello world\0').toString('hex'));
  assert.equal(hex(encode('ms', 'hello world')), Buffer.from('hello world\0\0').toString('hex'));
  assert.equal(hex(encode('ms', null)), '');
  assert.equal(hex(encode('ab', [true, false, true, true, false])), '0100010100');
  assert.equal(hex(encode('as', ['i', 'can', 'has', 'strings?'])),
    Buffer.from('i\0can\0has\0strings?\0').toString('hex') + '02060a13');
  assert.equal(hex(encode('(si)', ['foo', -1])), '666f6f00ffffffff04');
  assert.equal(hex(encode('a(si)', [['hi', -2], ['bye', -1]])),
    '686900' + '00' + 'feffffff' + '03' + '000000' + '62796500' + 'ffffffff' + '04' + '0915');
  assert.equal(hex(encode('{ys}', [4, 'x'])), '047800');
  assert.equal(hex(encode('v', { type: 'as', value: ['a'] })), '6100' + '02' + '00' + '6173');
  assert.equal(hex(encode('()', [])), '00');
  assert.equal(hex(encode('(yu)', [1, 2])), '0100000002000000');
  assert.equal(hex(encode('(uy)', [2, 1])), '0200000001000000');
  assert.equal(hex(encode('ay', new Uint8Array([1, 2, 3]))), '010203');
  assert.equal(hex(encode('ay', [1, 2, 3])), '010203');
});

test('variant and dict entry layout', () => {
  // 'u' 5 at offset 0, NUL, type string; the outer `{sv}` records the key end (2) only.
  assert.equal(hex(encode('v', { type: 'u', value: 5 })), '050000000075');
  assert.equal(hex(encode('{sv}', ['k', { type: 'u', value: 5 }])), '6b00' + '000000000000' + '050000000075' + '02');
  assert.equal(hex(encode('a{sv}', [['k', { type: 'u', value: 5 }]])), '6b00000000000000050000000075' + '02' + '0f');
});

test('framing offsets widen to 2, 4 bytes at the exact thresholds', () => {
  // as with n one-char strings: body 2n, n offsets; 1-byte offsets while 3n <= 255.
  const as = (n: number) => encode('as', Array.from({ length: n }, () => 'x'));
  assert.equal(as(85).length, 255); // 170 + 85: still 1-byte offsets
  assert.equal(as(86).length, 172 + 2 * 86);
  assert.equal(hex(as(86).subarray(172, 176)), '02000400');
  // (ss): 252 + 2 bytes of strings + one offset = 255 still fits 1-byte offsets; one more byte does not.
  const s251 = 'y'.repeat(251);
  assert.equal(encode('(ss)', [s251, 'a']).length, 252 + 2 + 1);
  assert.equal(encode('(ss)', [s251 + 'y', 'a']).length, 253 + 2 + 2);
  const big = encode('(ays)', [new Uint8Array(70000), 'z']);
  assert.equal(big.length, 70000 + 2 + 4);
  assert.equal(new DataView(big.buffer).getUint32(70002, true), 70000);
  assert.deepEqual(decode('(ays)', big), [new Uint8Array(70000), 'z']);
});

test('be32/be64 give big-endian bytes when written little-endian', () => {
  assert.equal(hex(encode('u', be32(0o100644))), '000081a4');
  assert.equal(hex(encode('u', be32(0xdeadbeef))), 'deadbeef');
  assert.equal(hex(encode('t', be64(1704164645))), '0000000065937d25');
});

test('decode inverts encode on nested values', () => {
  const cases: [string, GValue][] = [
    ['(a{sv}aya(say)sstayay)', [[['version', { type: 's', value: '1.0' }], ['n', { type: 't', value: 7n }]],
      new Uint8Array(0), [['x', bytes('00ff')]], 'subj', 'body', 5n, bytes('aa'), bytes('bb')]],
    ['a(ayay)', [[bytes('757300'), bytes('01')], [bytes('7600'), new Uint8Array(0)]]],
    ['mas', null],
    ['mas', ['x']],
    ['(msmu)', [null, 3]],
    ['(yqnixtbd)', [1, 2, -3, -4, -5n, 6n, true, 0.5]],
    ['aas', [[], ['a'], ['', 'bc']]],
  ];
  for (const [sig, v] of cases) assert.deepEqual(decode(sig, encode(sig, v)), v, sig);
});

test('bad types and values are refused with clear messages', () => {
  assert.throws(() => parseType('(s'), { message: "GVariant type '(s': missing ')'" });
  assert.throws(() => parseType('ss'), { message: "GVariant type 'ss': trailing characters at offset 1" });
  assert.throws(() => parseType('{vs}'), { message: "GVariant type '{vs}': a dict entry needs a basic key and one value" });
  assert.throws(() => parseType('mmu'), { message: "GVariant type 'mmu': nested maybe types are not supported" });
  assert.throws(() => parseType('r'), { message: "GVariant type 'r': unsupported type character 'r' at offset 0" });
  assert.throws(() => encode('u', -1), { message: "GVariant 'u': integer out of range (got -1)" });
  assert.throws(() => encode('y', 256), { message: "GVariant 'y': integer out of range (got 256)" });
  assert.throws(() => encode('u', 1.5), { message: "GVariant 'u': expected an integer (got 1.5)" });
  assert.throws(() => encode('s', 'a\0b'), { message: 'GVariant \'s\': strings cannot contain NUL (got "a\\u0000b")' });
  assert.throws(() => encode('s', '\ud800'), { message: 'GVariant \'s\': string is not valid Unicode (got "\\ud800")' });
  assert.throws(() => encode('(su)', ['a']), { message: 'GVariant \'(su)\': expected an array of 2 members (got ["a"])' });
  assert.throws(() => encode('v', 'x'), { message: 'GVariant \'v\': expected { type, value } (got "x")' });
  assert.throws(() => decode('s', bytes('6162')), { message: "GVariant 's': string without NUL terminator" });
  assert.throws(() => decode('u', bytes('01')), { message: "GVariant 'u': expected 4 bytes, got 1" });
  assert.throws(() => decode('as', bytes('610005')), { message: "GVariant 'as': bad framing" });
});

// ---- differential test against GLib ----

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomType(r: () => number, depth: number): string {
  const basics = ['y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 's'];
  const k = depth <= 0 ? 0 : Math.floor(r() * 6);
  if (k <= 1) return basics[Math.floor(r() * basics.length)]!;
  if (k === 2) return 'a' + randomType(r, depth - 1);
  if (k === 3) {
    if (r() < 0.5) return 'v';
    const inner = randomType(r, depth - 1);
    return inner.startsWith('m') ? inner : 'm' + inner;
  }
  if (k === 4) return `a{${basics[Math.floor(r() * basics.length)]}${randomType(r, depth - 1)}}`;
  const n = Math.floor(r() * 4);
  return '(' + Array.from({ length: n }, () => randomType(r, depth - 1)).join('') + ')';
}

const STRS = ['', 'a', 'hello', 'é€😀', 'x'.repeat(300), 'quote\'"\\', 'tab\tnl\n'];

/** A random value of `sig` plus its GVariant text form for GLib.Variant.parse. */
function randomValue(r: () => number, sig: string): [GValue, string] {
  const t = parseType(sig);
  const int = (bits: number, signed: boolean): [GValue, string] => {
    const pick = Math.floor(r() * 4);
    let v = pick === 0 ? 0n : pick === 1 ? (signed ? -1n : (1n << BigInt(bits)) - 1n) : BigInt(Math.floor(r() * 2 ** Math.min(bits - 1, 40)));
    if (signed && pick === 3) v = -v;
    return [bits === 64 ? v : Number(v), v.toString()];
  };
  switch (t.kind) {
    case 'basic':
      switch (sig) {
        case 'y': return int(8, false);
        case 'b': { const b = r() < 0.5; return [b, String(b)]; }
        case 'n': return int(16, true);
        case 'q': return int(16, false);
        case 'i': return int(32, true);
        case 'u': return int(32, false);
        case 'x': return int(64, true);
        case 't': return int(64, false);
        default: { const s = STRS[Math.floor(r() * STRS.length)]!; return [s, JSON.stringify(s)]; }
      }
    case 'variant': {
      const ct = randomType(r, 2);
      const [v, text] = randomValue(r, ct);
      return [{ type: ct, value: v }, `<@${ct} ${text}>`];
    }
    case 'maybe': {
      if (r() < 0.3) return [null, 'nothing'];
      const [v, text] = randomValue(r, t.elem.sig);
      return [v, `just ${text}`];
    }
    case 'array': {
      const n = Math.floor(r() * (r() < 0.1 ? 120 : 4));
      const items = Array.from({ length: n }, () => randomValue(r, t.elem.sig));
      return [items.map((i) => i[0]), `[${items.map((i) => i[1]).join(', ')}]`];
    }
    case 'tuple': {
      const items = t.members.map((m) => randomValue(r, m.sig));
      const texts = items.map((i) => i[1]);
      if (sig.startsWith('{')) return [items.map((i) => i[0]), `{${texts.join(', ')}}`];
      return [items.map((i) => i[0]), `(${texts.join(', ')}${items.length === 1 ? ',' : ''})`];
    }
  }
}

const PY = `
import sys, json
from gi.repository import GLib
out = []
for sig, text in json.load(sys.stdin):
    v = GLib.Variant.parse(GLib.VariantType(sig), text, None, None)
    out.append(bytes(v.get_data_as_bytes().get_data()).hex())
print(json.dumps(out))
`;

const hasGlib = spawnSync('/usr/bin/python3', ['-c', 'from gi.repository import GLib'], { stdio: 'ignore' }).status === 0;

test('differential: 400 random types and values serialize exactly like GLib', { skip: !hasGlib && 'needs /usr/bin/python3 with python3-gi' }, () => {
  const r = rng(42);
  const cases: [string, GValue, string][] = [];
  for (let i = 0; i < 400; i++) {
    const sig = randomType(r, 3);
    const [v, text] = randomValue(r, sig);
    cases.push([sig, v, text]);
  }
  const res = spawnSync('/usr/bin/python3', ['-c', PY], {
    input: JSON.stringify(cases.map(([s, , text]) => [s, text])), encoding: 'utf8', maxBuffer: 1 << 26,
  });
  assert.equal(res.status, 0, res.stderr);
  const glib = JSON.parse(res.stdout) as string[];
  let widened = 0;
  cases.forEach(([sig, v], i) => {
    const ours = encode(sig, v);
    assert.equal(hex(ours), glib[i], `${sig} ${cases[i]![2].slice(0, 200)}`);
    assert.deepEqual(encode(sig, decode(sig, ours)), ours, `round trip ${sig}`);
    if (ours.length > 255) widened++;
  });
  assert.ok(widened > 10, `only ${widened} cases exercised offsets wider than 1 byte`);
});
