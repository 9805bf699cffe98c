// Merge rules of spec §3.3 on small synthetic include trees.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializeTreefile } from '../../../src/compose/treefile/index.ts';
import { load, loadError, makeContext } from './helpers.ts';

describe('merge rules', () => {
  it('reproduces the worked example of spec §3.5', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: [a.yaml, b.yaml]\npostprocess: [r]\nrecommends: true\n',
      'a.yaml': 'postprocess: [a]\nrecommends: false\nrepos: [x]\n',
      'b.yaml': 'postprocess: [b]\nrepos: [y]\nvariables: {v: 1}\n',
    });
    const { treefile: tf, files } = await load(dir);
    assert.deepEqual(files, ['tf.yaml', 'a.yaml', 'b.yaml']);
    assert.deepEqual(tf.postprocess, ['b', 'a', 'r']);
    assert.deepEqual(tf.repos, ['y', 'x']);
    assert.equal(tf.recommends, true);
    assert.deepEqual(tf.variables, { basearch: 'x86_64', v: 1 });
  });

  it('scalars: includer beats includes, earlier include beats later, nested beneath its parent', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: [a.yaml, b.yaml]\nref: root\n',
      'a.yaml': 'include: a1.yaml\ndefault-target: a.target\n',
      'a1.yaml': 'default-target: a1.target\nselinux: false\nrpmdb: host\n',
      'b.yaml': 'ref: b\ndefault-target: b.target\nselinux: true\nrpmdb: target\ndocumentation: false\n',
    });
    const r = await load(dir);
    assert.equal(r.treefile.ref, 'root');
    assert.equal(r.treefile['default-target'], 'a.target');
    assert.equal(r.treefile.selinux, false);
    assert.equal(r.treefile.rpmdb, 'host');
    assert.equal(r.treefile.documentation, false);
    assert.deepEqual(r.origins.selinux, { file: 'a1.yaml', line: 2 });
  });

  it('arrays: later includes first, then earlier, then the includer; inline objects after file includes', async () => {
    const dir = await makeContext({
      'tf.yaml': [
        'include: [a.yaml, b.yaml]',
        'conditional-include:',
        '  - if: basearch == "x86_64"',
        '    include: {units: [inline.service], postprocess: [inline]}',
        '  - if: basearch == "x86_64"',
        '    include: c.yaml',
        'units: [root.service]',
        'postprocess: [root]',
        '',
      ].join('\n'),
      'a.yaml': 'units: [a.service]\npostprocess: [a]\n',
      'b.yaml': 'include: b1.yaml\nunits: [b.service]\n',
      'b1.yaml': 'units: [b1.service]\npostprocess: [b1]\n',
      'c.yaml': 'postprocess: [c]\n',
    });
    const r = await load(dir);
    assert.deepEqual(r.treefile.units, ['b1.service', 'b.service', 'a.service', 'inline.service', 'root.service']);
    assert.deepEqual(r.treefile.postprocess, ['c', 'b1', 'a', 'inline', 'root']);
    assert.deepEqual(
      r.postprocessOrigins.map((o) => `${o.file}:${o.line}`),
      ['c.yaml:1', 'b1.yaml:2', 'a.yaml:2', 'tf.yaml:4', 'tf.yaml:8'],
    );
  });

  it('sets: packages and ignore-removed-* are unions, sorted', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: a.yaml\npackages: [zsh, "bash  vim"]\nignore-removed-users: [root]\n',
      'a.yaml': 'packages: [bash, acl]\nbootstrap-packages: [glibc]\nignore-removed-users: [adm, root]\n',
    });
    const { treefile: tf } = await load(dir);
    assert.deepEqual(tf.packages, ['acl', 'bash', 'glibc', 'vim', 'zsh']);
    assert.deepEqual(tf['ignore-removed-users'], ['adm', 'root']);
    assert.equal('bootstrap-packages' in tf, false);
  });

  it('maps: shallow, includer keys win', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: a.yaml\nmetadata: {a: root, nested: {x: 1}}\nrepovars: {k: root}\n',
      'a.yaml': 'metadata: {a: inc, b: inc, nested: {y: 2}}\nrepovars: {k: inc, j: inc}\nadd-commit-metadata: {q: 1}\n',
    });
    const { treefile: tf } = await load(dir);
    assert.deepEqual(tf.metadata, { a: 'root', b: 'inc', nested: { x: 1 } });
    assert.deepEqual(tf.repovars, { j: 'inc', k: 'root' });
    assert.deepEqual(tf['add-commit-metadata'], { q: 1 });
  });

  it('repo-packages: whitespace-split, and a package keeps only its last (includer) occurrence', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: a.yaml\nrepo-packages: [{repo: mine, packages: [foo]}]\n',
      'a.yaml': "repo-packages:\n  - {repo: base, packages: ['foo bar', \"'baz >= 1'\"]}\n  - {repo: other, packages: [foo]}\n",
    });
    const { treefile: tf } = await load(dir);
    assert.deepEqual(tf['repo-packages'], [
      { repo: 'base', packages: ['bar', 'baz >= 1'] },
      { repo: 'mine', packages: ['foo'] },
    ]);
  });

  it('platform-module is never taken from an include', async () => {
    const dir = await makeContext({ 'tf.yaml': 'include: a.yaml\n', 'a.yaml': 'platform-module: platform:f40\n' });
    assert.equal('platform-module' in (await load(dir)).treefile, false);
    const dir2 = await makeContext({ 'tf.yaml': 'include: a.yaml\nplatform-module: platform:${basearch}\n', 'a.yaml': '{}\n' });
    assert.equal((await load(dir2)).treefile['platform-module'], 'platform:x86_64');
  });

  it('container and edition defaults apply per file and then merge as if written there', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: [a.yaml, b.yaml]\n',
      'a.yaml': 'edition: "2024"\n',
      'b.yaml': 'tmp-is-dir: false\nboot-location: new\n',
    });
    const { treefile: tf } = await load(dir);
    assert.equal(tf['tmp-is-dir'], true);
    assert.equal(tf['boot-location'], 'modules');
    assert.equal(tf.edition, '2024');

    const dir2 = await makeContext({
      'tf.yaml': 'include: c.yaml\nselinux: true\n',
      'c.yaml': 'container: true\nselinux: true\ncheck-passwd: {type: file, filename: nope}\n',
    });
    const t2 = (await load(dir2)).treefile;
    assert.equal(t2.selinux, true); // the includer's explicit value wins
    assert.deepEqual(t2['check-passwd'], { type: 'none' }); // forced in c.yaml, file never opened
    assert.equal(t2['preserve-passwd'], false);
  });

  it('add-files: a source name declared twice resolves to the included file', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: sub/a.yaml\nadd-files: [[f.conf, /etc/f.conf]]\n',
      'f.conf': 'root\n',
      'sub/a.yaml': 'add-files: [[f.conf, /usr/lib/f.conf]]\n',
      'sub/f.conf': 'sub\n',
    });
    const r = await load(dir);
    assert.deepEqual(r.treefile['add-files'], [['f.conf', '/usr/lib/f.conf'], ['f.conf', '/etc/f.conf']]);
    assert.equal(r.externals.addFiles.length, 1);
    assert.equal(r.externals.addFiles[0]!.path, 'sub/f.conf');
    assert.equal(new TextDecoder().decode(r.externals.addFiles[0]!.data), 'sub\n');
  });

  it('postprocess-script and check files: first wins, opened relative to the declaring file', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: sub/a.yaml\n',
      'sub/a.yaml': 'postprocess-script: pp.sh\ncheck-passwd: {type: file, filename: passwd}\ncheck-groups: {type: file, filename: group}\n',
      'sub/pp.sh': { content: '#!/bin/sh\n', mode: 0o755 },
      'sub/passwd': 'root:x:0:0::/root:/bin/bash\n',
      'sub/group': 'root:x:0:\n',
      'sub/finalize.d/10-x': { content: '#!/bin/sh\n', mode: 0o755 },
      'sub/finalize.d/20-not-exec': { content: '#!/bin/sh\n', mode: 0o644 },
    });
    const r = await load(dir);
    assert.equal(r.externals.postprocessScript?.path, 'sub/pp.sh');
    assert.equal(r.externals.passwd?.path, 'sub/passwd');
    assert.equal(r.externals.group?.path, 'sub/group');
    assert.deepEqual(r.externals.finalizeD.map((f) => f.path), ['sub/finalize.d/10-x']);
  });

  it('serializes like upstream: upstream key order, no variables/repovars', async () => {
    const dir = await makeContext({
      'tf.yaml': 'repovars: {a: b}\nvariables: {v: x}\npostprocess: [p]\nref: r\npackages: [b, a]\nmetadata: {z: 1, a: {d: 1, c: 2}}\n',
    });
    const s = serializeTreefile((await load(dir)).treefile);
    assert.equal(
      s,
      JSON.stringify({ packages: ['a', 'b'], ref: 'r', metadata: { a: { c: 2, d: 1 }, z: 1 }, basearch: 'x86_64', postprocess: ['p'] }, null, 2) + '\n',
    );
  });

  it('variables: earlier definitions win and later ones stay invisible to earlier conditions', async () => {
    const dir = await makeContext({
      'tf.yaml': 'variables: {v: root}\ninclude: [a.yaml, b.yaml]\n',
      'a.yaml': 'variables: {v: a, w: a}\n',
      'b.yaml': 'conditional-include:\n  - if: w == "a"\n    include: {packages: [seen-w]}\n',
    });
    const { treefile: tf } = await load(dir);
    assert.deepEqual(tf.variables, { basearch: 'x86_64', v: 'root', w: 'a' });
    assert.deepEqual(tf.packages, ['seen-w']);

    const bad = await makeContext({
      'tf.yaml': 'include: b.yaml\nconditional-include:\n  - if: v == 1\n    include: {packages: [x]}\n',
      'b.yaml': 'variables: {v: 1}\n',
    });
    assert.equal(await loadError(bad), "tf.yaml:3: conditional-include[0].if: undefined variable 'v'");
  });

  it('seeds variables from the caller; they beat the files', async () => {
    const dir = await makeContext({
      'tf.yaml': 'variables: {stream: stable}\nref: os/${stream}\n',
    });
    assert.equal((await load(dir, 'tf.yaml', { variables: { stream: 'next' } })).treefile.ref, 'os/next');
  });

  it('inline objects ignore include machinery and legacy keys, with a warning', async () => {
    const dir = await makeContext({
      'tf.yaml': 'conditional-include:\n  - if: basearch == "x86_64"\n    include:\n      include: other.yaml\n      gpg_key: k\n      recommends: false\n',
    });
    const r = await load(dir);
    assert.deepEqual(r.files, ['tf.yaml']);
    assert.equal(r.treefile.recommends, false);
    assert.equal('gpg-key' in r.treefile, false);
    assert.deepEqual(
      r.warnings.map((w) => `${w.file}:${w.line}: ${w.key}`),
      ['tf.yaml:4: conditional-include[0].include.include', 'tf.yaml:5: conditional-include[0].include.gpg_key'],
    );
  });

  it('refuses kickstart files', async () => {
    const dir = await makeContext({ 'tf.yaml': 'include: pkgs.ks\n', 'pkgs.ks': '%packages\nfoo\n%end\n' });
    assert.equal(await loadError(dir), 'tf.yaml:1: include: kickstart (.ks) treefiles are not supported; use YAML or JSON: pkgs.ks');
  });
});
