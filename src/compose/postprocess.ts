// Postprocess pipeline (spec/treefile.md §4.3 steps 9-16) as LLB, in upstream's order:
//
//   1. builder ExecOp  remove-from-packages, rpmdb → /usr/share/rpm (+ links, macro), units,
//                      state-overlay units, mutate-os-release
//   2. FileOp          default-target, /usr/share/rpm-ostree/treefile.json, remove-files, add-files
//   3. ExecOp per script, inside the new root (network none, empty /tmp): postprocess[0..n-1],
//                      then postprocess-script
//   4. ExecOp inside the new root (bootable trees): depmod, dracut when the tree has it
//   5. builder ExecOp  useradd HOME, special files, passwd/group split + altfiles + checks, kernel
//                      placement + machine-id, root layout, /usr/local, tmpfiles.d integration,
//                      /var → tmpfiles.d, rpmdb cleanup, readonly-executables, base rpmdb, inputhash
//   6. builder ExecOp per finalize.d script (name order), cwd = the tree, RPMOSTREE_WORKDIR = the
//                      top-level treefile's directory (read-only); network none
//
// planPostprocess() is pure (unit-tested); postprocessSteps() builds the LLB. /etc stays /etc
// throughout: the result is a plain bootc image, not an ostree commit (no /usr/etc dance).

import { mkdir, mkfile, rm, scratch, symlink, copy, type FileAction, type State } from '../llb/index.ts';
import { COMPOSEPOST_SH, FINAL_SH, KERNEL_SH, RUN_SCRIPT_SH } from './builder-scripts.ts';
import type { EffectiveSettings } from './treefile/effective.ts';
import { TreefileError } from './treefile/errors.ts';
import { serializeTreefile } from './treefile/serialize.ts';
import type { ExternalFile, LoadedTreefile } from './treefile/types.ts';

/** tmpfiles.d lines upstream installs as rpm-ostree-0-integration.conf (same entries). */
export const INTEGRATION_CONF = [
  '# Installed by compose-frontend (rpm-ostree integration): state directories and compat links.',
  'd /var/home 0755 root root -',
  'd /var/srv 0755 root root -',
  'd /var/roothome 0700 root root -',
  'd /var/mnt 0755 root root -',
  'd /run/media 0755 root root -',
  'L /var/lib/rpm - - - - ../../usr/share/rpm',
  'L /var/lib/selinux - - - - ../../etc/selinux',
  '# /usr/local subdirectories (the filesystem package cannot create them here)',
  ...['bin', 'etc', 'games', 'include', 'lib', 'sbin', 'share', 'src'].map((d) => `d /usr/local/${d} 0755 root root -`),
  '',
].join('\n');
/** opt-usrlocal var/root: /opt and /usr/local live in /var. */
export const INTEGRATION_OPT_USRLOCAL_CONF = '# /opt → /var/opt, /usr/local → /var/usrlocal\nd /var/opt 0755 root root -\nd /var/usrlocal 0755 root root -\n';
/** opt-usrlocal state-overlay: the /var paths point back into /usr. */
export const INTEGRATION_OPT_USRLOCAL_COMPAT_CONF = '# state-overlay: /var paths kept as links into /usr\nL /var/usrlocal - - - - ../usr/local\nL /var/opt - - - - ../usr/lib/opt\n';

export interface ScriptPlan {
  /** File name under the scripts mount. */
  file: string;
  /** Human name used in progress output and errors, e.g. `postprocess[1] (base.yaml:12)`. */
  label: string;
  data: Uint8Array;
}

export interface AddFilePlan {
  /** Canonical context-relative source path. */
  source: string;
  /** Absolute destination in the tree. */
  dest: string;
}

export interface PostprocessPlan {
  /** [package, regex...] rows. */
  removeFromPackages: string[][];
  units: string[];
  defaultTarget?: string;
  treefileJson: string;
  /** Absolute paths. */
  removeFiles: string[];
  addFiles: AddFilePlan[];
  scripts: ScriptPlan[];
  /** mutate-os-release with a version to put in: replace `from` by `to` in VERSION=/PRETTY_NAME=. */
  mutateOsRelease?: { from: string; to: string };
  /** finalize.d scripts in name order (run last, in the builder). */
  finalize: ScriptPlan[];
  /** Context-relative directory of the top-level treefile (RPMOSTREE_WORKDIR of finalize.d). */
  workdir: string;
  /** Bootable tree: kernel step and kernel checks run. */
  bootable: boolean;
  noInitramfs: boolean;
  initramfsArgs: string[];
  /** `name:uid[:gid]` / `name:gid` lines to check /usr/lib/passwd and /usr/lib/group against. */
  checkPasswd: string[];
  checkGroups: string[];
  ignoreRemovedUsers: string[];
  ignoreRemovedGroups: string[];
  /** Environment of the final step. */
  finalEnv: Record<string, string>;
  /** Things the plan cannot honour, reported to the user (e.g. check-passwd: previous). */
  notes: string[];
}

function fail(file: string, line: number, key: string, message: string): never {
  throw new TreefileError([{ file, line, key, message }]);
}

function originOf(loaded: LoadedTreefile, key: string, i?: number): { file: string; line: number } {
  const o = loaded.origins[key];
  const one = Array.isArray(o) ? o[i ?? 0] : o && 'file' in o ? o : undefined;
  return one && typeof one === 'object' && 'file' in one ? { file: String(one.file), line: Number(one.line) } : { file: loaded.files[0] ?? 'treefile', line: 0 };
}

function passwdEntries(f: ExternalFile): string[] {
  return new TextDecoder().decode(f.data).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l, i) => {
    const p = l.split(':');
    if (p.length < 4 || !/^\d+$/.test(p[2]!) || !/^\d+$/.test(p[3]!)) fail(f.path, i + 1, 'check-passwd', `not a passwd line: ${l}`);
    return `${p[0]}:${p[2]}:${p[3]}`;
  });
}

function groupEntries(f: ExternalFile): string[] {
  return new TextDecoder().decode(f.data).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l, i) => {
    const p = l.split(':');
    if (p.length < 3 || !/^\d+$/.test(p[2]!)) fail(f.path, i + 1, 'check-groups', `not a group line: ${l}`);
    return `${p[0]}:${p[2]}`;
  });
}

/** What the postprocess steps do, from the merged treefile and its external files. */
export function planPostprocess(loaded: LoadedTreefile, s: EffectiveSettings, o: { version?: string } = {}): PostprocessPlan {
  const tf = loaded.treefile;
  const notes: string[] = [];

  let mutateOsRelease: PostprocessPlan['mutateOsRelease'];
  const osr = tf['mutate-os-release'];
  if (osr !== undefined) {
    const at = originOf(loaded, 'mutate-os-release');
    if (osr === '' || /[\n\0]/.test(osr)) fail(at.file, at.line, 'mutate-os-release', `must be a non-empty single line, got ${JSON.stringify(osr)}`);
    if (o.version === undefined) notes.push('mutate-os-release: no version to put in (set automatic-version-prefix or label org.opencontainers.image.version); os-release left unchanged');
    else if (/[\n\0]/.test(o.version)) fail(at.file, at.line, 'mutate-os-release', `version ${JSON.stringify(o.version)} is not a single line`);
    else mutateOsRelease = { from: osr, to: o.version };
  }
  const finalize: ScriptPlan[] = loaded.externals.finalizeD.map((f, i) => ({
    file: `finalize-${i}`, label: `finalize.d/${f.name} (${f.path})`, data: f.data,
  }));

  if (s.units.length > 0 && !s.machineidCompat) {
    const o = originOf(loaded, 'units');
    fail(o.file, o.line, 'units', 'units: not supported with machineid-compat: false');
  }
  for (const u of s.units) {
    if (u === '' || u.includes('/') || u === '.' || u === '..') fail(originOf(loaded, 'units').file, 0, 'units', `invalid unit name ${JSON.stringify(u)}`);
  }

  const removeFiles = (tf['remove-files'] ?? []).map((name, i) => {
    const o = originOf(loaded, 'remove-files', i);
    if (name.startsWith('/')) fail(o.file, o.line, 'remove-files', `Invalid absolute path: ${name}`);
    if (name.includes('..')) fail(o.file, o.line, 'remove-files', `Invalid '..' in path: ${name}`);
    if (name.replace(/\/+$/, '') === '') fail(o.file, o.line, 'remove-files', 'empty path');
    return `/${name.replace(/\/+$/, '')}`;
  });

  const byName = new Map(loaded.externals.addFiles.map((f) => [f.name, f]));
  const addFiles = (tf['add-files'] ?? []).map(([src, dest], i) => {
    const o = originOf(loaded, 'add-files', i);
    const ext = byName.get(src);
    if (!ext) fail(o.file, o.line, 'add-files', `Can't open file "${src}" for reading: not loaded from the build context`);
    const rel = dest.replace(/^\/+/, '');
    if (rel === '') fail(o.file, o.line, 'add-files', `Invalid add-files destination: ${dest}`);
    return { source: ext.path, dest: `/${rel}` };
  });

  const rfp = (tf['remove-from-packages'] ?? []).map((row, i) => {
    const o = originOf(loaded, 'remove-from-packages', i);
    if (row.length < 2) fail(o.file, o.line, 'remove-from-packages', 'each entry is [package, regex, ...]');
    if (row.some((x) => /[\t\n]/.test(x))) fail(o.file, o.line, 'remove-from-packages', 'tabs and newlines are not supported in entries');
    for (const re of row.slice(1)) {
      try {
        new RegExp(re);
      } catch (e) {
        fail(o.file, o.line, 'remove-from-packages', `invalid regex ${JSON.stringify(re)}: ${(e as Error).message}`);
      }
    }
    return [...row];
  });

  const scripts: ScriptPlan[] = (tf.postprocess ?? []).map((text, i) => {
    const o = loaded.postprocessOrigins[i] ?? originOf(loaded, 'postprocess', i);
    return { file: `postprocess-${i}`, label: `postprocess[${i}] (${o.file}${o.line ? `:${o.line}` : ''})`, data: new TextEncoder().encode(text) };
  });
  const pps = loaded.externals.postprocessScript;
  if (pps) {
    if ((pps.mode & 0o111) === 0) fail(pps.path, 0, 'postprocess-script', 'postprocess-script must be executable');
    scripts.push({ file: 'postprocess-script', label: `postprocess-script (${pps.path})`, data: pps.data });
  }

  const checkPasswd: string[] = [];
  const cp = s.checkPasswd;
  if (cp.type === 'file') {
    if (!loaded.externals.passwd) fail(loaded.files[0] ?? 'treefile', 0, 'check-passwd', `Can't open file "${cp.filename}" for reading`);
    checkPasswd.push(...passwdEntries(loaded.externals.passwd));
  } else if (cp.type === 'data') {
    for (const [name, v] of Object.entries(cp.entries)) {
      const [uid, gid] = Array.isArray(v) ? v : [v];
      checkPasswd.push(`${name}:${uid}:${gid ?? ''}`);
    }
  } else if (cp.type === 'previous') {
    notes.push('check-passwd: previous has no previous tree to compare with here; nothing checked');
  }
  const checkGroups: string[] = [];
  const cg = s.checkGroups;
  if (cg.type === 'file') {
    if (!loaded.externals.group) fail(loaded.files[0] ?? 'treefile', 0, 'check-groups', `Can't open file "${cg.filename}" for reading`);
    checkGroups.push(...groupEntries(loaded.externals.group));
  } else if (cg.type === 'data') {
    for (const [name, gid] of Object.entries(cg.entries)) checkGroups.push(`${name}:${gid}`);
  } else if (cg.type === 'previous') {
    notes.push('check-groups: previous has no previous tree to compare with here; nothing checked');
  }
  if (!s.rpmdbIsTarget) notes.push('rpmdb: host keeps the builder rpm\'s database format');
  if (s.rpmdbIsTarget) notes.push('rpmdb: target — the database is written by the builder\'s rpm (sqlite); not re-imported with the tree\'s rpmdb');
  if (s.selinux) notes.push('selinux: files are not labeled at build time (bootc labels on the client, as compose rootfs)');

  const bootable = !s.container;
  return {
    removeFromPackages: rfp,
    units: [...s.units],
    defaultTarget: s.defaultTarget,
    treefileJson: serializeTreefile(tf),
    removeFiles,
    addFiles,
    scripts,
    ...(mutateOsRelease ? { mutateOsRelease } : {}),
    finalize,
    workdir: loaded.topDir,
    bootable,
    noInitramfs: s.noInitramfs,
    initramfsArgs: [...s.initramfsArgs],
    checkPasswd,
    checkGroups,
    ignoreRemovedUsers: [...s.ignoreRemovedUsers],
    ignoreRemovedGroups: [...s.ignoreRemovedGroups],
    finalEnv: {
      CF_CONTAINER: bootable ? '0' : '1',
      CF_TMP_IS_DIR: s.tmpIsDir ? '1' : '0',
      CF_OPT_USRLOCAL: s.optUsrlocal,
      CF_MACHINEID_COMPAT: s.machineidCompat ? '1' : '0',
      CF_READONLY_EXECUTABLES: s.readonlyExecutables ? '1' : '0',
      CF_IGNORE_DEVICES: s.ignoreDevices ? '1' : '0',
      CF_BOOT_LOCATION: s.bootLocation,
      CF_ETC_GROUP_MEMBERS: s.etcGroupMembers.join(' '),
    },
    notes,
  };
}

export interface PostprocessStepOptions {
  builder: State;
  context: State;
  epoch: number;
  /** Hex sha256 of the static inputhash part (treefile, external files, lockfile). */
  inputHashInput: string;
}

export interface PostprocessResult {
  rootfs: State;
  /** /inputhash, /packages, /kernel-version (bootable trees). */
  meta: State;
}

const BUILDER_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** The postprocess LLB from the installed tree and the install step's /meta. */
export function postprocessSteps(plan: PostprocessPlan, tree: State, meta: State, o: PostprocessStepOptions): PostprocessResult {
  const ts = { timestamp: BigInt(o.epoch) * 1_000_000_000n };
  const lines = (xs: readonly string[]) => (xs.length === 0 ? '' : `${xs.join('\n')}\n`);
  const env = { ...BUILDER_ENV, SOURCE_DATE_EPOCH: String(o.epoch) };

  // 1. remove-from-packages, rpmdb, units
  const cf1 = scratch().file(
    mkfile('/composepost.sh', 0o755, COMPOSEPOST_SH, ts)
      .mkfile('/remove-from-packages', 0o644, lines(plan.removeFromPackages.map((r) => r.join('\t'))), ts)
      .mkfile('/units', 0o644, lines(plan.units), ts)
      .mkfile('/mutate-os-release', 0o644, plan.mutateOsRelease ? lines([plan.mutateOsRelease.from, plan.mutateOsRelease.to]) : '', ts),
    { customName: '[compose] postprocess inputs' },
  );
  let root = o.builder.run(
    {
      args: ['/bin/bash', '/cf/composepost.sh'],
      env: { ...env, CF_OPT_USRLOCAL: plan.finalEnv.CF_OPT_USRLOCAL!, ...(plan.defaultTarget !== undefined ? { CF_DEFAULT_TARGET: plan.defaultTarget } : {}) },
      network: 'none',
      mounts: [{ dest: '/target', state: tree }, { dest: '/cf', state: cf1, readonly: true }, { type: 'tmpfs', dest: '/tmp' }],
    },
    { customName: `[compose] rpmdb location${plan.units.length ? ', units' : ''}${plan.defaultTarget !== undefined ? ', default-target' : ''}${plan.removeFromPackages.length ? ', remove-from-packages' : ''}${plan.mutateOsRelease ? ', mutate-os-release' : ''}` },
  ).mount('/target');

  // 2. default-target, treefile.json, remove-files, add-files
  const fa: FileAction[] = [];
  fa.push(mkdir('/usr/share/rpm-ostree', 0o755, { makeParents: true, ...ts }).mkfile('/usr/share/rpm-ostree/treefile.json', 0o644, plan.treefileJson, ts));
  for (const p of plan.removeFiles) fa.push(rm(p, { allowNotFound: true }));
  for (const f of plan.addFiles) {
    fa.push(copy(o.context, `/${f.source}`, f.dest, { createDestPath: true, followSymlink: true, owner: { user: 0, group: 0 } }));
  }
  const what = ['treefile.json', plan.removeFiles.length > 0 && 'remove-files', plan.addFiles.length > 0 && 'add-files'].filter(Boolean);
  root = root.file(fa, { customName: `[compose] ${what.join(', ')}` });

  // 3. postprocess scripts, each in its own ExecOp inside the tree
  if (plan.scripts.length > 0) {
    let sa: FileAction = mkfile('/run', 0o755, RUN_SCRIPT_SH, ts);
    for (const sc of plan.scripts) sa = sa.mkfile(`/${sc.file}`, 0o755, sc.data, ts);
    const scriptsState = scratch().file(sa, { customName: '[compose] postprocess scripts' });
    for (const sc of plan.scripts) {
      root = root.run(
        {
          args: ['/bin/sh', '/.cf/run', sc.label, `/.cf/${sc.file}`],
          env: { PATH: '/usr/sbin:/usr/bin', LANG: 'C.UTF-8', SOURCE_DATE_EPOCH: String(o.epoch) },
          network: 'none',
          mounts: [{ dest: '/.cf', state: scriptsState, readonly: true }, { type: 'tmpfs', dest: '/tmp' }],
        },
        { customName: `[compose] ${sc.label}` },
      ).root;
    }
  }

  // 4. kernel tools inside the tree
  if (plan.bootable) {
    const k = scratch().file(
      mkfile('/kernel.sh', 0o755, KERNEL_SH, ts).mkfile('/initramfs-args', 0o644, lines(plan.initramfsArgs), ts),
      { customName: '[compose] kernel inputs' },
    );
    root = root.run(
      {
        args: ['/bin/sh', '/.cf/kernel.sh'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', SOURCE_DATE_EPOCH: String(o.epoch), CF_NO_INITRAMFS: plan.noInitramfs ? '1' : '0' },
        network: 'none',
        mounts: [{ dest: '/.cf', state: k, readonly: true }, { type: 'tmpfs', dest: '/tmp' }],
      },
      { customName: '[compose] kernel: depmod, initramfs (dracut)' },
    ).root;
  }

  // 5. final
  const cf5 = scratch().file(
    mkfile('/final.sh', 0o755, FINAL_SH, ts)
      .mkfile('/check-passwd', 0o644, lines(plan.checkPasswd), ts)
      .mkfile('/check-groups', 0o644, lines(plan.checkGroups), ts)
      .mkfile('/ignore-removed-users', 0o644, lines(plan.ignoreRemovedUsers), ts)
      .mkfile('/ignore-removed-groups', 0o644, lines(plan.ignoreRemovedGroups), ts)
      .mkfile('/integration.conf', 0o644, INTEGRATION_CONF, ts)
      .mkfile('/integration-opt-usrlocal.conf', 0o644, INTEGRATION_OPT_USRLOCAL_CONF, ts)
      .mkfile('/integration-opt-usrlocal-compat.conf', 0o644, INTEGRATION_OPT_USRLOCAL_COMPAT_CONF, ts)
      .mkfile('/inputhash-input', 0o644, `${o.inputHashInput}\n`, ts),
    { customName: '[compose] finalize inputs' },
  );
  const fin = o.builder.run(
    {
      args: ['/bin/bash', '/cf/final.sh'],
      env: { ...env, ...plan.finalEnv },
      network: 'none',
      mounts: [
        { dest: '/target', state: root },
        { dest: '/meta', state: meta },
        { dest: '/cf', state: cf5, readonly: true },
        { type: 'tmpfs', dest: '/tmp' },
      ],
    },
    { customName: `[compose] finalize: passwd/group, ${plan.bootable ? 'kernel, ' : ''}layout, /var → tmpfiles.d, rpmdb` },
  );
  return { rootfs: finalizeSteps(plan, fin.mount('/target'), o), meta: fin.mount('/meta') };
}

/** Where finalize.d scripts find the top-level treefile's directory (upstream's RPMOSTREE_WORKDIR). */
export const FINALIZE_WORKDIR = '/cf-workdir';

/** 6. finalize.d: each script in the builder, cwd the tree, the treefile directory read-only. */
function finalizeSteps(plan: PostprocessPlan, tree: State, o: PostprocessStepOptions): State {
  if (plan.finalize.length === 0) return tree;
  const ts = { timestamp: BigInt(o.epoch) * 1_000_000_000n };
  let sa: FileAction = mkfile('/run', 0o755, RUN_SCRIPT_SH, ts);
  for (const sc of plan.finalize) sa = sa.mkfile(`/${sc.file}`, 0o755, sc.data, ts);
  const scripts = scratch().file(sa, { customName: '[compose] finalize.d scripts' });
  let root = tree;
  for (const sc of plan.finalize) {
    root = o.builder.run(
      {
        args: ['/bin/sh', '/cf/run', sc.label, `/cf/${sc.file}`, 'finalize.d script'],
        cwd: '/target',
        env: { ...BUILDER_ENV, SOURCE_DATE_EPOCH: String(o.epoch), RPMOSTREE_WORKDIR: FINALIZE_WORKDIR },
        network: 'none',
        mounts: [
          { dest: '/target', state: root },
          { dest: '/cf', state: scripts, readonly: true },
          { dest: FINALIZE_WORKDIR, state: o.context, selector: plan.workdir === '' ? undefined : `/${plan.workdir}`, readonly: true },
          { type: 'tmpfs', dest: '/tmp' },
        ],
      },
      { customName: `[compose] ${sc.label}` },
    ).mount('/target');
  }
  return root;
}
