// Update-size benchmark on a real release series (issue 6, parts 4–5): for every consecutive pair of
// rootfs versions, the bytes a client downloads to update (gzip size of every layer whose digest it
// does not have yet) and the layers it reuses, for
//   single          one layer with everything
//   floor comps     the component floor: every component whose content changed, in one gzip stream
//   floor files     the changed-files floor: every entry that is new or differs, in one gzip stream
//   chunkah         coreos/chunkah built from source (CHUNKAH_BIN), RPM rootfs only (it has no
//                   notion of a previous image)
//   <v> fresh       our planner without history
//   <v> sticky      our planner given the previous version's plan, read back from our plan label
// on the Debian rootfs (dpkg) and its RPM twin (bench/series/make-rpm.sh). `<v>` is a planner
// variant: `ours` (DEFAULT_TUNING) plus any `--variant NAME=JSON` (PackTuning fields).
// Layers are written by the plain-layer writer of the CLI (`build-chunked-oci --format plain`,
// src/oci/plain-layer.ts) with the layer times the CLI and the frontend stamp
// (src/chunking/layer-times.ts), so their digests are the CLI's; chunkah's uncompressed layers are
// gzipped with the same settings as ours, so compression never favours one side.
// SOURCE_DATE_EPOCH of a version = its newest package change (newest changelog entry).
//
//   bench/series/build-debian.sh && bench/series/make-rpm.sh        # inputs, once (~25 min)
//   CHUNKAH_BIN=/var/tmp/chunkah-build/src/target/release/chunkah CHUNKAH_REF=… \
//     node bench/update-size.ts [--series DIR] [--versions v1,v2,…] [--flavors deb,rpm]
//       [--max-layers 64] [--gzip-level 6] [--variant NAME=JSON]… [--estimate]
//       [--no-chunkah] [--chunkah-repeat] [--no-cache] [--out docs/update-size.md] [--json FILE]
// --estimate sizes variant layers as the sum of their components' gzip sizes (fast, for tuning
// sweeps; the floors, single and chunkah stay measured).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildComponents } from '../src/chunking/components/index.ts';
import { componentFingerprints } from '../src/chunking/fingerprint.ts';
import { makePackPlanner } from '../src/chunking/pack.ts';
import { decodePlanLabel, encodePlanLabel } from '../src/chunking/plan-label.ts';
import { DEFAULT_TUNING, type PackTuning } from '../src/chunking/stability.ts';
import type { Component, LayerPlan, PlannedLayer, Planner } from '../src/chunking/types.ts';
import { layerTimes } from '../src/chunking/layer-times.ts';
import { LocalRootfs } from '../src/rootfs/local.ts';
import { scanRootfs } from '../src/rootfs/scan.ts';
import type { FsEntry } from '../src/rootfs/types.ts';
import { runChunkah, type ChunkahRun } from './lib/chunkah.ts';
import { entryLine, gzipFileSize, hashFile, layerKey, mapLimit, measureLayer, type LayerBytes } from './lib/layer-bytes.ts';
import { listTar } from './lib/tar-list.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..');
const CACHE = join(REPO, '.cache', 'bench', 'update-size');
const MiB = 1024 * 1024;

const { values: opt } = parseArgs({
  options: {
    series: { type: 'string', default: join(REPO, '.cache', 'bench', 'series') },
    versions: { type: 'string' },
    flavors: { type: 'string', default: 'deb,rpm' },
    'max-layers': { type: 'string', default: '64' },
    'gzip-level': { type: 'string', default: '6' },
    variant: { type: 'string', multiple: true, default: [] },
    estimate: { type: 'boolean', default: false },
    'no-chunkah': { type: 'boolean', default: false },
    'chunkah-repeat': { type: 'boolean', default: false },
    'no-cache': { type: 'boolean', default: false },
    out: { type: 'string', default: join(REPO, 'docs', 'update-size.md') },
    json: { type: 'string', default: join(CACHE, 'results.json') },
    jobs: { type: 'string', default: String(Math.max(2, cpus().length)) },
  },
});
const MAX_LAYERS = Number(opt['max-layers']);
const LEVEL = Number(opt['gzip-level']);
const JOBS = Number(opt.jobs);
const chunkahBin = opt['no-chunkah'] ? undefined : process.env.CHUNKAH_BIN;
if (!opt['no-chunkah'] && !chunkahBin) {
  console.error('CHUNKAH_BIN is not set: point it at a chunkah binary built from coreos/chunkah, or pass --no-chunkah');
  process.exit(2);
}

interface Variant {
  name: string;
  tuning: PackTuning;
  module?: string;
  planner: Planner;
}
async function variant(name: string, json: string): Promise<Variant> {
  const raw = JSON.parse(json) as Partial<PackTuning> & { module?: string };
  const { module, ...t } = raw;
  // "module": a patched copy of src/chunking/pack.ts kept outside the repo (evaluating a proposal).
  const make = module ? ((await import(module)) as { makePackPlanner: typeof makePackPlanner }).makePackPlanner : makePackPlanner;
  const tuning = { ...DEFAULT_TUNING, ...t } as PackTuning;
  if (!module) for (const k of Object.keys(t)) if (!(k in DEFAULT_TUNING)) throw new Error(`--variant ${name}: unknown tuning field '${k}' (known: ${Object.keys(DEFAULT_TUNING).join(', ')})`);
  return { name, tuning, module, planner: make(tuning) };
}
const variants: Variant[] = [await variant('ours', '{}')];
for (const v of opt.variant) {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new Error(`--variant: expected NAME=JSON, got '${v}'`);
  variants.push(await variant(v.slice(0, eq), v.slice(eq + 1)));
}

const versions = opt.versions?.split(',') ?? readdirSync(opt.series).filter((d) => /^v\d+$/.test(d) && existsSync(join(opt.series, d, '.done'))).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
const flavors = opt.flavors.split(',') as ('deb' | 'rpm')[];
const log = (s: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${s}`);

/** Strategy keys: 'single', 'chunkah', '<variant> fresh', '<variant> sticky'. */
const STRATEGIES = ['single', 'chunkah', ...variants.flatMap((v) => [`${v.name} fresh`, `${v.name} sticky`])];

// ---------- caches (kept across runs; the keys cover everything the values depend on) ----------
const layerCache = new Map<string, LayerBytes>();
const gzByDigest = new Map<string, number>();
const layerCacheFile = join(CACHE, 'layers.json');
if (!opt['no-cache'] && existsSync(layerCacheFile)) {
  const c = JSON.parse(readFileSync(layerCacheFile, 'utf8')) as { layers: [string, LayerBytes][]; gz: [string, number][] };
  for (const [k, v] of c.layers) layerCache.set(k, v);
  for (const [k, v] of c.gz) gzByDigest.set(k, v);
}
function saveCache(): void {
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(layerCacheFile, JSON.stringify({ layers: [...layerCache], gz: [...gzByDigest] }));
}

/** Content sha256 of every regular file; reused across runs while inode, size and times match. */
async function fileHashes(dir: string, name: string, files: FsEntry[]): Promise<Map<string, string>> {
  const file = join(CACHE, 'hashes', `${name}.json`);
  const old = new Map<string, [string, string]>(!opt['no-cache'] && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : []);
  const stamp = (p: string) => {
    const st = lstatSync(join(dir, p), { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  };
  const list = await mapLimit(files, 16, async (e): Promise<[string, [string, string]]> => {
    const s = stamp(e.path);
    const o = old.get(e.path);
    return [e.path, o && o[0] === s ? o : [s, await hashFile(join(dir, e.path))]];
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(list));
  return new Map(list.map(([p, [, h]]) => [p, h]));
}

// ---------- per-version measurement ----------
interface LayerInfo {
  name: string;
  /** Uncompressed digest (in --estimate mode for variants: the content key with the file time). */
  digest: string;
  gz: number;
  components: string[];
  /** Every entry path the layer holds (ours: the plan's; chunkah: its tar listing). */
  paths: string[];
  /** Content key without the file time (tells a layer that changed only by its mtime). */
  contentKey: string;
}

interface VersionData {
  version: string;
  flavor: 'deb' | 'rpm';
  dir: string;
  entries: FsEntry[];
  byPath: Map<string, FsEntry>;
  hashes: Map<string, string>;
  components: Component[];
  /** Component id → content signature. */
  sigs: Map<string, string>;
  epoch: number;
  layers: Record<string, LayerInfo[]>;
  /** Per variant: the sticky plan and its fingerprints (the next version's previous plan). */
  sticky: Map<string, { plan: LayerPlan; fingerprints: Map<string, string> }>;
  timing: { scanMs: number; componentsMs: number; hashMs: number; plan: Record<string, [number, number]>; chunkahS?: number };
  packages: number;
  determinism: { planReorder: Record<string, boolean>; digestsRecomputed?: boolean };
  /** sha256 of each plan's JSON ('<variant> fresh' / '<variant> sticky'): compared across runs. */
  planHashes: Record<string, string>;
}


async function measured(d: VersionData, view: LocalRootfs, paths: string[], mtime: number): Promise<LayerBytes> {
  const key = `${LEVEL}:${layerKey(paths, d.byPath, d.hashes, mtime)}`;
  let b = layerCache.get(key);
  if (!b) {
    b = await measureLayer(view, d.byPath, { name: '', components: [], paths, size: 0 }, mtime, LEVEL);
    layerCache.set(key, b);
  }
  return b;
}

async function layersOf(d: VersionData, view: LocalRootfs, plan: LayerPlan, times: number[], estimate: boolean): Promise<LayerInfo[]> {
  const comps = new Map(d.components.map((c) => [c.id, c]));
  return mapLimit(plan.layers, JOBS, async (l, i) => {
    const contentKey = layerKey(l.paths, d.byPath, d.hashes, undefined);
    if (!estimate) {
      const b = await measured(d, view, l.paths, times[i]);
      return { name: l.name, digest: b.digest, gz: b.gz!, components: l.components, paths: l.paths, contentKey };
    }
    // Sum of the members' own gzip sizes (each measured once, with file time 0).
    let gz = 0;
    for (const id of l.components) {
      const c = comps.get(id);
      const paths = c ? c.paths.filter((p) => d.byPath.has(p)) : l.paths;
      gz += (await measured(d, view, paths, 0)).gz!;
    }
    return { name: l.name, digest: `est:${layerKey(l.paths, d.byPath, d.hashes, times[i])}`, gz, components: l.components, paths: l.paths, contentKey };
  });
}

function reversed<T>(xs: T[]): T[] {
  return [...xs].reverse();
}

/** Best of three runs (the machine may be shared; the plan is the same each time). */
function timed<T>(f: () => T): [T, number] {
  let best = Infinity;
  let out: T | undefined;
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    out = f();
    best = Math.min(best, performance.now() - s);
  }
  return [out!, best];
}

const removeRpmdbTransients = (dir: string) => {
  // Querying an rpmdb (chunkah runs `rpm -qa`) leaves SQLite's -shm/-wal files behind; not image content.
  for (const f of ['rpmdb.sqlite-shm', 'rpmdb.sqlite-wal']) rmSync(join(dir, 'usr/lib/sysimage/rpm', f), { force: true });
};

async function measureVersion(version: string, flavor: 'deb' | 'rpm', previous: VersionData | undefined): Promise<VersionData> {
  const dir = join(opt.series, version, flavor);
  removeRpmdbTransients(dir);
  const view = new LocalRootfs(dir);
  let t = performance.now();
  const { entries } = await scanRootfs(view);
  const scanMs = performance.now() - t;
  const byPath = new Map(entries.map((e) => [e.path, e]));
  t = performance.now();
  const { components } = await buildComponents(view, entries);
  const componentsMs = performance.now() - t;
  t = performance.now();
  const hashes = await fileHashes(dir, `${flavor}-${version}`, entries.filter((e) => e.kind === 'file'));
  const hashMs = performance.now() - t;
  const epoch = Math.max(...components.flatMap((c) => (c.changeTime === undefined ? [] : [c.changeTime])));
  const sigs = new Map(components.map((c) => [c.id, layerKey(c.paths.filter((p) => byPath.has(p)), byPath, hashes, undefined)]));
  const d: VersionData = {
    version, flavor, dir, entries, byPath, hashes, components, sigs, epoch, layers: {}, sticky: new Map(),
    timing: { scanMs, componentsMs, hashMs, plan: {} }, packages: components.filter((c) => c.id.startsWith(`${flavor}:`)).length,
    determinism: { planReorder: {} }, planHashes: {},
  };

  const fingerprints = componentFingerprints(entries, components);
  for (const v of variants) {
    const input = { entries, components, maxLayers: MAX_LAYERS, now: epoch };
    const [fresh, freshMs] = timed(() => v.planner(input));
    // The previous plan goes through our label, as the frontend reads it back.
    const was = previous?.sticky.get(v.name);
    const prevPlan = was ? decodePlanLabel(encodePlanLabel(was.plan, was.fingerprints)) : undefined;
    const [sticky, stickyMs] = prevPlan ? timed(() => v.planner({ ...input, previous: prevPlan })) : [fresh, freshMs];
    // Determinism: the same input in another order gives the same plans.
    const rin = { ...input, entries: reversed(entries), components: reversed(components) };
    d.determinism.planReorder[v.name] = JSON.stringify(v.planner(rin)) === JSON.stringify(fresh)
      && (!prevPlan || JSON.stringify(v.planner({ ...rin, previous: prevPlan })) === JSON.stringify(sticky));
    d.timing.plan[v.name] = [freshMs, stickyMs];
    d.sticky.set(v.name, { plan: sticky, fingerprints });
    d.planHashes[`${v.name} fresh`] = createHash('sha256').update(JSON.stringify(fresh)).digest('hex');
    d.planHashes[`${v.name} sticky`] = createHash('sha256').update(JSON.stringify(sticky)).digest('hex');
    const est = opt.estimate;
    d.layers[`${v.name} fresh`] = await layersOf(d, view, fresh, layerTimes(fresh, components, epoch), est);
    d.layers[`${v.name} sticky`] = await layersOf(d, view, sticky, layerTimes(sticky, components, epoch), est);
    log(`${flavor} ${version} ${v.name}: ${fresh.layers.length}/${sticky.layers.length} layers planned in ${freshMs.toFixed(0)}/${stickyMs.toFixed(0)} ms, measured`);
  }
  const all: PlannedLayer = { name: 'single', components: components.map((c) => c.id), paths: entries.map((e) => e.path), size: 0 };
  const singlePlan = { layers: [all] };
  d.layers.single = await layersOf(d, view, singlePlan, layerTimes(singlePlan, components, epoch), false);
  log(`${flavor} ${version}: ${entries.length} entries, ${components.length} components, single layer measured`);

  if (flavor === 'rpm' && chunkahBin) {
    const out = join(CACHE, 'chunkah', version);
    const run = await runChunkah(chunkahBin, dir, out, { maxLayers: MAX_LAYERS, epoch, threads: JOBS });
    removeRpmdbTransients(dir);
    chunkahRuns.set(version, run);
    d.timing.chunkahS = run.seconds;
    d.layers.chunkah = await chunkahLayers(run, d);
    log(`${flavor} ${version}: chunkah ${run.layers.length} layers in ${run.seconds.toFixed(1)} s`);
    if (opt['chunkah-repeat'] && !chunkahRepeat) {
      const again = await runChunkah(chunkahBin, dir, `${out}-again`, { maxLayers: MAX_LAYERS, epoch, threads: JOBS });
      removeRpmdbTransients(dir);
      chunkahRepeat = { version, same: JSON.stringify(again.layers.map((l) => l.digest)) === JSON.stringify(run.layers.map((l) => l.digest)) };
      rmSync(`${out}-again`, { recursive: true, force: true });
    }
  }
  return d;
}

const chunkahRuns = new Map<string, ChunkahRun>();
let chunkahRepeat: { version: string; same: boolean } | undefined;

async function chunkahLayers(run: ChunkahRun, d: VersionData): Promise<LayerInfo[]> {
  return mapLimit(run.layers, JOBS, async (l) => {
    let gz = gzByDigest.get(`${LEVEL}:${l.digest}`);
    if (gz === undefined) {
      gz = await gzipFileSize(l.blob, LEVEL);
      gzByDigest.set(`${LEVEL}:${l.digest}`, gz);
    }
    // chunkah names components `rpm/<srpm>`; ours are `rpm:<srpm>`.
    const ids = l.components.map((n) => n.replace(/^rpm\//, 'rpm:'));
    const paths = (await listTar(l.blob)).map((e) => e.path).filter((p) => d.byPath.has(p));
    const name = l.components.length > 3 ? `${l.components.length} components` : l.components.join(' ');
    return { name, digest: l.digest, gz, components: ids, paths, contentKey: layerKey(paths, d.byPath, d.hashes, undefined) };
  });
}

/** Re-writes every layer of the default fresh plan without the cache and checks the digests. */
async function recomputeDigests(d: VersionData): Promise<boolean> {
  const view = new LocalRootfs(d.dir);
  const v = variants[0];
  const plan = v.planner({ entries: d.entries, components: d.components, maxLayers: MAX_LAYERS, now: d.epoch });
  const times = layerTimes(plan, d.components, d.epoch);
  const digests = await mapLimit(plan.layers, JOBS, async (l, i) => (await measureLayer(view, d.byPath, l, times[i], undefined)).digest);
  return JSON.stringify(digests) === JSON.stringify(d.layers[`${v.name} fresh`].map((l) => l.digest));
}

// ---------- pairs ----------
interface StrategyScore {
  download: number;
  reused: number;
  layers: number;
  /** Downloaded layers whose content is unchanged and only the file time moved. */
  mtimeOnly: number;
  /** gzip bytes of downloaded layers in proportion to their bytes in unchanged files. */
  unchangedShipped: number;
  /** gzip bytes of downloaded layers in proportion to their bytes in unchanged components (ours). */
  unchangedComponents: number;
  top: { name: string; gz: number; changed: string[]; unchangedRaw: number; raw: number; components: number }[];
}

interface PairResult {
  flavor: string;
  from: string;
  to: string;
  changedComponents: string[];
  removedComponents: number;
  floorComponents: number;
  floorFiles: number;
  changedFiles: number;
  scores: Record<string, StrategyScore>;
}

async function floorBytes(d: VersionData, paths: string[]): Promise<number> {
  if (paths.length === 0) return 0;
  return (await measured(d, new LocalRootfs(d.dir), [...new Set(paths)].sort(), d.epoch)).gz!;
}

/**
 * Scores one strategy on one pair. Waste is attributed by files: in every downloaded layer, the
 * share of its regular-file bytes that did not change (same path, metadata and content as in the
 * previous version) counts as "unchanged carried", scaled to the layer's gzip size.
 */
function score(prev: LayerInfo[], cur: LayerInfo[], changed: Set<string>, changedFiles: Set<string>, d: VersionData, ownerOf: Map<string, string>): StrategyScore {
  const old = new Set(prev.map((l) => l.digest));
  const oldContent = new Set(prev.map((l) => l.contentKey));
  const seen = new Set<string>();
  const s: StrategyScore = { download: 0, reused: 0, layers: cur.length, mtimeOnly: 0, unchangedShipped: 0, unchangedComponents: 0, top: [] };
  for (const l of cur) {
    const dup = seen.has(l.digest);
    seen.add(l.digest);
    if (old.has(l.digest)) { s.reused++; continue; }
    if (dup) continue;
    s.download += l.gz;
    if (oldContent.has(l.contentKey)) s.mtimeOnly += l.gz;
    let ch = 0;
    let un = 0;
    let unComp = 0;
    for (const p of l.paths) {
      const e = d.byPath.get(p);
      if (e?.kind !== 'file' || (e.linkGroup !== undefined && e.linkGroup !== p)) continue;
      if (changedFiles.has(p)) ch += e.size;
      else un += e.size;
      if (!changed.has(ownerOf.get(p) ?? '')) unComp += e.size;
    }
    if (ch + un > 0) {
      s.unchangedShipped += (l.gz * un) / (ch + un);
      s.unchangedComponents += (l.gz * unComp) / (ch + un);
    }
    s.top.push({ name: l.name, gz: l.gz, changed: l.components.filter((c) => changed.has(c)), unchangedRaw: un, raw: ch + un, components: l.components.length });
  }
  s.top.sort((a, b) => b.gz - a.gz);
  s.top = s.top.slice(0, 40);
  return s;
}

async function comparePair(prev: VersionData, cur: VersionData): Promise<PairResult> {
  const changed = cur.components.filter((c) => prev.sigs.get(c.id) !== cur.sigs.get(c.id));
  const changedSet = new Set(changed.map((c) => c.id));
  const removed = prev.components.filter((c) => !cur.sigs.has(c.id)).length;
  const floorComponents = await floorBytes(cur, changed.flatMap((c) => c.paths.filter((p) => cur.byPath.has(p))));
  const changedPaths = cur.entries.filter((e) => {
    const p = prev.byPath.get(e.path);
    return p === undefined || entryLine(p, prev.hashes.get(e.path)) !== entryLine(e, cur.hashes.get(e.path));
  }).map((e) => e.path);
  const floorFiles = await floorBytes(cur, changedPaths);
  const changedFiles = new Set(changedPaths);
  const ownerOf = new Map<string, string>();
  for (const c of cur.components) for (const p of c.paths) if (!ownerOf.has(p)) ownerOf.set(p, c.id);
  const scores: Record<string, StrategyScore> = {};
  for (const s of STRATEGIES) {
    if (prev.layers[s] && cur.layers[s]) scores[s] = score(prev.layers[s], cur.layers[s], changedSet, changedFiles, cur, ownerOf);
  }
  return {
    flavor: cur.flavor, from: prev.version, to: cur.version, changedComponents: changed.map((c) => c.id), removedComponents: removed,
    floorComponents, floorFiles, changedFiles: changedPaths.filter((p) => cur.byPath.get(p)!.kind === 'file').length, scores,
  };
}

// ---------- report ----------
const mib = (b: number) => (b / MiB).toFixed(1);
const pct = (a: number, b: number) => (b === 0 ? '–' : `${((100 * a) / b).toFixed(0)} %`);

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

function describeVariant(v: Variant): string {
  const diff = Object.fromEntries(Object.entries(v.tuning).filter(([k, x]) => JSON.stringify(x) !== JSON.stringify((DEFAULT_TUNING as unknown as Record<string, unknown>)[k])));
  const parts = [Object.keys(diff).length ? `tuning ${JSON.stringify(diff)}` : 'DEFAULT_TUNING'];
  if (v.module) parts.push(`planner from ${v.module}`);
  return `\`${v.name}\`: ${parts.join('; ')}`;
}

function report(pairs: PairResult[], vinfo: Map<string, VersionData[]>, runtimeS: number): string {
  const out: string[] = [];
  const cpu = cpus()[0]?.model ?? '?';
  const args = process.argv.slice(2).map((a) => (/[\s"{}]/.test(a) ? `'${a}'` : a)).join(' ');
  const cmdline = `${chunkahBin ? `CHUNKAH_BIN=${chunkahBin} ` : ''}node ${relative(REPO, process.argv[1])} ${args}`.trim();
  out.push('# Update-size benchmark: our planner vs chunkah on a real Debian release series', '');
  out.push('Generated by `bench/update-size.ts` (issue 6, parts 4–5); rerun the bench to update the tables. Analysis and proposals: at the end.', '');
  out.push(`- date: ${new Date().toISOString().slice(0, 10)}; machine: ${sh('uname', ['-srm'])}, ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`);
  const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  out.push(`- load average (1/5/15 min) at start ${la(loadAtStart)}, at end ${la(loadavg())} (the machine is shared: timings are indicative, byte counts are not affected)`);
  out.push(`- node ${process.version}; compose-frontend ${sh('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])} (+ working tree); chunkah ${chunkahRuns.size ? [...chunkahRuns.values()][0].version : 'not run'}; ${sh('rpm', ['--version'])}`);
  out.push(`- command: \`${cmdline}\`; runtime ${(runtimeS / 60).toFixed(1)} min${opt['no-cache'] ? ' (cold: --no-cache)' : ' (layer and hash caches of earlier runs used)'}`);
  out.push(`- max layers ${MAX_LAYERS} (ours and chunkah); every layer gzipped at level ${LEVEL} by node:zlib, chunkah's included; SOURCE_DATE_EPOCH = newest changelog entry of the version, for both tools${opt.estimate ? '; **--estimate**: variant layers sized as the sum of their components\' gzip sizes' : ''}`);
  out.push(`- planner variants: ${variants.map(describeVariant).join('; ')}`);
  out.push('- inputs: `bench/series/build-debian.sh` (Debian rootfs) and `bench/series/make-rpm.sh` (RPM twin: the same files, var/lib/dpkg replaced by an rpmdb at usr/lib/sysimage/rpm with one RPM per Debian source package, its version and changelog dates)');
  out.push('');
  out.push('## Series', '');
  out.push('| version | step | kernel | entries (deb) | file MiB | packages | SOURCE_DATE_EPOCH |', '| --- | --- | --- | ---: | ---: | ---: | --- |');
  const base = vinfo.get('deb') ?? vinfo.get('rpm')!;
  for (const d of base) {
    const step = readFileSync(join(opt.series, d.version, 'step.txt'), 'utf8').split('\n');
    const kernel = (step.find((l) => l.startsWith('kernel:')) ?? '').replace('kernel:', '').trim();
    const pk = (step.find((l) => l.startsWith('packages:')) ?? '').replace('packages:', '').trim();
    out.push(`| ${d.version} | ${step[0]} | ${kernel} | ${d.entries.length} | ${mib(d.components.reduce((s, c) => s + c.size, 0))} | ${pk} binary, ${d.packages} source | ${new Date(d.epoch * 1000).toISOString().slice(0, 10)} |`);
  }
  out.push('');
  const rpmTimes = base.map((d) => { try { return `${d.version}: ${readFileSync(join(opt.series, d.version, 'rpm.txt'), 'utf8').trim()}`; } catch { return ''; } }).filter((s) => s);
  if (rpmTimes.length) out.push(`RPM twin build times (make-rpm.sh, 2 rpmbuild jobs): ${rpmTimes.join('; ')}.`, '');

  for (const flavor of flavors) {
    const ps = pairs.filter((p) => p.flavor === flavor);
    if (!ps.length) continue;
    out.push(`## ${flavor === 'deb' ? 'Debian rootfs (dpkg components)' : 'RPM rootfs (rpmdb components)'}`, '');
    const cols = STRATEGIES.filter((c) => ps[0].scores[c]);
    const multi = cols.filter((c) => c !== 'single');
    const sum = (f: (p: PairResult) => number) => ps.reduce((a, p) => a + f(p), 0);
    const fc = sum((p) => p.floorComponents);
    const head = `| ${ps.map((p) => `${p.from}→${p.to}`).join(' | ')} |`;
    const rule = `| ${ps.map(() => '---:').join(' | ')} |`;
    out.push('Download: gzip MiB of the layers whose digest the client does not have yet.', '');
    out.push(`| strategy ${head} Σ |`, `| --- ${rule} ---: |`);
    out.push(`| (components changed) | ${ps.map((p) => p.changedComponents.length).join(' | ')} |  |`);
    out.push(`| floor: changed files | ${ps.map((p) => mib(p.floorFiles)).join(' | ')} | ${mib(sum((p) => p.floorFiles))} |`);
    out.push(`| floor: changed components | ${ps.map((p) => mib(p.floorComponents)).join(' | ')} | ${mib(fc)} |`);
    for (const c of cols) out.push(`| ${c} | ${ps.map((p) => mib(p.scores[c].download)).join(' | ')} | ${mib(sum((p) => p.scores[c].download))} |`);
    out.push('');
    out.push('Download ÷ component floor; over the series as Σ download ÷ Σ floor and as the mean of the per-pair ratios:', '');
    out.push(`| strategy ${head} Σ ratio | mean ratio |`, `| --- ${rule} ---: | ---: |`);
    for (const c of cols) {
      const r = ps.map((p) => p.scores[c].download / Math.max(1, p.floorComponents));
      out.push(`| ${c} | ${r.map((x) => x.toFixed(2)).join(' | ')} | ${(sum((p) => p.scores[c].download) / fc).toFixed(2)} | ${(r.reduce((a, b) => a + b, 0) / r.length).toFixed(2)} |`);
    }
    out.push('');
    out.push('Layers of the new image the client already has (reused / layers):', '');
    out.push(`| strategy ${head} all pairs |`, `| --- ${rule} ---: |`);
    for (const c of multi) out.push(`| ${c} | ${ps.map((p) => `${p.scores[c].reused}/${p.scores[c].layers}`).join(' | ')} | ${pct(sum((p) => p.scores[c].reused), sum((p) => p.scores[c].layers))} |`);
    out.push('');
    const ck = cols.includes('chunkah');
    for (const s of cols.filter((c) => c !== 'single' && c !== 'chunkah')) {
      const ratio = sum((p) => p.scores[s].download) / fc;
      const mean = ps.reduce((a, p) => a + p.scores[s].download / Math.max(1, p.floorComponents), 0) / ps.length;
      const worse = ck ? ps.filter((p) => p.scores[s].download > p.scores.chunkah.download) : [];
      out.push(`- **${s}**: ${ck ? `≤ chunkah on ${ps.length - worse.length}/${ps.length} pairs${worse.length ? ` (worse on ${worse.map((p) => `${p.from}→${p.to} by ${mib(p.scores[s].download - p.scores.chunkah.download)} MiB`).join(', ')})` : ''}; ` : ''}Σ download ÷ Σ floor ${ratio.toFixed(3)}, mean ratio ${mean.toFixed(3)} (target ≤ 1.1: ${ratio <= 1.1 && mean <= 1.1 ? 'met' : ratio <= 1.1 ? 'met on Σ, missed on the mean' : 'MISSED'})`);
    }
    out.push('');
    out.push('Where the bytes above the floors go: "unchanged components" / "unchanged files" = gzip bytes of the downloaded layers in proportion to their bytes in components (ours, also for chunkah\'s layers) / files that did not change; the first is what packing can save, the second includes the unchanged files of changed packages; "mtime only" = downloaded layers whose content did not change, only their file time (SOURCE_DATE_EPOCH moved); biggest downloaded layers as gzip MiB (changed / all components):', '');
    out.push('| pair | strategy | download | unchanged components | unchanged files | mtime only | biggest downloaded layers |', '| --- | --- | ---: | ---: | ---: | ---: | --- |');
    const last = variants.at(-1)!.name;
    const shown = multi.filter((c) => c === 'chunkah' || c === 'ours fresh' || c === 'ours sticky' || c === `${last} sticky`);
    for (const p of ps) {
      for (const c of shown) {
        const s = p.scores[c];
        const top = s.top.slice(0, 4).map((t) => `${t.name.length > 36 ? `${t.name.slice(0, 36)}…` : t.name} ${mib(t.gz)} (${t.changed.length}/${t.components})`).join('; ');
        out.push(`| ${p.from}→${p.to} | ${c} | ${mib(s.download)} | ${mib(s.unchangedComponents)} | ${mib(s.unchangedShipped)} | ${mib(s.mtimeOnly)} | ${top} |`);
      }
    }
    out.push('');
  }

  out.push('## Planning time and determinism', '');
  out.push('Plan times are the best of three runs; "same plan" = the planner given the entries and components in reverse order returns the identical plan (fresh and sticky); the last version\'s default fresh plan is also rewritten without any cache and its layer digests compared.', '');
  out.push(`| flavor | version | entries | components | scan ms | components ms | ${variants.map((v) => `${v.name} plan ms fresh / sticky (per 100k entries)`).join(' | ')} | same plan | chunkah s |`);
  out.push(`| --- | --- | ---: | ---: | ---: | ---: | ${variants.map(() => '---:').join(' | ')} | --- | ---: |`);
  for (const [flavor, ds] of vinfo) {
    for (const d of ds) {
      const per = (ms: number) => ((ms * 1e5) / d.entries.length).toFixed(0);
      const plans = variants.map((v) => { const [f, s] = d.timing.plan[v.name]; return `${f.toFixed(0)} / ${s.toFixed(0)} (${per(f)} / ${per(s)})`; });
      const same = Object.values(d.determinism.planReorder).every((x) => x) ? 'yes' : '**NO**';
      const dig = d.determinism.digestsRecomputed === undefined ? '' : d.determinism.digestsRecomputed ? '; digests rewritten: same' : '; digests rewritten: **DIFFER**';
      out.push(`| ${flavor} | ${d.version} | ${d.entries.length} | ${d.components.length} | ${d.timing.scanMs.toFixed(0)} | ${d.timing.componentsMs.toFixed(0)} | ${plans.join(' | ')} | ${same}${dig} | ${d.timing.chunkahS?.toFixed(1) ?? ''} |`);
    }
  }
  if (chunkahRepeat) out.push('', `chunkah run twice on ${chunkahRepeat.version} (rpm): ${chunkahRepeat.same ? 'same layer digests' : '**different layer digests**'}.`);
  const syn = syntheticPlanning();
  out.push('', `Planning at scale (synthetic rootfs, ${syn.entries} entries in ${syn.components} components, ${MAX_LAYERS} layers, best of three): ${syn.rows.map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`).join('; ')}.`);
  out.push('');
  return out.join('\n');
}

// ---------- planning time at scale ----------
/**
 * The planner on a synthetic rootfs of 100k entries in 2000 components (50 entries each, rates 0–39
 * a year): fresh, and given its own plan with 0–100 % of the fingerprints changed (best of three).
 */
function syntheticPlanning(): { entries: number; components: number; rows: [string, number][] } {
  const dir = (path: string): FsEntry => ({ path, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
  const entries: FsEntry[] = [dir('usr'), dir('usr/share')];
  const components: Component[] = [];
  for (let c = 0; c < 2000; c++) {
    const paths = [`usr/share/p${c}`];
    entries.push(dir(paths[0]));
    for (let f = 0; f < 49; f++) {
      const path = `usr/share/p${c}/f${f}`;
      entries.push({ path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 1000 + ((c * 7919 + f * 104729) % 100000) });
      paths.push(path);
    }
    components.push({ id: `rpm:p${c}`, paths, size: 0, changeFrequency: c % 40 });
  }
  const planner = variants[0].planner;
  const input = { entries, components, maxLayers: MAX_LAYERS, now: 1_700_000_000 };
  const [plan, fresh] = timed(() => planner(input));
  const fps = componentFingerprints(entries, components);
  const rows: [string, number][] = [['fresh', fresh]];
  for (const share of [0, 0.1, 0.5, 0.75, 1]) {
    const fingerprints = Object.fromEntries([...fps].map(([k, v], i) => [k, i % 100 < share * 100 ? '00000000' : v]));
    const previous = { layers: plan.layers.map((l) => ({ name: l.name, components: l.components })), fingerprints };
    rows.push([`previous plan, ${share * 100} % of the components changed`, timed(() => planner({ ...input, previous }))[1]]);
  }
  return { entries: entries.length, components: components.length, rows };
}

// ---------- main ----------
const t0 = performance.now();
const loadAtStart = loadavg();
const pairs: PairResult[] = [];
const vinfo = new Map<string, VersionData[]>();
for (const flavor of flavors) {
  let prev: VersionData | undefined;
  const list: VersionData[] = [];
  for (const v of versions) {
    const d = await measureVersion(v, flavor, prev);
    if (v === versions.at(-1) && !opt.estimate) d.determinism.digestsRecomputed = await recomputeDigests(d);
    if (prev) {
      const p = await comparePair(prev, d);
      pairs.push(p);
      log(`${flavor} ${prev.version}→${v}: floor files ${mib(p.floorFiles)}, floor comps ${mib(p.floorComponents)}, ${Object.entries(p.scores).map(([s, x]) => `${s} ${mib(x.download)}`).join(', ')} MiB`);
    }
    list.push(d);
    prev = d;
    saveCache();
  }
  vinfo.set(flavor, list);
}
const runtimeS = (performance.now() - t0) / 1000;
// The hand-written analysis below the marker survives a rerun.
const MARKER = '<!-- analysis: kept by bench/update-size.ts across reruns -->';
const kept = existsSync(opt.out) ? readFileSync(opt.out, 'utf8') : '';
const md = report(pairs, vinfo, runtimeS) + (kept.includes(MARKER) ? `\n${kept.slice(kept.indexOf(MARKER))}` : `\n${MARKER}\n`);
mkdirSync(dirname(opt.out), { recursive: true });
writeFileSync(opt.out, md);
mkdirSync(dirname(opt.json), { recursive: true });
// Plans and layer digests of every version, to compare two runs (identical input → identical output).
const outputs = [...vinfo].flatMap(([flavor, ds]) => ds.map((d) => ({
  flavor, version: d.version, plans: d.planHashes, digests: Object.fromEntries(Object.entries(d.layers).map(([k, ls]) => [k, ls.map((l) => l.digest)])),
})));
writeFileSync(opt.json, JSON.stringify({ variants: variants.map((v) => ({ name: v.name, tuning: v.tuning })), maxLayers: MAX_LAYERS, gzipLevel: LEVEL, estimate: opt.estimate, pairs, outputs }, null, 1));
console.log(md);
