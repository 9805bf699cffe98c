// Postprocess planning (order, paths, checks, environment) and the LLB chain it becomes.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { planPostprocess, postprocessSteps } from '../../../src/compose/postprocess.ts';
import { effectiveSettings, loadTreefile } from '../../../src/compose/treefile/index.ts';
import { image, marshalGraph, scratch } from '../../../src/llb/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-pp-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(files: Record<string, string>, modes: Record<string, number> = {}) {
  for (const [p, t] of Object.entries(files)) {
    await writeFile(join(dir, p), t);
    await chmod(join(dir, p), modes[p] ?? 0o644);
  }
  const loaded = await loadTreefile('m.yaml', { basearch: 'x86_64', contextDir: dir });
  return { loaded, plan: planPostprocess(loaded, effectiveSettings(loaded.treefile)) };
}

describe('planPostprocess', () => {
  test('scripts in upstream order with their origins; files and units', async () => {
    const { plan } = await load({
      'm.yaml': 'include: base.yaml\npackages: [a]\npostprocess:\n  - "#!/bin/sh\\necho root"\nremove-files: [etc/foo, usr/share/x/]\nadd-files:\n  - [f.conf, /etc/f.conf]\npostprocess-script: pp.sh\nunits: [a.service]\ndefault-target: multi-user.target\ncontainer-cmd: [/sbin/init]\n',
      'base.yaml': 'postprocess:\n  - "#!/bin/sh\\necho base"\nremove-from-packages:\n  - [a, "^/usr/share/doc/.*"]\netc-group-members: [wheel]\n',
      'f.conf': 'x=1\n',
      'pp.sh': '#!/bin/sh\ntrue\n',
    }, { 'pp.sh': 0o755 });
    assert.deepEqual(plan.scripts.map((s) => [s.file, s.label]), [
      ['postprocess-0', 'postprocess[0] (base.yaml:2)'],
      ['postprocess-1', 'postprocess[1] (m.yaml:4)'],
      ['postprocess-script', 'postprocess-script (pp.sh)'],
    ]);
    assert.equal(new TextDecoder().decode(plan.scripts[0]!.data), '#!/bin/sh\necho base');
    assert.deepEqual(plan.removeFiles, ['/etc/foo', '/usr/share/x']);
    assert.deepEqual(plan.addFiles, [{ source: 'f.conf', dest: '/etc/f.conf' }]);
    assert.deepEqual(plan.removeFromPackages, [['a', '^/usr/share/doc/.*']]);
    assert.deepEqual(plan.units, ['a.service']);
    assert.equal(plan.defaultTarget, 'multi-user.target');
    assert.equal(plan.bootable, true);
    assert.deepEqual(plan.finalEnv, {
      CF_CONTAINER: '0', CF_TMP_IS_DIR: '0', CF_OPT_USRLOCAL: 'var', CF_MACHINEID_COMPAT: '1', CF_READONLY_EXECUTABLES: '0',
      CF_IGNORE_DEVICES: '1', CF_BOOT_LOCATION: 'new', CF_ETC_GROUP_MEMBERS: 'wheel',
    });
    assert.equal(JSON.parse(plan.treefileJson)['container-cmd'][0], '/sbin/init');
  });

  test('check-passwd / check-groups data and files', async () => {
    const { plan } = await load({
      'm.yaml': 'packages: [a]\npreserve-passwd: false\ncheck-passwd: {type: data, entries: {core: [1000, 1001], svc: 990, x: [5]}}\ncheck-groups: {type: file, filename: group}\nignore-removed-users: [root]\n',
      group: 'root:x:0:\nwheel:x:10:core\n',
    });
    assert.deepEqual(plan.checkPasswd, ['core:1000:1001', 'svc:990:', 'x:5:']);
    assert.deepEqual(plan.checkGroups, ['root:0', 'wheel:10']);
    assert.deepEqual(plan.ignoreRemovedUsers, ['root']);
    assert.equal(plan.bootable, true);
  });

  test('container: true forces tmp-is-dir and no passwd checks (upstream, same file)', async () => {
    const { plan } = await load({ 'm.yaml': 'packages: [a]\ncontainer: true\ncheck-passwd: {type: data, entries: {core: 1000}}\n' });
    assert.equal(plan.bootable, false);
    assert.deepEqual(plan.checkPasswd, []);
    assert.equal(plan.finalEnv.CF_TMP_IS_DIR, '1');
    assert.equal(plan.finalEnv.CF_CONTAINER, '1');
  });

  test('units with machineid-compat: false is an error naming the file', async () => {
    await assert.rejects(load({ 'm.yaml': 'packages: [a]\nunits: [a.service]\nmachineid-compat: false\n' }), /m\.yaml(:\d+)?: units: /);
  });

  test('a non-executable postprocess-script is refused', async () => {
    await assert.rejects(
      load({ 'm.yaml': 'packages: [a]\npostprocess-script: pp.sh\n', 'pp.sh': '#!/bin/sh\n' }, { 'pp.sh': 0o644 }),
      /postprocess-script must be executable/,
    );
  });
});

describe('mutate-os-release, finalize.d', () => {
  test('mutate-os-release takes the version; without one it is a note and a no-op', async () => {
    await writeFile(join(dir, 'm.yaml'), 'packages: [a]\nreleasever: 40\nmutate-os-release: "${releasever}"\n');
    const loaded = await loadTreefile('m.yaml', { basearch: 'x86_64', contextDir: dir });
    const s = effectiveSettings(loaded.treefile);
    assert.deepEqual(planPostprocess(loaded, s, { version: '40.20231114.0' }).mutateOsRelease, { from: '40', to: '40.20231114.0' });
    const none = planPostprocess(loaded, s);
    assert.equal(none.mutateOsRelease, undefined);
    assert.deepEqual(none.notes.filter((n) => n.startsWith('mutate')), [
      'mutate-os-release: no version to put in (set automatic-version-prefix or label org.opencontainers.image.version); os-release left unchanged',
    ]);
  });

  test('finalize.d: executable files by name, include wins; workdir is the top directory', async () => {
    await mkdir(join(dir, 'fin/finalize.d'), { recursive: true });
    await mkdir(join(dir, 'fin/inc/finalize.d'), { recursive: true });
    const files: [string, string, number][] = [
      ['fin/m.yaml', 'include: inc/base.yaml\npackages: [a]\n', 0o644], ['fin/inc/base.yaml', 'packages: [b]\n', 0o644],
      ['fin/finalize.d/20-root', '#!/bin/sh\necho root\n', 0o755], ['fin/finalize.d/10-same', '#!/bin/sh\necho root-same\n', 0o755],
      ['fin/finalize.d/README', 'not executable\n', 0o644], ['fin/inc/finalize.d/10-same', '#!/bin/sh\necho inc-same\n', 0o755],
    ];
    for (const [p, t, m] of files) {
      await writeFile(join(dir, p), t);
      await chmod(join(dir, p), m);
    }
    const loaded = await loadTreefile('fin/m.yaml', { basearch: 'x86_64', contextDir: dir });
    const plan = planPostprocess(loaded, effectiveSettings(loaded.treefile));
    assert.deepEqual(plan.finalize.map((f) => [f.file, f.label, new TextDecoder().decode(f.data)]), [
      ['finalize-0', 'finalize.d/10-same (fin/inc/finalize.d/10-same)', '#!/bin/sh\necho inc-same\n'],
      ['finalize-1', 'finalize.d/20-root (fin/finalize.d/20-root)', '#!/bin/sh\necho root\n'],
    ]);
    assert.equal(plan.workdir, 'fin');
    const builder = image('127.0.0.1:5000/compose-frontend/builder:bookworm');
    const r = postprocessSteps(plan, scratch(), scratch(), { builder, context: image('ctx.example/x'), epoch: 7, inputHashInput: 'ab' });
    const g = marshalGraph(r.rootfs, { platform: { os: 'linux', architecture: 'amd64' } });
    const fin = g.ops.filter((o) => o.op.exec && o.op.exec.meta!.args[1] === '/cf/run').map((o) => o.op.exec!);
    assert.deepEqual(fin.map((e) => e.meta!.args.slice(2).join(' ')).sort(), [
      'finalize.d/10-same (fin/inc/finalize.d/10-same) /cf/finalize-0 finalize.d script', 'finalize.d/20-root (fin/finalize.d/20-root) /cf/finalize-1 finalize.d script',
    ]);
    for (const e of fin) {
      assert.equal(e.meta!.cwd, '/target');
      assert.ok(e.meta!.env.includes('RPMOSTREE_WORKDIR=/cf-workdir'));
      assert.equal(e.network, 2);
      const wd = e.mounts.find((m) => m.dest === '/cf-workdir')!;
      assert.deepEqual([wd.readonly, wd.selector], [true, '/fin']);
    }
  });
});

describe('postprocessSteps LLB', () => {
  test('chain: builder step, FileOp, scripts inside the tree (no network), kernel, final', async () => {
    const { plan } = await load({ 'm.yaml': 'packages: [a]\npostprocess: ["#!/bin/sh\\ntrue", "#!/bin/sh\\nfalse"]\n' });
    const builder = image('127.0.0.1:5000/compose-frontend/builder:bookworm');
    const r = postprocessSteps(plan, scratch().file((await import('../../../src/llb/index.ts')).mkdir('/x', 0o755)), scratch(), { builder, context: scratch(), epoch: 0, inputHashInput: 'ab' });
    const g = marshalGraph(r.rootfs, { platform: { os: 'linux', architecture: 'amd64' } });
    const execs = g.ops.filter((o) => o.op.exec).map((o) => o.op.exec!);
    assert.deepEqual(execs.map((e) => e.meta!.args.slice(0, 3).join(' ')).sort(), [
      '/bin/bash /cf/composepost.sh', '/bin/bash /cf/final.sh',
      '/bin/sh /.cf/kernel.sh', '/bin/sh /.cf/run postprocess[0] (m.yaml:2)', '/bin/sh /.cf/run postprocess[1] (m.yaml:2)',
    ]);
    for (const e of execs) {
      assert.equal(e.network, 2, `${e.meta!.args.join(' ')}: network none`);
      assert.equal(e.security, 0);
    }
    const script = execs.find((e) => e.meta!.args[2] === 'postprocess[1] (m.yaml:2)')!;
    assert.deepEqual(script.meta!.env, ['PATH=/usr/sbin:/usr/bin', 'LANG=C.UTF-8', 'SOURCE_DATE_EPOCH=0']);
    assert.deepEqual(script.mounts.map((m) => [m.dest, m.readonly]), [['/', false], ['/.cf', true], ['/tmp', false]]);
  });
});
