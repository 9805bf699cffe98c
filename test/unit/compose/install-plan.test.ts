// Install step planning: dnf command line, repos, network, lockfile pins, passwd seeding, and the
// LLB it becomes (mounts, no insecure entitlement, network).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeInstall, planInstall, installStep, dnfCacheId, UNSET_RELEASEVER } from '../../../src/compose/install.ts';
import { parseRepoSections, selectRepos } from '../../../src/compose/repo-config.ts';
import { effectiveSettings } from '../../../src/compose/treefile/effective.ts';
import type { RepoFile } from '../../../src/compose/treefile/repos.ts';
import type { Treefile } from '../../../src/compose/treefile/types.ts';
import { image, marshalGraph, scratch } from '../../../src/llb/index.ts';

function repo(name: string, text: string): RepoFile {
  const data = new TextEncoder().encode(text);
  const ids = [...text.matchAll(/^\[([^\]]+)\]/gm)].map((m) => m[1]!);
  return { path: name, name, mode: 0o644, data, origin: { file: name, line: 0 }, ids };
}
const LOCAL = repo('local.repo', '[local]\nname=l\nbaseurl=file:///context/rpms/$basearch\ngpgcheck=0\n[other]\nbaseurl=file:///context/other\nenabled=0\n');
const REMOTE = repo('fedora.repo', '[fedora]\nmetalink=https://mirrors.example/metalink?repo=fedora-$releasever\n');
const plan = (tf: Treefile, files = [LOCAL], locked = []) => planInstall({ settings: effectiveSettings(tf), repoFiles: files, locked, treefile: 'm.yaml' });

describe('planInstall', () => {
  test('command line for the defaults', () => {
    const p = plan({ packages: ['cf-app', 'podman >= 4.1'], repos: ['local'], releasever: 40 });
    assert.deepEqual(p.dnfOptions, [
      '-y', '--installroot=/target', '--releasever=40', '--noplugins', '--setopt=reposdir=/cf/repos', '--setopt=varsdir=/cf/vars',
      '--setopt=cachedir=/var/cache/cf-dnf', '--setopt=keepcache=True', '--setopt=skip_if_unavailable=False',
      '--setopt=install_weak_deps=True', '--disablerepo=*', '--enablerepo=local',
    ]);
    assert.deepEqual(p.packages, ['cf-app', 'podman >= 4.1']);
    assert.deepEqual(p.contextDirs, ['rpms']);
    assert.equal(p.network, 'none');
    assert.equal(p.installLangs, undefined);
    assert.deepEqual(p.seed, []);
  });

  test('dnf5 spellings (spec §6.1): --no-plugins, --repo, --no-docs; the rest as dnf 4', () => {
    const p = plan({ packages: ['a'], repos: ['local'], releasever: 42, documentation: false, recommends: false, 'exclude-packages': ['x'] });
    assert.deepEqual(p.dnf5Options, [
      '-y', '--installroot=/target', '--releasever=42', '--no-plugins', '--setopt=reposdir=/cf/repos', '--setopt=varsdir=/cf/vars',
      '--setopt=cachedir=/var/cache/cf-dnf', '--setopt=keepcache=True', '--setopt=skip_if_unavailable=False',
      '--setopt=install_weak_deps=False', '--no-docs', '--repo=local', '--exclude=x',
    ]);
    assert.deepEqual(p.dnfOptions.slice(10), ['--setopt=tsflags=nodocs', '--disablerepo=*', '--enablerepo=local', '--exclude=x']);
  });

  test('recommends, documentation, exclude-packages, install-langs, repovars, no releasever', () => {
    const p = plan({
      packages: ['a'], recommends: false, documentation: false, 'exclude-packages': ['x', 'y'],
      'install-langs': ['de', 'fr'], repovars: { zz: '1', aa: 'two' },
    });
    assert.ok(p.dnfOptions.includes('--setopt=install_weak_deps=False'));
    assert.ok(p.dnfOptions.includes('--setopt=tsflags=nodocs'));
    assert.deepEqual(p.dnfOptions.slice(-2), ['--exclude=x', '--exclude=y']);
    assert.ok(p.dnfOptions.includes(`--releasever=${UNSET_RELEASEVER}`));
    // No `repos`: every enabled=1 repo of the repo files.
    assert.deepEqual(p.repos.map((r) => r.id), ['local']);
    assert.equal(p.installLangs, 'de:fr');
    assert.deepEqual(p.vars, [['aa', 'two'], ['zz', '1']]);
  });

  test('a remote repo needs the network', () => {
    const p = plan({ packages: ['a'], repos: ['fedora', 'local'] }, [LOCAL, REMOTE]);
    assert.equal(p.network, 'sandbox');
    assert.deepEqual(p.dnfOptions.filter((o) => o.startsWith('--enablerepo')), ['--enablerepo=fedora', '--enablerepo=local']);
  });

  test('lockfile pins and lockfile-repos', () => {
    const tf: Treefile = { packages: ['a'], repos: ['local'], 'lockfile-repos': ['other'] };
    assert.deepEqual(plan(tf).repos.map((r) => r.id), ['local'], 'lockfile-repos only with a lockfile');
    const p = planInstall({ settings: effectiveSettings(tf), repoFiles: [LOCAL], locked: [{ name: 'a', evr: '0:1.0-1', arch: 'noarch' }, { name: 'b', evr: '2:3-4' }] });
    assert.deepEqual(p.repos.map((r) => r.id), ['local', 'other']);
    assert.ok(p.dnfOptions.includes('--setopt=other.includepkgs=a,b'));
    assert.deepEqual(p.locked, [{ name: 'a', evr: '1.0-1', arch: 'noarch' }, { name: 'b', evr: '2:3-4' }]);
    assert.deepEqual(p.contextDirs, ['other', 'rpms']);
  });

  test('strict lockfile: every enabled repo shows only the locked builds', () => {
    const tf: Treefile = { packages: ['a'], repos: ['local'], 'lockfile-repos': ['other'] };
    const locked = [{ name: 'a', evr: '1.0-1', arch: 'noarch' }, { name: 'b', evr: '2:3-4' }];
    const p = planInstall({ settings: effectiveSettings(tf), repoFiles: [LOCAL], locked, lockfileStrict: true, treefile: 'm.yaml' });
    assert.deepEqual(p.dnfOptions.filter((o) => o.includes('pkgs=')), ['--setopt=local.includepkgs=a-1.0-1.noarch,b-2:3-4', '--setopt=other.includepkgs=a-1.0-1.noarch,b-2:3-4']);
    assert.equal(p.lockfileStrict, true);
    assert.match(describeInstall(p), /, strict\)$/);
    assert.throws(() => planInstall({ settings: effectiveSettings(tf), repoFiles: [LOCAL], lockfileStrict: true, treefile: 'm.yaml' }), {
      message: 'm.yaml: lockfile: a strict lockfile build needs a lockfile (COMPOSE_LOCKFILES)',
    });
  });

  test('lockfile-repos and repo-packages come on top of every enabled repo when `repos` is unset', () => {
    const p = planInstall({ settings: effectiveSettings({ packages: ['a'], 'lockfile-repos': ['other'] }), repoFiles: [LOCAL], locked: [{ name: 'a', evr: '1-1' }] });
    assert.deepEqual(p.repos.map((r) => r.id), ['local', 'other']);
    const q = plan({ packages: ['a'], 'repo-packages': [{ repo: 'other', packages: ['b'] }] });
    assert.deepEqual(q.repos.map((r) => r.id), ['local', 'other']);
  });

  test('repo-packages: other repos hide those packages; requests include them once', () => {
    const p = plan({ packages: ['a', 'b'], repos: ['local'], 'repo-packages': [{ repo: 'other', packages: ['b', 'c'] }, { repo: 'local', packages: ['d'] }] });
    assert.deepEqual(p.packages, ['a', 'b', 'c', 'd']);
    assert.deepEqual(p.repos.map((r) => r.id), ['local', 'other']);
    assert.deepEqual(p.dnfOptions.filter((o) => o.includes('excludepkgs')), ['--setopt=local.excludepkgs=b,c', '--setopt=other.excludepkgs=d']);
    assert.deepEqual(p.dnf5Options.filter((o) => o.includes('excludepkgs')), ['--setopt=local.excludepkgs=b,c', '--setopt=other.excludepkgs=d']);
    assert.deepEqual(p.repoPackages, [['other', 'b'], ['other', 'c'], ['local', 'd']]);
    assert.throws(() => plan({ packages: [], 'repo-packages': [{ repo: 'other', packages: ['x,y'] }] }), {
      message: 'm.yaml: repo-packages[0].packages: invalid package "x,y" (one name or NEVRA, no commas)',
    });
    assert.deepEqual(plan({ packages: [], 'repo-packages': [{ repo: 'other', packages: ['x'] }] }).packages, ['x'], 'repo-packages alone is enough');
  });

  test('preserve-passwd seeds /etc from the check files', () => {
    const f = (name: string, text: string) => ({ path: name, name, mode: 0o644, data: new TextEncoder().encode(text), origin: { file: name, line: 1 } });
    const s = effectiveSettings({ packages: ['a'] });
    const p = planInstall({ settings: s, repoFiles: [LOCAL], passwd: f('passwd', 'root:x:0:0::/root:/bin/sh\ncore:x:1000:1000::/var/home/core:/bin/sh\n'), group: f('group', 'root:x:0:\nwheel:x:10:\n') });
    assert.deepEqual(p.seed.map((x) => [x.path, x.mode, x.data]), [
      ['/etc/passwd', 0o644, 'root:x:0:0::/root:/bin/sh\ncore:x:1000:1000::/var/home/core:/bin/sh\n'],
      ['/etc/shadow', 0, 'root:*::0:99999:7:::\ncore:*::0:99999:7:::\n'],
      ['/etc/group', 0o644, 'root:x:0:\nwheel:x:10:\n'],
      ['/etc/gshadow', 0, 'root:::\nwheel:::\n'],
    ]);
    const off = planInstall({ settings: effectiveSettings({ packages: ['a'], 'preserve-passwd': false }), repoFiles: [LOCAL], passwd: f('passwd', 'root:x:0:0::/:/bin/sh\n') });
    assert.deepEqual(off.seed, []);
  });

  test('bad input', () => {
    assert.throws(() => plan({ packages: [] }), /^Error: m\.yaml: packages: no packages to install$|m\.yaml: packages: no packages to install/);
    assert.throws(() => plan({ packages: ['a'] }, []), /m\.yaml: repos: No enabled repositories \(no \*\.repo files next to the treefile\)/);
    const outside = repo('bad.repo', '[bad]\nbaseurl=file:///srv/repo\n');
    assert.throws(() => plan({ packages: ['a'] }, [outside]), /bad\.repo:1: bad: baseurl file:\/\/\/srv\/repo is not in the build context: local repos must be written file:\/\/\/context\/<directory in the context>/);
    const nourl = repo('nourl.repo', '[n]\nname=x\n');
    assert.throws(() => plan({ packages: ['a'] }, [nourl]), /nourl\.repo:1: n: repo n has no baseurl, metalink or mirrorlist/);
    assert.throws(() => plan({ packages: ['a'], repovars: { 'bad-name': 'x' } }), /repovars: invalid dnf variable name "bad-name"/);
  });
});

describe('repo files', () => {
  test('sections, enabled, continuation baseurls, nested context dirs', () => {
    const f = repo('x.repo', '# c\n[a]\nenabled = 0\nbaseurl=file:///context/r1\n  file:///context/r1/sub, http://x/y\n[b]\nbaseurl=file:///context/r2\n');
    assert.deepEqual(parseRepoSections(f).map((s) => [s.id, s.line, s.enabled, s.baseurls]), [
      ['a', 2, false, ['file:///context/r1', 'file:///context/r1/sub', 'http://x/y']],
      ['b', 6, true, ['file:///context/r2']],
    ]);
    const sel = selectRepos([f], ['a', 'b']);
    assert.deepEqual(sel.contextDirs, ['r1', 'r2']);
    assert.equal(sel.needsNetwork, true);
    assert.deepEqual(selectRepos([f], []).enabled.map((s) => s.id), ['b']);
  });
});

describe('installStep LLB', () => {
  test('mounts, network and no insecure entitlement', () => {
    const p = plan({ packages: ['cf-app'], repos: ['local'], releasever: '1' });
    const r = installStep(p, { builder: image('127.0.0.1:5000/compose-frontend/builder:bookworm'), context: scratch(), epoch: 0, cacheKey: 'k' });
    const g = marshalGraph(r.tree, { platform: { os: 'linux', architecture: 'amd64' } });
    const exec = g.ops.find((o) => o.op.exec)!.op.exec!;
    assert.deepEqual(exec.meta!.args, ['/bin/bash', '/cf/install.sh']);
    assert.equal(exec.network, 2, 'network none');
    assert.equal(exec.security, 0, 'sandbox, not insecure');
    assert.deepEqual(exec.mounts.map((m) => [m.dest, m.readonly, m.mountType]), [
      ['/', false, 0], ['/cf', true, 0], ['/context', true, 0], ['/meta', false, 0], ['/target', false, 0], ['/tmp', false, 4], ['/var/cache/cf-dnf', false, 3],
    ]);
    const cache = exec.mounts.find((m) => m.dest === '/var/cache/cf-dnf')!;
    assert.equal(cache.cacheOpt!.ID, dnfCacheId('k'));
    assert.equal(cache.cacheOpt!.sharing, 2, 'locked');
    const dnfOpts = g.ops.flatMap((o) => o.op.file?.actions ?? []).find((a) => a.mkfile?.path === '/dnf-options')!;
    assert.equal(new TextDecoder().decode(dnfOpts.mkfile!.data), `${p.dnfOptions.join('\n')}\n`);
  });
});
