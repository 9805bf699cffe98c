// `compose-frontend build-chunked-oci`: rpm-ostree's `compose build-chunked-oci` for a rootfs
// directory, without rpm-ostree, ostree or skopeo. Scan → components → plan → (ostree commit →
// commit layer + chunk layers | plain layers) → blobs compressed in parallel → oci: / oci-archive: /
// docker:// destination, written so that a failure leaves nothing half-done behind.
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { buildComponents } from '../chunking/components/index.ts';
import { componentFingerprints } from '../chunking/fingerprint.ts';
import { MAX_LAYERS_LIMIT, packPlanner } from '../chunking/pack.ts';
import { encodePlanLabel } from '../chunking/plan-label.ts';
import type { LayerPlan, Planner, PreviousPlan } from '../chunking/types.ts';
import { BOOTC_LABELS, buildImageConfig, PLAN_LABEL } from '../image/config.ts';
import type { BlobStore, Compression } from '../oci/blobs.ts';
import { hostArchitecture, writeLayers, writeManifest, type ImageOptions, type LayerSource, type WrittenImage } from '../oci/image.ts';
import { ostreeConfig, ostreeLayers } from '../oci/ostree-image.ts';
import { describeOutput, openOutput, parseOutputRef, type OutputRef } from '../oci/output.ts';
import { plainLayer } from '../oci/plain-layer.ts';
import { layerTimes } from '../chunking/layer-times.ts';
import { readPreviousPlan } from '../oci/previous.ts';
import { commitTree, localRootMeta, type CommitTreeResult, type MetaObject } from '../ostree/commit.ts';
import { parseEd25519Keys, signedCommitmeta, type Ed25519Key } from '../ostree/sign.ts';
import { LocalRootfs } from '../rootfs/local.ts';
import { scanRootfs } from '../rootfs/scan.ts';
import type { FsEntry } from '../rootfs/types.ts';

export const USAGE = `usage: compose-frontend build-chunked-oci --bootc --rootfs DIR --output DEST [options]

Turns a root filesystem into a chunked bootc container image (rpm-ostree build-chunked-oci).

  --rootfs DIR               root filesystem to package (required)
  --bootc                    make a bootc image (required, as with rpm-ostree)
  --output DEST              oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker://REGISTRY/REPO[:TAG]
  --format ostree|plain      ostree-encapsulated (default; old and new clients) or plain bootc layers
  --format-version 1|2       2 writes every parent directory in every layer (default 1)
  --max-layers N             chunk layers at most (default 64; 1-${MAX_LAYERS_LIMIT})
  --label KEY=VALUE          image label (repeatable)
  --previous-build REF       keep the layer plan of an earlier image (oci:DIR[:TAG] or docker://REF);
                             default: the image already at --output, if any
  --reference TAG            tag for an --output without one
  --authfile FILE            registry credentials (containers auth.json / docker config.json)
  --sign-commit ed25519=FILE sign the ostree commit with every key in FILE (repeatable)
  --compression gzip|zstd    layer compression (default gzip)
  --jobs N                   layers compressed at once (default: number of CPUs)

SOURCE_DATE_EPOCH, when set, is the image creation time and commit timestamp; otherwise the
modification time of the rootfs directory is.
`;

export class UsageError extends Error {}

export interface BuildChunkedOciOptions {
  rootfs: string;
  output: OutputRef;
  format: 'ostree' | 'plain';
  formatVersion: 1 | 2;
  maxLayers: number;
  labels: Record<string, string>;
  previousBuild?: string;
  authfile?: string;
  signKeyFiles: string[];
  compression: Compression;
  jobs: number;
}

const FLAGS_WITH_VALUE = new Set([
  'rootfs', 'output', 'format', 'format-version', 'max-layers', 'label', 'previous-build', 'reference', 'authfile',
  'sign-commit', 'compression', 'jobs',
]);
const REPEATABLE = new Set(['label', 'sign-commit']);
const BOOLEAN = new Set(['bootc', 'help']);

/** Parses the command line (`--flag value` or `--flag=value`); errors name the flag. */
export function parseArgs(args: string[]): BuildChunkedOciOptions | 'help' {
  const values = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (BOOLEAN.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      values.set(name, ['true']);
      continue;
    }
    if (!FLAGS_WITH_VALUE.has(name)) throw new UsageError(`unknown option '--${name}'`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new UsageError(`--${name} needs a value`);
      value = args[++i]!;
    }
    const list = values.get(name) ?? [];
    if (list.length > 0 && !REPEATABLE.has(name)) throw new UsageError(`--${name} given more than once`);
    list.push(value);
    values.set(name, list);
  }
  const one = (n: string) => values.get(n)?.[0];
  if (one('help')) return 'help';

  const rootfs = one('rootfs');
  if (rootfs === undefined || rootfs === '') throw new UsageError('--rootfs is required');
  if (!one('bootc')) throw new UsageError('--bootc is required (only bootc images are supported, as with rpm-ostree)');
  const outText = one('output');
  if (outText === undefined) throw new UsageError('--output is required');
  let output: OutputRef;
  try {
    output = parseOutputRef(outText);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const reference = one('reference');
  if (reference !== undefined) output = applyReference(output, outText, reference);

  const format = one('format') ?? 'ostree';
  if (format !== 'ostree' && format !== 'plain') throw new UsageError(`--format '${format}': want ostree or plain`);
  const fv = one('format-version') ?? '1';
  if (fv !== '1' && fv !== '2') throw new UsageError(`--format-version '${fv}': want 1 or 2`);
  const maxLayers = intFlag('max-layers', one('max-layers') ?? '64', 1, MAX_LAYERS_LIMIT);
  const jobs = intFlag('jobs', one('jobs') ?? String(Math.max(1, availableParallelism())), 1, 64);
  const compression = one('compression') ?? 'gzip';
  if (compression !== 'gzip' && compression !== 'zstd') throw new UsageError(`--compression '${compression}': want gzip or zstd`);

  const labels: Record<string, string> = {};
  for (const kv of values.get('label') ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label '${kv}': want KEY=VALUE`);
    labels[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const signKeyFiles: string[] = [];
  for (const s of values.get('sign-commit') ?? []) {
    const eq = s.indexOf('=');
    if (eq < 0) throw new UsageError(`--sign-commit '${s}': want TYPE=KEYFILE, e.g. ed25519=/path/to/key`);
    const type = s.slice(0, eq);
    if (type !== 'ed25519') throw new UsageError(`--sign-commit '${s}': unsupported key type '${type}' (only ed25519)`);
    if (s.length === eq + 1) throw new UsageError(`--sign-commit '${s}': the key file path is empty`);
    signKeyFiles.push(s.slice(eq + 1));
  }
  if (signKeyFiles.length > 0 && format === 'plain') throw new UsageError('--sign-commit needs --format ostree (plain images have no commit)');
  return {
    rootfs, output, format, formatVersion: fv === '2' ? 2 : 1, maxLayers, labels, previousBuild: one('previous-build'),
    authfile: one('authfile'), signKeyFiles, compression, jobs,
  };
}

function intFlag(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} '${text}': want an integer from ${min} to ${max}`);
  return n;
}

/** --reference TAG: the tag of an output that names none (conflicting tags are an error). */
function applyReference(o: OutputRef, text: string, tag: string): OutputRef {
  if (o.transport === 'docker') {
    const explicit = /:[^/]*$/.test(text.slice('docker://'.length)) || text.includes('@');
    if (explicit && o.ref.tag !== tag) throw new UsageError(`--reference '${tag}' conflicts with the tag or digest in --output '${text}'`);
    return explicit ? o : parseOutputRef(`${text}:${tag}`);
  }
  if (o.tag !== undefined && o.tag !== tag) throw new UsageError(`--reference '${tag}' conflicts with the tag in --output '${text}'`);
  return parseOutputRef(`${o.transport}:${o.path}:${tag}`);
}

/** SOURCE_DATE_EPOCH when set (validated), else the rootfs root's mtime. */
export function chooseEpoch(env: NodeJS.ProcessEnv, rootMtime: number): number {
  const s = env.SOURCE_DATE_EPOCH;
  if (s === undefined || s === '') return rootMtime;
  if (!/^[0-9]+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new Error(`SOURCE_DATE_EPOCH '${s}': want a non-negative integer (seconds)`);
  return Number(s);
}

export interface CliDeps {
  planner: Planner;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

const defaultDeps = (): CliDeps => ({ planner: packPlanner, env: process.env, log: (l) => process.stderr.write(`${l}\n`) });

export interface BuildResult {
  /** `oci:DIR sha256:…` / `docker://reg/repo@sha256:…`. */
  destination: string;
  manifestDigest: string;
  commit?: string;
  layers: number;
}

async function loadKeys(files: string[]): Promise<Ed25519Key[]> {
  const keys: Ed25519Key[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      throw new Error(`--sign-commit: cannot read key file '${f}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      keys.push(...parseEd25519Keys(text, f));
    } catch (err) {
      throw new Error(`--sign-commit: ${(err as Error).message}`);
    }
  }
  return keys;
}

/** The previous plan: --previous-build, else the image already at an oci:/docker:// output (best effort). */
async function previousPlan(o: BuildChunkedOciOptions, log: (l: string) => void): Promise<PreviousPlan | undefined> {
  if (o.previousBuild !== undefined) return readPreviousPlan(o.previousBuild, { authfile: o.authfile });
  const out = o.output;
  if (out.transport === 'oci-archive') return undefined;
  if (out.transport === 'oci' && !(await stat(`${out.path}/index.json`).then(() => true, () => false))) return undefined;
  const ref = out.transport === 'oci' ? `oci:${out.path}${out.tag !== undefined ? `:${out.tag}` : ''}` : describeOutput(out);
  try {
    // Best effort: one attempt, and a missing image is the normal first-build case.
    return await readPreviousPlan(ref, { authfile: o.authfile, retry: { attempts: 1 } }, '--output');
  } catch (err) {
    const msg = (err as Error).message;
    if (!/HTTP 404|MANIFEST_UNKNOWN|NAME_UNKNOWN/.test(msg)) log(`note: not reusing the layer plan of the image at the output: ${msg}`);
    return undefined;
  }
}

export async function buildChunkedOci(o: BuildChunkedOciOptions, deps: CliDeps = defaultDeps()): Promise<BuildResult> {
  const log = deps.log;
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
  const rootStat = await stat(o.rootfs).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`--rootfs '${o.rootfs}': ${err.code === 'ENOENT' ? 'does not exist' : err.message}`);
  });
  if (!rootStat.isDirectory()) throw new Error(`--rootfs '${o.rootfs}': not a directory`);
  if (o.authfile !== undefined && !(await stat(o.authfile).then((s) => s.isFile(), () => false))) {
    throw new Error(`--authfile '${o.authfile}': no such file`);
  }
  const keys = await loadKeys(o.signKeyFiles);
  const root = await localRootMeta(o.rootfs);
  const epoch = chooseEpoch(deps.env, root.mtime);

  const target = await openOutput(o.output, { authfile: o.authfile, mtime: epoch });
  // Interrupted: remove what was written, then die of the same signal.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (sig: NodeJS.Signals) => {
    for (const s of signals) process.off(s, onSignal);
    void target.abort().finally(() => process.kill(process.pid, sig));
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    const view = new LocalRootfs(o.rootfs);
    const scan = await scanRootfs(view, { concurrency: 16 });
    for (const w of scan.warnings) log(`warning: ${w}`);
    const entries = scan.entries;
    log(`scanned ${entries.length} entries (${since()})`);
    const comps = await buildComponents(view, entries);
    for (const w of comps.warnings) log(`warning: ${w}`);
    const previous = await previousPlan(o, log);
    const plan = deps.planner({ entries, components: comps.components, maxLayers: o.maxLayers, previous, now: epoch });
    log(`planned ${plan.layers.length} layers from ${comps.components.length} components${previous ? ' (keeping the previous plan where possible)' : ''} (${since()})`);
    const planLabel = encodePlanLabel(plan, componentFingerprints(entries, comps.components));

    const imageOpts: ImageOptions = {
      compression: o.compression,
      concurrency: o.jobs,
      onLayer: (i: number, b: { size: number; uncompressedSize: number }) =>
        log(`layer ${i}: ${b.uncompressedSize} bytes → ${b.size} (${since()})`),
    };
    let written: WrittenImage;
    let commitChecksum: string | undefined;
    if (o.format === 'ostree') {
      const commit = await commitTree(view, entries, { root, timestamp: epoch, bootc: true });
      commitChecksum = commit.commit;
      log(`ostree commit ${commit.commit} (${commit.objects.size} objects, ${since()})`);
      written = await writeOstreeImage(o, target.store, { view, commit, plan, keys, epoch, planLabel }, imageOpts);
    } else {
      const byPath = new Map<string, FsEntry>(entries.map((e) => [e.path, e]));
      // The frontend's layer times: a layer whose content did not change keeps its digest.
      const times = layerTimes(plan, comps.components, epoch);
      const sources: LayerSource[] = plan.layers.map((layer, i) => ({
        open: () => plainLayer({ view, entries: byPath, layer, mtime: times[i] }), weight: layer.size,
      }));
      const layers = await writeLayers(target.store, sources, imageOpts);
      const config = buildImageConfig({
        platform: { os: 'linux', architecture: hostArchitecture() }, overrides: {}, labels: o.labels, plan, planLabel, epoch,
      });
      config.rootfs.diff_ids = layers.map((l) => l.diffId);
      written = await writeManifest(target.store, layers, config);
    }
    const destination = await target.commit(written);
    log(`wrote ${destination} (${written.layers.length} layers, ${since()})`);
    return { destination, manifestDigest: written.manifest.digest, commit: commitChecksum, layers: written.layers.length };
  } catch (err) {
    await target.abort();
    throw err;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/** Commit layer + chunk layers, then the config with the ostree labels and the manifest. */
async function writeOstreeImage(
  o: BuildChunkedOciOptions,
  store: BlobStore,
  x: { view: LocalRootfs; commit: CommitTreeResult; plan: LayerPlan; keys: Ed25519Key[]; epoch: number; planLabel: string },
  imageOpts: ImageOptions,
): Promise<WrittenImage> {
  const commitBytes = (x.commit.objects.get(x.commit.commit) as MetaObject).bytes;
  const commitmeta = x.keys.length > 0 ? signedCommitmeta(commitBytes, x.keys) : undefined;
  const { sources, history } = ostreeLayers({ view: x.view, commit: x.commit, plan: x.plan, formatVersion: o.formatVersion, commitmeta });
  const layers = await writeLayers(store, sources, imageOpts);
  const config = ostreeConfig({
    architecture: hostArchitecture(), os: 'linux', created: x.epoch, commit: x.commit.commit,
    diffIds: layers.map((l) => l.diffId), history, labels: { ...BOOTC_LABELS, ...o.labels, [PLAN_LABEL]: x.planLabel },
  });
  // Manifest annotations: the generated labels, without the (possibly large) plan.
  const annotations = { ...config.config.Labels };
  delete annotations[PLAN_LABEL];
  return writeManifest(store, layers, config, annotations);
}

/** Entry point of the sub-command: exit status 0 ok, 1 failure, 2 usage error. */
export async function buildChunkedOciCommand(args: string[], deps: CliDeps = defaultDeps()): Promise<number> {
  let opts;
  try {
    opts = parseArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`compose-frontend build-chunked-oci: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const r = await buildChunkedOci(opts, deps);
    process.stdout.write(`${r.destination}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`compose-frontend build-chunked-oci: ${(err as Error).message}\n`);
    return 1;
  }
}
