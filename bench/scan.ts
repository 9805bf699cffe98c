// Scan + plan benchmark (issue 2 target: ≤ 3 s per 100k files, measured inside the frontend).
//
//   node bench/scan.ts [--files N] [--runs N] [--kits docker,standalone] [--frontend LABEL=REF]...
//                      [--host-repo LABEL=DIR]... [--host-runs N] [--prune] [--no-builds] [--no-host]
//   node bench/scan.ts --render A.json [--render B.json]...   (builds of earlier runs, tabled together)
//
// 1. Generates the deterministic synthetic tree once (bench/lib/synth-tree.ts, default 100k leaves ≈ 105k
//    entries) into .cache/bench/scan-tree-<files>/ctx/rootfs and reuses it afterwards.
// 2. Host: for each --host-repo (default: this repo) bundles src/main.ts like the frontend image does and
//    times `node BUNDLE scan-rootfs TREE OUT` (node start, walk, component readers, encode, write) — the
//    program the exec scan runs inside BuildKit. Then splits this repo's scan into phases in-process
//    (walk, components, encode, decode) with the listing's size.
// 3. Builds: for each --frontend (default: this repo's image, built by scripts/image.sh under
//    …/compose-frontend:bench-scan) × BuildKit × run, a build-only build of `rootfs: {dir: rootfs}` with
//    COMPOSE_FRONTEND_STATS=1 and --no-cache (the exec scan and everything after it run again; the build
//    context is only re-synced), progress as raw JSON. As soon as the frontend's stats warning arrives
//    the build is cancelled: scan/plan/LLB ms come from that warning, the exec-scan vertex's duration from
//    BuildKit's own timestamps; the layer copies that would follow are not part of this benchmark.
//    --prune drops the whole build cache before each build instead (also re-uploads the 400 MiB context).
// Frontends and BuildKits alternate within each run, so load drifts hit them alike. Prints a Markdown
// table; the JSON lands in .cache/bench/scan-latest.json. Needs the local services (started if down).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pruneCache } from '../test/harness/buildkit.ts';
import { bin, builders, registry, repoRoot, toolEnv, type BuildKitName } from '../test/harness/env.ts';
import { run } from '../test/harness/run.ts';
import { ensureServices } from '../test/harness/services.ts';
import { buildComponents } from '../src/chunking/components/index.ts';
import { decodeListing, encodeListing } from '../src/rootfs/listing.ts';
import { LocalRootfs } from '../src/rootfs/local.ts';
import { scanRootfs } from '../src/rootfs/scan.ts';
import { generateTree } from './lib/synth-tree.ts';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '1' },
    'host-runs': { type: 'string', default: '3' },
    kits: { type: 'string', default: 'docker,standalone' },
    frontend: { type: 'string', multiple: true },
    'host-repo': { type: 'string', multiple: true },
    prune: { type: 'boolean', default: false },
    'no-builds': { type: 'boolean', default: false },
    'no-host': { type: 'boolean', default: false },
    /** Renders the builds of earlier runs' JSON files together (no measuring). */
    render: { type: 'string', multiple: true },
  },
});

const files = Number(args.files);
const runs = Number(args.runs);
const hostRuns = Number(args['host-runs']);
const kits = args.kits!.split(',') as BuildKitName[];
const node = join(repoRoot, 'node_modules/.bin/node');
const log = (s: string) => process.stderr.write(`[scan] ${s}\n`);
const load1 = () => Math.round(loadavg()[0] * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

function labelled(list: string[] | undefined, fallback: [string, string][]): [string, string][] {
  if (!list?.length) return fallback;
  return list.map((x) => {
    const i = x.indexOf('=');
    if (i <= 0) throw new Error(`expected LABEL=VALUE, got '${x}'`);
    return [x.slice(0, i), x.slice(i + 1)];
  });
}

/** The tree is generated once per size and kept (a stamp file marks it complete). */
function ensureTree(): { ctx: string; rootfs: string; defs: string } {
  const base = join(repoRoot, `.cache/bench/scan-tree-${files}`);
  const ctx = join(base, 'ctx');
  const rootfs = join(ctx, 'rootfs');
  const defs = join(base, 'defs');
  const stamp = join(base, 'complete.json');
  if (!existsSync(stamp)) {
    rmSync(base, { recursive: true, force: true });
    mkdirSync(rootfs, { recursive: true });
    mkdirSync(defs);
    log(`generating ${files} leaves into ${rootfs}`);
    const summary = generateTree(rootfs, { files, links: 'clustered' });
    writeFileSync(join(defs, 'build.yaml'), 'rootfs:\n  dir: rootfs\nmax-layers: 64\n');
    writeFileSync(stamp, `${JSON.stringify({ files, links: 'clustered', seed: '0x5eed', summary })}\n`);
  }
  return { ctx, rootfs, defs };
}

interface HostResult {
  label: string;
  /** Wall ms of `node BUNDLE scan-rootfs`, one per run. */
  cliMs: number[];
  /** Its CPU ms (user + system, from /usr/bin/time): less at the mercy of the machine's load. */
  cpuMs: number[];
  listingBytes: number;
}

function bundleOf(label: string, repo: string, work: string): string {
  const bundle = join(work, `${label}.mjs`);
  const r = spawnSync(node, [join(repo, 'scripts/bundle.ts'), '--entry', join(repo, 'src/main.ts'), '--outfile', bundle], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`bundling ${repo} failed`);
  return bundle;
}

/** One `scan-rootfs` run: wall and CPU ms. */
function cliRun(label: string, bundle: string, rootfs: string, out: string): { wall: number; cpu: number } {
  rmSync(out, { force: true });
  const c = spawnSync('/usr/bin/time', ['-f', 'time %e %U %S', node, bundle, 'scan-rootfs', rootfs, out], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const m = /time ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(c.stderr);
  if (c.status !== 0 || !m) throw new Error(`${label}: scan-rootfs exited with ${c.status}: ${c.stderr}`);
  return { wall: Math.round(Number(m[1]) * 1000), cpu: Math.round((Number(m[2]) + Number(m[3])) * 1000) };
}

/** Every repo's CLI, interleaved run by run (load drifts hit them alike). */
function hostCli(repos: [string, string][], rootfs: string, work: string): HostResult[] {
  const bundles = repos.map(([label, repo]) => bundleOf(label, resolve(repo), work));
  const res: HostResult[] = repos.map(([label]) => ({ label, cliMs: [], cpuMs: [], listingBytes: 0 }));
  for (let i = 0; i < hostRuns; i++) {
    repos.forEach(([label], k) => {
      const out = join(work, `${label}.listing`);
      const r = cliRun(label, bundles[k], rootfs, out);
      res[k].cliMs.push(r.wall);
      res[k].cpuMs.push(r.cpu);
      res[k].listingBytes = statSync(out).size;
    });
  }
  return res;
}

interface Phases {
  walkMs: number;
  componentsMs: number;
  encodeMs: number;
  decodeMs: number;
  listingBytes: number;
  entries: number;
}

/** This repo's scan, phase by phase, in this process (warm JIT after the first run: medians). */
async function hostPhases(rootfs: string): Promise<Phases> {
  const all: Phases[] = [];
  for (let i = 0; i < hostRuns; i++) {
    const view = new LocalRootfs(rootfs, 'rootfs');
    const t0 = performance.now();
    const scan = await scanRootfs(view, { concurrency: 16 });
    const t1 = performance.now();
    const comps = await buildComponents(view, scan.entries, { concurrency: 16 });
    const t2 = performance.now();
    const bytes = encodeListing({ entries: scan.entries, skipped: scan.skipped.map((e) => e.path), components: comps.components, warnings: [...scan.warnings, ...comps.warnings] });
    const t3 = performance.now();
    const back = decodeListing(bytes);
    const t4 = performance.now();
    all.push({ walkMs: t1 - t0, componentsMs: t2 - t1, encodeMs: t3 - t2, decodeMs: t4 - t3, listingBytes: bytes.length, entries: back.entries.length });
  }
  const pick = (k: keyof Phases) => Math.round(median(all.map((p) => p[k])));
  return { walkMs: pick('walkMs'), componentsMs: pick('componentsMs'), encodeMs: pick('encodeMs'), decodeMs: pick('decodeMs'), listingBytes: all[0].listingBytes, entries: all[0].entries };
}

interface BuildStats {
  frontend: string;
  kit: BuildKitName;
  run: number;
  load: number;
  /** Build start → stats warning (client wall clock). */
  untilStatsMs: number;
  /** BuildKit's duration of the exec-scan vertex. */
  execVertexMs?: number;
  stats: Record<string, number | boolean>;
}

const SCAN_VERTEX = '[scan] list the root filesystem';

/** One build, cancelled once the stats warning is in. */
function statsBuild(kit: BuildKitName, frontendRef: string, ctx: string, defs: string): Promise<Omit<BuildStats, 'frontend' | 'kit' | 'run'>> {
  const argv = ['buildx', 'build', '--builder', builders[kit], '--progress=rawjson', '-f', join(defs, 'build.yaml'),
    '--build-arg', `BUILDKIT_SYNTAX=${frontendRef}`, '--build-arg', 'COMPOSE_FRONTEND_STATS=1',
    ...(args.prune ? [] : ['--no-cache']), '--provenance=false', '--sbom=false', '--output', 'type=cacheonly', ctx];
  const load = load1();
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin.docker, argv, { env: toolEnv(), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const vertices = new Map<string, { name: string; started?: string; completed?: string }>();
    let buf = '';
    let stats: Record<string, number | boolean> | undefined;
    let untilStatsMs = 0;
    const text: string[] = [];
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch { /* gone already */ }
    };
    const timer = setTimeout(kill, 10 * 60_000);
    const onStatus = (s: any) => {
      for (const v of s.vertexes ?? []) {
        const cur: { name: string; started?: string; completed?: string } = vertices.get(v.digest) ?? { name: String(v.name) };
        if (v.started) cur.started ??= v.started;
        if (v.completed) cur.completed = v.completed;
        vertices.set(v.digest, cur);
      }
      for (const w of s.warnings ?? []) {
        const msg = Buffer.from(w.short ?? '', 'base64').toString('utf8');
        const m = /compose-frontend stats (\{.*\})/.exec(msg);
        if (m && !stats) {
          stats = JSON.parse(m[1]) as Record<string, number | boolean>;
          untilStatsMs = Math.round(performance.now() - t0);
          kill();
        }
      }
      for (const l of s.logs ?? []) text.push(Buffer.from(l.data ?? '', 'base64').toString('utf8'));
    };
    child.stderr.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      // rawjson: pretty-printed objects, each closed by a '}' alone on a line.
      let i: number;
      while ((i = buf.indexOf('\n}\n')) >= 0) {
        const obj = buf.slice(0, i + 2);
        buf = buf.slice(i + 3);
        try {
          onStatus(JSON.parse(obj));
        } catch {
          text.push(obj);
        }
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (!stats) return reject(new Error(`${kit} build with ${frontendRef}: no stats warning\n${[...text, buf].join('').slice(-3000)}`));
      const v = [...vertices.values()].find((x) => x.name === SCAN_VERTEX && x.started && x.completed);
      const execVertexMs = v ? Math.round(Date.parse(v.completed!) - Date.parse(v.started!)) : undefined;
      resolvePromise({ load, untilStatsMs, execVertexMs, stats });
    });
  });
}

async function main(): Promise<void> {
  if (args.render?.length) {
    const runs = args.render.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { files: number; builds: BuildStats[] });
    process.stdout.write(render({ files: runs[0].files, builds: runs.flatMap((x) => x.builds) }));
    return;
  }
  const tree = ensureTree();
  const work = join(repoRoot, '.cache/bench/scan-work');
  mkdirSync(work, { recursive: true });
  const result: { date: string; files: number; host?: { cli: HostResult[]; phases: Phases }; builds: BuildStats[] } = { date: new Date().toISOString(), files, builds: [] };

  if (!args['no-host']) {
    const repos = labelled(args['host-repo'], [['this', repoRoot]]);
    const cli = hostCli(repos, tree.rootfs, work);
    log(`host scan-rootfs (load ${load1()}): ${cli.map((c) => `${c.label} wall ${c.cliMs.join('/')} ms, cpu ${c.cpuMs.join('/')} ms`).join('; ')}`);
    const phases = await hostPhases(tree.rootfs);
    log(`host phases: ${JSON.stringify(phases)}`);
    result.host = { cli, phases };
  }

  if (!args['no-builds']) {
    await ensureServices();
    let frontends = labelled(args.frontend, []);
    if (!frontends.length) {
      const tag = `${registry}/compose-frontend:bench-scan`;
      const r = await run('bash', [join(repoRoot, 'scripts/image.sh'), tag], { cwd: repoRoot, timeoutMs: 10 * 60_000 });
      frontends = [['this', r.stdout.trim().split('\n').pop()!]];
    }
    for (let r = 0; r < runs + 1; r++) {
      for (const kit of kits) {
        for (const [label, ref] of frontends) {
          if (args.prune) await pruneCache(kit);
          const b = await statsBuild(kit, ref, tree.ctx, tree.defs);
          // Run 0 warms the context sync and pulls the frontend image; it is not reported.
          log(`${r === 0 ? 'warm-up' : `run ${r}`} ${kit} ${label}: exec vertex ${b.execVertexMs} ms, scan ${b.stats.scanMs} ms, plan ${b.stats.planMs} ms (load ${b.load})`);
          if (r > 0) result.builds.push({ frontend: label, kit, run: r, ...b });
        }
      }
    }
  }
  writeFileSync(join(repoRoot, '.cache/bench/scan-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(render(result));
}

function render(r: { files: number; host?: { cli: HostResult[]; phases: Phases }; builds: BuildStats[] }): string {
  const out: string[] = [];
  if (r.host) {
    const p = r.host.phases;
    out.push(`Host (${p.entries} entries; median of ${hostRuns}):`, '', '| scan-rootfs CLI | wall ms (runs) | CPU ms user+sys (runs) | listing bytes |', '| --- | --- | --- | ---: |');
    for (const c of r.host.cli) out.push(`| ${c.label} | ${median(c.cliMs)} (${c.cliMs.join(', ')}) | ${median(c.cpuMs)} (${c.cpuMs.join(', ')}) | ${c.listingBytes} |`);
    out.push('', '| phase (in-process, this repo) | ms |', '| --- | ---: |');
    for (const k of ['walkMs', 'componentsMs', 'encodeMs', 'decodeMs'] as const) out.push(`| ${k.replace('Ms', '')} | ${p[k]} |`);
    out.push(`| listing bytes | ${p.listingBytes} |`, '');
  }
  if (r.builds.length) {
    // Medians, and the fastest run (min): under a shared machine's load the least disturbed figure.
    out.push('| frontend | BuildKit | runs | load | exec vertex ms | scan ms | plan ms | scan+plan ms (min) | LLB ms | entries | per 100k entries (scan+plan) |', '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const keys = [...new Set(r.builds.map((b) => `${b.frontend}\t${b.kit}`))];
    for (const key of keys) {
      const [fe, kit] = key.split('\t');
      const bs = r.builds.filter((b) => b.frontend === fe && b.kit === kit);
      const m = (f: (b: BuildStats) => number) => Math.round(median(bs.map(f)));
      const sp = m((b) => Number(b.stats.scanMs) + Number(b.stats.planMs));
      const entries = Number(bs[0].stats.entries);
      const spMin = Math.min(...bs.map((b) => Number(b.stats.scanMs) + Number(b.stats.planMs)));
      out.push(`| ${fe} | ${kit} | ${bs.length} | ${bs.map((b) => b.load).join(', ')} | ${m((b) => b.execVertexMs ?? NaN)} | ${m((b) => Number(b.stats.scanMs))} | ${m((b) => Number(b.stats.planMs))} | ${sp} (${spMin}) | ${m((b) => Number(b.stats.layersLlbMs))} | ${entries} | ${Math.round(sp * 100_000 / entries)} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

await main();
