// Install step (spec/treefile.md §6.1): the treefile's package selection becomes one ExecOp in
// the builder image running `dnf --installroot /target install …`. planInstall() is pure (argv,
// files, network, mounts: unit-tested); installStep() turns a plan into LLB.
//
// Mounts: /target (the new root, an output), /meta (package list, an output), /cf (read-only:
// the script, dnf arguments, repo files, dnf vars), /context (read-only: only the context
// directories that `file:///context/…` baseurls name), a locked cache mount for dnf's metadata
// and packages, and a tmpfs /tmp. No `security.insecure`: rpm chroots into /target for
// scriptlets, which the default capability set allows. Network: none unless a repo is remote.

import { createHash } from 'node:crypto';
import { copy, mkdir, mkfile, scratch, type FileAction, type MountSpec, type State } from '../llb/index.ts';
import { INSTALL_SH } from './builder-scripts.ts';
import { lockedSpec, type LockedPackage } from './lockfile.ts';
import { CONTEXT_MOUNT, parseRepoSections, selectRepos, type RepoSection } from './repo-config.ts';
import type { EffectiveSettings } from './treefile/effective.ts';
import { TreefileError } from './treefile/errors.ts';
import type { RepoFile } from './treefile/repos.ts';
import type { ExternalFile } from './treefile/types.ts';

/** Where dnf's metadata and package cache lives in the builder (a BuildKit cache mount). */
export const DNF_CACHE_DIR = '/var/cache/cf-dnf';
/** Upstream's placeholder when neither the treefile nor a source root gives a releasever. */
export const UNSET_RELEASEVER = 'rpmostree-unset-releasever';

export interface InstallInput {
  settings: EffectiveSettings;
  /** Every `*.repo` of the top-level treefile's directory (loadRepoFiles). */
  repoFiles: readonly RepoFile[];
  /** Merged lockfile pins (mergeLockfiles); empty when no lockfile is given. */
  locked?: readonly LockedPackage[];
  /** `--lockfile-strict`: only locked builds are visible, in every enabled repo. */
  lockfileStrict?: boolean;
  /** check-passwd / check-groups `type: file` contents, for preserve-passwd seeding. */
  passwd?: ExternalFile;
  group?: ExternalFile;
  /** Treefile path for messages. */
  treefile?: string;
}

export interface SeedFile {
  path: string;
  mode: number;
  data: string;
}

/** dnf 4 (python, EL9, Debian) or dnf5 (Fedora >= 41): the install script picks at run time. */
export type DnfFlavor = 'dnf4' | 'dnf5';

export interface InstallPlan {
  /** dnf 4 options, in order, before the `install` command. */
  dnfOptions: string[];
  /** The same for dnf5 (spec §6.1 spellings: --no-plugins, --repo, --no-docs). */
  dnf5Options: string[];
  /** One install request per element (already split and unquoted by the treefile loader). */
  packages: string[];
  /** Enabled repos, sorted by id. */
  repos: RepoSection[];
  /** Repo files written to /cf/repos (dnf's reposdir), by file name. */
  repoFiles: { name: string; data: Uint8Array }[];
  /** dnf variables written to /cf/vars (dnf's varsdir). */
  vars: [string, string][];
  /** Context-relative directories mounted under /context. */
  contextDirs: string[];
  network: 'none' | 'sandbox';
  /** `%_install_langs` value, when install-langs is set. */
  installLangs?: string;
  /** Lockfile pins, `name evr arch` for the install script. */
  locked: LockedPackage[];
  lockfileStrict: boolean;
  /** repo-packages as [repo, spec] pairs: the script checks each has a match in its repo. */
  repoPackages: [string, string][];
  /** Files placed in the empty root before the transaction (preserve-passwd). */
  seed: SeedFile[];
}

function fail(file: string, key: string, message: string): never {
  throw new TreefileError([{ file, line: 0, key, message }]);
}

/** The dnf command line and everything the install step mounts. */
export function planInstall(input: InstallInput): InstallPlan {
  const s = input.settings;
  const tf = input.treefile ?? 'treefile';
  const locked = [...(input.locked ?? [])].map((p) => ({ ...p, evr: p.evr.replace(/^0:/, '') }));
  const rp: [string, string][] = [];
  for (const [i, e] of s.repoPackages.entries()) {
    for (const spec of e.packages) {
      if (spec === '' || /[\s,\0]/.test(spec)) fail(tf, `repo-packages[${i}].packages`, `invalid package ${JSON.stringify(spec)} (one name or NEVRA, no commas)`);
      rp.push([e.repo, spec]);
    }
  }
  const requests = [...s.packages, ...rp.map(([, spec]) => spec).filter((x, i, all) => !s.packages.includes(x) && all.indexOf(x) === i)];
  if (requests.length === 0) fail(tf, 'packages', 'no packages to install');
  for (const p of requests) {
    if (p === '' || /[\n\r\0]/.test(p)) fail(tf, 'packages', `invalid package request ${JSON.stringify(p)}`);
  }
  const strict = input.lockfileStrict === true;
  if (strict && locked.length === 0) fail(tf, 'lockfile', 'a strict lockfile build needs a lockfile (COMPOSE_LOCKFILES)');
  // lockfile-repos are enabled only when a lockfile is given (spec §2.2); repo-packages repos always.
  // Without `repos`, those come on top of every enabled=1 repo.
  const extra = [...(locked.length > 0 ? s.lockfileRepos : []), ...rp.map(([repo]) => repo)];
  const base = s.repos.length > 0 || extra.length === 0 ? s.repos : input.repoFiles.flatMap(parseRepoSections).filter((r) => r.enabled).map((r) => r.id);
  const ids = [...new Set([...base, ...extra])];
  const sel = selectRepos(input.repoFiles, ids);
  if (sel.enabled.length === 0) {
    fail(tf, 'repos', input.repoFiles.length === 0 ? 'No enabled repositories (no *.repo files next to the treefile)' : 'No enabled repositories');
  }

  const lockedNames = locked.map((p) => p.name).join(',');
  const dnfOptions = (flavor: DnfFlavor): string[] => {
    const opts = [
      '-y',
      '--installroot=/target',
      `--releasever=${s.releasever ?? UNSET_RELEASEVER}`,
      flavor === 'dnf5' ? '--no-plugins' : '--noplugins',
      '--setopt=reposdir=/cf/repos',
      '--setopt=varsdir=/cf/vars',
      `--setopt=cachedir=${DNF_CACHE_DIR}`,
      '--setopt=keepcache=True',
      '--setopt=skip_if_unavailable=False',
      `--setopt=install_weak_deps=${s.recommends ? 'True' : 'False'}`,
    ];
    if (!s.documentation) opts.push(flavor === 'dnf5' ? '--no-docs' : '--setopt=tsflags=nodocs');
    // Always name the repos: the set does not depend on what else the builder image has configured.
    if (flavor === 'dnf5') opts.push(...sel.enabled.map((r) => `--repo=${r.id}`));
    else opts.push('--disablerepo=*', ...sel.enabled.map((r) => `--enablerepo=${r.id}`));
    if (strict) {
      // Strict: every enabled repo shows only the locked builds, so anything else fails to resolve.
      const specs = locked.map(lockedSpec).join(',');
      for (const r of sel.enabled) opts.push(`--setopt=${r.id}.includepkgs=${specs}`);
    } else if (locked.length > 0) {
      // Packages from lockfile-repos are excluded unless locked.
      for (const id of s.lockfileRepos) opts.push(`--setopt=${id}.includepkgs=${lockedNames}`);
    }
    // repo-packages: hide each such package from every other enabled repo.
    for (const r of sel.enabled) {
      const hidden = [...new Set(rp.filter(([repo]) => repo !== r.id).map(([, spec]) => spec))];
      if (hidden.length > 0) opts.push(`--setopt=${r.id}.excludepkgs=${hidden.join(',')}`);
    }
    for (const name of s.excludePackages) opts.push(`--exclude=${name}`);
    return opts;
  };

  for (const [k, v] of Object.entries(s.repovars)) {
    if (!/^[A-Za-z0-9_]+$/.test(k)) fail(tf, 'repovars', `invalid dnf variable name ${JSON.stringify(k)}`);
    if (/[\n\0]/.test(v)) fail(tf, `repovars.${k}`, 'value must be a single line');
  }
  const vars = Object.entries(s.repovars).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const seed: SeedFile[] = [];
  if (s.preservePasswd) {
    if (input.passwd) {
      const text = new TextDecoder().decode(input.passwd.data);
      seed.push({ path: '/etc/passwd', mode: 0o644, data: text });
      seed.push({ path: '/etc/shadow', mode: 0o000, data: entryNames(text).map((n) => `${n}:*::0:99999:7:::\n`).join('') });
    }
    if (input.group) {
      const text = new TextDecoder().decode(input.group.data);
      seed.push({ path: '/etc/group', mode: 0o644, data: text });
      seed.push({ path: '/etc/gshadow', mode: 0o000, data: entryNames(text).map((n) => `${n}:::\n`).join('') });
    }
  }

  return {
    dnfOptions: dnfOptions('dnf4'),
    dnf5Options: dnfOptions('dnf5'),
    packages: requests,
    repos: sel.enabled,
    repoFiles: input.repoFiles.map((f) => ({ name: f.name, data: f.data })),
    vars,
    contextDirs: sel.contextDirs,
    network: sel.needsNetwork ? 'sandbox' : 'none',
    installLangs: s.installLangs.length > 0 ? s.installLangs.join(':') : undefined,
    locked,
    lockfileStrict: strict,
    repoPackages: rp,
    seed,
  };
}

function entryNames(text: string): string[] {
  return text.split('\n').map((l) => l.split(':')[0]!).filter((n) => n !== '' && !n.startsWith('#'));
}

/** The requests as dnf receives them (for progress names and logs). */
export function describeInstall(plan: InstallPlan): string {
  const pins = plan.locked.length > 0 ? `, ${plan.locked.length} locked (${plan.locked.slice(0, 3).map(lockedSpec).join(' ')}${plan.locked.length > 3 ? ' …' : ''})` : '';
  const strict = plan.lockfileStrict ? ', strict' : '';
  return `dnf install ${plan.packages.join(' ')} (repos: ${plan.repos.map((r) => r.id).join(', ')}${pins}${strict})`;
}

export interface InstallStepOptions {
  /** Builder image state (dnf, rpm, bash, coreutils; rpm's %_dbpath /usr/lib/sysimage/rpm). */
  builder: State;
  /** The build context (repo directories are copied out of it). */
  context: State;
  /** SOURCE_DATE_EPOCH for scriptlets and file timestamps of generated inputs. */
  epoch: number;
  /** Cache mount id; default derived from `cacheKey`. */
  cacheId?: string;
  /** Distinguishes caches of different builders/architectures (e.g. image ref + basearch). */
  cacheKey?: string;
}

export interface InstallResult {
  /** The installed tree. */
  tree: State;
  /** `/packages`: name, evra, header sha256, payload digest per line, sorted. */
  meta: State;
}

/** The install ExecOp for `plan`. */
export function installStep(plan: InstallPlan, o: InstallStepOptions): InstallResult {
  const ts = { timestamp: BigInt(o.epoch) * 1_000_000_000n };
  const lines = (xs: readonly string[]) => (xs.length === 0 ? '' : `${xs.join('\n')}\n`);
  let cf: FileAction = mkfile('/install.sh', 0o755, INSTALL_SH, ts)
    .mkfile('/dnf-options', 0o644, lines(plan.dnfOptions), ts)
    .mkfile('/dnf5-options', 0o644, lines(plan.dnf5Options), ts)
    .mkfile('/packages', 0o644, lines(plan.packages), ts)
    .mkfile('/locked', 0o644, lines(plan.locked.map((p) => `${p.name} ${p.evr} ${p.arch ?? ''}`.trimEnd())), ts)
    .mkfile('/install-langs', 0o644, plan.installLangs ?? '', ts)
    .mkfile('/repo-packages', 0o644, lines(plan.repoPackages.map(([repo, spec]) => `${repo}\t${spec}`)), ts)
    .mkdir('/repos', 0o755, ts)
    .mkdir('/vars', 0o755, ts);
  for (const f of plan.repoFiles) cf = cf.mkfile(`/repos/${f.name}`, 0o644, f.data, ts);
  for (const [k, v] of plan.vars) cf = cf.mkfile(`/vars/${k}`, 0o644, `${v}\n`, ts);
  if (plan.seed.length > 0) cf = cf.mkfile('/seeded', 0o644, '', ts);
  const cfState = scratch().file(cf, { customName: '[compose] install inputs' });

  let seed = scratch();
  if (plan.seed.length > 0) {
    let a: FileAction = mkdir('/etc', 0o755, ts);
    for (const f of plan.seed) a = a.mkfile(f.path, f.mode, f.data, ts);
    seed = scratch().file(a, { customName: '[compose] seed /etc/passwd and /etc/group (preserve-passwd)' });
  }

  const mounts: MountSpec[] = [
    { dest: '/target', state: seed },
    { dest: '/meta', state: scratch() },
    { dest: '/cf', state: cfState, readonly: true },
    { type: 'cache', dest: DNF_CACHE_DIR, cacheId: o.cacheId ?? dnfCacheId(o.cacheKey ?? ''), sharing: 'locked' },
    { type: 'tmpfs', dest: '/tmp' },
  ];
  if (plan.contextDirs.length > 0) {
    let c: FileAction | undefined;
    for (const d of plan.contextDirs) {
      const step = { createDestPath: true, followSymlink: true, owner: { user: 0, group: 0 } } as const;
      c = copy(o.context, `/${d}`, `/${d}`, step, c);
    }
    const repos = scratch().file(c!, { customName: `[compose] repos from the context: ${plan.contextDirs.join(', ')}` });
    mounts.push({ dest: CONTEXT_MOUNT, state: repos, readonly: true });
  }

  const run = o.builder.run(
    {
      args: ['/bin/bash', '/cf/install.sh'],
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LANG: 'C.UTF-8',
        SOURCE_DATE_EPOCH: String(o.epoch),
      },
      network: plan.network,
      mounts,
    },
    { customName: `[compose] ${describeInstall(plan)}` },
  );
  return { tree: run.mount('/target'), meta: run.mount('/meta') };
}

export function dnfCacheId(key: string): string {
  return `compose-frontend/dnf/${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
