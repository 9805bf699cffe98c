// conditional-include expression language (spec §3.4).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCondition, parseCondition } from '../../../src/compose/treefile/conditions.ts';
import { load, loadError, makeContext } from './helpers.ts';

const vars = new Map<string, boolean | number | string>([
  ['n', 40],
  ['t', true],
  ['f', false],
  ['s', 'x86_64'],
  ['e', ''],
]);
const ev = (s: string) => evaluateCondition(parseCondition(s), vars);

describe('condition parsing', () => {
  it('parses the value types', () => {
    assert.deepEqual(parseCondition('releasever >= 41'), { variable: 'releasever', op: '>=', value: 41 });
    assert.deepEqual(parseCondition('  prod==false '), { variable: 'prod', op: '==', value: false });
    assert.deepEqual(parseCondition('a != true'), { variable: 'a', op: '!=', value: true });
    assert.deepEqual(parseCondition('basearch != "s390x"'), { variable: 'basearch', op: '!=', value: 's390x' });
    assert.deepEqual(parseCondition('x == "a "b""'), { variable: 'x', op: '==', value: 'a "b"' });
  });

  it('rejects malformed conditions with upstream messages', () => {
    assert.throws(() => parseCondition('garbage'), { message: 'invalid condition: garbage' });
    assert.throws(() => parseCondition('myvar == garbage'), { message: 'invalid condition: myvar == garbage' });
    assert.throws(() => parseCondition('myvar garbage true'), { message: 'expected one of ==, !=, >, >=, <, <= but got garbage' });
    assert.throws(() => parseCondition('a => 5'), { message: 'expected one of ==, !=, >, >=, <, <= but got =>' });
    // upstream's operator is "any non-space run": a glued multi-digit number is eaten
    assert.throws(() => parseCondition('releasever<41'), { message: 'expected one of ==, !=, >, >=, <, <= but got <4' });
    assert.deepEqual(parseCondition('releasever<4'), { variable: 'releasever', op: '<', value: 4 });
  });
});

describe('condition evaluation', () => {
  it('compares numbers with every operator', () => {
    assert.deepEqual(
      ['n == 40', 'n != 40', 'n < 41', 'n < 40', 'n <= 40', 'n <= 39', 'n > 39', 'n > 40', 'n >= 40', 'n >= 41'].map(ev),
      [true, false, true, false, true, false, true, false, true, false],
    );
  });

  it('compares booleans and strings for (in)equality', () => {
    assert.deepEqual(['t == true', 't != true', 'f == false', 'f != true', 's == "x86_64"', 's != "x86_64"', 'e == ""'].map(ev), [
      true, false, true, true, true, false, true,
    ]);
  });

  it('rejects undefined variables, type mismatches and ordering on non-numbers', () => {
    assert.throws(() => ev('nope == 1'), { message: "undefined variable 'nope'" });
    assert.throws(() => ev('n == "40"'), { message: 'n is not same type as 40' });
    assert.throws(() => ev('s > 8'), { message: 's is not same type as 8' });
    assert.throws(() => ev('t <= true'), { message: "invalid op for values 'true' and 'true'" });
    assert.throws(() => ev('s > "asd"'), { message: "invalid op for values 'x86_64' and 'asd'" });
  });
});

describe('conditional-include in treefiles', () => {
  it('includes files and inline objects whose conditions hold (lists are AND)', async () => {
    const dir = await makeContext({
      'tf.yaml': [
        'releasever: 35',
        'variables: {mystr: "", flag: false}',
        'conditional-include:',
        '  - if: releasever <= 35',
        '    include: le.yaml',
        '  - if: releasever > 35',
        '    include: gt.yaml',
        '  - if: [mystr == "", flag == false, basearch == "x86_64"]',
        '    include: [m1.yaml, m2.yaml]',
        '  - if: [mystr == "", flag == true]',
        '    include: no.yaml',
        '  - if: releasever == 35',
        '    include: {packages: ["inline pkg"]}',
        '',
      ].join('\n'),
      'le.yaml': 'packages: [le]\n',
      'm1.yaml': 'packages: [m1]\n',
      'm2.yaml': 'packages: [m2]\n',
    });
    const r = await load(dir);
    assert.deepEqual(r.files, ['tf.yaml', 'le.yaml', 'm1.yaml', 'm2.yaml']);
    // inline objects are taken as-is: no whitespace splitting
    assert.deepEqual(r.treefile.packages, ['inline pkg', 'le', 'm1', 'm2']);
  });

  it('evaluates every condition of a list, so a type error after a false one still fails', async () => {
    const dir = await makeContext({
      'tf.yaml': 'variables: {flag: false}\nconditional-include:\n  - if:\n      - flag == true\n      - flag == 3\n    include: x.yaml\n',
    });
    assert.equal(await loadError(dir), 'tf.yaml:5: conditional-include[0].if[1]: flag is not same type as 3');
  });

  it('reports malformed conditions at parse time with file, line and key', async () => {
    const dir = await makeContext({
      'tf.yaml': 'conditional-include:\n  - if: releasever<41\n    include: x.yaml\n  - if: 5\n    include: x.yaml\n',
    });
    assert.equal(
      await loadError(dir),
      [
        'tf.yaml:2: conditional-include[0].if: expected one of ==, !=, >, >=, <, <= but got <4',
        'tf.yaml:4: conditional-include[1].if: expected string or array, got integer 5',
      ].join('\n'),
    );
  });

  it('needs releasever in the file itself (or above) to test it', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: base.yaml\nconditional-include:\n  - if: releasever >= 41\n    include: x.yaml\n',
      'base.yaml': 'releasever: 41\n',
    });
    assert.equal(await loadError(dir), "tf.yaml:3: conditional-include[0].if: undefined variable 'releasever'");
  });

  it('does not coerce a string releasever', async () => {
    const dir = await makeContext({
      'tf.yaml': 'releasever: "40"\nconditional-include:\n  - if: releasever >= 41\n    include: x.yaml\n',
    });
    assert.equal(await loadError(dir), 'tf.yaml:3: conditional-include[0].if: releasever is not same type as 41');
  });
});
