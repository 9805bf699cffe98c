// Include resolution: forms, loops, depth limit, and confinement to the build context.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContextFs } from '../../../src/compose/treefile/index.ts';
import { INCLUDE_MAXDEPTH, loadTreefile } from '../../../src/compose/treefile/index.ts';
import { resolveInContext } from '../../../src/compose/treefile/resolve.ts';
import type { Entry } from './helpers.ts';
import { load, loadError, makeContext } from './helpers.ts';

describe('include forms', () => {
  it('accepts a string, a list, and arch-include (after include) for the build arch only', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: a.yaml\narch-include:\n  x86_64: [x1.yaml, sub/x2.yaml]\n  aarch64: missing.yaml\n',
      'a.yaml': 'include: [b.yaml]\n',
      'b.yaml': 'packages: [b]\n',
      'x1.yaml': 'packages: [x1]\n',
      'sub/x2.yaml': 'include: ../b2.yaml\n',
      'b2.yaml': 'packages: [b2]\n',
    });
    const r = await load(dir);
    assert.deepEqual(r.files, ['tf.yaml', 'a.yaml', 'b.yaml', 'x1.yaml', 'sub/x2.yaml', 'b2.yaml']);
    assert.deepEqual(r.treefile.packages, ['b', 'b2', 'x1']);
  });

  it('reads JSON treefiles (unknown keys are only warnings there) and mixes formats', async () => {
    const dir = await makeContext({
      'tf.json': '{\n  "include": "a.yaml",\n  "comment-why": "ok",\n  "instal-langs": ["en"],\n  "packages": ["x"]\n}\n',
      'a.yaml': 'packages: [y]\n',
    });
    const r = await load(dir, 'tf.json');
    assert.deepEqual(r.treefile.packages, ['x', 'y']);
    assert.deepEqual(r.warnings, [{ file: 'tf.json', line: 4, key: 'instal-langs', message: 'unknown field, ignored in JSON' }]);
  });

  it('does not substitute variables in include paths', async () => {
    const dir = await makeContext({ 'tf.yaml': 'include: "${basearch}.yaml"\n', 'x86_64.yaml': '{}\n' });
    assert.equal(await loadError(dir), 'tf.yaml:1: include: Can\'t open file "${basearch}.yaml" for reading');
  });
});

describe('include loops and depth', () => {
  it('detects a cycle', async () => {
    const dir = await makeContext({ 'tf.yaml': 'include: a.yaml\n', 'a.yaml': 'include: tf.yaml\n' });
    assert.equal(await loadError(dir), 'a.yaml:1: include: Include loop detected; tf.yaml was already included');
  });

  it('treats any second inclusion (diamond) as a loop, like upstream', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: [a.yaml, b.yaml]\n',
      'a.yaml': 'include: common.yaml\n',
      'b.yaml': 'include:\n  - ./sub/../common.yaml\n',
      'common.yaml': '{}\n',
      'sub/.keep': '',
    });
    assert.equal(await loadError(dir), 'b.yaml:2: include[0]: Include loop detected; common.yaml was already included');
  });

  it('catches a symlinked alias of an already included file', async () => {
    const dir = await makeContext({ 'tf.yaml': 'include: [a.yaml, alias.yaml]\n', 'a.yaml': '{}\n', 'alias.yaml': { symlink: 'a.yaml' } });
    assert.equal(await loadError(dir), 'tf.yaml:1: include[1]: Include loop detected; alias.yaml was already included');
  });

  const chain = (n: number): Record<string, Entry> => {
    const files: Record<string, Entry> = { 'tf.yaml': 'include: f1.yaml\n' };
    for (let i = 1; i < n; i++) files[`f${i}.yaml`] = i === n - 1 ? 'packages: [deepest]\n' : `include: f${i + 1}.yaml\n`;
    return files;
  };

  it(`allows ${INCLUDE_MAXDEPTH} levels below the root`, async () => {
    const r = await load(await makeContext(chain(INCLUDE_MAXDEPTH + 1)));
    assert.equal(r.files.length, 51);
    assert.deepEqual(r.treefile.packages, ['deepest']);
  });

  it('stops at the depth limit, naming the include that goes too deep', async () => {
    assert.equal(await loadError(await makeContext(chain(INCLUDE_MAXDEPTH + 2))), 'f50.yaml:1: include: Reached maximum include depth 50');
  });
});

describe('confinement to the build context', () => {
  it('rejects ../ escapes', async () => {
    const dir = await makeContext({ 'sub/tf.yaml': 'packages: [a]\ninclude: ../../outside.yaml\n' });
    assert.equal(await loadError(dir, 'sub/tf.yaml'), 'sub/tf.yaml:2: include: "../../outside.yaml" resolves outside the build context');
  });

  it('rejects absolute paths', async () => {
    const dir = await makeContext({ 'tf.yaml': 'include:\n  - a.yaml\n  - /etc/os-release\n', 'a.yaml': '{}\n' });
    assert.equal(
      await loadError(dir),
      'tf.yaml:3: include[1]: "/etc/os-release" is an absolute path; only paths inside the build context are allowed',
    );
  });

  it('rejects symlinks that escape, relative or absolute', async () => {
    const rel = await makeContext({ 'tf.yaml': 'include: link.yaml\n', 'link.yaml': { symlink: '../../../etc/hostname' } });
    assert.equal(
      await loadError(rel),
      'tf.yaml:1: include: "link.yaml" resolves outside the build context: symlink "link.yaml" points to "../../../etc/hostname"',
    );
    const abs = await makeContext({ 'tf.yaml': 'include: d/x.yaml\n', d: { symlink: '/etc' } });
    assert.equal(await loadError(abs), 'tf.yaml:1: include: "d/x.yaml" resolves outside the build context: symlink "d" points to "/etc"');
  });

  it('follows symlinks that stay inside, resolving children from the link location', async () => {
    const dir = await makeContext({
      'tf.yaml': 'include: shared/base.yaml\n',
      shared: { symlink: 'vendor/common' },
      'vendor/common/base.yaml': 'include: ../extra.yaml\npackages: [base]\n',
      'vendor/extra.yaml': 'packages: [extra]\n',
    });
    const r = await load(dir);
    assert.deepEqual(r.files, ['tf.yaml', 'vendor/common/base.yaml', 'vendor/extra.yaml']);
    assert.deepEqual(r.treefile.packages, ['base', 'extra']);
  });

  it('applies the same rules to postprocess-script, add-files and check files', async () => {
    const pp = await makeContext({ 'tf.yaml': 'postprocess-script: ../x.sh\n' });
    assert.equal(await loadError(pp), 'tf.yaml:1: postprocess-script: "../x.sh" resolves outside the build context');
    const af = await makeContext({ 'tf.yaml': 'add-files:\n  - [/etc/passwd, /etc/passwd]\n' });
    assert.equal(
      await loadError(af),
      'tf.yaml:2: add-files[0][0]: "/etc/passwd" is an absolute path; only paths inside the build context are allowed',
    );
    const missing = await makeContext({ 'tf.yaml': 'add-files:\n  - [files/motd, /etc/motd]\n' });
    assert.equal(await loadError(missing), 'tf.yaml:2: add-files[0][0]: Can\'t open file "files/motd" for reading');
    const ck = await makeContext({
      'tf.yaml': 'check-groups: {type: file, filename: group}\ncheck-passwd:\n  type: file\n  filename: pw\n',
      group: '',
      pw: { symlink: '/etc/passwd' },
    });
    assert.equal(await loadError(ck), 'tf.yaml:4: check-passwd.filename: "pw" resolves outside the build context: symlink "pw" points to "/etc/passwd"');
  });

  it('names the root file when it is missing or outside', async () => {
    const dir = await makeContext({});
    assert.equal(await loadError(dir, 'nope.yaml'), 'nope.yaml: Can\'t open file "nope.yaml" for reading');
    assert.equal(await loadError(dir, '../x.yaml'), '../x.yaml: "../x.yaml" resolves outside the build context');
  });

  it('works over any ContextFs (e.g. a BuildKit context), with path-based loop identity', async () => {
    const files: Record<string, string> = { 'm/tf.yaml': 'include: [../c.yaml]\n', 'c.yaml': 'packages: [c]\n' };
    const dirs = new Set(['', 'm']);
    const fs: ContextFs = {
      async lstat(p) {
        if (dirs.has(p)) return { type: 'directory', mode: 0o755, size: 0 };
        if (p in files) return { type: 'file', mode: 0o644, size: files[p]!.length };
        return undefined;
      },
      async readFile(p) {
        return new TextEncoder().encode(files[p]);
      },
      async readdir(p) {
        return Object.keys(files).filter((f) => f.startsWith(p === '' ? '' : `${p}/`) && !f.slice(p.length + 1).includes('/'));
      },
    };
    const r = await loadTreefile('m/tf.yaml', { fs, basearch: 'aarch64' });
    assert.deepEqual(r.files, ['m/tf.yaml', 'c.yaml']);
    assert.deepEqual(r.treefile.packages, ['c']);
    assert.equal(r.topDir, 'm');
  });
});

describe('resolveInContext', () => {
  it('walks .. physically after a symlinked directory', async () => {
    const dir = await makeContext({ 'a/b/f.yaml': 'x', l: { symlink: 'a/b' }, 'a/g.yaml': 'y' });
    const { localContextFs } = await import('../../../src/compose/treefile/index.ts');
    const fs = localContextFs(dir);
    assert.deepEqual(
      { ...(await resolveInContext(fs, '', 'l/../g.yaml')), stat: undefined },
      { dir: 'a', path: 'a/g.yaml', real: 'a/g.yaml', stat: undefined },
    );
    const r = await resolveInContext(fs, '', 'l/f.yaml');
    assert.equal(r.real, 'a/b/f.yaml');
    await assert.rejects(resolveInContext(fs, '', 'a/b/f.yaml/x'), { message: 'Can\'t open file "a/b/f.yaml/x" for reading: "a/b/f.yaml" is not a directory' });
    await assert.rejects(resolveInContext(fs, '', 'a'), { message: 'Can\'t open file "a" for reading: not a regular file' });
  });

  it('gives up on symlink loops', async () => {
    const dir = await makeContext({ x: { symlink: 'y' }, y: { symlink: 'x' } });
    const { localContextFs } = await import('../../../src/compose/treefile/index.ts');
    await assert.rejects(resolveInContext(localContextFs(dir), '', 'x'), {
      message: 'Can\'t open file "x" for reading: too many levels of symbolic links',
    });
  });
});
