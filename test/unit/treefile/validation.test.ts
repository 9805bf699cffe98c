// Bad input: every case names file, line and key (spec §8).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import Ajv2020Module from 'ajv/dist/2020.js';
import { checkRepoIds, effectiveSettings, loadRepoFiles, localContextFs, treefileSchema } from '../../../src/compose/treefile/index.ts';
import { FCOS, load, loadError, makeContext } from './helpers.ts';

const one = async (yaml: string, extra: Record<string, string> = {}) => loadError(await makeContext({ 'tf.yaml': yaml, ...extra }));

describe('unknown keys', () => {
  it('YAML: every unknown key is an error with its line, with spelling hints', async () => {
    assert.equal(
      await one('packages: [a]\ninstall_langs: [en]\nmodules: {enable: [x]}\nfrobnicate: 1\n'),
      [
        'tf.yaml:2: install_langs: unknown field (did you mean "install-langs"?)',
        'tf.yaml:3: modules: unknown field (removed upstream together with modularity support)',
        'tf.yaml:4: frobnicate: unknown field',
      ].join('\n'),
    );
  });

  it('packages-<arch> keys must be string arrays, whatever the arch', async () => {
    assert.equal(await one('packages-s390x: [1]\npackages-aarch64: foo\n'), [
      'tf.yaml:1: packages-s390x: Invalid field packages-s390x: expected array of strings',
      'tf.yaml:2: packages-aarch64: Invalid field packages-aarch64: expected array of strings',
    ].join('\n'));
  });
});

describe('types (strict, no YAML coercion)', () => {
  it('reports wrong scalar types with the offending value', async () => {
    assert.equal(
      await one('ref: 123\nrecommends: yes\nedition: 2024\nreleasever: -1\nrepos: fedora\n'),
      [
        'tf.yaml:1: ref: expected string, got integer 123 (quote it to make it a string)',
        'tf.yaml:2: recommends: expected boolean, got string "yes" (use true or false)',
        'tf.yaml:3: edition: expected string, got integer 2024 (quote it to make it a string)',
        'tf.yaml:4: releasever: expected a value >= 0, got integer -1',
        'tf.yaml:5: repos: expected array, got string "fedora"',
      ].join('\n'),
    );
  });

  it('reports enums, nested shapes and list items at their own line', async () => {
    assert.equal(
      await one('boot-location: legacy\npackages:\n  - ok\n  - 7\ncheck-passwd:\n  type: file\nrojig: {name: x}\n'),
      [
        'tf.yaml:1: boot-location: expected one of "new", "modules", "kernel-install", got string "legacy"',
        'tf.yaml:4: packages[1]: expected string, got integer 7 (quote it to make it a string)',
        'tf.yaml:5: check-passwd: missing required key "filename"',
        'tf.yaml:7: rojig: missing required key "license"',
        'tf.yaml:7: rojig: missing required key "summary"',
      ].join('\n'),
    );
  });

  it('treats null as unset', async () => {
    const r = await load(await makeContext({ 'tf.yaml': 'recommends:\nref: ~\npackages: [a]\n' }));
    assert.equal('recommends' in r.treefile, false);
    assert.equal('ref' in r.treefile, false);
  });

  it('validates inline conditional-include objects against the same schema', async () => {
    assert.equal(
      await one('conditional-include:\n  - if: basearch == "x86_64"\n    include:\n      recommends: "no"\n'),
      'tf.yaml:4: conditional-include[0].include.recommends: expected boolean, got string "no" (use true or false)',
    );
  });
});

describe('syntax', () => {
  it('YAML syntax errors and duplicate keys carry a line', async () => {
    assert.equal(await one('packages: [a\nref: x\n'), 'tf.yaml:2: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]');
    assert.equal(await one('ref: a\nref: b\n'), 'tf.yaml:2: YAML syntax: Map keys must be unique');
  });

  it('JSON syntax errors carry a line', async () => {
    const dir = await makeContext({ 'tf.json': '{\n  "ref": "a",\n}\n' });
    assert.equal(await loadError(dir, 'tf.json'), 'tf.json:3: invalid JSON: Expected double-quoted property name');
  });

  it('a top level that is not a mapping is refused', async () => {
    assert.equal(await one('- a\n- b\n'), 'tf.yaml:1: expected a mapping of keys at the top level, got array');
  });

  it('an unterminated quote in a package entry is refused', async () => {
    assert.equal(await one("packages:\n  - a\n  - \"'podman >= 4.1\"\n"), "tf.yaml:3: packages[1]: Missing terminating quote: 'podman >= 4.1");
  });
});

describe('upstream semantic checks', () => {
  it('legacy and new spellings together', async () => {
    assert.equal(await one('gpg-key: a\ngpg_key: b\n'), 'tf.yaml:2: gpg_key: Cannot use new and legacy forms of gpg_key');
    // upstream applies container defaults first, so this conflicts too
    assert.equal(await one('container: true\nboot_location: new\n'), 'tf.yaml:2: boot_location: Cannot use new and legacy forms of boot_location');
    const r = await load(await makeContext({ 'tf.yaml': 'default_target: graphical.target\n' }));
    assert.equal(r.treefile['default-target'], 'graphical.target');
  });

  it('reserved and ill-formed variables', async () => {
    assert.equal(await one('variables:\n  releasever: 3\n'), "tf.yaml:2: variables.releasever: cannot define reserved variable 'releasever'");
    assert.equal(await one('variables:\n  v: "a${b}"\n'), "tf.yaml:2: variables.v: envsubst error: variable value 'a${b}' contains forbidden character '$'");
    assert.equal(await one('releasever: "4{0}"\n'), "tf.yaml:1: variables.releasever: envsubst error: variable value '4{0}' contains forbidden character '{'");
    assert.equal(await one('repovars: {basearch: x}\n'), 'tf.yaml:1: repovars.basearch: Treefile repo var "basearch" invalid; it is automatically filled in');
  });

  it('basearch must be the build arch', async () => {
    assert.equal(await one('basearch: aarch64\n'), 'tf.yaml:1: basearch: Invalid basearch aarch64 on x86_64: cross-composes are not supported');
  });

  it('add-files destinations and remove-files paths', async () => {
    assert.equal(
      await one('add-files:\n  - [a, /var/lib/a]\n  - [a, /usr/local/a]\nremove-files: [/etc/x, usr/../etc]\n', { a: '' }),
      [
        'tf.yaml:2: add-files[0][1]: Unsupported path in add-files: /var/lib/a',
        'tf.yaml:3: add-files[1][1]: Unsupported path in add-files: /usr/local/a',
        'tf.yaml:4: remove-files[0]: Invalid absolute path: /etc/x',
        "tf.yaml:4: remove-files[1]: Invalid '..' in path: usr/../etc",
      ].join('\n'),
    );
  });

  it('postprocess-script must be executable', async () => {
    const dir = await makeContext({ 'tf.yaml': 'include: sub/a.yaml\n', 'sub/a.yaml': '\npostprocess-script: s.sh\n', 'sub/s.sh': { content: '#!/bin/sh\n', mode: 0o644 } });
    assert.equal(await loadError(dir), 'sub/a.yaml:2: postprocess-script: postprocess-script must be executable');
  });

  it('units with machineid-compat: false', async () => {
    assert.equal(
      await one('include: a.yaml\nunits: [x.service]\n', { 'a.yaml': 'machineid-compat: false\n' }),
      "tf.yaml:2: units: 'units' directive is incompatible with machineid-compat = false",
    );
  });

  it('check-passwd and check-groups must both (or neither) use files', async () => {
    assert.equal(
      await one('check-passwd: {type: file, filename: pw}\n', { pw: '' }),
      'tf.yaml:1: check-passwd: configured to migrate passwd data from JSON, and group data from commit',
    );
    await load(await makeContext({ 'tf.yaml': 'preserve-passwd: false\ncheck-passwd: {type: file, filename: pw}\n', pw: '' }));
  });

  it('derivation-only keys are refused', async () => {
    assert.equal(
      await one('packages: [a]\noverride-remove: [b]\n'),
      'tf.yaml:2: override-remove: the following derivation fields are not supported: override-remove (client-side origin key, not valid for a compose)',
    );
  });

  it('remove-from-packages needs a package and valid regexes', async () => {
    assert.equal(
      await one('remove-from-packages:\n  - [pkg]\n  - [pkg, "/usr/(x"]\n'),
      [
        'tf.yaml:2: remove-from-packages[0]: expected at least 2 items, got 1',
      ].join('\n'),
    );
    assert.equal(
      await one('remove-from-packages:\n  - [pkg, "/usr/(x"]\n'),
      'tf.yaml:2: remove-from-packages[0]: invalid regular expression "/usr/(x": Invalid regular expression: //usr/(x/: Unterminated group',
    );
  });

  it('reports several problems of one file at once, sorted by line', async () => {
    const msg = await one('recommends: 1\nbogus: 2\nunits: x\n');
    assert.equal(msg.split('\n').length, 3);
    assert.deepEqual(msg.split('\n').map((l) => l.split(':')[1]), ['1', '2', '3']);
  });
});

describe('repo files', () => {
  it('finds *.repo next to the top-level treefile and checks the repo IDs', async () => {
    const dir = await makeContext({
      'os/tf.yaml': 'include: ../common.yaml\nrepos: [fedora]\n',
      'common.yaml': 'repos:\n  - updates\n  - missing\n',
      'os/fedora.repo': '[fedora]\nbaseurl=http://x\n[updates]\nenabled=0\n',
      'os/notes.txt': '',
    });
    const r = await load(dir, 'os/tf.yaml');
    const fs = localContextFs(dir);
    const repos = await loadRepoFiles(fs, r.topDir);
    assert.deepEqual(repos.map((f) => [f.path, f.ids]), [['os/fedora.repo', ['fedora', 'updates']]]);
    assert.throws(() => checkRepoIds(r, repos), {
      message: 'common.yaml:3: repos: Unknown rpm-md repository: missing (known: fedora, updates)',
    });
    assert.throws(() => checkRepoIds(r, []), /common.yaml:2: repos: Unknown rpm-md repository: updates \(no \*\.repo files in "os"\)/);
  });
});

describe('schema and defaults', () => {
  it('ships a valid draft 2020-12 schema that accepts every FCOS file as written', async () => {
    const Ajv = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
    const ajv = new Ajv({ allowUnionTypes: true, strictRequired: false });
    assert.equal(ajv.validateSchema(treefileSchema), true);
    const validate = ajv.compile(treefileSchema);
    const { parse } = await import('yaml');
    const r = await load(FCOS, 'manifest.yaml');
    for (const f of r.files) {
      const doc = parse(await readFile(`${FCOS}/${f}`, 'utf8'));
      assert.equal(validate(doc), true, `${f}: ${JSON.stringify(validate.errors)}`);
    }
    assert.equal(validate({ recommends: 'yes' }), false);
    assert.equal(validate({ instal_langs: [] }), false);
  });

  it('fills upstream code defaults', async () => {
    const e = effectiveSettings((await load(await makeContext({ 'tf.yaml': 'packages: [a]\nopt-usrlocal: stateoverlay\n' }))).treefile);
    assert.equal(e.recommends, true);
    assert.equal(e.documentation, true);
    assert.equal(e.machineidCompat, true);
    assert.equal(e.bootLocation, 'new');
    assert.equal(e.optUsrlocal, 'state-overlay');
    assert.equal(e.rpmdbIsTarget, true);
    assert.deepEqual(e.checkPasswd, { type: 'previous' });
    assert.equal(e.releasever, undefined);
  });
});
