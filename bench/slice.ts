// Vertical-slice benchmark (issue 2 part 12): our chunked image vs a plain single-layer image, built
// and pushed through the same BuildKit, on a real Debian rootfs and a synthetic 100k-file tree, on
// Docker 26.1's embedded BuildKit (layers as a FileOp chain) and the standalone buildkitd (MergeOp).
//
//   node bench/slice.ts [--files N] [--links clustered|scattered] [--rootfs DIR] [--runs N]
//                       [--synth-runs N] [--kits docker,standalone] [--trees debian,synthetic]
//                       [--fallback-kits standalone|none] [--no-probe] [--tag NAME] [--out DIR]
//                       [--max-layers N] [--keep-frontend]
//   node bench/slice.ts --render .cache/bench/slice-latest/result.json   (report of an earlier run)
//
// For each tree × BuildKit × run × {chunked, single}: prune the build cache, cold build + push to a
// fresh repository, append to one file deep in the tree, warm build + push, undo the change. Every
// run gets unique layer contents (SOURCE_DATE_EPOCH for ours, a marker file for both), so neither the
// registry nor Docker's push can reuse blobs of an earlier run. Then one cold build-only run per tree
// with the fallback scan (ReadDir through the gateway, forced by bench/lib/no-exec-scan.ts), and the
// FileOp probe (bench/lib/fileop-probe.ts) on the synthetic tree. Prints a Markdown report (docs/benchmarks.md
// "Vertical slice" holds one); writes it, the JSON and every build's progress log to
// .cache/bench/slice-latest/. Needs `scripts/services.sh start` (started if down). Not part of npm test.
import { randomBytes } from 'node:crypto';
import { appendFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pruneCache } from '../test/harness/buildkit.ts';
import { bin, registry, repoRoot, serviceFacts, toolEnv, type BuildKitName } from '../test/harness/env.ts';
import { run } from '../test/harness/run.ts';
import { ensureServices } from '../test/harness/services.ts';
import { countTree, debianRootfs, deepestFile } from './lib/rootfs.ts';
import { generateTree } from './lib/synth-tree.ts';
import { timedBuild, type TimedBuild } from './lib/timed-build.ts';
import { probe, type ProbeCase, type ProbeResult } from './lib/fileop-probe.ts';
import { planShape, type LayerShape } from './lib/plan-shape.ts';
import { renderReport, type BenchResult, type BuildSummary, type FallbackResult, type PairResult, type TreeInfo } from './lib/slice-report.ts';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    links: { type: 'string', default: 'clustered' },
    rootfs: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'synth-runs': { type: 'string', default: '1' },
    kits: { type: 'string', default: 'docker,standalone' },
    trees: { type: 'string', default: 'debian,synthetic' },
    'fallback-kits': { type: 'string', default: 'standalone' },
    'no-probe': { type: 'boolean', default: false },
    // After the prune, load the frontend image again (a build that fails at once), so "cold" excludes the
    // one-time pull of our image, as the single-layer build's Dockerfile frontend is built into BuildKit.
    'keep-frontend': { type: 'boolean', default: false },
    render: { type: 'string' },
    // Frontend image tag suffix and output directory: separate runs (other worktrees) must not share them.
    tag: { type: 'string', default: 'bench' },
    'max-layers': { type: 'string', default: '64' },
    out: { type: 'string' },
  },
});

const FRONTEND_TAG = `${registry}/compose-frontend:${args.tag}`;
const NOEXEC_TAG = `${registry}/compose-frontend:${args.tag}-noexec`;
const BUILD_TIMEOUT_MS = 15 * 60_000;
const OUT_DIR = args.out ? resolve(args.out) : join(repoRoot, '.cache/bench/slice-latest');
const log = (s: string) => process.stderr.write(`[slice] ${s}\n`);

const kits = args.kits!.split(',') as BuildKitName[];
const fallbackKits = (args['fallback-kits'] === 'none' ? [] : args['fallback-kits']!.split(',')) as BuildKitName[];
const trees = args.trees!.split(',');
const files = Number(args.files);
const maxLayers = Number(args['max-layers']);
const nonce = randomBytes(4).toString('hex');

async function frontendImage(tag: string, entry?: string): Promise<string> {
  const r = await run('bash', [join(repoRoot, 'scripts/image.sh'), tag, ...(entry ? ['--entry', entry] : [])], { cwd: repoRoot, timeoutMs: 10 * 60_000 });
  return r.stdout.trim().split('\n').pop()!;
}

async function dockerRmi(refs: string[]): Promise<void> {
  await run(bin.docker, ['image', 'rm', '--force', ...refs], { env: toolEnv(), allowFailure: true });
}

function saveLog(name: string, b: TimedBuild): void {
  const lines = b.progress.vertices.flatMap((v) => [`#${v.id} ${v.name}  [t=${v.startT}..${v.endT} ms, ${v.cached ? 'CACHED' : `${v.durMs} ms`}]`, ...v.lines.map((l) => `    ${l}`)]);
  writeFileSync(join(OUT_DIR, 'logs', `${name}.txt`), [...lines, '', ...b.progress.warnings.map((w) => `warning: ${w}`), ''].join('\n'));
}

interface TreeCtx {
  info: TreeInfo;
  contextDir: string;
  rootfs: string;
  runs: number;
}

/** cold → change one file → warm, for one tree × kit × mode × run. */
async function pair(t: TreeCtx, kit: BuildKitName, mode: 'chunked' | 'single', r: number, defs: string, frontend: string): Promise<PairResult> {
  const epoch = epochOf(r);
  // Unique per bench run and run index: no earlier blob can be mounted or skipped.
  writeMarker(t.rootfs, r);
  const repo = `${registry}/bench-slice-${nonce}/${t.info.name}-${kit}-${mode}-r${r}`;
  const build = (tag: string) =>
    timedBuild({
      kit,
      contextDir: t.contextDir,
      file: join(defs, mode === 'chunked' ? 'build.yaml' : 'Dockerfile'),
      frontend: mode === 'chunked' ? frontend : undefined,
      buildArgs: mode === 'chunked' ? { COMPOSE_FRONTEND_STATS: '1', SOURCE_DATE_EPOCH: String(epoch) } : {},
      ref: `${repo}:${tag}`,
      timeoutMs: BUILD_TIMEOUT_MS,
    });
  await pruneCache(kit);
  if (mode === 'chunked' && args['keep-frontend']) await preloadFrontend(t, kit, defs, frontend);
  const cold = await build('cold');
  log(`${t.info.name} ${kit} ${mode} run ${r}: cold ${(cold.wallMs / 1000).toFixed(1)} s`);
  const changed = join(t.rootfs, t.info.changedFile);
  const st = lstatSync(changed);
  appendFileSync(changed, '\n# compose-frontend bench: one changed file\n');
  let warm: TimedBuild;
  try {
    warm = await build('warm');
  } finally {
    truncateSync(changed, st.size);
    utimesSync(changed, st.atime, st.mtime);
  }
  log(`${t.info.name} ${kit} ${mode} run ${r}: warm ${(warm.wallMs / 1000).toFixed(1)} s`);
  const name = `${t.info.name}-${kit}-${mode}-r${r}`;
  saveLog(`${name}-cold`, cold);
  saveLog(`${name}-warm`, warm);
  if (kit === 'docker') await dockerRmi([cold.ref!, warm.ref!]);
  const before = new Set(cold.layers.map((l) => l.digest));
  const newLayers = warm.layers.filter((l) => !before.has(l.digest));
  return {
    tree: t.info.name,
    kit,
    mode,
    run: r,
    cold: summarize(cold),
    warm: summarize(warm),
    layers: warm.layers.length,
    changedLayers: newLayers.length,
    changedBytes: newLayers.reduce((n, l) => n + l.size, 0),
    imageBytes: warm.layers.reduce((n, l) => n + l.size, 0),
  };
}

function summarize(b: TimedBuild): BuildSummary {
  // Per-layer FileOp durations ("[layer i/n]" vertices; cached ones left out) for the cost model.
  const layerMs: Record<number, number> = {};
  for (const v of b.progress.vertices) {
    const m = /^\[layer (\d+)\/\d+\]/.exec(v.name);
    if (m && !v.cached) layerMs[Number(m[1])] = v.durMs;
  }
  return { wallMs: b.wallMs, load: b.load, phases: b.phases, stats: b.stats, manifest: b.manifestDigest, layerMs };
}

const epochOf = (r: number) => 1_000_000_000 + (parseInt(nonce, 16) % 100_000_000) + r;

/** Pulls and starts our image through a build that stops at its build file (invalid on purpose). */
async function preloadFrontend(t: TreeCtx, kit: BuildKitName, defs: string, frontend: string): Promise<void> {
  const ok = await timedBuild({ kit, contextDir: t.contextDir, file: join(defs, 'preload.yaml'), frontend, buildArgs: {}, ref: `${registry}/bench-preload:x`, timeoutMs: BUILD_TIMEOUT_MS })
    .then(() => true, () => false);
  if (ok) throw new Error('preload build of preload.yaml succeeded; it must fail at its build file');
}

function writeMarker(rootfs: string, r: number): void {
  const marker = join(rootfs, '.bench-run');
  writeFileSync(marker, `${nonce} ${r}\n`);
  utimesSync(marker, epochOf(r), epochOf(r));
}

async function fallback(t: TreeCtx, kit: BuildKitName, defs: string, frontend: string): Promise<FallbackResult> {
  await pruneCache(kit);
  const epoch = epochOf(99);
  const b = await timedBuild({
    kit,
    contextDir: t.contextDir,
    file: join(defs, 'build.yaml'),
    frontend,
    buildArgs: { COMPOSE_FRONTEND_STATS: '1', SOURCE_DATE_EPOCH: String(epoch) },
    // Build only: the scan is what differs; export and push were measured above.
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  log(`${t.info.name} ${kit} fallback scan: cold build-only ${(b.wallMs / 1000).toFixed(1)} s`);
  saveLog(`${t.info.name}-${kit}-fallback-cold`, b);
  return { tree: t.info.name, kit, cold: summarize(b) };
}

/** One layer FileOp in isolation on the standalone buildkitd: what a copy with include patterns costs. */
async function fileOpProbes(t: TreeCtx): Promise<ProbeResult[]> {
  const files = regularFiles(t.rootfs);
  // Offset by one so no probe op repeats the single-file case (it would be answered from the cache).
  const pick = (k: number) => Array.from({ length: k }, (_, i) => files[Math.floor((i * files.length) / k) + 1]);
  const epoch = epochOf(77);
  const many: ProbeCase = { name: '64 ops × 1 include pattern, merged', ops: pick(64).map((f) => [f]), cacheable: true };
  const cases: ProbeCase[] = [
    { name: '1 op, no patterns (whole tree)', ops: [[]] },
    { name: '1 op, 1 include pattern (1 file)', ops: [[files[0]]] },
    { name: '1 op, 1000 include patterns (1000 files)', ops: [pick(1000)] },
    many,
    { ...many, name: '64 ops × 1 include pattern, merged, again (all cached: cache keys only)' },
  ];
  const out: ProbeResult[] = [];
  for (const c of cases) {
    // The second solve of `many` must hit the cache of the first: same definition, same epoch.
    const r = await probe(t.contextDir, { ...c, name: c === cases[4] ? many.name : c.name }, epoch);
    r.name = c.name;
    log(`probe: ${c.name}: wall ${(r.wallMs / 1000).toFixed(1)} s, copies ${(r.copySumMs / 1000).toFixed(1)} s`);
    out.push(r);
  }
  return out;
}

function regularFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(p);
      else if (d.isFile()) out.push(p);
    }
  };
  walk('');
  return out.sort();
}

async function machine(frontend: string): Promise<BenchResult['machine']> {
  const sh = async (cmd: string, a: string[]) => (await run(cmd, a, { env: toolEnv(), allowFailure: true })).stdout.trim();
  const facts = serviceFacts();
  return {
    date: new Date().toISOString().slice(0, 10),
    cpus: availableParallelism(),
    cpuModel: (await sh('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"])).trim(),
    ramGiB: Math.round(totalmem() / 2 ** 30),
    disk: (await sh('sh', ['-c', `df -h --output=source,fstype,size,avail ${tmpdir()} | tail -1 | awk '{print $1" "$2", "$3" ("$4" free)"}'; lsblk -dno NAME,ROTA | awk '$1 !~ /^zram/ {print $1 " rotational=" $2}'`])).replace(/\n/g, '; '),
    docker: facts.dockerVersion,
    buildx: await sh(bin.docker, ['buildx', 'version']),
    buildkitd: facts.buildkitVersion,
    snapshotter: facts.buildkitSnapshotter,
    node: process.version,
    commit: `${await sh('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'])}${(await sh('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'src'])) ? ' + uncommitted src changes' : ''}`,
    frontend,
    command: `node bench/slice.ts ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  await ensureServices();
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(join(OUT_DIR, 'logs'), { recursive: true });
  const frontend = await frontendImage(FRONTEND_TAG);
  const noexec = fallbackKits.length ? await frontendImage(NOEXEC_TAG, 'bench/lib/no-exec-scan.ts') : undefined;
  log(`frontend ${frontend}${noexec ? `, fallback-scan variant ${noexec}` : ''}`);
  // Before the builds: the commit the frontend image was just built from.
  const machineInfo = await machine(frontend);

  const work = mkdtempSync(join(tmpdir(), 'cf-slice-'));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: removing ${work}`);
      cleanup();
      process.exit(130);
    });
  }
  try {
    const defs = join(work, 'defs');
    mkdirSync(defs);
    writeFileSync(join(defs, 'build.yaml'), `rootfs:\n  dir: rootfs\nmax-layers: ${maxLayers}\n`);
    writeFileSync(join(defs, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
    writeFileSync(join(defs, 'preload.yaml'), 'max-layers: 0\n');

    const ctxs: TreeCtx[] = [];
    for (const name of trees) {
      const contextDir = join(work, name);
      const rootfs = join(contextDir, 'rootfs');
      mkdirSync(contextDir);
      const tg = performance.now();
      if (name === 'debian') {
        const src = args.rootfs ? resolve(args.rootfs) : await debianRootfs(join(repoRoot, '.cache/bench/debian-bookworm-minbase'), log);
        await run('cp', ['-a', '--reflink=auto', src, rootfs]);
        await run('find', [join(rootfs, 'dev'), '-mindepth', '1', '-delete'], { allowFailure: true });
      } else if (name === 'synthetic') {
        mkdirSync(rootfs);
        if (args.links !== 'clustered' && args.links !== 'scattered') throw new Error(`--links: "${args.links}" is not clustered or scattered`);
        generateTree(rootfs, { files, links: args.links });
      } else throw new Error(`--trees: unknown tree "${name}" (debian, synthetic)`);
      const counts = countTree(rootfs);
      // The FileOps the frontend will emit for run 1, counted on the host copy (cost model, report §6).
      writeMarker(rootfs, 1);
      let shape: LayerShape[] | undefined;
      try {
        shape = await planShape(rootfs, epochOf(1), maxLayers);
      } catch (e) {
        log(`${name}: cannot replicate the layer plan on the host (${(e as Error).message}); no cost model`);
      }
      // The exec scan's own work without BuildKit around it: the same CLI on the host copy.
      const th = performance.now();
      await run(bin.node, [join(repoRoot, 'src/main.ts'), 'scan-rootfs', rootfs, join(contextDir, 'listing.json.gz')]);
      const hostScanMs = Math.round(performance.now() - th);
      rmSync(join(contextDir, 'listing.json.gz'));
      const info: TreeInfo = {
        hostScanMs, name, entries: counts.entries, bytes: counts.bytes, changedFile: deepestFile(rootfs), source: name === 'debian' ? (args.rootfs ?? 'debootstrap --variant=minbase bookworm') : `generateTree(files=${files}, links=${args.links}, seed=0x5eed)`, shape };
      log(`${name}: ${info.entries} entries, ${(info.bytes / 2 ** 20).toFixed(0)} MiB, prepared in ${((performance.now() - tg) / 1000).toFixed(1)} s; changed file ${info.changedFile}`);
      ctxs.push({ info, contextDir, rootfs, runs: Number(name === 'debian' ? args.runs : args['synth-runs']) });
    }

    const pairs: PairResult[] = [];
    const fallbacks: FallbackResult[] = [];
    for (const t of ctxs) {
      for (const kit of kits) {
        for (let r = 1; r <= t.runs; r++) {
          // Alternate the order so drift (page cache, registry size) does not favour one mode.
          const modes = r % 2 === 1 ? (['chunked', 'single'] as const) : (['single', 'chunked'] as const);
          for (const mode of modes) pairs.push(await pair(t, kit, mode, r, defs, frontend));
        }
        if (noexec && fallbackKits.includes(kit)) fallbacks.push(await fallback(t, kit, defs, noexec));
      }
    }
    const synth = ctxs.find((c) => c.info.name === 'synthetic');
    const probes = synth && kits.includes('standalone') && !args['no-probe'] ? await fileOpProbes(synth) : [];
    const result: BenchResult = { machine: machineInfo, trees: ctxs.map((c) => c.info), pairs, fallbacks, probes, totalS: Math.round((performance.now() - t0) / 1000) };
    const report = renderReport(result);
    writeFileSync(join(OUT_DIR, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(OUT_DIR, 'report.md'), report);
    process.stdout.write(report);
    log(`done in ${result.totalS} s; report, JSON and progress logs in ${OUT_DIR}`);
  } finally {
    cleanup();
  }
}

if (args.render) process.stdout.write(renderReport(JSON.parse(readFileSync(args.render, 'utf8')) as BenchResult));
else await main();
