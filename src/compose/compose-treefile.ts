// Treefile → root filesystem as LLB: the one call the gateway makes for a treefile build.
// Reads the repo files and lockfiles from the build context (so a missing repo fails before
// anything runs), plans the install and the postprocess steps, and returns the final tree plus
// the image config pieces. Labels that depend on the solved tree (the input hash, the kernel
// version) are files in `meta`; the caller reads them after solving (see `metaFiles`).

import { createHash } from 'node:crypto';
import type { SelfImage } from '../frontend/self-exec.ts';
import { image, type LlbPlatform, type State } from '../llb/index.ts';
import { chooseBuilderImage } from './builder-choice.ts';
import { installStep, planInstall, type InstallPlan } from './install.ts';
import { mergeLockfiles, type LockedPackage } from './lockfile.ts';
import { planPostprocess, postprocessSteps, type PostprocessPlan } from './postprocess.ts';
import type { ContextFs } from './treefile/context-fs.ts';
import { effectiveSettings } from './treefile/effective.ts';
import { TreefileError } from './treefile/errors.ts';
import { compareBytes } from './treefile/packages.ts';
import { checkRepoIds, loadRepoFiles } from './treefile/repos.ts';
import { ResolveError, resolveInContext } from './treefile/resolve.ts';
import { treefileHashJson } from './treefile/serialize.ts';
import type { LoadedTreefile } from './treefile/types.ts';
import { nextVersion } from './version.ts';

/** Files in ComposeResult.meta. */
export const metaFiles = {
  /** sha256 hex: label `rpmostree.inputhash`. */
  inputHash: '/inputhash',
  /** Kernel version (bootable trees): label `ostree.linux`. */
  kernelVersion: '/kernel-version',
  /** `name\tE:V-R.A\tsha256header\tpayloaddigest` per package, sorted. */
  packages: '/packages',
} as const;

export interface ComposeTreefileOptions {
  /** Builder image reference (dnf or dnf5, rpm, bash; rpm's %_dbpath /usr/lib/sysimage/rpm); default: the distro's image (builder-choice.ts). */
  builderImage?: string;
  /** Builder as a state instead of a reference (wins over builderImage). */
  builder?: State;
  /**
   * This program as an image (the frontend's own, from frontend.bin) and the argv prefix that
   * runs its CLI there; needed for steps written in TypeScript (rpmdb-normalize).
   */
  tools?: ToolsImage;
  /** The build context as an LLB state (repo directories and add-files sources come from it). */
  context: State;
  /** The same build context for reading files now (repo files, lockfiles). */
  fs: ContextFs;
  platform: LlbPlatform;
  /** SOURCE_DATE_EPOCH for scripts and generated files. */
  epoch: number;
  /** Lockfiles, context-relative, applied in order. */
  lockfiles?: readonly string[];
  /** rpm-ostree's --lockfile-strict: packages that are not locked cannot be installed. */
  lockfileStrict?: boolean;
  /** Version of the previous build (label org.opencontainers.image.version), for automatic-version-prefix. */
  previousVersion?: string;
  /** Time rendered into `<date:…>` version tags (default: epoch). */
  versionTime?: Date;
  /** User labels; they win over computed ones. */
  labels?: Readonly<Record<string, string>>;
}

/** This program's own image (frontend/self-exec.ts), e.g. argv ['/usr/local/bin/node', '/app/compose-frontend.mjs']. */
export type ToolsImage = SelfImage;

export interface ComposeTreefileResult {
  rootfs: State;
  /** See metaFiles. */
  meta: State;
  config: {
    cmd?: string[];
    /** Known before solving: version labels and user labels. */
    labels: Record<string, string>;
  };
  /** Labels to fill from `meta` after solving (label → file in meta). */
  metaLabels: Record<string, string>;
  version?: string;
  /** sha256 hex of the static part of the input hash (treefile, external files, lockfiles). */
  inputHashInput: string;
  install: InstallPlan;
  postprocess: PostprocessPlan;
  /** Non-fatal findings to show the user. */
  notes: string[];
}

async function readContextFile(fs: ContextFs, path: string, what: string): Promise<Uint8Array> {
  try {
    const r = await resolveInContext(fs, '', path);
    if (r.stat.type !== 'file') throw new ResolveError(`not a regular file`);
    return await fs.readFile(r.real);
  } catch (e) {
    if (e instanceof ResolveError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TreefileError([{ file: path, line: 0, key: what, message: `Can't open file "${path}" for reading: ${(e as Error).message}` }]);
    }
    throw e;
  }
}

/** The static half of the input hash: everything but the package set. */
export function inputHashInput(loaded: LoadedTreefile, locked: readonly LockedPackage[]): string {
  const h = createHash('sha256');
  h.update(treefileHashJson(loaded.treefile));
  const ex = loaded.externals;
  const files = [
    ...(ex.postprocessScript ? [['postprocess-script', ex.postprocessScript.data] as const] : []),
    ...(ex.passwd ? [['check-passwd', ex.passwd.data] as const] : []),
    ...(ex.group ? [['check-groups', ex.group.data] as const] : []),
    ...[...ex.addFiles].sort((a, b) => compareBytes(a.name, b.name)).map((f) => [`add-files:${f.name}`, f.data] as const),
  ];
  for (const [name, data] of files) {
    h.update(`\0${name}\0${data.length}\0`);
    h.update(data);
  }
  h.update(`\0lockfile\0${JSON.stringify(locked)}`);
  return h.digest('hex');
}

export async function composeTreefile(loaded: LoadedTreefile, o: ComposeTreefileOptions): Promise<ComposeTreefileResult> {
  const settings = effectiveSettings(loaded.treefile);
  const repoFiles = await loadRepoFiles(o.fs, loaded.topDir);
  checkRepoIds(loaded, repoFiles);
  const lockInputs = [];
  for (const p of o.lockfiles ?? []) lockInputs.push({ path: p, data: await readContextFile(o.fs, p, 'lockfile') });
  const locked = mergeLockfiles(lockInputs);

  const install = planInstall({
    settings, repoFiles, locked, lockfileStrict: o.lockfileStrict, passwd: loaded.externals.passwd, group: loaded.externals.group, treefile: loaded.files[0],
  });
  for (const dir of install.contextDirs) {
    const st = await o.fs.lstat(dir).catch(() => undefined);
    if (st?.type !== 'directory' && st?.type !== 'symlink') {
      const r = install.repos.find((x) => x.baseurls.some((u) => u.includes(`/context/${dir}`)));
      throw new TreefileError([{ file: r?.file ?? loaded.topDir, line: r?.line ?? 0, key: r?.id ?? 'baseurl', message: `baseurl file:///context/${dir}: "${dir}" is not a directory in the build context` }]);
    }
  }
  let version: string | undefined;
  const prefix = loaded.treefile['automatic-version-prefix'];
  if (prefix !== undefined) {
    version = nextVersion(prefix, settings.automaticVersionSuffix, o.previousVersion, o.versionTime ?? new Date(o.epoch * 1000));
  }
  // mutate-os-release puts the image's version in: a user's version label wins, as on the image.
  const pp = planPostprocess(loaded, settings, { version: o.labels?.['org.opencontainers.image.version'] ?? version });
  const builderRef = o.builderImage ?? chooseBuilderImage(loaded, undefined).ref;
  const builder = o.builder ?? image(builderRef, { platform: o.platform });
  const arch = `${o.platform.architecture}${o.platform.variant ? `/${o.platform.variant}` : ''}`;
  const staticHash = inputHashInput(loaded, locked);

  const inst = installStep(install, { builder, context: o.context, epoch: o.epoch, cacheKey: `${builderRef} ${arch}` });
  const post = postprocessSteps(pp, inst.tree, inst.meta, { builder, context: o.context, epoch: o.epoch, inputHashInput: staticHash });

  let rootfs = post.rootfs;
  if (settings.rpmdbNormalize) rootfs = rpmdbNormalizeStep(loaded, rootfs, o);

  const labels: Record<string, string> = {};
  if (version !== undefined) labels['org.opencontainers.image.version'] = version;
  const metaLabels: Record<string, string> = { 'rpmostree.inputhash': metaFiles.inputHash };
  if (pp.bootable) metaLabels['ostree.linux'] = metaFiles.kernelVersion;
  for (const [k, v] of Object.entries(o.labels ?? {})) {
    labels[k] = v;
    delete metaLabels[k];
  }
  return {
    rootfs,
    meta: post.meta,
    config: { ...(settings.containerCmd.length > 0 ? { cmd: [...settings.containerCmd] } : {}), labels },
    metaLabels,
    version,
    inputHashInput: staticHash,
    install,
    postprocess: pp,
    notes: pp.notes,
  };
}

/**
 * rpmdb-normalize runs last, in the frontend image (TypeScript + node:sqlite): after the final
 * step, so a new frontend image re-runs only this step, and it re-links the base rpmdb copy.
 */
function rpmdbNormalizeStep(loaded: LoadedTreefile, rootfs: State, o: ComposeTreefileOptions): State {
  if (!o.tools) {
    const at = loaded.origins['rpmdb-normalize'];
    const file = at && !Array.isArray(at) && 'file' in at ? String(at.file) : loaded.files[0] ?? 'treefile';
    throw new TreefileError([{ file, line: at && 'line' in at ? Number(at.line) : 0, key: 'rpmdb-normalize', message: 'rpmdb-normalize: true runs this frontend\'s own image inside the build, which this BuildKit does not provide (frontend.bin, BuildKit >= 0.10)' }]);
  }
  return o.tools.state.run(
    {
      args: [...o.tools.argv, 'rpmdb-normalize', '/target', '--source-date-epoch', String(o.epoch)],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', SOURCE_DATE_EPOCH: String(o.epoch) },
      network: 'none',
      mounts: [{ dest: '/target', state: rootfs }],
    },
    { customName: `[compose] rpmdb-normalize: INSTALLTID/INSTALLTIME from SOURCE_DATE_EPOCH ${o.epoch}, journal mode DELETE` },
  ).mount('/target');
}
