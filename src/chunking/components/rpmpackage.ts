// The fields of an installed package that chunking needs, taken from its RPM header.
import { RpmHeader } from './rpmheader.ts';

export const TAG = {
  NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, BUILDTIME: 1006, ARCH: 1022,
  OLDFILENAMES: 1027, FILESIZES: 1028, FILESTATES: 1029, FILEMODES: 1030, FILEDIGESTS: 1035,
  FILELINKTOS: 1036, FILEFLAGS: 1037, SOURCERPM: 1044, CHANGELOGTIME: 1080,
  DIRINDEXES: 1116, BASENAMES: 1117, DIRNAMES: 1118, LONGFILESIZES: 5008, FILEDIGESTALGO: 5011,
} as const;

/** RPMFILE_* flags. */
export const FILE_FLAG = { CONFIG: 1, DOC: 2, MISSINGOK: 8, NOREPLACE: 16, GHOST: 64, LICENSE: 128, ARTIFACT: 4096 } as const;
/** RPMFILE_STATE_*: only NORMAL and NETSHARED files were put on disk by this package. */
export const FILE_STATE = { NORMAL: 0, REPLACED: 1, NOTINSTALLED: 2, NETSHARED: 3, WRONGCOLOR: 4 } as const;

export interface RpmFile {
  /** Absolute, as recorded (`/usr/bin/bash`). */
  path: string;
  size: number;
  /** st_mode including the file type bits. */
  mode: number;
  /** Hex digest ('' for directories, symlinks and ghosts); algorithm in RpmPackage.digestAlgo. */
  digest: string;
  flags: number;
  /** Symlink target ('' when not a symlink). */
  linkTo: string;
  state: number;
}

export interface RpmPackage {
  /** Row id in the rpmdb (`hnum`), for messages. */
  hnum: number;
  name: string;
  epoch?: number;
  version: string;
  release: string;
  arch: string;
  sourceRpm?: string;
  buildTime?: number;
  /** Newest first, as rpm stores them. */
  changelogTimes: number[];
  digestAlgo?: number;
  files: RpmFile[];
}

/** `name-[epoch:]version-release.arch`, epoch left out when 0 or absent (rpm-ostree's identifier). */
export function nevra(p: RpmPackage): string {
  const e = p.epoch !== undefined && p.epoch !== 0 ? `${p.epoch}:` : '';
  return `${p.name}-${e}${p.version}-${p.release}${p.arch === '' ? '' : `.${p.arch}`}`;
}

export function evr(p: RpmPackage): string {
  const e = p.epoch !== undefined && p.epoch !== 0 ? `${p.epoch}:` : '';
  return `${e}${p.version}-${p.release}`;
}

/** `glibc-2.42-10.fc43.src.rpm` → `glibc`; undefined when it does not look like a source rpm name. */
export function sourceName(sourceRpm: string): string | undefined {
  const m = /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(sourceRpm);
  return m?.[1];
}

export function packageFromHeader(h: RpmHeader, hnum: number): RpmPackage {
  const req = (tag: number, name: string): string => {
    const v = h.string(tag, name);
    if (v === undefined) throw new Error(`${h.where}: header has no ${name}`);
    return v;
  };
  const pkg: RpmPackage = {
    hnum,
    name: req(TAG.NAME, 'NAME'),
    version: req(TAG.VERSION, 'VERSION'),
    release: req(TAG.RELEASE, 'RELEASE'),
    arch: h.string(TAG.ARCH, 'ARCH') ?? '',
    changelogTimes: h.numbers(TAG.CHANGELOGTIME, 'CHANGELOGTIME') ?? [],
    files: [],
  };
  const epoch = h.number(TAG.EPOCH, 'EPOCH');
  if (epoch !== undefined) pkg.epoch = epoch;
  const src = h.string(TAG.SOURCERPM, 'SOURCERPM');
  if (src !== undefined && src !== '') pkg.sourceRpm = src;
  const bt = h.number(TAG.BUILDTIME, 'BUILDTIME');
  if (bt !== undefined) pkg.buildTime = bt;
  const algo = h.number(TAG.FILEDIGESTALGO, 'FILEDIGESTALGO');
  if (algo !== undefined) pkg.digestAlgo = algo;
  pkg.files = filesOf(h);
  return pkg;
}

function filesOf(h: RpmHeader): RpmFile[] {
  let paths: string[];
  const basenames = h.strings(TAG.BASENAMES, 'BASENAMES');
  if (basenames !== undefined) {
    const dirnames = h.strings(TAG.DIRNAMES, 'DIRNAMES');
    const dirindexes = h.numbers(TAG.DIRINDEXES, 'DIRINDEXES');
    if (dirnames === undefined || dirindexes === undefined) throw new Error(`${h.where}: header has BASENAMES but no DIRNAMES/DIRINDEXES`);
    if (dirindexes.length !== basenames.length) {
      throw new Error(`${h.where}: DIRINDEXES has ${dirindexes.length} values for ${basenames.length} BASENAMES`);
    }
    paths = basenames.map((b, i) => {
      const d = dirnames[dirindexes[i]];
      if (d === undefined) throw new Error(`${h.where}: DIRINDEXES[${i}] = ${dirindexes[i]} but there are ${dirnames.length} DIRNAMES`);
      return d + b;
    });
  } else {
    paths = h.strings(TAG.OLDFILENAMES, 'OLDFILENAMES') ?? [];
  }
  const n = paths.length;
  const column = <T>(values: T[] | undefined, name: string, fallback: T): T[] => {
    if (values === undefined) return new Array<T>(n).fill(fallback);
    if (values.length !== n) throw new Error(`${h.where}: ${name} has ${values.length} values for ${n} files`);
    return values;
  };
  const sizes = column(h.numbers(TAG.LONGFILESIZES, 'LONGFILESIZES') ?? h.numbers(TAG.FILESIZES, 'FILESIZES'), 'FILESIZES', 0);
  const modes = column(h.numbers(TAG.FILEMODES, 'FILEMODES'), 'FILEMODES', 0o100644);
  const digests = column(h.strings(TAG.FILEDIGESTS, 'FILEDIGESTS'), 'FILEDIGESTS', '');
  const flags = column(h.numbers(TAG.FILEFLAGS, 'FILEFLAGS'), 'FILEFLAGS', 0);
  const links = column(h.strings(TAG.FILELINKTOS, 'FILELINKTOS'), 'FILELINKTOS', '');
  const states = column(h.numbers(TAG.FILESTATES, 'FILESTATES'), 'FILESTATES', FILE_STATE.NORMAL);
  return paths.map((path, i) => ({
    path, size: sizes[i], mode: modes[i], digest: digests[i], flags: flags[i], linkTo: links[i], state: states[i],
  }));
}
