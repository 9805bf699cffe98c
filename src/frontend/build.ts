// One build: read the build file, resolve the rootfs, scan it, plan layers, emit LLB, compose the
// image config. Returns the Result to hand to Return.
import { BuildFileError } from '../compose/errors.ts';
import { forwardContainerfile, resolveRootfs, type ResolvedRootfs } from '../compose/rootfs-source.ts';
import { detectKind } from '../compose/kind.ts';
import { resolveTreefile } from '../compose/treefile-source.ts';
import { DEFAULT_MAX_LAYERS, specFromYaml, type BuildSpec, type ConfigOverrides } from '../compose/spec.ts';
import { parseYaml } from '../compose/yaml-doc.ts';
import { simplePlanner } from '../chunking/simple.ts';
import type { Planner, PreviousPlan } from '../chunking/types.ts';
import { packPlanner } from '../chunking/pack.ts';
import { encodePlanLabel } from '../chunking/plan-label.ts';
import { componentFingerprints } from '../chunking/fingerprint.ts';
import { layerTimes } from '../chunking/layer-times.ts';
import { readPreviousPlan } from './previous.ts';
import type { Result } from '../gen/github.com/moby/buildkit/frontend/gateway/pb/gateway.ts';
import { buildImageConfig } from '../image/config.ts';
import { buildLayers } from '../image/layers.ts';
import * as llb from '../llb/index.ts';
import { GatewayRootfs } from '../rootfs/gateway.ts';
import { inventory } from '../rootfs/inventory.ts';
import { execScan, execScanAvailable } from '../rootfs/exec-scan.ts';
import type { Listing } from '../rootfs/listing.ts';
import type { FsEntry } from '../rootfs/types.ts';
import type { Gateway } from './gateway.ts';
import type { FrontendOptions, Platform } from './options.ts';

/** Build files are small; anything bigger is a mistake (wrong -f) we should not try to parse. */
export const MAX_BUILD_FILE_BYTES = 1024 * 1024;

export interface BuildDeps {
  /** Default: the package-aware planner when components are known, else the simple one. */
  planner?: Planner;
}

export const defaultDeps: BuildDeps = {};

/** File times per layer: see src/chunking/layer-times.ts (the CLI's plain format uses the same). */
export { layerTimes };

export interface BuildFile {
  name: string;
  text: string;
  /** Digest of the op that loaded it: warnings about the file are attached there. */
  vertex: string;
}

export async function readBuildFile(gw: Gateway, opts: FrontendOptions): Promise<BuildFile> {
  const name = opts.filename;
  const inputs = opts.raw.dockerfilekey ? {} : await gw.inputs();
  let ref: string;
  let vertex = '';
  if (inputs.dockerfile) {
    ref = (await gw.solve({ definition: inputs.dockerfile })).ref;
  } else {
    const state = llb.local(opts.dockerfileLocal, {
      sessionId: opts.localSessionIds[opts.dockerfileLocal] ?? opts.sessionId,
      followPaths: [name],
      sharedKeyHint: opts.dockerfileLocal,
      differ: 'none',
      customName: `[internal] load build definition from ${name}`,
    });
    const graph = llb.marshalGraph(state, {});
    vertex = graph.head?.digest ?? '';
    ref = (await gw.solve({ definition: graph.definition })).ref;
  }
  const st = await gw.statFile(ref, name).catch(() => undefined);
  if (!st) throw new BuildFileError(name, 'build file not found in the build context');
  if (Number(st.size) > MAX_BUILD_FILE_BYTES) {
    throw new BuildFileError(name, `build file is ${st.size} bytes; the limit is ${MAX_BUILD_FILE_BYTES} bytes (is -f pointing at the right file?)`);
  }
  const bytes = await gw.readFile(ref, name);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BuildFileError(name, 'build file is not valid UTF-8 text');
  }
  return { name, text, vertex };
}

export function parseBuildFile(name: string, text: string): BuildSpec {
  return specFromYaml(parseYaml(name, text));
}

/** What the chunking stage needs besides the rootfs, whichever kind of build file supplied it. */
export interface ChunkSettings {
  maxLayers: number;
  labels: Record<string, string>;
  overrides: ConfigOverrides;
  previousBuild?: string;
}

/** Compose-spec options for Containerfile builds come as build args (the Containerfile has no place for them). */
export function settingsFromBuildArgs(opts: FrontendOptions): ChunkSettings {
  const raw = opts.buildArgs.COMPOSE_MAX_LAYERS;
  let maxLayers = DEFAULT_MAX_LAYERS;
  if (raw !== undefined && raw !== '') {
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 500) {
      throw new Error(`build arg COMPOSE_MAX_LAYERS='${raw}': expected a whole number from 1 to 500`);
    }
    maxLayers = Number(raw);
  }
  const prev = opts.buildArgs.COMPOSE_PREVIOUS_BUILD;
  return { maxLayers, labels: { ...opts.labels }, overrides: {}, ...(prev ? { previousBuild: prev } : {}) };
}

export function targetPlatform(gw: Gateway, opts: FrontendOptions): Platform {
  if (opts.platforms.length > 1) throw new Error(`building for several platforms at once is not supported yet (got ${opts.raw.platform})`);
  return opts.platforms[0] ?? gw.workers[0]?.platforms[0] ?? { os: 'linux', architecture: 'amd64' };
}

export async function build(gw: Gateway, opts: FrontendOptions, deps: BuildDeps = defaultDeps): Promise<Result> {
  const file = await readBuildFile(gw, opts);
  try {
    return await buildFromFile(gw, opts, deps, file);
  } catch (e) {
    if (e instanceof BuildFileError && e.file === file.name) e.text ??= file.text;
    throw e;
  }
}

async function buildFromFile(gw: Gateway, opts: FrontendOptions, deps: BuildDeps, file: BuildFile): Promise<Result> {
  const kind = detectKind(file.name, file.text);
  const platform = targetPlatform(gw, opts);
  let rootfs: ResolvedRootfs;
  let settings: ChunkSettings;
  if (kind === 'spec') {
    const spec = parseBuildFile(file.name, file.text);
    for (const w of spec.warnings) await warnAt(gw, spec, file, w.message, w.key);
    rootfs = await resolveRootfs(gw, opts, spec, platform);
    settings = { maxLayers: spec.maxLayers, labels: { ...spec.labels, ...opts.labels }, overrides: spec.config, previousBuild: spec.previousBuild };
  } else if (kind === 'containerfile') {
    settings = settingsFromBuildArgs(opts);
    if (settings.maxLayers > 127) await gw.warn(`COMPOSE_MAX_LAYERS ${settings.maxLayers} is above 127: Docker with overlay2 cannot run images with more than ~127 layers`, [], undefined, file.vertex);
    rootfs = await forwardContainerfile(gw, opts, platform);
  } else {
    const base = settingsFromBuildArgs(opts);
    const t = await resolveTreefile(gw, opts, file, platform);
    for (const note of t.notes) await gw.warn(note, [], undefined, file.vertex);
    rootfs = t;
    // Computed labels (version, input hash, kernel), then --label on top.
    settings = { ...base, labels: { ...t.labels, ...opts.labels }, overrides: t.cmd ? { cmd: t.cmd } : {} };
  }
  return chunkRootfs(gw, opts, deps, file, rootfs, settings, platform);
}

async function chunkRootfs(
  gw: Gateway, opts: FrontendOptions, deps: BuildDeps, file: BuildFile, rootfs: ResolvedRootfs, settings: ChunkSettings, platform: Platform,
): Promise<Result> {
  const view = new GatewayRootfs(gw, rootfs.ref, rootfs.prefix, rootfs.description);
  const t0 = performance.now();
  const scan = await scanThroughGateway(gw, view, rootfs, platform, opts);
  const t1 = performance.now();
  // Attached to the build file's vertex: buildctl drops warnings of an exec vertex that actually ran.
  for (const w of scan.warnings) await gw.warn(w, [], undefined, file.vertex);
  const entries = scan.entries;
  checkNames(entries, scan.skipped, rootfs.description);

  let previous: PreviousPlan | undefined;
  if (settings.previousBuild) {
    const prev = await readPreviousPlan(gw, settings.previousBuild, { platform, mode: opts.imageResolveMode, ignoreCache: opts.noCache === true });
    if (prev.warning) await gw.warn(prev.warning, [], undefined, file.vertex);
    previous = prev.previous;
  }
  const planner = deps.planner ?? (scan.components.length ? packPlanner : simplePlanner);
  const plan = planner({ entries, components: scan.components, maxLayers: settings.maxLayers, previous, now: opts.epoch });
  const t2 = performance.now();
  const layers = buildLayers({
    rootfs: rootfs.state,
    prefix: rootfs.prefix,
    entries,
    skipped: scan.skipped,
    plan,
    times: layerTimes(plan, scan.components, opts.epoch),
    useMerge: gw.llbHas('mergeop'),
    ignoreCache: opts.noCache === true,
  });
  const def = llb.marshal(layers, { platform });
  const size = llb.definitionSize(def);
  if (size > gw.maxRequestBytes) {
    throw new Error(`the layer definition is ${size} bytes, over this BuildKit's ${gw.maxRequestBytes}-byte request limit; lower max-layers or report this rootfs`);
  }
  if (opts.buildArgs.COMPOSE_FRONTEND_STATS === '1') {
    // Opt-in figures for benchmarks; a warning, so the image itself stays reproducible.
    const stats = { entries: entries.length, components: scan.components.length, layers: plan.layers.length, scanMs: Math.round(t1 - t0), planMs: Math.round(t2 - t1), layersLlbMs: Math.round(performance.now() - t2), definitionBytes: size, execScan: execScanAvailable(gw), mergeOp: gw.llbHas('mergeop') };
    await gw.warn(`compose-frontend stats ${JSON.stringify(stats)}`, [], undefined, file.vertex);
  }
  const res = await gw.solve({ definition: def, cacheImports: opts.cacheImports });
  const config = buildImageConfig({
    platform,
    base: rootfs.baseConfig,
    overrides: settings.overrides,
    labels: settings.labels,
    plan,
    planLabel: encodePlanLabel(plan, componentFingerprints(entries, scan.components)),
    epoch: opts.epoch,
  });
  return {
    ref: { id: res.ref, def: undefined },
    metadata: { 'containerimage.config': Buffer.from(JSON.stringify(config)) },
    attestations: {},
  };
}

/** Prefer the exec scan (sees hard links across directories, cached); fall back to ReadDir. */
async function scanThroughGateway(gw: Gateway, view: GatewayRootfs, rootfs: ResolvedRootfs, platform: Platform, opts: FrontendOptions): Promise<Listing> {
  if (execScanAvailable(gw)) return execScan(gw, rootfs, { platform, ignoreCache: opts.noCache === true });
  const listing = await inventory(view, 32);
  listing.warnings.push('this BuildKit cannot run the exec scan: hard links between different directories are copied as separate files');
  return listing;
}

/** bootc (and ostree) need UTF-8 names; the gateway shows other bytes as U+FFFD. */
function checkNames(entries: FsEntry[], skipped: string[], where: string): void {
  for (const p of [...entries.map((e) => e.path), ...skipped]) {
    if (p.includes('\uFFFD')) throw new Error(`${where}: file name is not valid UTF-8: ${JSON.stringify(p)} (bootc images need UTF-8 names)`);
  }
}

async function warnAt(gw: Gateway, spec: BuildSpec, file: BuildFile, message: string, key: string[]): Promise<void> {
  const r = spec.locate(key);
  await gw.warn(`${file.name}${r ? `:${r.startLine}` : ''}: ${message}`, [], r ? {
    info: { filename: file.name, data: Buffer.from(file.text), definition: undefined, language: 'YAML' },
    ranges: [{ start: { line: r.startLine, character: r.startCol }, end: { line: r.endLine, character: r.endCol } }],
  } : undefined, file.vertex);
}
