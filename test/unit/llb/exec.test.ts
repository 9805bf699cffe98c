// ExecOp encoding: mount order, output numbering, inputs, meta, caps, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as llb from '../../../src/llb/index.ts';
import { AMD64, ARM64, build } from './helpers.ts';

const img = llb.image('fedora:41');
const ctx = llb.local('context', { sessionId: 's' });

test('mounts sorted by dest (root first), secrets last; outputs numbered over writable binds', () => {
  const r = img.run({
    args: ['/bin/sh', '-c', 'make'],
    mounts: [
      { dest: '/z-out' },
      { type: 'secret', dest: '/run/secrets/tok', secretId: 'tok' },
      { dest: '/src', state: ctx, readonly: true },
      { type: 'cache', dest: '/var/cache/dnf', cacheId: 'dnf', sharing: 'locked' },
      { dest: '/a-out', state: ctx, selector: 'sub/dir' },
      { type: 'tmpfs', dest: '/tmp', size: 1 << 20 },
      { dest: '/scratchpad', output: false },
    ],
  });
  const d = build(r.mount('/z-out'));
  const ex = d.head.exec!;
  assert.deepEqual(ex.mounts.map((m) => [m.dest, m.mountType, m.input, m.output, m.readonly]), [
    ['/', 0, 0n, 0n, false],
    ['/a-out', 0, 1n, 1n, false],
    ['/scratchpad', 0, -1n, -1n, false],
    ['/src', 0, 1n, -1n, true], // same state as /a-out: shares input 1
    ['/tmp', 4, -1n, -1n, false],
    ['/var/cache/dnf', 3, -1n, -1n, false],
    ['/z-out', 0, -1n, 2n, false],
    ['/run/secrets/tok', 1, -1n, 0n, false], // Go leaves output 0 on secret mounts
  ]);
  assert.equal(ex.mounts[1]!.selector, 'sub/dir');
  assert.deepEqual(ex.mounts[4]!.TmpfsOpt, { size: 1048576n });
  assert.deepEqual(ex.mounts[5]!.cacheOpt, { ID: 'dnf', sharing: 2 });
  assert.deepEqual(ex.mounts[7]!.secretOpt, { ID: 'tok', uid: 0, gid: 0, mode: 0o400, optional: false });
  assert.equal(d.head.inputs.length, 2);
  // the terminal points at output 2 (/z-out)
  assert.equal(d.terminal.inputs[0]!.index, 2n);
  assert.deepEqual([...r.outputs.keys()], ['/', '/a-out', '/z-out']);
  const caps = Object.keys(d.def.metadata[d.ops.at(-2)!.digest]!.caps);
  assert.deepEqual(caps, [
    'exec.meta.base', 'exec.mount.bind', 'exec.mount.cache', 'exec.mount.cache.sharing', 'exec.mount.secret',
    'exec.mount.selector', 'exec.mount.tmpfs', 'exec.mount.tmpfs.size',
  ]);
});

test('meta: args, env (array or record), cwd default "/", user, hostname, network, security, exit codes', () => {
  const a = build(img.run({ args: ['true'] }).root).head.exec!;
  assert.deepEqual(a.meta, {
    args: ['true'], env: [], cwd: '/', user: '', proxyEnv: undefined, extraHosts: [], hostname: '', ulimit: [],
    cgroupParent: '', removeMountStubsRecursive: true, validExitCodes: [],
  });
  assert.equal(a.network, 0);
  const r = img.run({
    args: ['x'], env: { B: '2', A: '1' }, cwd: '/w/./k/', user: '1000:1000', hostname: 'h', network: 'none',
    security: 'insecure', validExitCodes: [0, 1],
  });
  const d = build(r.root);
  const e = d.head.exec!;
  assert.deepEqual(e.meta!.env, ['B=2', 'A=1']); // insertion order kept, like Go's env list
  assert.equal(e.meta!.cwd, '/w/k');
  assert.equal(e.meta!.user, '1000:1000');
  assert.equal(e.meta!.hostname, 'h');
  assert.deepEqual(e.meta!.validExitCodes, [0, 1]);
  assert.equal(e.network, 2);
  assert.equal(e.security, 1);
  assert.deepEqual(Object.keys(d.def.metadata[d.ops.at(-2)!.digest]!.caps),
    ['exec.meta.base', 'exec.meta.network', 'exec.meta.security', 'exec.mount.bind', 'exec.validexitcode']);
  assert.deepEqual(build(img.run({ args: ['x'], env: ['K=a=b'] }).root).head.exec!.meta!.env, ['K=a=b']);
});

test('exec platform: from the root state, else the marshal platform; run on scratch mounts -1', () => {
  const onArm = llb.image('alpine', { platform: ARM64 }).run({ args: ['x'] }).root;
  assert.deepEqual(build(onArm, { platform: AMD64 }).head.platform, { Architecture: 'arm64', OS: 'linux', Variant: '', OSVersion: '', OSFeatures: [] });
  const d = build(llb.scratch().run({ args: ['/x'] }).root, { platform: ARM64 });
  assert.equal(d.head.platform!.Architecture, 'arm64');
  assert.equal(d.head.inputs.length, 0);
  assert.equal(d.head.exec!.mounts[0]!.input, -1n);
  assert.deepEqual(Object.keys(d.def.metadata[d.ops[0]!.digest]!.caps), ['exec.meta.base']);
});

test('states of outputs inherit the platform and chain further', () => {
  const r = llb.image('alpine', { platform: ARM64 }).run({ args: ['x'], mounts: [{ dest: '/out' }] });
  assert.deepEqual(r.mount('/out').platform, ARM64);
  const d = build(r.mount('/out').run({ args: ['y'] }).root, { platform: AMD64 });
  assert.equal(d.head.platform!.Architecture, 'arm64');
  assert.equal(d.head.inputs[0]!.index, 1n);
});

test('default PATH is added only when the daemon caps lack exec.meta.setsdefaultpath', () => {
  const s = img.run({ args: ['x'], env: ['A=1'] }).root;
  const old = build(s, { platform: AMD64, caps: [{ ID: 'exec.meta.base', Enabled: true }, { ID: 'exec.mount.bind', Enabled: true }, { ID: 'source.image', Enabled: true }, { ID: 'constraints', Enabled: true }, { ID: 'platform', Enabled: true }] });
  assert.deepEqual(old.head.exec!.meta!.env, ['A=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  const caps = ['exec.meta.base', 'exec.mount.bind', 'source.image', 'constraints', 'platform', 'exec.meta.setsdefaultpath'].map((ID) => ({ ID, Enabled: true }));
  const cur = build(s, { platform: AMD64, caps });
  assert.deepEqual(cur.head.exec!.meta!.env, ['A=1']);
  assert.equal(cur.def.metadata[cur.ops.at(-2)!.digest]!.caps['exec.meta.setsdefaultpath'], true);
  assert.deepEqual(build(s).head.exec!.meta!.env, ['A=1']); // no caps given: leave env alone
});

test('bad run options fail with a message naming the command and mount', () => {
  assert.throws(() => img.run({ args: [] }), { name: 'LlbError', message: 'run "": args must be a non-empty array of strings' });
  assert.throws(() => img.run({ args: ['x'], mounts: [{ dest: 'rel' }] }), { message: 'run "x": mount dest: must be an absolute path, got "rel"' });
  assert.throws(() => img.run({ args: ['x'], mounts: [{ dest: '/a' }, { dest: '/a/' }] }), { message: 'run "x": mount /a: duplicate mount destination' });
  assert.throws(() => img.run({ args: ['x'], mounts: [{ dest: '/' }] }), { message: 'run "x": mount /: the root mount is implicit (run() is called on it)' });
  assert.throws(() => img.run({ args: ['x'], mounts: [{ dest: '/r', readonly: true, output: true }] }), { message: 'run "x": mount /r: a readonly mount cannot be an output' });
  assert.throws(() => img.run({ args: ['x'], mounts: [{ type: 'cache', dest: '/c', cacheId: '' }] }), { message: 'run "x": mount /c: cache mounts need a non-empty cacheId' });
  assert.throws(() => img.run({ args: ['x'], mounts: [{ type: 'secret', dest: '/s', secretId: '' }] }), { message: 'run "x": mount /s: secret mounts need a non-empty secretId' });
  assert.throws(() => img.run({ args: ['x'], env: ['NOEQUALS'] }), { message: 'run "x": env entry "NOEQUALS" must be KEY=VALUE' });
  assert.throws(() => img.run({ args: ['x'], network: 'bridge' as 'host' }), { message: 'run "x": network must be sandbox, host or none' });
  assert.throws(() => img.run({ args: ['x'], mounts: [{ dest: '/ro', readonly: true }] }).mount('/ro'), { message: 'run(): no output mount at "/ro" (outputs: /)' });
});
