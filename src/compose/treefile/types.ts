// The merged treefile as consumed by the install and postprocess steps. Keys keep their
// treefile (kebab-case) spelling so the object serializes to upstream's treefile.json shape.
// Every key is optional: defaults live in effective.ts, as upstream keeps them in code.

import type { Diagnostic, Origin } from './errors.ts';

export type VarValue = boolean | number | string;

export type CheckPasswd =
  | { type: 'none' | 'previous' }
  | { type: 'file'; filename: string }
  | { type: 'data'; entries: Record<string, number | [number] | [number, number]> };

export type CheckGroups =
  | { type: 'none' | 'previous' }
  | { type: 'file'; filename: string }
  | { type: 'data'; entries: Record<string, number> };

export interface RepoPackages {
  repo: string;
  packages: string[];
}

export interface Rojig {
  name: string;
  summary: string;
  license: string;
  description?: string;
}

export interface Treefile {
  packages?: string[];
  'repo-packages'?: RepoPackages[];
  cliwrap?: boolean;
  'cliwrap-binaries'?: string[];

  edition?: '2014' | '2024';
  ref?: string;
  metadata?: Record<string, unknown>;
  basearch?: string;
  /** The include-time variables (CLI > root > first visited include). Not serialized. */
  variables?: Record<string, VarValue>;
  /** Extra dnf vars. Not serialized. */
  repovars?: Record<string, string>;
  rojig?: Rojig;
  repos?: string[];
  'lockfile-repos'?: string[];
  selinux?: boolean;
  'ignore-devices'?: boolean;
  'selinux-label-version'?: number;
  sysusers?: 'compose-auto' | 'compose-forced';
  ima?: boolean;
  'gpg-key'?: string;
  'ostree-layers'?: string[];
  'ostree-override-layers'?: string[];
  'exclude-packages'?: string[];
  'platform-module'?: string;
  container?: boolean;
  recommends?: boolean;
  documentation?: boolean;
  'install-langs'?: string[];
  'initramfs-args'?: string[];
  'no-initramfs'?: boolean;
  'readonly-executables'?: boolean;
  'boot-location'?: 'new' | 'modules' | 'kernel-install';
  'tmp-is-dir'?: boolean;
  'opt-usrlocal'?: 'var' | 'root' | 'state-overlay' | 'stateoverlay';
  units?: string[];
  'default-target'?: string;
  'machineid-compat'?: boolean;
  releasever?: string | number;
  'automatic-version-prefix'?: string;
  'automatic-version-suffix'?: string;
  'mutate-os-release'?: string;
  'etc-group-members'?: string[];
  'preserve-passwd'?: boolean;
  'check-passwd'?: CheckPasswd;
  'check-groups'?: CheckGroups;
  'ignore-removed-users'?: string[];
  'ignore-removed-groups'?: string[];
  'postprocess-script'?: string;
  postprocess?: string[];
  /** [source (relative to its declaring file), destination] */
  'add-files'?: [string, string][];
  'remove-files'?: string[];
  /** [package, regex, ...] */
  'remove-from-packages'?: string[][];
  'add-commit-metadata'?: Record<string, unknown>;
  'repo-metadata'?: 'inline' | 'detached' | 'disabled';
  'advisories-metadata'?: 'inline' | 'detached' | 'disabled';
  rpmdb?: 'bdb' | 'b-d-b' | 'sqlite' | 'ndb' | 'target' | 'host';
  'rpmdb-normalize'?: boolean;
  'container-cmd'?: string[];

  // Derivation-only keys: parsed, then refused by validation (spec §2.7).
  'base-refspec'?: string;
  'container-image-reference'?: string;
  'packages-local'?: Record<string, string>;
  'packages-local-fileoverride'?: Record<string, string>;
  'override-remove'?: string[];
  'ex-override-replace'?: { from: { repo: string }; packages: string[] }[];
  'override-replace-local'?: Record<string, string>;
  initramfs?: { regenerate: boolean; etc?: string[]; args?: string[] };
  custom?: { url: string; description?: string };
  'override-commit'?: string;
  'unconfigured-state'?: string;
}

/** A file referenced by the treefile, read from the build context at parse time. */
export interface ExternalFile {
  /** Canonical context-relative path (symlinks resolved). */
  path: string;
  /** The name as written in the treefile (the add-files / finalize.d key). */
  name: string;
  mode: number;
  data: Uint8Array;
  origin: Origin;
}

export interface TreefileExternals {
  /** First-wins like the postprocess-script key; absent when only an inline object set it. */
  postprocessScript?: ExternalFile;
  /** add-files sources by source name, sorted by name (an include's file wins on a name clash). */
  addFiles: ExternalFile[];
  /** check-passwd / check-groups `type: file` contents. */
  passwd?: ExternalFile;
  group?: ExternalFile;
  /** Executable files of `finalize.d/` next to any treefile, by name (include wins), sorted. */
  finalizeD: ExternalFile[];
}

/** Where each merged value came from. Arrays: one origin per element, in merged order. */
export type KeyOrigins = Origin | Origin[] | Record<string, Origin>;

export interface LoadedTreefile {
  /** Merged, substituted, validated treefile. */
  treefile: Treefile;
  /** Every treefile parsed, in visiting order (context-relative). */
  files: string[];
  /** Context-relative directory of the top-level treefile (upstream's workdir / repo dir). */
  topDir: string;
  origins: Record<string, KeyOrigins>;
  /** One origin per `treefile.postprocess` entry (same as origins.postprocess). */
  postprocessOrigins: Origin[];
  externals: TreefileExternals;
  /** Non-fatal findings (unknown JSON keys, ignored inline keys). */
  warnings: Diagnostic[];
}
