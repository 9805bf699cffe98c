// One build: read the build file, resolve the rootfs, scan it, plan layers, emit LLB, compose the
// image config. Returns the Result to hand to Return.
import { BuildFileError } from '../compose/errors.ts';
import { resolveRootfs, type ResolvedRootfs } from '../compose/rootfs-source.ts';
import { looksLikeSpec, specFromYaml, type BuildSpec } from '../compose/spec.ts';
import { parseYaml } from '../compose/yaml-doc.ts';
import { simplePlanner } from '../chunking/simple.ts';
import type { Planner } from '../chunking/types.ts';
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
  planner: Planner;
}

export const defaultDeps: BuildDeps = { planner: simplePlanner };

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
  const src = parseYaml(name, text);
  const data = src.doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!looksLikeSpec(data)) {
    throw new BuildFileError(name, 'not a compose-frontend build spec: expected a YAML mapping with a `rootfs:` key (see README "Build spec")');
  }
  return specFromYaml(src);
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
  const spec = parseBuildFile(file.name, file.text);
  for (const w of spec.warnings) await warnAt(gw, spec, file, w.message, w.key);
  const platform = targetPlatform(gw, opts);
  const rootfs = await resolveRootfs(gw, opts, spec, platform);

  const view = new GatewayRootfs(gw, rootfs.ref, rootfs.prefix, rootfs.description);
  const t0 = performance.now();
  const scan = await scanThroughGateway(gw, view, rootfs, platform, opts);
  const t1 = performance.now();
  // Attached to the build file's vertex: buildctl drops warnings of an exec vertex that actually ran.
  for (const w of scan.warnings) await gw.warn(w, [], undefined, file.vertex);
  const entries = scan.entries;
  checkNames(entries, scan.skipped, rootfs.description);

  const plan = deps.planner({ entries, components: scan.components, maxLayers: spec.maxLayers, now: opts.epoch });
  const t2 = performance.now();
  const layers = buildLayers({
    rootfs: rootfs.state,
    prefix: rootfs.prefix,
    entries,
    skipped: scan.skipped,
    plan,
    epoch: opts.epoch,
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
    overrides: spec.config,
    labels: { ...spec.labels, ...opts.labels },
    plan,
    planLabel: JSON.stringify({ v: 1, layers: plan.layers.map((l) => ({ name: l.name, components: l.components })) }),
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
