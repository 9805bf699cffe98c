// What every package database reader (rpm, dpkg, alpm) hands to buildComponents.

export type OwnedKind = 'file' | 'dir' | 'symlink' | 'other';

export interface OwnedPath {
  /** As the database records it, rootfs-relative or absolute (`/bin/bash`); canonicalized later. */
  path: string;
  /** Type the database expects, when it records one. */
  kind?: OwnedKind;
  /** Listed but not installed by the package payload (rpm %ghost, a not-installed file state). */
  ghost?: boolean;
}

/** One component's worth of packages: binary packages from one source package. */
export interface PackageGroup {
  /** `rpm:<srpm name>`, `deb:<source>`, `alpm:<pkgbase>`. */
  id: string;
  /** Versions of the member packages (deduplicated and sorted by the builder). */
  versions: string[];
  /** Unix seconds of the newest build / changelog entry of any member. */
  changeTime?: number;
  /** Per member package: its changelog dates (Unix seconds). */
  changelogs: number[][];
  paths: OwnedPath[];
}

export interface PackageDb {
  /** For messages: "rpmdb 'usr/lib/sysimage/rpm/rpmdb.sqlite'". */
  label: string;
  /** Rootfs directory holding the database (symlinks resolved); kept out of package components. */
  dir: string;
  groups: PackageGroup[];
  warnings: string[];
}
