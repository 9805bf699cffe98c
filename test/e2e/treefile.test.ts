// Issue 3 end to end: an rpm-ostree treefile is the build file, through the real gateway on both
// BuildKits. RPMs are built by scripts/test-rpms.sh (rpmbuild + createrepo_c); dnf runs in the builder
// image made by scripts/builder-image.sh.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOn, pruneCache } from '../harness/buildkit.ts';
import { frontendImage, registry, repoRoot, type BuildKitName } from '../harness/env.ts';
import { needlessLayers, pullAndUnpack } from '../harness/image.ts';
import { RunError, run } from '../harness/run.ts';
import { ensureServices } from '../harness/services.ts';

const KITS: BuildKitName[] = ['docker', 'standalone'];
let work: string;
let ctx: string;
let frontend: string;
let builder: string;
let n = 0;
const ref = (name: string) => `${registry}/e2e/${name}:${process.pid}-${++n}`;

before(async () => {
  await ensureServices();
  frontend = frontendImage();
  await run('bash', [join(repoRoot, 'scripts/builder-image.sh')], { timeoutMs: 900_000 });
  await run('bash', [join(repoRoot, 'scripts/test-rpms.sh')], { timeoutMs: 300_000 });
  const stamp = JSON.parse(readFileSync(join(repoRoot, '.cache/images/builder.json'), 'utf8')) as { ref: string; digest: string };
  builder = `${stamp.ref.split(':').slice(0, -1).join(':')}@${stamp.digest}`;
  work = mkdtempSync(join(tmpdir(), 'cf-treefile-gw-'));
  ctx = join(work, 'ctx');
  cpSync(join(repoRoot, 'examples/treefile'), ctx, { recursive: true });
  cpSync(join(repoRoot, '.cache/test-rpms/repo'), join(ctx, 'rpms'), { recursive: true });
  writeFileSync(join(ctx, 'lock-1.0.json'), JSON.stringify({ packages: { 'cf-app': { evra: '1.0-1.noarch' } } }));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function build(kit: BuildKitName, opts: Record<string, string> = {}, file = 'exampleos.yaml') {
  const out = ref(`treefile-${kit}`);
  const res = await buildOn(kit, {
    frontendImage: frontend, contextDir: ctx, filename: file,
    opts: { 'build-arg:COMPOSE_BUILDER_IMAGE': builder, 'build-arg:COMPOSE_MAX_LAYERS': '12', ...opts },
    output: { type: 'push', ref: out },
  });
  return { out, res, img: await pullAndUnpack(out, mkdtempSync(join(work, 'pull-'))) };
}

for (const kit of KITS) {
  describe(`treefile build files on ${kit}`, () => {
    let first: Awaited<ReturnType<typeof build>>;

    test('the composed tree: packages, rpmdb, users, units, labels, config', async () => {
      first = await build(kit, { 'build-arg:COMPOSE_LOCKFILES': 'lock-1.0.json' });
      const r = first.img.rootfs;
      assert.equal(readFileSync(join(r, 'usr/bin/cf-app'), 'utf8'), '#!/bin/sh\necho "cf-app 1.0"\n');
      assert.equal(readFileSync(join(r, 'usr/share/exampleos-release'), 'utf8'), 'built by compose-frontend\n');
      const etc = existsSync(join(r, 'usr/etc')) ? 'usr/etc' : 'etc';
      assert.equal(readFileSync(join(r, etc, 'motd'), 'utf8'), 'Welcome to exampleos\n');
      assert.ok(existsSync(join(r, 'usr/lib/modules/6.1.0-1.cf.x86_64/vmlinuz')));
      const qa = await run('rpm', ['--root', r, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{NAME}-%{VERSION}\\n']);
      assert.deepEqual(qa.stdout.trim().split('\n').sort(), ['cf-app-1.0', 'cf-extras-1.0', 'cf-filesystem-1.0', 'cf-kernel-6.1.0', 'cf-lib-1.0']);
      const passwd = readFileSync(join(r, 'usr/lib/passwd'), 'utf8');
      assert.match(passwd, /^cfapp:x:990:990:/m);
      assert.match(readFileSync(join(r, 'usr/lib/group'), 'utf8'), /^cfapp:x:990:/m);
      assert.match(readlinkSync(join(r, etc, 'systemd/system/multi-user.target.wants/cf-app.service')), /cf-app\.service$/);
      assert.ok(statSync(join(r, 'tmp')).isDirectory());
      const c = first.img.config.config;
      assert.deepEqual(c.Cmd, ['/usr/bin/cf-app']);
      assert.equal(c.Labels['containers.bootc'], '1');
      assert.equal(c.Labels['ostree.linux'], '6.1.0-1.cf.x86_64');
      assert.match(c.Labels['rpmostree.inputhash'], /^[0-9a-f]{64}$/);
      assert.match(c.Labels['org.opencontainers.image.version'], /^1\.19700101(\.\d+)?$/);
      assert.ok(first.img.config.history.some((h: { created_by?: string }) => /rpm:cf-app/.test(h.created_by ?? '')), 'layers named by rpm components');
    });

    test('an unchanged rebuild is fully cached and identical', async () => {
      const again = await build(kit, { 'build-arg:COMPOSE_LOCKFILES': 'lock-1.0.json' });
      assert.equal(again.res.digest, first.res.digest);
      assert.doesNotMatch(again.res.stderr, /\[compose\] dnf install[^\n]*\n(#\d+ [^\n]*\n)*?#\d+ DONE/, 'dnf ran again');
    });

    test('a version bump of one package changes only layers that hold changed files', async () => {
      const bumped = await build(kit, { 'build-arg:COMPOSE_PREVIOUS_BUILD': first.out });
      assert.equal(readFileSync(join(bumped.img.rootfs, 'usr/bin/cf-app'), 'utf8'), '#!/bin/sh\necho "cf-app 2.0"\n');
      const { changed, needless } = await needlessLayers(first.img, bumped.img);
      assert.ok(changed >= 1 && changed < bumped.img.layers.length / 2, `${changed} of ${bumped.img.layers.length} layers changed`);
      assert.deepEqual(needless, [], 'layers that changed without holding a changed path');
    });

    test('rpmdb-normalize: a rebuild after pruning the build cache has the same image digest', async () => {
      writeFileSync(join(ctx, 'repro.yaml'), 'include: exampleos.yaml\nrpmdb-normalize: true\n');
      const opts = { 'build-arg:SOURCE_DATE_EPOCH': '1700000000' };
      const a = await build(kit, opts, 'repro.yaml');
      const times = await run('rpm', ['--root', a.img.rootfs, '--dbpath', '/usr/share/rpm', '-qa', '--qf', '%{INSTALLTID} %{INSTALLTIME}\\n']);
      assert.deepEqual(times.stdout.trim().split('\n').sort(), [0, 1, 2, 3, 4].map((i) => `1700000000 ${1700000000 + i}`));
      await pruneCache(kit);
      const b = await build(kit, opts, 'repro.yaml');
      assert.match(b.res.stderr, /\[install\] \d+ packages installed/, 'the rebuild ran dnf again');
      assert.equal(b.res.digest, a.res.digest);
    });
  });
}

describe('treefile bad input through the gateway', () => {
  test('unresolvable package and a failing postprocess script are reported readably', async () => {
    writeFileSync(join(ctx, 'missing.yaml'), 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-app, cf-nope]\n');
    writeFileSync(join(ctx, 'failing.yaml'), 'releasever: "1"\nrepos: [cftest]\ncontainer: true\npackages: [cf-lib]\npostprocess:\n  - |\n    #!/bin/sh\n    echo "broken on purpose" >&2\n    exit 3\n');
    writeFileSync(join(ctx, 'escape.yaml'), 'include: ../outside.yaml\npackages: [cf-lib]\n');
    const fails = async (file: string) => {
      try {
        await build('standalone', {}, file);
      } catch (e) {
        if (e instanceof RunError) return e.message;
        throw e;
      }
      assert.fail(`${file} built`);
    };
    assert.match(await fails('missing.yaml'), /cf-nope/);
    const pp = await fails('failing.yaml');
    assert.match(pp, /postprocess\[0\] \(failing\.yaml:\d+\) failed with exit code 3/);
    assert.match(pp, /broken on purpose/);
    assert.match(await fails('escape.yaml'), /escape\.yaml:1: include: .*\.\.\/outside\.yaml/);
  });

  test('COMPOSE_LOCKFILE_STRICT: an unlocked request is not found; bad values and a missing lockfile are refused', async () => {
    const fails = async (opts: Record<string, string>) => {
      try {
        await build('standalone', opts);
      } catch (e) {
        if (e instanceof RunError) return e.message;
        throw e;
      }
      assert.fail('built');
    };
    // lock-1.0.json locks only cf-app; exampleos.yaml also asks for cf-kernel.
    const strict = await fails({ 'build-arg:COMPOSE_LOCKFILES': 'lock-1.0.json', 'build-arg:COMPOSE_LOCKFILE_STRICT': '1' });
    assert.match(strict, /\[compose\] dnf install cf-app cf-kernel \(repos: cftest, 1 locked \(cf-app-1\.0-1\.noarch\), strict\)/);
    assert.match(strict, /error: dnf install failed with exit code 1\. dnf reported:\n(#\d+ )?[\d.]+ Error: Unable to find a match: cf-kernel/);
    assert.match(await fails({ 'build-arg:COMPOSE_LOCKFILE_STRICT': 'maybe' }), /invalid COMPOSE_LOCKFILE_STRICT 'maybe': expected 1\/true\/yes or 0\/false\/no/);
    assert.match(await fails({ 'build-arg:COMPOSE_LOCKFILE_STRICT': 'true' }), /exampleos\.yaml: COMPOSE_LOCKFILE_STRICT=true needs lockfiles: pass --build-arg COMPOSE_LOCKFILES=<lockfile>\[,…\]/);
  });

  test('without COMPOSE_BUILDER_IMAGE the distro image is used: quay.io/fedora/fedora:42 is unreachable here', async () => {
    writeFileSync(join(ctx, 'f42.yaml'), 'releasever: 42\nrepos: [cftest]\ncontainer: true\npackages: [cf-lib]\n');
    let msg = '';
    try {
      await buildOn('standalone', { frontendImage: frontend, contextDir: ctx, filename: 'f42.yaml', output: { type: 'none' } });
    } catch (e) {
      msg = (e as Error).message;
    }
    const m = /f42\.yaml: cannot resolve the builder image quay\.io\/fedora\/fedora:42 \(default for releasever 42\): ([^\n]*?)\. The builder image runs dnf: make quay\.io\/fedora\/fedora:42 reachable, or pass --build-arg COMPOSE_BUILDER_IMAGE=<image with dnf or dnf5 and rpm>/.exec(msg);
    assert.ok(m, msg.slice(-2000));
    assert.match(m[1]!, /quay\.io/, 'BuildKit\'s reason names the registry');
    // No distro to derive from: the message names the file, the releasever value and the build arg.
    writeFileSync(join(ctx, 'el.yaml'), 'releasever: el9\nrepos: [cftest]\ncontainer: true\npackages: [cf-lib]\n');
    try {
      await buildOn('standalone', { frontendImage: frontend, contextDir: ctx, filename: 'el.yaml', output: { type: 'none' } });
      assert.fail('el.yaml built');
    } catch (e) {
      assert.match((e as Error).message, /el\.yaml:1: releasever: releasever "el9" names no distro with a known builder image \(Fedora: a number such as 42; CentOS Stream: stream9, stream10\); pass --build-arg COMPOSE_BUILDER_IMAGE=<image with dnf or dnf5 and rpm>/);
    }
  });
});
