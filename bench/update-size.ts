// Update-size benchmark on a real release series (issue 6, parts 4–5): for every consecutive pair of
// rootfs versions, the bytes a client downloads to update (gzip size of every layer whose digest it
// does not have yet) and the layers it reuses, for
//   single   one layer with everything
//   floor-c  the component floor: every component whose content changed, in one gzip stream
//   floor-f  the changed-files floor: every entry that is new or differs, in one gzip stream
//   chunkah  coreos/chunkah built from source (CHUNKAH_BIN), RPM rootfs only, no previous image
//   fresh    our planner without history
//   sticky   our planner given the previous version's plan, read back from our plan label
// on the Debian rootfs (dpkg) and its RPM twin (bench/series/make-rpm.sh). Layers are the plain
// layers our frontend writes (src/oci/plain-layer.ts) with its file times (layerTimes:
// min(SOURCE_DATE_EPOCH, newest change time of the layer's components)); chunkah's uncompressed
// layers are gzipped with the same settings, so compression never favours one side.
// SOURCE_DATE_EPOCH of a version = its newest package change (newest changelog entry).
//
//   bench/series/build-debian.sh && bench/series/make-rpm.sh        # inputs, once (~25 min)
//   CHUNKAH_BIN=/var/tmp/chunkah-build/src/target/release/chunkah \
//     node bench/update-size.ts [--series DIR] [--versions v1,v2,…] [--flavors deb,rpm]
//       [--max-layers 64] [--gzip-level 6] [--tuning JSON] [--no-chunkah] [--chunkah-repeat]
//       [--out docs/update-size.md] [--json FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildComponents } from '../src/chunking/components/index.ts';
import { componentFingerprints } from '../src/chunking/fingerprint.ts';
import { makePackPlanner } from '../src/chunking/pack.ts';
import { decodePlanLabel, encodePlanLabel } from '../src/chunking/plan-label.ts';
import { DEFAULT_TUNING, type PackTuning } from '../src/chunking/stability.ts';
import type { Component, LayerPlan, PlannedLayer, PreviousPlan } from '../src/chunking/types.ts';
import { layerTimes } from '../src/frontend/build.ts';
import { LocalRootfs } from '../src/rootfs/local.ts';
import { scanRootfs } from '../src/rootfs/scan.ts';
import type { FsEntry } from '../src/rootfs/types.ts';
import { runChunkah, type ChunkahRun } from './lib/chunkah.ts';
import { entryLine, gzipFileSize, hashFile, layerKey, mapLimit, measureLayer, type LayerBytes } from './lib/layer-bytes.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..');
const MiB = 1024 * 1024;

const { values: opt } = parseArgs({
  options: {
    series: { type: 'string', default: join(REPO, '.cache', 'bench', 'series') },
    versions: { type: 'string' },
    flavors: { type: 'string', default: 'deb,rpm' },
    'max-layers': { type: 'string', default: '64' },
    'gzip-level': { type: 'string', default: '6' },
    tuning: { type: 'string' },
    'no-chunkah': { type: 'boolean', default: false },
    'chunkah-repeat': { type: 'boolean', default: false },
    out: { type: 'string', default: join(REPO, 'docs', 'update-size.md') },
    json: { type: 'string', default: join(REPO, '.cache', 'bench', 'update-size', 'results.json') },
    jobs: { type: 'string', default: String(Math.max(2, cpus().length)) },
  },
});
const MAX_LAYERS = Number(opt['max-layers']);
const LEVEL = Number(opt['gzip-level']);
const JOBS = Number(opt.jobs);
const tuning: PackTuning = { ...DEFAULT_TUNING, ...(opt.tuning ? JSON.parse(opt.tuning) : {}) };
const planner = makePackPlanner(tuning);
const chunkahBin = opt['no-chunkah'] ? undefined : process.env.CHUNKAH_BIN;
if (!opt['no-chunkah'] && !chunkahBin) {
  console.error('CHUNKAH_BIN is not set: point it at a chunkah binary built from coreos/chunkah, or pass --no-chunkah');
  process.exit(2);
}
const versions = opt.versions?.split(',') ?? readdirSync(opt.series).filter((d) => /^v\d+$/.test(d) && existsSync(join(opt.series, d, '.done'))).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
const flavors = opt.flavors.split(',') as ('deb' | 'rpm')[];
const log = (s: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${s}`);

// ---------- per-version measurement ----------
type Strategy = 'single' | 'chunkah' | 'fresh' | 'sticky';
const STRATEGIES: Strategy[] = ['single', 'chunkah', 'fresh', 'sticky'];

interface LayerInfo {
  name: string;
  digest: string;
  gz: number;
  /** Sum of regular-file bytes (uncompressed content). */
  raw: number;
  components: string[];
  /** Content key without the file time (tells a layer that changed only by its mtime). */
  contentKey?: string;
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
  layers: Partial<Record<Strategy, LayerInfo[]>>;
  stickyPlan: LayerPlan;
  fingerprints: Map<string, string>;
  timing: { scanMs: number; componentsMs: number; hashMs: number; freshMs: number; stickyMs: number; chunkahS?: number };
  packages: number;
  determinism: { planReorder: boolean; digestsRecomputed?: boolean };
}

/** Compressed size and digest per layer content key, for the whole run. */
const layerCache = new Map<string, LayerBytes>();
const gzByDigest = new Map<string, number>();

async function layersOf(d: Pick<VersionData, 'dir' | 'byPath' | 'hashes' | 'components' | 'epoch'>, view: LocalRootfs, plan: LayerPlan, times: number[]): Promise<LayerInfo[]> {
  return mapLimit(plan.layers, JOBS, async (l, i) => {
    const key = layerKey(l.paths, d.byPath, d.hashes, times[i]);
    let b = layerCache.get(key);
    if (!b) {
      b = await measureLayer(view, d.byPath, l, times[i], LEVEL);
      layerCache.set(key, b);
      gzByDigest.set(b.digest, b.gz!);
    }
    return { name: l.name, digest: b.digest, gz: b.gz!, raw: l.size, components: l.components, contentKey: layerKey(l.paths, d.byPath, d.hashes, undefined) };
  });
}

function componentSigs(components: Component[], byPath: Map<string, FsEntry>, hashes: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of components) out.set(c.id, layerKey(c.paths, byPath, hashes, undefined));
  return out;
}

function reversedInput<T>(xs: T[]): T[] {
  return [...xs].reverse();
}

async function measureVersion(version: string, flavor: 'deb' | 'rpm', previous: VersionData | undefined): Promise<VersionData> {
  const dir = join(opt.series, version, flavor);
  // Querying an rpmdb (chunkah runs `rpm -qa`) leaves SQLite's transient -shm/-wal files behind;
  // they are not part of the image.
  for (const f of ['rpmdb.sqlite-shm', 'rpmdb.sqlite-wal']) rmSync(join(dir, 'usr/lib/sysimage/rpm', f), { force: true });
  const view = new LocalRootfs(dir);
  let t = performance.now();
  const { entries } = await scanRootfs(view);
  const scanMs = performance.now() - t;
  const byPath = new Map(entries.map((e) => [e.path, e]));
  t = performance.now();
  const { components } = await buildComponents(view, entries);
  const componentsMs = performance.now() - t;
  t = performance.now();
  const files = entries.filter((e) => e.kind === 'file');
  const hashList = await mapLimit(files, 16, (e) => hashFile(join(dir, e.path)));
  const hashes = new Map(files.map((e, i) => [e.path, hashList[i]]));
  const hashMs = performance.now() - t;
  const epoch = Math.max(...components.flatMap((c) => (c.changeTime === undefined ? [] : [c.changeTime])));
  const sigs = componentSigs(components, byPath, hashes);
  const packages = components.filter((c) => c.id.startsWith(`${flavor}:`)).length;

  // Plans. The previous plan goes through our label, as the frontend reads it back.
  t = performance.now();
  const fresh = planner({ entries, components, maxLayers: MAX_LAYERS, now: epoch });
  const freshMs = performance.now() - t;
  let prevPlan: PreviousPlan | undefined;
  if (previous) prevPlan = decodePlanLabel(encodePlanLabel(previous.stickyPlan, previous.fingerprints));
  t = performance.now();
  const sticky = prevPlan ? planner({ entries, components, maxLayers: MAX_LAYERS, now: epoch, previous: prevPlan }) : fresh;
  const stickyMs = prevPlan ? performance.now() - t : freshMs;

  // Determinism: the same input in another order gives the same plan.
  const again = planner({ entries: reversedInput(entries), components: reversedInput(components), maxLayers: MAX_LAYERS, now: epoch });
  const againSticky = prevPlan ? planner({ entries: reversedInput(entries), components: reversedInput(components), maxLayers: MAX_LAYERS, now: epoch, previous: prevPlan }) : sticky;
  const planReorder = JSON.stringify(again) === JSON.stringify(fresh) && JSON.stringify(againSticky) === JSON.stringify(sticky);

  const d: VersionData = {
    version, flavor, dir, entries, byPath, hashes, components, sigs, epoch, layers: {}, stickyPlan: sticky,
    fingerprints: componentFingerprints(entries, components),
    timing: { scanMs, componentsMs, hashMs, freshMs, stickyMs }, packages, determinism: { planReorder },
  };
  log(`${flavor} ${version}: ${entries.length} entries, ${components.length} components, plan ${fresh.layers.length}/${sticky.layers.length} layers in ${freshMs.toFixed(0)}/${stickyMs.toFixed(0)} ms`);
  d.layers.fresh = await layersOf(d, view, fresh, layerTimes(fresh, components, epoch));
  d.layers.sticky = await layersOf(d, view, sticky, layerTimes(sticky, components, epoch));
  const all: PlannedLayer = { name: 'single', components: components.map((c) => c.id), paths: entries.map((e) => e.path), size: components.reduce((s, c) => s + c.size, 0) };
  const singlePlan = { layers: [all] };
  d.layers.single = await layersOf(d, view, singlePlan, layerTimes(singlePlan, components, epoch));
  log(`${flavor} ${version}: layers measured`);

  if (flavor === 'rpm' && chunkahBin) {
    const out = join(REPO, '.cache', 'bench', 'update-size', 'chunkah', version);
    const run = await runChunkah(chunkahBin, dir, out, { maxLayers: MAX_LAYERS, epoch, threads: JOBS });
    for (const f of ['rpmdb.sqlite-shm', 'rpmdb.sqlite-wal']) rmSync(join(dir, 'usr/lib/sysimage/rpm', f), { force: true });
    chunkahRuns.set(version, run);
    d.timing.chunkahS = run.seconds;
    d.layers.chunkah = await chunkahLayers(run, components);
    log(`${flavor} ${version}: chunkah ${run.layers.length} layers in ${run.seconds.toFixed(1)} s`);
    if (opt['chunkah-repeat'] && !chunkahRepeat) {
      const again2 = await runChunkah(chunkahBin, dir, `${out}-again`, { maxLayers: MAX_LAYERS, epoch, threads: JOBS });
      for (const f of ['rpmdb.sqlite-shm', 'rpmdb.sqlite-wal']) rmSync(join(dir, 'usr/lib/sysimage/rpm', f), { force: true });
      chunkahRepeat = { version, same: JSON.stringify(again2.layers.map((l) => l.digest)) === JSON.stringify(run.layers.map((l) => l.digest)) };
      rmSync(`${out}-again`, { recursive: true, force: true });
    }
  }
  return d;
}

const chunkahRuns = new Map<string, ChunkahRun>();
let chunkahRepeat: { version: string; same: boolean } | undefined;

async function chunkahLayers(run: ChunkahRun, components: Component[]): Promise<LayerInfo[]> {
  const size = new Map(components.map((c) => [c.id, c.size]));
  return mapLimit(run.layers, JOBS, async (l) => {
    let gz = gzByDigest.get(l.digest);
    if (gz === undefined) {
      gz = await gzipFileSize(l.blob, LEVEL);
      gzByDigest.set(l.digest, gz);
    }
    // chunkah names components `rpm/<srpm>`; ours are `rpm:<srpm>`.
    const ids = l.components.map((n) => n.replace(/^rpm\//, 'rpm:'));
    return { name: l.components.length > 3 ? `${l.components.length} components` : l.components.join(' '), digest: l.digest, gz, raw: ids.reduce((s, id) => s + (size.get(id) ?? 0), 0), components: ids };
  });
}

/** Re-writes every layer of one plan without the cache and checks the digests. */
async function recomputeDigests(d: VersionData): Promise<boolean> {
  const view = new LocalRootfs(d.dir);
  const plan = planner({ entries: d.entries, components: d.components, maxLayers: MAX_LAYERS, now: d.epoch });
  const times = layerTimes(plan, d.components, d.epoch);
  const digests = await mapLimit(plan.layers, JOBS, async (l, i) => (await measureLayer(view, d.byPath, l, times[i], undefined)).digest);
  return JSON.stringify(digests) === JSON.stringify(d.layers.fresh!.map((l) => l.digest));
}

// ---------- pairs ----------
interface StrategyScore {
  download: number;
  reused: number;
  layers: number;
  imageGz: number;
  /** Downloaded layers whose content is unchanged and only the file time moved. */
  mtimeOnly: number;
  /** Estimated gzip bytes of unchanged components inside downloaded layers. */
  unchangedShipped: number;
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
  scores: Partial<Record<Strategy, StrategyScore>>;
}

async function floorBytes(d: VersionData, paths: string[]): Promise<number> {
  if (paths.length === 0) return 0;
  const layer: PlannedLayer = { name: 'floor', components: [], paths: [...new Set(paths)].sort(), size: 0 };
  return (await measureLayer(new LocalRootfs(d.dir), d.byPath, layer, d.epoch, LEVEL)).gz!;
}

function score(prev: LayerInfo[] | undefined, cur: LayerInfo[] | undefined, changed: Set<string>, compSize: Map<string, number>): StrategyScore | undefined {
  if (!prev || !cur) return undefined;
  const old = new Set(prev.map((l) => l.digest));
  const oldContent = new Set(prev.map((l) => l.contentKey).filter((k) => k !== undefined));
  const seen = new Set<string>();
  const s: StrategyScore = { download: 0, reused: 0, layers: cur.length, imageGz: 0, mtimeOnly: 0, unchangedShipped: 0, top: [] };
  for (const l of cur) {
    const dup = seen.has(l.digest);
    seen.add(l.digest);
    if (!dup) s.imageGz += l.gz;
    if (old.has(l.digest)) { s.reused++; continue; }
    if (dup) continue;
    s.download += l.gz;
    if (l.contentKey !== undefined && oldContent.has(l.contentKey)) s.mtimeOnly += l.gz;
    const ch = l.components.filter((c) => changed.has(c));
    const unchangedRaw = l.components.filter((c) => !changed.has(c)).reduce((a, c) => a + (compSize.get(c) ?? 0), 0);
    const raw = l.components.reduce((a, c) => a + (compSize.get(c) ?? 0), 0);
    if (raw > 0) s.unchangedShipped += (l.gz * unchangedRaw) / raw;
    s.top.push({ name: l.name, gz: l.gz, changed: ch, unchangedRaw, raw, components: l.components.length });
  }
  s.top.sort((a, b) => b.gz - a.gz);
  s.top = s.top.slice(0, 40);
  return s;
}

async function comparePair(prev: VersionData, cur: VersionData): Promise<PairResult> {
  const changed = cur.components.filter((c) => prev.sigs.get(c.id) !== cur.sigs.get(c.id));
  const changedSet = new Set(changed.map((c) => c.id));
  const removed = prev.components.filter((c) => !cur.sigs.has(c.id)).length;
  const floorComponents = await floorBytes(cur, changed.flatMap((c) => c.paths));
  const changedPaths = cur.entries.filter((e) => {
    const p = prev.byPath.get(e.path);
    return p === undefined || entryLine(p, prev.hashes.get(e.path)) !== entryLine(e, cur.hashes.get(e.path));
  }).map((e) => e.path);
  const floorFiles = await floorBytes(cur, changedPaths);
  const compSize = new Map(cur.components.map((c) => [c.id, c.size]));
  const scores: PairResult['scores'] = {};
  for (const s of STRATEGIES) {
    const r = score(prev.layers[s], cur.layers[s], changedSet, compSize);
    if (r) scores[s] = r;
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

function report(pairs: PairResult[], vinfo: Map<string, VersionData[]>, runtimeS: number): string {
  const out: string[] = [];
  const cpu = cpus()[0]?.model ?? '?';
  const cmdline = `${chunkahBin ? `CHUNKAH_BIN=${chunkahBin} ` : ''}node ${relative(REPO, process.argv[1])} ${process.argv.slice(2).join(' ')}`.trim();
  out.push('# Update-size benchmark: our planner vs chunkah on a real Debian release series', '');
  out.push('Generated by `bench/update-size.ts` (issue 6, parts 4–5). Do not edit by hand; rerun the bench.', '');
  out.push(`- date: ${new Date().toISOString().slice(0, 10)}; machine: ${sh('uname', ['-srm'])}, ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`);
  out.push(`- node ${process.version}; compose-frontend ${sh('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])} (+ working tree); ${chunkahRuns.size ? `chunkah: \`${[...chunkahRuns.values()][0].version}\`` : 'chunkah: not run'}${process.env.CHUNKAH_REF ? ` (${process.env.CHUNKAH_REF})` : ''}; ${sh('rpm', ['--version'])}`);
  out.push(`- command: \`${cmdline}\`; total runtime ${(runtimeS / 60).toFixed(1)} min`);
  out.push(`- max layers ${MAX_LAYERS} (ours and chunkah); gzip level ${LEVEL} (node:zlib) for every layer, chunkah's included; tuning ${JSON.stringify(tuning) === JSON.stringify(DEFAULT_TUNING) ? 'DEFAULT_TUNING' : `\`${JSON.stringify(tuning)}\``}`);
  out.push('- inputs: `bench/series/build-debian.sh` (Debian rootfs) and `bench/series/make-rpm.sh` (RPM twin: same files, rpmdb at usr/lib/sysimage/rpm, one RPM per Debian source package with its version and changelog dates)');
  out.push('');
  out.push('## Series', '');
  out.push('| version | step | kernel | entries | files MiB | packages (deb) | SOURCE_DATE_EPOCH |', '| --- | --- | --- | ---: | ---: | ---: | --- |');
  const debs = vinfo.get('deb') ?? vinfo.get('rpm')!;
  for (const d of debs) {
    const step = readFileSync(join(opt.series, d.version, 'step.txt'), 'utf8').split('\n');
    const kernel = (step.find((l) => l.startsWith('kernel:')) ?? '').replace('kernel:', '').trim();
    const pk = (step.find((l) => l.startsWith('packages:')) ?? '').replace('packages:', '').trim();
    out.push(`| ${d.version} | ${step[0]} | ${kernel} | ${d.entries.length} | ${mib(d.components.reduce((s, c) => s + c.size, 0))} | ${pk} bin / ${d.packages} src | ${new Date(d.epoch * 1000).toISOString().slice(0, 10)} |`);
  }
  out.push('');
  const rpmTimes = debs.map((d) => { try { return `${d.version}: ${readFileSync(join(opt.series, d.version, 'rpm.txt'), 'utf8').trim()}`; } catch { return ''; } }).filter((s) => s);
  if (rpmTimes.length) out.push('RPM twin build (make-rpm.sh): ' + rpmTimes.join('; '), '');

  for (const flavor of flavors) {
    const ps = pairs.filter((p) => p.flavor === flavor);
    if (!ps.length) continue;
    out.push(`## ${flavor === 'deb' ? 'Debian rootfs (dpkg components)' : 'RPM rootfs (rpmdb components)'}`, '');
    out.push('Download = gzip MiB of the layers whose digest the client lacks; reused = layers of the new image it already has.', '');
    const cols = STRATEGIES.filter((s) => ps[0].scores[s]);
    out.push(`| pair | changed comps | floor files | floor comps | ${cols.map((c) => `${c} MiB`).join(' | ')} | ${cols.filter((c) => c !== 'single').map((c) => `${c} reused`).join(' | ')} |`);
    out.push(`| --- | ---: | ---: | ---: | ${cols.map(() => '---:').join(' | ')} | ${cols.filter((c) => c !== 'single').map(() => '---:').join(' | ')} |`);
    for (const p of ps) {
      out.push(`| ${p.from}→${p.to} | ${p.changedComponents.length} | ${mib(p.floorFiles)} | ${mib(p.floorComponents)} | ${cols.map((c) => mib(p.scores[c]!.download)).join(' | ')} | ${cols.filter((c) => c !== 'single').map((c) => `${p.scores[c]!.reused}/${p.scores[c]!.layers}`).join(' | ')} |`);
    }
    const sum = (f: (p: PairResult) => number) => ps.reduce((a, p) => a + f(p), 0);
    const fc = sum((p) => p.floorComponents);
    out.push(`| **sum** |  | ${mib(sum((p) => p.floorFiles))} | ${mib(fc)} | ${cols.map((c) => mib(sum((p) => p.scores[c]!.download))).join(' | ')} | ${cols.filter((c) => c !== 'single').map((c) => pct(sum((p) => p.scores[c]!.reused), sum((p) => p.scores[c]!.layers))).join(' | ')} |`);
    out.push('');
    out.push('Ratios (download ÷ component floor, per pair, then over the series = Σ download ÷ Σ floor, and the mean of the per-pair ratios):', '');
    out.push(`| strategy | ${ps.map((p) => `${p.from}→${p.to}`).join(' | ')} | Σ ratio | mean ratio |`, `| --- | ${ps.map(() => '---:').join(' | ')} | ---: | ---: |`);
    for (const c of cols) {
      const r = ps.map((p) => p.scores[c]!.download / Math.max(1, p.floorComponents));
      out.push(`| ${c} | ${r.map((x) => x.toFixed(2)).join(' | ')} | ${(sum((p) => p.scores[c]!.download) / fc).toFixed(2)} | ${(r.reduce((a, b) => a + b, 0) / r.length).toFixed(2)} |`);
    }
    out.push('');
    // Targets.
    const ck = cols.includes('chunkah');
    for (const s of ['fresh', 'sticky'] as const) {
      const ratio = sum((p) => p.scores[s]!.download) / fc;
      const worse = ck ? ps.filter((p) => p.scores[s]!.download > p.scores.chunkah!.download) : [];
      out.push(`- **${s}**: ${ck ? `≤ chunkah on ${ps.length - worse.length}/${ps.length} pairs${worse.length ? ` (worse on ${worse.map((p) => `${p.from}→${p.to} by ${mib(p.scores[s]!.download - p.scores.chunkah!.download)} MiB`).join(', ')})` : ''}; ` : ''}Σ download ÷ Σ component floor = ${ratio.toFixed(3)} (target ≤ 1.1: ${ratio <= 1.1 ? 'met' : 'MISSED'})`);
    }
    out.push('');
    out.push('Where the bytes above the floor go (downloaded layers; "unchanged" = gzip bytes estimated for the unchanged components they carry; "mtime only" = layers whose content is unchanged but whose file time moved with SOURCE_DATE_EPOCH):', '');
    out.push('| pair | strategy | download | unchanged carried | mtime only | biggest downloaded layers (gzip MiB: changed / all components) |', '| --- | --- | ---: | ---: | ---: | --- |');
    for (const p of ps) {
      for (const c of cols.filter((x) => x !== 'single')) {
        const s = p.scores[c]!;
        const top = s.top.slice(0, 4).map((t) => `${t.name.length > 40 ? `${t.name.slice(0, 40)}…` : t.name} ${mib(t.gz)} (${t.changed.length}/${t.components}${t.changed.length && t.changed.length <= 2 ? `: ${t.changed.join(', ')}` : ''})`).join('; ');
        out.push(`| ${p.from}→${p.to} | ${c} | ${mib(s.download)} | ${mib(s.unchangedShipped)} | ${mib(s.mtimeOnly)} | ${top} |`);
      }
    }
    out.push('');
  }

  out.push('## Planning time and determinism', '');
  out.push('| flavor | version | entries | components | scan ms | components ms | plan ms (fresh / sticky) | ms per 100k entries (fresh / sticky) | reordered input → same plan | chunkah s |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
  for (const [flavor, ds] of vinfo) {
    for (const d of ds) {
      const per = (ms: number) => ((ms * 1e5) / d.entries.length).toFixed(0);
      out.push(`| ${flavor} | ${d.version} | ${d.entries.length} | ${d.components.length} | ${d.timing.scanMs.toFixed(0)} | ${d.timing.componentsMs.toFixed(0)} | ${d.timing.freshMs.toFixed(0)} / ${d.timing.stickyMs.toFixed(0)} | ${per(d.timing.freshMs)} / ${per(d.timing.stickyMs)} | ${d.determinism.planReorder ? 'yes' : '**NO**'}${d.determinism.digestsRecomputed === undefined ? '' : d.determinism.digestsRecomputed ? '; digests rewritten uncached: same' : '; digests rewritten uncached: **DIFFER**'} | ${d.timing.chunkahS?.toFixed(1) ?? ''} |`);
    }
  }
  if (chunkahRepeat) out.push('', `chunkah run twice on ${chunkahRepeat.version}: ${chunkahRepeat.same ? 'same layer digests' : '**different layer digests**'}.`);
  out.push('');
  return out.join('\n');
}

// ---------- main ----------
const t0 = performance.now();
const pairs: PairResult[] = [];
const vinfo = new Map<string, VersionData[]>();
for (const flavor of flavors) {
  let prev: VersionData | undefined;
  const list: VersionData[] = [];
  for (const v of versions) {
    const d = await measureVersion(v, flavor, prev);
    if (v === versions.at(-1)) d.determinism.digestsRecomputed = await recomputeDigests(d);
    if (prev) {
      const p = await comparePair(prev, d);
      pairs.push(p);
      const line = STRATEGIES.filter((s) => p.scores[s]).map((s) => `${s} ${mib(p.scores[s]!.download)}`).join(', ');
      log(`${flavor} ${prev.version}→${v}: floor files ${mib(p.floorFiles)}, floor comps ${mib(p.floorComponents)}, ${line} MiB`);
    }
    list.push(d);
    prev = d;
  }
  vinfo.set(flavor, list);
}
const runtimeS = (performance.now() - t0) / 1000;
const md = report(pairs, vinfo, runtimeS);
mkdirSync(dirname(opt.out), { recursive: true });
writeFileSync(opt.out, md);
mkdirSync(dirname(opt.json), { recursive: true });
writeFileSync(opt.json, JSON.stringify({ tuning, maxLayers: MAX_LAYERS, gzipLevel: LEVEL, pairs }, null, 1));
console.log(md);
