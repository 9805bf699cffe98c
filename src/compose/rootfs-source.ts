// Turns the spec's rootfs source into an LLB state plus what we inherit from it (image config).
import type { Gateway } from '../frontend/gateway.ts';
import { namedContext, type FrontendOptions, type Platform } from '../frontend/options.ts';
import type { Definition } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import type { ImageConfig } from '../image/config.ts';
import * as llb from '../llb/index.ts';
import { cleanContextPath, type BuildSpec } from './spec.ts';

export interface ResolvedRootfs {
  /** The rootfs lives at `prefix` inside this ref ('' = its root). */
  ref: string;
  state: llb.State;
  prefix: string;
  baseConfig?: Partial<ImageConfig>;
  description: string;
}

export async function resolveRootfs(gw: Gateway, opts: FrontendOptions, spec: BuildSpec, platform: Platform): Promise<ResolvedRootfs> {
  const src = spec.rootfs;
  switch (src.kind) {
    case 'dir': {
      const dir = cleanContextPath(src.dir);
      const state = llb.local(opts.contextLocal, {
        sessionId: opts.localSessionIds[opts.contextLocal] ?? opts.sessionId,
        includePatterns: dir ? [dir] : undefined,
        sharedKeyHint: opts.contextLocal,
        customName: `[context] load rootfs ${dir || '.'}`,
      });
      const ref = await solveState(gw, state, opts);
      const st = dir ? await gw.statFile(ref, `/${dir}`).catch(() => undefined) : { mode: 2 ** 31 };
      if (!st) throw spec.errorAt(['rootfs', 'dir'], `'${src.dir}' does not exist in the build context`);
      if (!(st.mode >>> 0 & 2 ** 31) && !(st.mode & 0o040000)) throw spec.errorAt(['rootfs', 'dir'], `'${src.dir}' is not a directory`);
      return { ref, state, prefix: dir, description: `build context directory '${dir || '.'}'` };
    }
    case 'image':
      return fromImage(gw, opts, src.image, platform, () => spec.errorAt(['rootfs', 'image'], ''));
    case 'context': {
      const value = namedContext(opts, src.context, platform);
      const err = (m: string) => spec.errorAt(['rootfs', 'context'], m);
      if (value === undefined) throw err(`no build context named '${src.context}' was passed (use --build-context ${src.context}=…)`);
      return fromNamedContext(gw, opts, src.context, value, platform, err);
    }
    case 'containerfile':
      return fromContainerfile(gw, opts, src.containerfile, src.target, platform, (m) => spec.errorAt(['rootfs', 'containerfile'], m));
  }
}

async function solveState(gw: Gateway, state: llb.State, opts: FrontendOptions, platform?: Platform): Promise<string> {
  const def = llb.marshal(state, { platform, ignoreCache: opts.noCache === true });
  return (await gw.solve({ definition: def, cacheImports: opts.cacheImports })).ref;
}

async function fromImage(
  gw: Gateway, opts: FrontendOptions, ref: string, platform: Platform, errAt: () => Error,
): Promise<ResolvedRootfs> {
  const name = llb.normalizeImageRef(ref);
  let resolved;
  try {
    resolved = await gw.resolveImageConfig(name, platform, opts.imageResolveMode, `[rootfs] resolve image ${ref}`);
  } catch (e) {
    const err = errAt();
    err.message = `${err.message.replace(/: $/, '')}: cannot resolve image '${ref}': ${(e as Error).message}`;
    throw err;
  }
  const pinned = name.includes('@') ? name : `${name}@${resolved.digest}`;
  const state = llb.image(pinned, { platform, resolveMode: opts.imageResolveMode });
  const ref2 = await solveState(gw, state, opts, platform);
  return { ref: ref2, state, prefix: '', baseConfig: JSON.parse(Buffer.from(resolved.config).toString('utf8')), description: `image ${ref}` };
}

async function fromNamedContext(
  gw: Gateway, opts: FrontendOptions, name: string, value: string, platform: Platform, err: (m: string) => Error,
): Promise<ResolvedRootfs> {
  if (value.startsWith('docker-image://')) {
    return fromImage(gw, opts, value.slice('docker-image://'.length), platform, () => err(''));
  }
  if (value.startsWith('local:')) {
    const localName = value.slice('local:'.length);
    const state = llb.local(localName, {
      sessionId: opts.localSessionIds[localName] ?? opts.sessionId,
      sharedKeyHint: opts.raw[`sharedkey:localdir:${localName}`] || localName,
      customName: `[context ${name}] load local ${localName}`,
    });
    return { ref: await solveState(gw, state, opts), state, prefix: '', description: `build context '${name}'` };
  }
  if (value.startsWith('input:')) {
    const inputName = value.slice('input:'.length);
    const defs: Record<string, Definition> = await gw.inputs();
    const def = defs[inputName];
    if (!def) throw err(`build context '${name}' names frontend input '${inputName}', which was not passed`);
    const state = llb.fromDefinition(def);
    let baseConfig: Partial<ImageConfig> | undefined;
    const meta = opts.raw[`input-metadata:${inputName}`];
    if (meta) {
      const m = JSON.parse(meta) as Record<string, string>;
      if (m['containerimage.config']) baseConfig = JSON.parse(Buffer.from(m['containerimage.config'], 'base64').toString('utf8'));
    }
    const ref = (await gw.solve({ definition: def, cacheImports: opts.cacheImports })).ref;
    return { ref, state, prefix: '', baseConfig, description: `build context '${name}'` };
  }
  if (value.startsWith('oci-layout://')) {
    const rest = value.slice('oci-layout://'.length);
    const at = rest.indexOf('@');
    if (at < 0) throw err(`build context '${name}': oci-layout reference '${value}' needs an @sha256: digest`);
    const state = llb.ociLayout(rest.slice(0, at), rest.slice(at + 1), { sessionId: opts.sessionId, platform });
    return { ref: await solveState(gw, state, opts, platform), state, prefix: '', description: `build context '${name}'` };
  }
  throw err(`build context '${name}' is '${value}'; supported forms: docker-image://REF, a local directory, a bake target (input:), oci-layout://`);
}

async function fromContainerfile(
  gw: Gateway, opts: FrontendOptions, file: string, target: string | undefined, platform: Platform, err: (m: string) => Error,
): Promise<ResolvedRootfs> {
  const frontendOpt: Record<string, string> = { ...opts.raw };
  delete frontendOpt.requestid;
  delete frontendOpt.target;
  frontendOpt.filename = cleanContextPath(file);
  // Read the Containerfile from the build context, not from the directory of our build file.
  frontendOpt.dockerfilekey = opts.contextLocal;
  // With `cmdline` set, the Dockerfile frontend builds the file itself instead of honouring a
  // `# syntax=` line in it, so a Containerfile naming this frontend cannot recurse into us.
  frontendOpt.cmdline = opts.raw.cmdline || 'compose-frontend';
  if (target) frontendOpt.target = target;
  frontendOpt.platform = platformString(platform);
  let res;
  try {
    res = await gw.solve({ frontend: 'dockerfile.v0', frontendOpt, frontendInputs: await gw.inputs(), cacheImports: opts.cacheImports, evaluate: true });
  } catch (e) {
    throw err(`building ${file}${target ? ` (target ${target})` : ''} failed: ${(e as Error).message}`);
  }
  const key = res.ref ? undefined : (res.refs[platformString(platform)] !== undefined ? platformString(platform) : Object.keys(res.refs)[0]);
  const ref = key === undefined ? res.ref : res.refs[key];
  const def = key === undefined ? res.def : res.defs[key];
  if (!ref || !def) throw err(`building ${file} produced an empty result (a FROM scratch stage with nothing in it?)`);
  const cfgBytes = res.metadata['containerimage.config'] ?? res.metadata[`containerimage.config/${platformString(platform)}`];
  const baseConfig = cfgBytes ? JSON.parse(Buffer.from(cfgBytes).toString('utf8')) : undefined;
  return { ref, state: llb.fromDefinition(def), prefix: '', baseConfig, description: `${file}${target ? ` stage ${target}` : ''}` };
}

/**
 * A Containerfile build file: the Dockerfile frontend builds it with the user's options unchanged, and
 * its final stage (or --target) is the rootfs. `cmdline` stays set, so the Dockerfile frontend does not
 * follow the file's `# syntax=` line back to us. Errors (a failing RUN) propagate untouched.
 */
export async function forwardContainerfile(gw: Gateway, opts: FrontendOptions, platform: Platform): Promise<ResolvedRootfs> {
  const frontendOpt: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.raw)) {
    if (k === 'requestid' || k === 'build-arg:BUILDKIT_SYNTAX' || k.startsWith('build-arg:COMPOSE_')) continue;
    frontendOpt[k] = v;
  }
  frontendOpt.cmdline ||= opts.raw.source || 'compose-frontend';
  const res = await gw.solve({ frontend: 'dockerfile.v0', frontendOpt, frontendInputs: await gw.inputs(), cacheImports: opts.cacheImports, evaluate: true });
  const key = res.ref ? undefined : (res.refs[platformString(platform)] !== undefined ? platformString(platform) : Object.keys(res.refs)[0]);
  const ref = key === undefined ? res.ref : res.refs[key];
  const def = key === undefined ? res.def : res.defs[key];
  if (!ref || !def) throw new Error(`${opts.filename}: the final stage is empty (FROM scratch with nothing added?); there is no root filesystem to chunk`);
  const cfg = res.metadata['containerimage.config'] ?? (key ? res.metadata[`containerimage.config/${key}`] : undefined);
  return {
    ref, state: llb.fromDefinition(def), prefix: '',
    baseConfig: cfg ? JSON.parse(Buffer.from(cfg).toString('utf8')) : undefined,
    description: `${opts.filename}${opts.target ? ` stage ${opts.target}` : ''}`,
  };
}

function platformString(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}
