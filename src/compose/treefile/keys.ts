// The treefile key table: how each key merges across includes (spec §3.3) and the order in
// which upstream serializes the merged config (struct declaration order in treefile.rs), so
// our treefile.json reads like `rpm-ostree compose tree --print-only`.

/**
 * scalar: first wins (includer > earlier include > later include)
 * array: included content first (src ++ dest)
 * set: union, sorted
 * map: shallow, includer's keys win
 * root-only: never taken from an include (platform-module)
 * consumed: include machinery, absent from the result
 */
export type MergeKind = 'scalar' | 'array' | 'set' | 'map' | 'root-only' | 'consumed';

export interface KeyInfo {
  merge: MergeKind;
  /** Client-side origin keys: parse, but compose refuses them (spec §2.7). */
  derivation?: boolean;
  /** Legacy snake_case spelling of this kebab key. */
  legacyOf?: string;
  /** Not part of the serialized treefile.json. */
  noSerialize?: boolean;
}

// Order = upstream serialization order.
export const KEYS: ReadonlyMap<string, KeyInfo> = new Map<string, KeyInfo>([
  ['packages', { merge: 'set' }],
  ['repo-packages', { merge: 'array' }],
  ['cliwrap', { merge: 'scalar' }],
  ['cliwrap-binaries', { merge: 'array' }],
  // derivation fields
  ['base-refspec', { merge: 'scalar', derivation: true }],
  ['container-image-reference', { merge: 'scalar', derivation: true }],
  ['packages-local', { merge: 'map', derivation: true }],
  ['packages-local-fileoverride', { merge: 'map', derivation: true }],
  ['override-remove', { merge: 'set', derivation: true }],
  ['ex-override-replace', { merge: 'array', derivation: true }],
  ['override-replace-local', { merge: 'map', derivation: true }],
  ['initramfs', { merge: 'scalar', derivation: true }],
  ['custom', { merge: 'scalar', derivation: true }],
  ['override-commit', { merge: 'scalar', derivation: true }],
  ['unconfigured-state', { merge: 'scalar', derivation: true }],
  // base compose fields
  ['edition', { merge: 'scalar' }],
  ['ref', { merge: 'scalar' }],
  ['metadata', { merge: 'map' }],
  ['basearch', { merge: 'scalar' }],
  ['variables', { merge: 'consumed', noSerialize: true }],
  ['repovars', { merge: 'map', noSerialize: true }],
  ['rojig', { merge: 'scalar' }],
  ['repos', { merge: 'array' }],
  ['lockfile-repos', { merge: 'array' }],
  ['selinux', { merge: 'scalar' }],
  ['ignore-devices', { merge: 'scalar' }],
  ['selinux-label-version', { merge: 'scalar' }],
  ['sysusers', { merge: 'scalar' }],
  ['ima', { merge: 'scalar' }],
  ['gpg-key', { merge: 'scalar' }],
  ['include', { merge: 'consumed' }],
  ['arch-include', { merge: 'consumed' }],
  ['conditional-include', { merge: 'consumed', noSerialize: true }],
  ['bootstrap-packages', { merge: 'consumed' }], // folded into packages at parse time
  ['ostree-layers', { merge: 'array' }],
  ['ostree-override-layers', { merge: 'array' }],
  ['exclude-packages', { merge: 'array' }],
  ['platform-module', { merge: 'root-only' }],
  ['container', { merge: 'scalar' }],
  ['recommends', { merge: 'scalar' }],
  ['documentation', { merge: 'scalar' }],
  ['install-langs', { merge: 'array' }],
  ['initramfs-args', { merge: 'array' }],
  ['no-initramfs', { merge: 'scalar' }],
  ['readonly-executables', { merge: 'scalar' }],
  ['boot-location', { merge: 'scalar' }],
  ['tmp-is-dir', { merge: 'scalar' }],
  ['opt-usrlocal', { merge: 'scalar' }],
  ['units', { merge: 'array' }],
  ['default-target', { merge: 'scalar' }],
  ['machineid-compat', { merge: 'scalar' }],
  ['releasever', { merge: 'scalar' }],
  ['automatic-version-prefix', { merge: 'scalar' }],
  ['automatic-version-suffix', { merge: 'scalar' }],
  ['mutate-os-release', { merge: 'scalar' }],
  ['etc-group-members', { merge: 'array' }],
  ['preserve-passwd', { merge: 'scalar' }],
  ['check-passwd', { merge: 'scalar' }],
  ['check-groups', { merge: 'scalar' }],
  ['ignore-removed-users', { merge: 'set' }],
  ['ignore-removed-groups', { merge: 'set' }],
  ['postprocess-script', { merge: 'scalar' }],
  ['postprocess', { merge: 'array' }],
  ['add-files', { merge: 'array' }],
  ['remove-files', { merge: 'array' }],
  ['remove-from-packages', { merge: 'array' }],
  ['add-commit-metadata', { merge: 'map' }],
  ['repo-metadata', { merge: 'scalar' }],
  ['advisories-metadata', { merge: 'scalar' }],
  ['rpmdb', { merge: 'scalar' }],
  ['rpmdb-normalize', { merge: 'scalar' }],
  ['container-cmd', { merge: 'scalar' }],
  // legacy spellings, folded into their kebab key at parse time
  ['gpg_key', { merge: 'consumed', legacyOf: 'gpg-key' }],
  ['boot_location', { merge: 'consumed', legacyOf: 'boot-location' }],
  ['default_target', { merge: 'consumed', legacyOf: 'default-target' }],
  ['automatic_version_prefix', { merge: 'consumed', legacyOf: 'automatic-version-prefix' }],
]);

/** Keys dropped from upstream: a YAML unknown-key error gets this explanation. */
export const REMOVED_KEYS: ReadonlyMap<string, string> = new Map([
  ['modules', 'removed upstream together with modularity support'],
]);

/** Suggest the accepted spelling for a typo'd key (snake_case, or a known key with _). */
export function keyHint(key: string): string | undefined {
  const removed = REMOVED_KEYS.get(key);
  if (removed) return removed;
  const kebab = key.replaceAll('_', '-');
  if (kebab !== key && KEYS.has(kebab)) return `did you mean "${kebab}"?`;
  return undefined;
}
