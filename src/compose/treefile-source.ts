// A treefile as the build file: load it (includes resolved inside the build context, read through the
// gateway), express the dnf install + postprocess as LLB, and hand the composed rootfs to the chunker.
import type { Gateway } from '../frontend/gateway.ts';
import { selfImage } from '../frontend/self-exec.ts';
import type { FrontendOptions, Platform } from '../frontend/options.ts';
import * as llb from '../llb/index.ts';
import { GatewayRootfs } from '../rootfs/gateway.ts';
import type { RootfsView } from '../rootfs/types.ts';
import { builderUnavailableMessage, BUILDER_IMAGE_ARG, chooseBuilderImage, type BuilderChoice } from './builder-choice.ts';
import { composeTreefile } from './compose-treefile.ts';
import type { ResolvedRootfs } from './rootfs-source.ts';
import { loadTreefile, type ContextFs } from './treefile/index.ts';

const BASEARCH: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export interface TreefileRootfs extends ResolvedRootfs {
  labels: Record<string, string>;
  cmd?: string[];
  notes: string[];
}

/** ContextFs over a RootfsView (the solved build context). */
export function viewContextFs(view: RootfsView): ContextFs {
  return {
    async lstat(p) {
      const e = await view.stat(p);
      if (!e) return undefined;
      const type = e.kind === 'file' ? 'file' : e.kind === 'dir' ? 'directory' : e.kind === 'symlink' ? 'symlink' : 'other';
      return { type, mode: e.mode, size: e.size, ...(e.target !== undefined ? { linkTarget: e.target } : {}) };
    },
    readFile: (p) => view.readFile(p),
    async readdir(p) {
      return (await view.readDir(p)).map((e) => e.path.slice(p === '' ? 0 : p.length + 1));
    },
  };
}

export async function resolveTreefile(gw: Gateway, opts: FrontendOptions, file: { name: string; text: string }, platform: Platform): Promise<TreefileRootfs> {
  const context = llb.local(opts.contextLocal, {
    sessionId: opts.localSessionIds[opts.contextLocal] ?? opts.sessionId,
    sharedKeyHint: opts.contextLocal,
    customName: '[context] load build context',
  });
  const ctxRef = (await gw.solve({ definition: llb.marshal(context, {}) })).ref;
  const fs = viewContextFs(new GatewayRootfs(gw, ctxRef, '', 'build context'));
  // Includes are relative to the treefile, which must be the one at the top of the build context.
  const inContext = await fs.lstat(file.name);
  if (!inContext || Buffer.compare(Buffer.from(await fs.readFile(file.name)), Buffer.from(file.text)) !== 0) {
    throw new Error(`${file.name}: a treefile must sit at the top of the build context (docker buildx build -f ${file.name} <dir containing it>) so its includes and repos resolve inside the context`);
  }
  const basearch = BASEARCH[platform.architecture] ?? platform.architecture;
  const loaded = await loadTreefile(file.name, { basearch, fs });
  const builderImage = await resolveBuilder(gw, opts, file.name, chooseBuilderImage(loaded, opts.buildArgs[BUILDER_IMAGE_ARG]), platform);
  const lockfiles = (opts.buildArgs.COMPOSE_LOCKFILES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const lockfileStrict = parseBool(opts.buildArgs.COMPOSE_LOCKFILE_STRICT, 'COMPOSE_LOCKFILE_STRICT');
  if (lockfileStrict && lockfiles.length === 0) {
    throw new Error(`${file.name}: COMPOSE_LOCKFILE_STRICT=${opts.buildArgs.COMPOSE_LOCKFILE_STRICT} needs lockfiles: pass --build-arg COMPOSE_LOCKFILES=<lockfile>[,…]`);
  }
  const composed = await composeTreefile(loaded, {
    builderImage, context, fs, platform, epoch: opts.epoch, lockfiles, lockfileStrict, labels: opts.labels, tools: selfImage(),
  });
  const ref = (await gw.solve({ definition: llb.marshal(composed.rootfs, { platform, ignoreCache: opts.noCache === true }), evaluate: true })).ref;
  const labels = { ...composed.config.labels };
  if (Object.keys(composed.metaLabels).length) {
    const metaRef = (await gw.solve({ definition: llb.marshal(composed.meta, { platform }) })).ref;
    const meta = new GatewayRootfs(gw, metaRef, '', 'compose metadata');
    for (const [label, path] of Object.entries(composed.metaLabels)) {
      labels[label] = Buffer.from(await meta.readFile(path.replace(/^\//, ''))).toString('utf8').trim();
    }
  }
  return {
    ref, state: composed.rootfs, prefix: '', description: `composed treefile ${file.name}`,
    labels, ...(composed.config.cmd ? { cmd: composed.config.cmd } : {}),
    notes: [...loaded.warnings.map((w) => `${w.file}:${w.line}: ${w.key}: ${w.message}`), ...composed.notes],
  };
}

/**
 * Resolves the builder image up front: a clear error naming the image, why it was chosen and the
 * build arg when it cannot be pulled, and a digest-pinned reference (a moving tag cannot change
 * what a cached build step ran in).
 */
async function resolveBuilder(gw: Gateway, opts: FrontendOptions, treefile: string, choice: BuilderChoice, platform: Platform): Promise<string> {
  const name = llb.normalizeImageRef(choice.ref);
  let digest: string;
  try {
    digest = (await gw.resolveImageConfig(name, platform, opts.imageResolveMode, `[compose] resolve builder image ${choice.ref}`)).digest;
  } catch (e) {
    throw new Error(builderUnavailableMessage(treefile, choice, (e as Error).message));
  }
  return name.includes('@') ? name : `${name}@${digest}`;
}

/** A boolean build arg: 1/true/yes or 0/false/no (empty or absent: false). */
function parseBool(value: string | undefined, name: string): boolean {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'no') return false;
  if (v === '1' || v === 'true' || v === 'yes') return true;
  throw new Error(`invalid ${name} '${value}': expected 1/true/yes or 0/false/no`);
}
