// Defaults applied in code (upstream keeps every treefile field optional): what the
// install and postprocess steps should read instead of poking at optional keys.

import type { CheckGroups, CheckPasswd, RepoPackages, Treefile } from './types.ts';

export interface EffectiveSettings {
  packages: string[];
  /** Packages to take from one repo only (already split and deduplicated by the loader). */
  repoPackages: RepoPackages[];
  repos: string[];
  lockfileRepos: string[];
  excludePackages: string[];
  /** dnf --releasever; undefined when the treefile does not set one. */
  releasever?: string;
  recommends: boolean;
  documentation: boolean;
  installLangs: string[];
  repovars: Record<string, string>;
  container: boolean;
  selinux: boolean;
  bootLocation: 'new' | 'modules' | 'kernel-install';
  noInitramfs: boolean;
  initramfsArgs: string[];
  tmpIsDir: boolean;
  optUsrlocal: 'var' | 'root' | 'state-overlay';
  machineidCompat: boolean;
  readonlyExecutables: boolean;
  ignoreDevices: boolean;
  units: string[];
  defaultTarget?: string;
  etcGroupMembers: string[];
  preservePasswd: boolean;
  checkPasswd: CheckPasswd;
  checkGroups: CheckGroups;
  ignoreRemovedUsers: string[];
  ignoreRemovedGroups: string[];
  /** true unless `rpmdb: host` (bdb/sqlite/ndb are legacy spellings of target). */
  rpmdbIsTarget: boolean;
  rpmdbNormalize: boolean;
  sysusersForced: boolean;
  automaticVersionSuffix: string;
  containerCmd: string[];
}

export function effectiveSettings(tf: Treefile): EffectiveSettings {
  const opt = tf['opt-usrlocal'] ?? 'var';
  return {
    packages: tf.packages ?? [],
    repoPackages: tf['repo-packages'] ?? [],
    repos: tf.repos ?? [],
    lockfileRepos: tf['lockfile-repos'] ?? [],
    excludePackages: tf['exclude-packages'] ?? [],
    releasever: tf.releasever === undefined ? undefined : String(tf.releasever),
    recommends: tf.recommends ?? true,
    documentation: tf.documentation ?? true,
    installLangs: tf['install-langs'] ?? [],
    repovars: tf.repovars ?? {},
    container: tf.container ?? false,
    selinux: tf.selinux ?? true,
    bootLocation: tf['boot-location'] ?? 'new',
    noInitramfs: tf['no-initramfs'] ?? false,
    initramfsArgs: tf['initramfs-args'] ?? [],
    tmpIsDir: tf['tmp-is-dir'] ?? false,
    optUsrlocal: opt === 'stateoverlay' ? 'state-overlay' : opt,
    machineidCompat: tf['machineid-compat'] ?? true,
    readonlyExecutables: tf['readonly-executables'] ?? false,
    ignoreDevices: tf['ignore-devices'] ?? true,
    units: tf.units ?? [],
    defaultTarget: tf['default-target'],
    etcGroupMembers: tf['etc-group-members'] ?? [],
    preservePasswd: tf['preserve-passwd'] ?? true,
    checkPasswd: tf['check-passwd'] ?? { type: 'previous' },
    checkGroups: tf['check-groups'] ?? { type: 'previous' },
    ignoreRemovedUsers: tf['ignore-removed-users'] ?? [],
    ignoreRemovedGroups: tf['ignore-removed-groups'] ?? [],
    rpmdbIsTarget: tf.rpmdb !== 'host',
    rpmdbNormalize: tf['rpmdb-normalize'] ?? false,
    sysusersForced: tf.sysusers === 'compose-forced',
    automaticVersionSuffix: tf['automatic-version-suffix'] ?? '.',
    containerCmd: tf['container-cmd'] ?? [],
  };
}
