// ${var} substitution: only where upstream substitutes (spec §3.4).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { substitute } from '../../../src/compose/treefile/substitute.ts';
import { load, makeContext } from './helpers.ts';

describe('substitution', () => {
  it('replaces only ${name}, leaves unknown names and $name alone, renders bools and numbers', () => {
    const vars = new Map<string, boolean | number | string>([['a', 'x'], ['n', 7], ['b', false]]);
    assert.equal(substitute('${a}-$a-${n}-${b}-${zz}-${a', vars), 'x-$a-7-false-${zz}-${a');
  });

  it('applies to ref, rojig, top-level metadata strings, version prefix, os-release and platform-module only', async () => {
    const dir = await makeContext({
      'tf.yaml': [
        'releasever: 41',
        'variables: {stream: next, prod: true}',
        'ref: os/${basearch}/${stream}',
        'rojig: {name: "n-${stream}", summary: "s-${prod}", license: MIT, description: "d-${releasever}"}',
        'metadata: {summary: "${stream}", nested: {x: "${stream}"}, n: 5}',
        'add-commit-metadata: {v: "${releasever}"}',
        'automatic-version-prefix: "${releasever}.<date:%Y%m%d>"',
        'mutate-os-release: "${releasever}"',
        'platform-module: "platform:f${releasever}"',
        'packages: ["${stream}-pkg"]',
        'repos: ["repo-${stream}"]',
        'postprocess: ["echo ${stream}"]',
        'default-target: "${stream}.target"',
        '',
      ].join('\n'),
    });
    const { treefile: tf } = await load(dir);
    assert.equal(tf.ref, 'os/x86_64/next');
    assert.deepEqual(tf.rojig, { name: 'n-next', summary: 's-true', license: 'MIT', description: 'd-41' });
    assert.deepEqual(tf.metadata, { n: 5, nested: { x: '${stream}' }, summary: 'next' });
    assert.deepEqual(tf['add-commit-metadata'], { v: '41' });
    assert.equal(tf['automatic-version-prefix'], '41.<date:%Y%m%d>');
    assert.equal(tf['mutate-os-release'], '41');
    assert.equal(tf['platform-module'], 'platform:f41');
    assert.deepEqual(tf.packages, ['${stream}-pkg']);
    assert.deepEqual(tf.repos, ['repo-${stream}']);
    assert.deepEqual(tf.postprocess, ['echo ${stream}']);
    assert.equal(tf['default-target'], '${stream}.target');
  });

  it('substitutes after merging, with variables from any file visited', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: [a.yaml, b.yaml]\nref: "${from_b}"\n',
      'a.yaml': 'mutate-os-release: "${from_b}"\n',
      'b.yaml': 'variables: {from_b: yes-b}\n',
    });
    const { treefile: tf } = await load(dir);
    assert.equal(tf.ref, 'yes-b');
    assert.equal(tf['mutate-os-release'], 'yes-b');
  });
});
