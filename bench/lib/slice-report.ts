// Result types of bench/slice.ts and their Markdown rendering (medians over runs).
import type { ProbeResult } from './fileop-probe.ts';
import { linearFit, type LayerShape } from './plan-shape.ts';
import type { Phases } from './progress.ts';

export interface TreeInfo {
  name: string;
  source: string;
  entries: number;
  bytes: number;
  changedFile: string;
  /** `scan-rootfs` (what the exec scan runs) on the host copy, node start included, ms. */
  hostScanMs?: number;
  /** The layer FileOps of run 1 as replicated on the host (bench/lib/plan-shape.ts). */
  shape?: LayerShape[];
}

export interface BuildSummary {
  wallMs: number;
  /** 1-minute load average at the start and the end of the build. */
  load: [number, number];
  phases: Phases;
  stats?: Record<string, number | boolean>;
  manifest?: string;
  /** Layer index (1-based) → BuildKit's duration of its FileOp, ms (rebuilt layers only). */
  layerMs?: Record<number, number>;
}

export interface PairResult {
  tree: string;
  kit: string;
  mode: 'chunked' | 'single';
  run: number;
  cold: BuildSummary;
  warm: BuildSummary;
  layers: number;
  /** Layers of the warm image whose digest the cold image does not have (what a push uploads). */
  changedLayers: number;
  changedBytes: number;
  imageBytes: number;
}

export interface FallbackResult {
  tree: string;
  kit: string;
  cold: BuildSummary;
}

export interface BenchResult {
  machine: {
    date: string;
    cpus: number;
    cpuModel: string;
    ramGiB: number;
    disk: string;
    docker: string;
    buildx: string;
    buildkitd: string;
    snapshotter: string;
    node: string;
    /** git HEAD of the repo (and whether src/ had uncommitted changes) the frontend was built from. */
    commit: string;
    frontend: string;
    command: string;
  };
  trees: TreeInfo[];
  pairs: PairResult[];
  fallbacks: FallbackResult[];
  probes: ProbeResult[];
  totalS: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const sec = (ms: number | undefined) => (ms === undefined ? '–' : (ms / 1000).toFixed(1));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const KIT = { docker: 'Docker 26.1 (FileOp chain)', standalone: 'buildkitd (MergeOp)' } as Record<string, string>;

/** Median of a numeric field over runs; undefined when no run has it. */
function med<T>(rows: T[], f: (r: T) => number | undefined): number | undefined {
  const xs = rows.map(f).filter((x): x is number => typeof x === 'number');
  return xs.length ? median(xs) : undefined;
}

function groups(pairs: PairResult[]): { tree: string; kit: string; chunked: PairResult[]; single: PairResult[] }[] {
  const out: { tree: string; kit: string; chunked: PairResult[]; single: PairResult[] }[] = [];
  for (const p of pairs) {
    let g = out.find((x) => x.tree === p.tree && x.kit === p.kit);
    if (!g) out.push((g = { tree: p.tree, kit: p.kit, chunked: [], single: [] }));
    g[p.mode].push(p);
  }
  return out;
}

function phaseRow(label: string, rows: BuildSummary[]): string {
  const p = (f: (x: Phases) => number | undefined) => sec(med(rows, (r) => f(r.phases)));
  const copies = `${med(rows, (r) => r.phases.copies.rebuilt)}/${med(rows, (r) => r.phases.copies.count)}: ${p((x) => x.copies.sumMs)} / ${p((x) => x.copies.spanMs)}`;
  return `| ${label} | ${p((x) => x.wallMs)} | ${p((x) => x.frontendImageMs)} | ${p((x) => x.contextMs)} | ${p((x) => x.scanExecMs)} | ${p((x) => x.frontendGapMs)} | ${copies} | ${p((x) => x.mergeMs)} | ${p((x) => x.exportLayersMs)} | ${p((x) => x.pushMs)} | ${p((x) => x.outsideMs)} |`;
}

export function renderReport(r: BenchResult): string {
  const m = r.machine;
  const L: string[] = [];
  const runsOf = (g: { chunked: PairResult[] }) => g.chunked.length;
  L.push(`Measured ${m.date} on ${m.cpus} × ${m.cpuModel}, ${m.ramGiB} GiB RAM, disk \`${m.disk.replace(/\s+/g, ' ')}\`;`);
  L.push(`Docker Engine ${m.docker} (embedded BuildKit v0.13), ${m.buildx}, standalone buildkitd ${m.buildkitd} (${m.snapshotter} snapshotter), Node ${m.node}.`);
  const loads = [...r.pairs.flatMap((p) => [p.cold, p.warm]), ...r.fallbacks.map((f) => f.cold)].flatMap((b) => b.load);
  L.push(`Frontend image built from commit ${m.commit}: \`${m.frontend}\`.`);
  L.push(`Command: \`${m.command}\` (total ${r.totalS} s). Cold = build cache pruned, fresh registry repository, layer contents unique to the run.`);
  if (loads.length) L.push(`Load average (1 min) during the builds: ${Math.min(...loads)}–${Math.max(...loads)} on ${m.cpus} CPUs (other work on the machine slows every figure alike).`);
  L.push('');
  L.push('| tree | entries | file bytes | changed file (warm rebuild) |');
  L.push('| --- | ---: | ---: | --- |');
  for (const t of r.trees) L.push(`| ${t.name} (${t.source}) | ${t.entries} | ${mib(t.bytes)} | \`${t.changedFile}\` |`);
  L.push('');

  const gs = groups(r.pairs);
  L.push('**1. Cold build + push** (seconds; median of the runs shown; target chunked/single ≤ 1.3×)');
  L.push('');
  L.push('| tree | BuildKit | runs | chunked | single layer | ratio |');
  L.push('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const g of gs) {
    const c = med(g.chunked, (p) => p.cold.wallMs)!;
    const s = med(g.single, (p) => p.cold.wallMs)!;
    L.push(`| ${g.tree} | ${KIT[g.kit] ?? g.kit} | ${runsOf(g)} | ${sec(c)} | ${sec(s)} | ${(c / s).toFixed(2)}× ${c / s <= 1.3 ? '✓' : '✗'} |`);
  }
  L.push('');
  L.push('**2. Warm rebuild + push after appending to one file** (seconds; layers = rebuilt FileOps / layers whose digest changed / layers in the image)');
  L.push('');
  L.push('| tree | BuildKit | chunked | single layer | chunked layers rebuilt / changed / total | bytes pushed: chunked vs single |');
  L.push('| --- | --- | ---: | ---: | --- | --- |');
  for (const g of gs) {
    const rebuilt = med(g.chunked, (p) => p.warm.phases.copies.rebuilt);
    const changed = med(g.chunked, (p) => p.changedLayers);
    L.push(`| ${g.tree} | ${KIT[g.kit] ?? g.kit} | ${sec(med(g.chunked, (p) => p.warm.wallMs))} | ${sec(med(g.single, (p) => p.warm.wallMs))} | ${rebuilt} / ${changed} / ${med(g.chunked, (p) => p.layers)} | ${mib(med(g.chunked, (p) => p.changedBytes)!)} of ${mib(med(g.chunked, (p) => p.imageBytes)!)} vs ${mib(med(g.single, (p) => p.changedBytes)!)} |`);
  }
  L.push('');
  L.push('**3. Scan + plan inside the frontend** (ms, from the stats warning of the cold chunked builds; target ≤ 3 s per 100k files = 300 ms per 10k; Solve definition must stay < 4 MiB for Docker 26.1)');
  L.push('');
  L.push('| tree | BuildKit | scan | entries | scan ms | plan ms | layers→LLB ms | per 10k files | definition bytes | layers |');
  L.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const statRow = (tree: string, kit: string, how: string, rows: BuildSummary[]) => {
    const st = (k: string) => med(rows, (b) => (typeof b.stats?.[k] === 'number' ? (b.stats[k] as number) : undefined));
    const entries = st('entries');
    const total = (st('scanMs') ?? 0) + (st('planMs') ?? 0) + (st('layersLlbMs') ?? 0);
    const per10k = entries ? Math.round((total / entries) * 10_000) : undefined;
    L.push(`| ${tree} | ${KIT[kit] ?? kit} | ${how} | ${entries ?? '–'} | ${st('scanMs') ?? '–'} | ${st('planMs') ?? '–'} | ${st('layersLlbMs') ?? '–'} | ${per10k ?? '–'} | ${st('definitionBytes') ?? '–'} | ${st('layers') ?? '–'} |`);
  };
  for (const g of gs) {
    statRow(g.tree, g.kit, 'exec (cold)', g.chunked.map((p) => p.cold));
    statRow(g.tree, g.kit, 'exec (warm)', g.chunked.map((p) => p.warm));
    const fb = r.fallbacks.filter((f) => f.tree === g.tree && f.kit === g.kit).map((f) => f.cold);
    if (fb.length) statRow(g.tree, g.kit, 'ReadDir fallback (build only, 1 run)', fb);
  }
  const host = r.trees.filter((t) => t.hostScanMs !== undefined).map((t) => `${t.name} ${t.hostScanMs} ms`);
  if (host.length) L.push(`\nThe same \`scan-rootfs\` on the host copy (node start, walk, components, gzip; no BuildKit): ${host.join(', ')}. The rest of "scan ms" is the ExecOp (container start, mounts) and reading the listing back through the gateway.`);
  L.push('');
  L.push('**4. Where the time goes** (seconds, medians; from `--progress=plain`: BuildKit\'s per-vertex durations, wall-clock arrival of the lines for spans and gaps).');
  L.push('frontend img = pulling our image; context = upload of the build context; scan = exec-scan vertex; gap = scan end → first layer copy (planning, LLB, Solve);');
  L.push('copies = rebuilt/total FileOps: sum of their durations / wall span; export = "exporting layers" (compression on buildkitd; commit to the image store on Docker); push = "pushing layers" (buildkitd) or Docker\'s push vertex (compresses while it uploads); outside = wall time in no vertex (client, session, frontend start).');
  L.push('');
  L.push('| build | wall | frontend img | context | scan | gap | copies: n, sum / span | merge | export | push | outside |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
  for (const g of gs) {
    for (const mode of ['chunked', 'single'] as const) {
      L.push(phaseRow(`${g.tree} ${g.kit} ${mode} cold`, g[mode].map((p) => p.cold)));
      L.push(phaseRow(`${g.tree} ${g.kit} ${mode} warm`, g[mode].map((p) => p.warm)));
    }
    const fb = r.fallbacks.filter((f) => f.tree === g.tree && f.kit === g.kit).map((f) => f.cold);
    if (fb.length) L.push(phaseRow(`${g.tree} ${g.kit} chunked cold build-only, ReadDir scan`, fb));
  }
  L.push('');
  if (r.probes.length) {
    L.push('**5. One layer FileOp in isolation** (synthetic tree, standalone buildkitd, raw LLB through `buildctl`; copy = BuildKit\'s duration of the copy vertices, summed; wall includes the context diff-transfer)');
    L.push('');
    L.push('| case | ops | patterns/op | copies: sum | slowest | cached | context | wall | wall − context |');
    L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const p of r.probes) L.push(`| ${p.name} | ${p.ops} | ${p.patternsPerOp} | ${sec(p.copySumMs)} | ${sec(p.copyMaxMs)} | ${p.cached} | ${sec(p.contextMs)} | ${sec(p.wallMs)} | ${sec(p.wallMs - p.contextMs)} |`);
    L.push('');
  }
  const models = gs.flatMap((g) => {
    const shape = r.trees.find((t) => t.name === g.tree)?.shape;
    if (!shape?.length) return [];
    const rows = shape.flatMap((l) => {
      const ms = med(g.chunked, (p) => p.cold.layerMs?.[l.index]);
      return ms === undefined ? [] : [{ l, ms }];
    });
    if (rows.length < 3) return [];
    const fit = linearFit(rows.map((x) => x.l.actions), rows.map((x) => x.ms));
    const hasWalk = rows.every((x) => x.l.walk !== undefined);
    const fitInc = hasWalk
      ? linearFit(rows.map((x) => x.l.walk!), rows.map((x) => x.ms))
      : linearFit(rows.map((x) => x.l.includes + x.l.excludes), rows.map((x) => x.ms));
    const walked = hasWalk ? rows.reduce((n, x) => n + x.l.walk!, 0) : undefined;
    const actions = rows.reduce((n, x) => n + x.l.actions, 0);
    const patterns = rows.reduce((n, x) => n + x.l.includes + x.l.excludes, 0);
    const measured = rows.reduce((n, x) => n + x.ms, 0);
    return [`| ${g.tree} | ${KIT[g.kit] ?? g.kit} | ${rows.length} | ${actions} | ${patterns} | ${Math.round(fit.a)} + ${fit.b.toFixed(1)}·actions (r² ${fit.r2.toFixed(2)}) | ${hasWalk ? `walk ${walked}: ${Math.round(fitInc.a)} + ${(fitInc.b * 1000).toFixed(1)} µs·entries (r² ${fitInc.r2.toFixed(2)})` : `patterns: r² ${fitInc.r2.toFixed(2)}`} | ${sec(fit.a * rows.length)} | ${sec(fit.b * actions)} | ${sec(measured)} |`];
  });
  if (models.length) {
    L.push('**6. What one layer FileOp costs** (cold chunked builds, median duration per layer vs the shape of its FileOp replicated on the host by the same code: its copy actions, and the entries under the copy roots (walk: what BuildKit lstat()s and hashes); least-squares fits over the layers. On buildkitd the FileOps run in parallel, so their durations include waiting for the CPU.)');
    L.push('');
    L.push('| tree | BuildKit | layers | Σ copy actions | Σ patterns | ms per FileOp ≈ | fit on walked entries (or patterns) instead | fixed part | action part | Σ measured |');
    L.push('| --- | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |');
    L.push(...models);
    L.push('');
  }
  return `${L.join('\n')}\n`;
}
