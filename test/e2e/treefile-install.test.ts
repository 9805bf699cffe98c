// Treefile compose end to end without the gateway: composeTreefile() → LLB → raw pb.Definition on
// `buildctl build` stdin (no --frontend) against the standalone buildkitd, the tree exported with
// `--output type=local`. Real parts: the builder image from scripts/builder-image.sh, RPMs built by
// scripts/test-rpms.sh in a repo served from the build context (file:///context/rpms).
import assert from 'node:assert/strict';
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Definition, Op } from '../../src/gen/github.com/moby/buildkit/solver/pb/ops.ts';
import { composeTreefile, type ComposeTreefileResult } from '../../src/compose/compose-treefile.ts';
import { loadTreefile, localContextFs } from '../../src/compose/treefile/index.ts';
import { digestOf, fromDefinition, image, marshal, mkfile, type State } from '../../src/llb/index.ts';
import { bin, buildkitAddr, frontendImage, repoRoot } from '../harness/env.ts';
import { run } from '../harness/run.ts';
import { ensureServices } from '../harness/services.ts';

const platform = { os: 'linux', architecture: 'amd64' };
const EPOCH = 1700000000;
const KVER = '6.1.0-1.cf.x86_64';
let work: string;
/** The image scripts/builder-image.sh pushed, pinned by digest. */
let builderImage: string;

/** `local://context` without a session attribute: buildctl's own session serves it. */
function contextState(): State {
  const src = Op.encode(Op.fromPartial({ source: { identifier: 'local://context', attrs: {} } })).finish();
  const term = Op.encode(Op.fromPartial({ inputs: [{ digest: digestOf(src), index: 0n }] })).finish();
  return fromDefinition(Definition.fromPartial({ def: [src, term] }));
}

interface Solve {
  ok: boolean;
  stderr: string;
}

/** Marshals `state` and solves it with buildctl; the result lands in `out` (when given). */
async function solve(state: State, ctx: string, out?: string): Promise<Solve> {
  const def = Definition.encode(marshal(state, { platform })).finish();
  const args = ['--addr', buildkitAddr, 'build', '--progress=plain', '--local', `context=${ctx}`];
  if (out) args.push('--output', `type=local,dest=${out}`);
  const r = await run(bin.buildctl, args, { input: def, allowFailure: true, timeoutMs: 600_000 });
  return { ok: r.code === 0, stderr: r.stderr };
}

async function makeContext(name: string, manifest: string, extra: Record<string, string> = {}): Promise<string> {
  const ctx = join(work, name);
  await mkdir(ctx, { recursive: true });
  await cp(join(repoRoot, '.cache/test-rpms/repo'), join(ctx, 'rpms'), { recursive: true });
  await writeFile(join(ctx, 'cf.repo'), '[cftest]\nname=compose-frontend test packages\nbaseurl=file:///context/rpms\ngpgcheck=0\n');
  await writeFile(join(ctx, 'manifest.yaml'), manifest);
  for (const [p, data] of Object.entries(extra)) {
    await mkdir(dirname(join(ctx, p)), { recursive: true });
    await writeFile(join(ctx, p), data);
    if (data.startsWith('#!')) await chmod(join(ctx, p), 0o755);
  }
  return ctx;
}

async function compose(ctx: string): Promise<ComposeTreefileResult> {
  const loaded = await loadTreefile('manifest.yaml', { basearch: 'x86_64', contextDir: ctx });
  // The frontend image runs the TypeScript steps (rpmdb-normalize), as frontend.bin does in a gateway build.
  const tools = { state: image(frontendImage(), { platform }), argv: ['/usr/local/bin/node', '/app/compose-frontend.mjs'] };
  return composeTreefile(loaded, { context: contextState(), fs: localContextFs(ctx), platform, epoch: EPOCH, builderImage, tools });
}

const MANIFEST = `# compose-frontend e2e treefile
releasever: "1"
repos: [cftest]
packages: [cf-app, cf-kernel]
documentation: false
install-langs: [de]
units: [cf-app.service]
default-target: multi-user.target
etc-group-members: [wheel]
remove-files: [etc/cf-base/marker]
add-files:
  - [motd, /etc/motd]
  - [tool.sh, /usr/bin/cf-tool]
remove-from-packages:
  - [cf-app, "^/usr/share/cf-app/removeme\\\\.txt$"]
postprocess:
  - |
    #!/bin/sh
    set -e
    echo "postprocess ran" > /usr/share/cf-postprocess.txt
    grep -q '^cfapp:' /etc/passwd
postprocess-script: post.sh
container-cmd: [/usr/bin/cf-app]
automatic-version-prefix: "1.<date:%Y%m%d>"
check-passwd: {type: data, entries: {cfapp: [990, 990]}}
check-groups: {type: data, entries: {cfapp: 990}}
boot-location: modules
tmp-is-dir: true
rpmdb-normalize: true
mutate-os-release: "1"
`;
const EXTRA = {
  motd: 'Welcome\n',
  'tool.sh': '#!/bin/sh\necho tool\n',
  'post.sh': '#!/bin/sh\nset -e\necho "script ran" > /usr/share/cf-script.txt\n',
  // finalize.d: run last, in the builder, cwd = the tree, RPMOSTREE_WORKDIR = the treefile's directory.
  'finalize.d/10-stamp': '#!/bin/sh\nset -e\n{ echo "cwd $(pwd)"; cat "$RPMOSTREE_WORKDIR/motd"; test -L etc/os-release && echo "tree: os-release link"; } > usr/share/cf-finalize.txt\n',
};

before(async () => {
  await ensureServices();
  await run('bash', [join(repoRoot, 'scripts/builder-image.sh')], { timeoutMs: 900_000 });
  await run('bash', [join(repoRoot, 'scripts/test-rpms.sh')], { timeoutMs: 300_000 });
  const stamp = JSON.parse(await readFile(join(repoRoot, '.cache/images/builder.json'), 'utf8')) as { ref: string; digest: string };
  builderImage = `${stamp.ref}@${stamp.digest}`;
  work = await mkdtemp(join(tmpdir(), 'cf-treefile-e2e-'));
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const read = (p: string) => readFile(p, 'utf8');

describe('treefile compose through buildctl', () => {
  let ctx: string;
  let out: string;
  let result: ComposeTreefileResult;
  let first: Solve;

  before(async () => {
    ctx = await makeContext('good', MANIFEST, EXTRA);
    out = join(work, 'out');
    result = await compose(ctx);
    first = await solve(result.rootfs, ctx, out);
    assert.ok(first.ok, first.stderr.slice(-4000));
  });

  test('config: cmd, version label, meta labels', () => {
    assert.deepEqual(result.config.cmd, ['/usr/bin/cf-app']);
    assert.equal(result.config.labels['org.opencontainers.image.version'], '1.20231114.0');
    assert.deepEqual(result.metaLabels, { 'rpmostree.inputhash': '/inputhash', 'ostree.linux': '/kernel-version' });
    assert.equal(result.install.network, 'none');
  });

  test('packages, weak deps, docs and languages', async () => {
    assert.equal(await read(join(out, 'usr/lib/cf/libcf.so.1')), 'libcf 1.0\n');
    assert.equal(await read(join(out, 'usr/share/cf-extras/data.txt')), 'extras\n', 'Recommends installed');
    await assert.rejects(lstat(join(out, 'usr/share/doc/cf-app/README')), 'documentation: false drops %doc');
    assert.deepEqual(await readdir(join(out, 'usr/share/locale')), ['de'], 'install-langs: [de]');
    const r = await run('rpm', ['--root', out, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{NEVRA}\n']);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [
      'cf-app-2.0-1.noarch', 'cf-extras-1.0-1.noarch', 'cf-filesystem-1.0-1.x86_64', 'cf-kernel-6.1.0-1.noarch', 'cf-lib-1.0-1.noarch',
    ]);
    assert.equal(await readlink(join(out, 'usr/lib/sysimage/rpm')), '../../share/rpm');
    assert.equal(await read(join(out, 'usr/lib/rpm/macros.d/macros.rpm-ostree')), '%_dbpath /usr/share/rpm\n');
    assert.deepEqual((await readdir(join(out, 'usr/share/rpm'))).sort(), ['rpmdb.sqlite']);
    // rpmdb-normalize: INSTALLTID = SOURCE_DATE_EPOCH, INSTALLTIME = it + n in rpmdb order; journal mode DELETE.
    const times = await run('rpm', ['--root', out, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{INSTALLTID} %{INSTALLTIME}\n']);
    assert.deepEqual(times.stdout.trim().split('\n').sort(), [0, 1, 2, 3, 4].map((i) => `${EPOCH} ${EPOCH + i}`));
    const db = await readFile(join(out, 'usr/share/rpm/rpmdb.sqlite'));
    assert.deepEqual([db[18], db[19]], [1, 1], 'sqlite header: rollback journal (not WAL)');
    const base = await lstat(join(out, 'usr/lib/sysimage/rpm-ostree-base-db/rpmdb.sqlite'));
    assert.equal(base.ino, (await lstat(join(out, 'usr/share/rpm/rpmdb.sqlite'))).ino, 'base rpmdb is a hard link of the normalized one');
    assert.equal(await read(join(out, 'etc/rpm/macros.image-language-conf')), '%_install_langs de\n');
  });

  test('scriptlets: user, group and written file; passwd/group split', async () => {
    assert.equal(await read(join(out, 'etc/cf-app/generated.conf')), 'written by %post of cf-app-2.0\n');
    assert.equal(await read(join(out, 'etc/passwd')), 'root:x:0:0:root:/root:/bin/sh\n');
    assert.match(await read(join(out, 'usr/lib/passwd')), /^cfapp:x:990:990:cf-app daemon:\/var\/lib\/cf-app:\/usr\/sbin\/nologin$/m);
    assert.equal(await read(join(out, 'etc/group')), 'root:x:0:\nwheel:x:10:\n');
    assert.equal(await read(join(out, 'usr/lib/group')), 'bin:x:1:\nwheel:x:10:\ncfapp:x:990:\n');
    assert.match(await read(join(out, 'etc/nsswitch.conf')), /^passwd: files altfiles\ngroup: files altfiles\n/);
  });

  test('units, default-target, remove-files, add-files, remove-from-packages, scripts', async () => {
    assert.equal(await readlink(join(out, 'etc/systemd/system/multi-user.target.wants/cf-app.service')), '/usr/lib/systemd/system/cf-app.service');
    assert.equal(await readlink(join(out, 'usr/lib/systemd/system/default.target')), 'multi-user.target');
    await assert.rejects(lstat(join(out, 'etc/cf-base/marker')));
    assert.equal(await read(join(out, 'etc/motd')), 'Welcome\n');
    assert.equal((await lstat(join(out, 'usr/bin/cf-tool'))).mode & 0o777, 0o755);
    await assert.rejects(lstat(join(out, 'usr/share/cf-app/removeme.txt')));
    assert.equal(await read(join(out, 'usr/share/cf-app/keep.txt')), 'keep me\n');
    assert.equal(await read(join(out, 'usr/share/cf-postprocess.txt')), 'postprocess ran\n');
    assert.equal(await read(join(out, 'usr/share/cf-script.txt')), 'script ran\n');
    const tf = JSON.parse(await read(join(out, 'usr/share/rpm-ostree/treefile.json')));
    assert.deepEqual(tf.packages, ['cf-app', 'cf-kernel']);
  });

  test('mutate-os-release and finalize.d', async () => {
    // /etc/os-release → ../usr/lib/os-release: the file it resolves to is edited, the link stays.
    assert.equal(await readlink(join(out, 'etc/os-release')), '../usr/lib/os-release');
    assert.equal(await read(join(out, 'usr/lib/os-release')), [
      'NAME="compose-frontend test OS"', 'VERSION="1.20231114.0 (cftest)"', 'ID=cftest', 'VERSION_ID=1',
      'PRETTY_NAME="compose-frontend test OS 1.20231114.0 (cftest)"', "OSTREE_VERSION='1.20231114.0'", '',
    ].join('\n'));
    assert.equal(await read(join(out, 'usr/share/cf-finalize.txt')), 'cwd /target\nWelcome\ntree: os-release link\n');
    assert.equal(result.postprocess.finalize.length, 1);
  });

  test('layout, kernel, /var as tmpfiles.d', async () => {
    assert.deepEqual((await readdir(out)).sort(), [
      'bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib64', 'media', 'mnt', 'opt', 'ostree', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'sysroot', 'tmp', 'usr', 'var',
    ]);
    assert.deepEqual(await readdir(join(out, 'var')), []);
    assert.deepEqual(await readdir(join(out, 'boot')), []);
    assert.equal((await lstat(join(out, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal(await readlink(join(out, 'home')), 'var/home');
    assert.equal(await readlink(join(out, 'usr/local')), '../var/usrlocal');
    assert.equal(await read(join(out, `usr/lib/modules/${KVER}/vmlinuz`)), `not really a kernel ${KVER}\n`);
    assert.equal(await read(join(out, 'etc/machine-id')), '');
    const autovar = await read(join(out, 'usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf'));
    assert.match(autovar, /^d \/var\/lib\/cf-app 0750 cfapp cfapp - -$/m);
    assert.match(autovar, /^L \/var\/lib\/cf-app\/version-link - - - - \.\.\/\.\.\/\.\.\/usr\/share\/cf-app\/version$/m);
    assert.doesNotMatch(autovar, /\/var\/lib\/rpm/, 'declared by rpm-ostree-0-integration.conf');
    assert.match(await read(join(out, 'usr/lib/tmpfiles.d/rpm-ostree-0-integration.conf')), /^L \/var\/lib\/rpm - - - - \.\.\/\.\.\/usr\/share\/rpm$/m);
  });

  test('meta: input hash, kernel version, package list', async () => {
    const metaOut = join(work, 'meta');
    const r = await solve(result.meta, ctx, metaOut);
    assert.ok(r.ok, r.stderr.slice(-3000));
    assert.match(await read(join(metaOut, 'inputhash')), /^[0-9a-f]{64}\n$/);
    assert.equal(await read(join(metaOut, 'kernel-version')), `${KVER}\n`);
    const pkgs = (await read(join(metaOut, 'packages'))).trim().split('\n').map((l) => l.split('\t').slice(0, 2).join(' '));
    assert.deepEqual(pkgs, ['cf-app 0:2.0-1.noarch', 'cf-extras 0:1.0-1.noarch', 'cf-filesystem 0:1.0-1.x86_64', 'cf-kernel 0:6.1.0-1.noarch', 'cf-lib 0:1.0-1.noarch']);
  });

  test('an unchanged rebuild is fully cached (no step runs again)', async () => {
    const again = await compose(ctx);
    const r = await solve(again.rootfs, ctx);
    assert.ok(r.ok, r.stderr.slice(-3000));
    assert.doesNotMatch(r.stderr, /\[install\]|\[postprocess\]|\[final\]|\[kernel\]/);
    // Every step that does work (ExecOps, copies from the context) is a cache hit; the FileOps that
    // only write generated inputs from scratch are re-evaluated (cheap) with identical results.
    const names = [...r.stderr.matchAll(/^#(\d+) \[compose\] (.*)$/gm)].filter((m) => !/inputs$|scripts$/.test(m[2]!)).map((m) => m[1]!);
    assert.ok(names.length >= 6, r.stderr);
    for (const n of names) assert.match(r.stderr, new RegExp(`^#${n} CACHED$`, 'm'), `step #${n} not cached`);
  });
});

describe('treefile compose: lockfile pin, recommends: false', () => {
  test('cf-app is pinned to 1.0-1 although 2.0-1 is newer; no weak deps', async () => {
    const ctx = await makeContext('locked', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\nrecommends: false\npackages: [cf-app]\n', {
      'manifest-lock.x86_64.json': JSON.stringify({ packages: { 'cf-app': { evra: '1.0-1.noarch' } } }),
    });
    const loaded = await loadTreefile('manifest.yaml', { basearch: 'x86_64', contextDir: ctx });
    const res = await composeTreefile(loaded, { context: contextState(), fs: localContextFs(ctx), platform, epoch: EPOCH, builderImage, lockfiles: ['manifest-lock.x86_64.json'] });
    const out = join(work, 'out-locked');
    const r = await solve(res.rootfs, ctx, out);
    assert.ok(r.ok, r.stderr.slice(-3000));
    // Logged when the install step runs (it is cached when an earlier run had the same inputs).
    assert.match(r.stderr, /\[install\] locked: cf-app-1\.0-1\.noarch|\[compose\] dnf install cf-app \(repos: cftest, 1 locked \(cf-app-1\.0-1\.noarch\)\)\n#\d+ CACHED/);
    const q = await run('rpm', ['--root', out, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{NEVRA}\n']);
    assert.deepEqual(q.stdout.trim().split('\n').sort(), ['cf-app-1.0-1.noarch', 'cf-filesystem-1.0-1.x86_64', 'cf-lib-1.0-1.noarch']);
    assert.equal(await read(join(out, 'usr/share/cf-app/version')), 'version 1.0\n');
  });
});

async function composeIn(ctx: string, extra: Partial<Parameters<typeof composeTreefile>[1]> = {}): Promise<ComposeTreefileResult> {
  const loaded = await loadTreefile('manifest.yaml', { basearch: 'x86_64', contextDir: ctx });
  return composeTreefile(loaded, { context: contextState(), fs: localContextFs(ctx), platform, epoch: EPOCH, builderImage, ...extra });
}

async function rpmQa(out: string): Promise<string[]> {
  const q = await run('rpm', ['--root', out, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{NEVRA}\n']);
  return q.stdout.trim().split('\n').sort();
}

describe('treefile compose: strict lockfile', () => {
  const LOCK_ALL = { packages: { 'cf-app': { evra: '1.0-1.noarch' }, 'cf-lib': { evr: '1.0-1' }, 'cf-filesystem': { evra: '1.0-1.x86_64' } } };

  test('only locked builds install: the weak dependency cf-extras is not locked, so it is left out', async () => {
    const ctx = await makeContext('strict', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-app]\n', {
      'lock.json': JSON.stringify(LOCK_ALL),
    });
    const res = await composeIn(ctx, { lockfiles: ['lock.json'], lockfileStrict: true });
    const out = join(work, 'out-strict');
    const r = await solve(res.rootfs, ctx, out);
    assert.ok(r.ok, r.stderr.slice(-3000));
    assert.deepEqual(await rpmQa(out), ['cf-app-1.0-1.noarch', 'cf-filesystem-1.0-1.x86_64', 'cf-lib-1.0-1.noarch']);
  });

  test('an unlocked dependency fails depsolve; an unlocked request is not found', async () => {
    const ctx = await makeContext('strict-bad', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-app]\n', {
      'lock.json': JSON.stringify({ packages: { 'cf-app': { evra: '1.0-1.noarch' } } }),
      'all.json': JSON.stringify(LOCK_ALL),
      'more.yaml': 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-app, cf-extras]\n',
    });
    const r = await solve((await composeIn(ctx, { lockfiles: ['lock.json'], lockfileStrict: true })).rootfs, ctx);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /error: dnf install failed with exit code 1\. dnf reported:/);
    assert.match(r.stderr, /package cf-lib-1\.0-1\.noarch is filtered out by exclude filtering/);
    const loaded = await loadTreefile('more.yaml', { basearch: 'x86_64', contextDir: ctx });
    const more = await composeTreefile(loaded, { context: contextState(), fs: localContextFs(ctx), platform, epoch: EPOCH, builderImage, lockfiles: ['all.json'], lockfileStrict: true });
    const r2 = await solve(more.rootfs, ctx);
    assert.equal(r2.ok, false);
    assert.match(r2.stderr, /Error: Unable to find a match: cf-extras/);
  });
});

describe('treefile compose: repo-packages', () => {
  let ctx: string;
  before(async () => {
    ctx = await makeContext('repo-packages', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-lib]\nrepo-packages:\n  - repo: old\n    packages: [cf-app]\n');
    // A second repo holding only cf-app 1.0; cftest has 1.0 and 2.0.
    await mkdir(join(ctx, 'old'));
    await cp(join(repoRoot, '.cache/test-rpms/repo/cf-app-1.0-1.noarch.rpm'), join(ctx, 'old/cf-app-1.0-1.noarch.rpm'));
    await run('createrepo_c', ['--quiet', '--no-database', join(ctx, 'old')]);
    await writeFile(join(ctx, 'old.repo'), '[old]\nname=old cf-app\nbaseurl=file:///context/old\ngpgcheck=0\n');
  });

  test('cf-app comes from repo old (1.0) although cftest has 2.0', async () => {
    const res = await composeIn(ctx);
    assert.deepEqual(res.install.repos.map((r) => r.id), ['cftest', 'old']);
    const out = join(work, 'out-rp');
    const r = await solve(res.rootfs, ctx, out);
    assert.ok(r.ok, r.stderr.slice(-3000));
    assert.match(r.stderr, /\[install\] repo-packages: cf-app from old/);
    assert.deepEqual(await rpmQa(out), ['cf-app-1.0-1.noarch', 'cf-extras-1.0-1.noarch', 'cf-filesystem-1.0-1.x86_64', 'cf-lib-1.0-1.noarch']);
  });

  test('a package the repo does not have, and an unknown repo', async () => {
    await writeFile(join(ctx, 'manifest.yaml'), 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-app]\nrepo-packages:\n  - repo: old\n    packages: [cf-lib]\n');
    const r = await solve((await composeIn(ctx)).rootfs, ctx);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /error: repo-packages: No matches for 'cf-lib' in repo 'old'/);
    await writeFile(join(ctx, 'manifest.yaml'), 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-app]\nrepo-packages:\n  - repo: nope\n    packages: [cf-lib]\n');
    await assert.rejects(composeIn(ctx), { message: 'manifest.yaml:6: repo-packages[0].repo: Unknown rpm-md repository: nope (known: cftest, old)' });
  });
});

describe('treefile compose: the install script picks dnf5 when the builder has it', () => {
  // No dnf5 image is reachable here, so `dnf5` is a shim over the builder's dnf 4 that refuses dnf 4
  // spellings and maps the dnf5 ones (spec §6.1) back: the script must hand it the dnf5 options.
  const SHIM = `#!/bin/bash
printf '[dnf5-shim] %s\\n' "$*" >&2
if [ "$1" = --version ]; then echo "dnf5 version 5.2.0 (shim)"; exit 0; fi
args=(); repos=0
for a in "$@"; do
  case "$a" in
    --noplugins|--disablerepo=*|--enablerepo=*|--setopt=tsflags=nodocs) echo "dnf5-shim: dnf 4 option $a" >&2; exit 2 ;;
    --no-plugins) args+=(--noplugins) ;;
    --no-docs) args+=(--setopt=tsflags=nodocs) ;;
    --repo=*) [ $repos = 1 ] || args+=('--disablerepo=*'); repos=1; args+=("--enablerepo=\${a#--repo=}") ;;
    *) args+=("$a") ;;
  esac
done
dnf "\${args[@]}"
rc=$?
# The install command's own argv goes into the tree: the evidence survives a cached rerun.
if [ $rc = 0 ] && printf '%s\\n' "$@" | grep -qx install; then printf '%s\\n' "$*" > /target/usr/share/cf-dnf5-argv; fi
exit $rc
`;

  test('dnf5 options reach dnf5; the tree is complete', async () => {
    const ctx = await makeContext('dnf5', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\ndocumentation: false\npackages: [cf-app]\n');
    const builder = image(builderImage, { platform }).file(mkfile('/usr/bin/dnf5', 0o755, SHIM), { customName: 'dnf5 shim' });
    const res = await composeIn(ctx, { builder });
    const out = join(work, 'out-dnf5');
    const r = await solve(res.rootfs, ctx, out);
    assert.ok(r.ok, r.stderr.slice(-3000));
    assert.match(await read(join(out, 'usr/share/cf-dnf5-argv')), /^-y --installroot=\/target --releasever=1 --no-plugins [^\n]* --no-docs --repo=cftest install cf-app\n$/);
    assert.deepEqual(await rpmQa(out), ['cf-app-2.0-1.noarch', 'cf-extras-1.0-1.noarch', 'cf-filesystem-1.0-1.x86_64', 'cf-lib-1.0-1.noarch']);
    await assert.rejects(lstat(join(out, 'usr/share/doc/cf-app/README')), '--no-docs reached dnf');
  });
});

describe('rpmdb-normalize on an rpmdb that rpm wrote without SOURCE_DATE_EPOCH', () => {
  test('the CLI step rewrites wall-clock install times; rpm still reads the database', async () => {
    // The builder's rpm 4.18 already takes install times from SOURCE_DATE_EPOCH; older ones (EL9's
    // 4.16) do not. The host rpm without the variable stands in for those.
    const root = join(work, 'rpmdb-host');
    await mkdir(root, { recursive: true });
    const repo = join(repoRoot, '.cache/test-rpms/repo');
    const { SOURCE_DATE_EPOCH: _, ...env } = process.env;
    await run('rpm', ['--root', root, '--dbpath', '/usr/share/rpm', '-i', '--justdb', '--nodeps', '--noscripts', join(repo, 'cf-lib-1.0-1.noarch.rpm'), join(repo, 'cf-extras-1.0-1.noarch.rpm')], { env });
    const q = () => run('rpm', ['--root', root, '--dbpath', '/usr/share/rpm', '-qa', '--qf', '%{NAME} %{INSTALLTID} %{INSTALLTIME}\n']);
    const before = (await q()).stdout.trim().split('\n');
    assert.ok(before.every((l) => Number(l.split(' ')[1]) > EPOCH + 1000), before.join('; '));
    await run(join(repoRoot, 'node_modules/.bin/node'), [join(repoRoot, 'src/main.ts'), 'rpmdb-normalize', root, '--source-date-epoch', String(EPOCH)]);
    const after = (await q()).stdout.trim().split('\n').sort();
    assert.deepEqual(after.map((l) => l.split(' ').slice(1).join(' ')).sort(), [`${EPOCH} ${EPOCH}`, `${EPOCH} ${EPOCH + 1}`]);
    assert.deepEqual(after.map((l) => l.split(' ')[0]), ['cf-extras', 'cf-lib']);
    assert.deepEqual((await readdir(join(root, 'usr/share/rpm'))).filter((f) => f.startsWith('rpmdb')), ['rpmdb.sqlite']);
  });
});

describe('treefile compose: bad input', () => {
  test('missing repo file: unknown repo id', async () => {
    const ctx = await makeContext('norepo', MANIFEST.replace('repos: [cftest]', 'repos: [nope]'), EXTRA);
    await assert.rejects(compose(ctx), /manifest\.yaml:\d+: repos: Unknown rpm-md repository: nope \(known: cftest\)/);
  });

  test('repo directory missing from the context', async () => {
    const ctx = await makeContext('nodir', MANIFEST, EXTRA);
    await rm(join(ctx, 'rpms'), { recursive: true });
    await assert.rejects(compose(ctx), /cf\.repo:1: cftest: baseurl file:\/\/\/context\/rpms: "rpms" is not a directory in the build context/);
  });

  test('unresolvable package: dnf\'s reason is the last output', async () => {
    const ctx = await makeContext('nopkg', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-app, cf-nope]\n');
    const r = await solve((await compose(ctx)).rootfs, ctx);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /error: dnf install failed with exit code 1\. dnf reported:\n#\d+ [\d.]+ Error: Unable to find a match: cf-nope/);
    const ctx2 = await makeContext('nodep', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-needs-missing]\n');
    const r2 = await solve((await compose(ctx2)).rootfs, ctx2);
    assert.equal(r2.ok, false);
    assert.match(r2.stderr, /nothing provides cf-does-not-exist needed by cf-needs-missing-1\.0-1\.noarch/);
  });

  test('failing postprocess script: name, exit code and stderr', async () => {
    const manifest = 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-lib]\npostprocess:\n  - |\n    #!/bin/sh\n    echo "to stdout"\n    echo "broken on purpose" >&2\n    exit 3\n';
    const ctx = await makeContext('badscript', manifest);
    const r = await solve((await compose(ctx)).rootfs, ctx);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /error: postprocess script postprocess\[0\] \(manifest\.yaml:6\) failed with exit code 3\. Its stderr:\n#\d+ [\d.]+ broken on purpose/);
    assert.match(r.stderr, /process "\/bin\/sh \/\.cf\/run postprocess\[0\] \(manifest\.yaml:6\) \/\.cf\/postprocess-0" did not complete successfully: exit code: 3/);
  });

  test('failing finalize.d script: name, exit code and stderr', async () => {
    const ctx = await makeContext('badfinal', 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-lib]\n', {
      'finalize.d/50-fail': '#!/bin/sh\necho "finalize broke" >&2\nexit 4\n',
    });
    const r = await solve((await compose(ctx)).rootfs, ctx);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /error: finalize\.d script finalize\.d\/50-fail \(finalize\.d\/50-fail\) failed with exit code 4\. Its stderr:\n#\d+ [\d.]+ finalize broke/);
  });

  test('missing add-files source', async () => {
    const ctx = await makeContext('noadd', MANIFEST, { 'tool.sh': '#!/bin/sh\n', 'post.sh': '#!/bin/sh\n' });
    await assert.rejects(compose(ctx), /manifest\.yaml:\d+: add-files.*Can't open file "motd" for reading/);
  });
});
