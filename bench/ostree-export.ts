// build-chunked-oci benchmark (issue 4 part 6): our in-process ostree export vs what rpm-ostree does,
// `ostree commit` into a bare-user repo followed by ostree-ext's container::encapsulate, on the same
// tree, with the same gzip level (6) and the same layer limit. Wall time and peak RSS come from
// GNU time (`/usr/bin/time -f`); for the ostree side the times of both processes add up and the
// peak is the larger of the two. Then the peak RSS of ours alone on a tree twice as big.
//
//   node bench/ostree-export.ts [--files 40000] [--median-bytes 6656] [--big-files 80000]
//     [--runs 3] [--max-layers 64] [--trees synth,debian] [--no-big] [--no-ostree] [--jobs N] [--json FILE]
//
// Trees: deterministic synthetic trees (bench/lib/synth-tree.ts: log-normal sizes, symlinks, hard
// links) made once under .cache/bench/ostree-export/, and (`--trees …,debian`) the debootstrap tree. The
// exporter wrapper is built by `scripts/ostree-ext-check.sh --encapsulate`. Prints a Markdown
// section (docs/benchmarks.md "build-chunked-oci" holds one). Not part of npm test.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/harness/env.ts';
import { run } from '../test/harness/run.ts';
import { countTree, debianRootfs } from './lib/rootfs.ts';
import { generateTree } from './lib/synth-tree.ts';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '40000' },
    'median-bytes': { type: 'string', default: '6656' },
    'big-files': { type: 'string', default: '80000' },
    runs: { type: 'string', default: '3' },
    'max-layers': { type: 'string', default: '64' },
    jobs: { type: 'string' },
    trees: { type: 'string', default: 'synth' },
    'no-big': { type: 'boolean', default: false },
    'no-ostree': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const WORK = join(repoRoot, '.cache/bench/ostree-export');
const NODE = join(repoRoot, 'node_modules/.bin/node');
const EPOCH = '1700000000';
const runs = Number(args.runs);
const maxLayers = args['max-layers']!;
const log = (s: string) => process.stderr.write(`[ostree-export] ${s}\n`);

interface Measured {
  seconds: number;
  /** Peak resident set, MiB. */
  rssMiB: number;
  cpuSeconds: number;
}

interface Side extends Measured {
  layers: number;
  /** Compressed bytes of all layers. */
  bytes: number;
  parts?: Record<string, Measured>;
}

interface TreeResult {
  name: string;
  entries: number;
  bytes: number;
  ours: Side[];
  ostree: Side[];
}

/** Runs a command under GNU time; returns its wall time, peak RSS and CPU time. */
async function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured & { stdout: string }> {
  const out = join(WORK, 'time.txt');
  const r = await run('/usr/bin/time', ['-o', out, '-f', '%e %M %U %S', cmd, ...argv], { env, timeoutMs: 60 * 60_000, allowFailure: true });
  if (r.code !== 0) throw new Error(`${r.command} failed (${r.code}):\n${r.stderr.slice(-2000)}`);
  const [e, m, u, s] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: e!, rssMiB: m! / 1024, cpuSeconds: u! + s!, stdout: r.stdout };
}

/** Layer count and compressed bytes of the only image of an OCI layout. */
function imageSize(layout: string): { layers: number; bytes: number } {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (d: string) => join(layout, 'blobs/sha256', d.slice(7));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { layers: { size: number }[] };
  return { layers: manifest.layers.length, bytes: manifest.layers.reduce((a, l) => a + l.size, 0) };
}

async function ours(tree: string): Promise<Side> {
  const out = join(WORK, 'out-ours');
  rmSync(out, { recursive: true, force: true });
  const extra = args.jobs ? [`--jobs=${args.jobs}`] : [];
  const m = await timed(NODE, [join(repoRoot, 'src/main.ts'), 'build-chunked-oci', '--bootc', '--format-version=2', `--rootfs=${tree}`,
    `--max-layers=${maxLayers}`, '--compression=gzip', ...extra, '--output', `oci:${out}`], { ...process.env, SOURCE_DATE_EPOCH: EPOCH });
  return { seconds: m.seconds, rssMiB: m.rssMiB, cpuSeconds: m.cpuSeconds, ...imageSize(out) };
}

async function ostree(tree: string, encap: string): Promise<Side> {
  const repo = join(WORK, 'repo');
  const out = join(WORK, 'out-ostree');
  rmSync(repo, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  execFileSync('ostree', ['init', `--repo=${repo}`, '--mode=bare-user']);
  // No fsync (ours does not sync either) and no xattrs (our local rootfs view does not read them).
  const commit = await timed('ostree', ['commit', `--repo=${repo}`, '--branch=bench', `--tree=dir=${tree}`, '--no-xattrs', '--fsync=false',
    `--timestamp=@${EPOCH}`, '--subject=']);
  const exp = await timed(encap, [repo, 'bench', out, maxLayers]);
  const info = JSON.parse(exp.stdout.trim().split('\n').pop()!) as { map_seconds: number };
  const strip = ({ seconds, rssMiB, cpuSeconds }: Measured): Measured => ({ seconds, rssMiB, cpuSeconds });
  return {
    seconds: commit.seconds + exp.seconds,
    rssMiB: Math.max(commit.rssMiB, exp.rssMiB),
    cpuSeconds: commit.cpuSeconds + exp.cpuSeconds,
    ...imageSize(out),
    parts: { commit: strip(commit), encapsulate: strip(exp), mapping: { seconds: info.map_seconds, rssMiB: 0, cpuSeconds: 0 } },
  };
}

/** The synthetic tree for (files, median), made once; a marker file holds its counts. */
function synthTree(files: number, median: number): { path: string; name: string } {
  const name = `synth-${files}-${median}`;
  const path = join(WORK, name);
  const marker = `${path}.json`;
  if (!existsSync(marker)) {
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { recursive: true });
    log(`generating ${name}`);
    const s = generateTree(path, { files, medianBytes: median });
    writeFileSync(marker, JSON.stringify(s));
  }
  return { path, name };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

function row(label: string, sides: Side[]): string {
  const t = median(sides.map((s) => s.seconds));
  const all = sides.map((s) => s.seconds.toFixed(1)).join(' / ');
  const rss = Math.max(...sides.map((s) => s.rssMiB));
  const cpu = median(sides.map((s) => s.cpuSeconds));
  return `| ${label} | ${t.toFixed(1)} s (${all}) | ${cpu.toFixed(1)} s | ${rss.toFixed(0)} MiB | ${sides[0]!.layers} | ${mib(sides[0]!.bytes)} |`;
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const loads: number[] = [];
  const sample = () => loads.push(Number(loadavg()[0]!.toFixed(2)));
  const encap = args['no-ostree'] ? '' : (await run('bash', [join(repoRoot, 'scripts/ostree-ext-check.sh'), '--encapsulate'], { timeoutMs: 60 * 60_000 })).stdout.trim().split('\n').pop()!;

  const trees: { path: string; name: string }[] = [];
  for (const name of args.trees!.split(',')) {
    if (name === 'synth') trees.push(synthTree(Number(args.files), Number(args['median-bytes'])));
    else if (name === 'debian') trees.push({ path: await debianRootfs(WORK, log), name: 'debian' }); // a private copy: other benches edit theirs
    else throw new Error(`--trees: unknown tree '${name}' (want synth or debian)`);
  }
  const results: TreeResult[] = [];
  for (const t of trees) {
    const c = countTree(t.path);
    const r: TreeResult = { name: t.name, entries: c.entries, bytes: c.bytes, ours: [], ostree: [] };
    // Warm the page cache once so the first run is not the only one reading from disk.
    execFileSync('tar', ['-cf', '/dev/null', '-C', t.path, '.']);
    for (let i = 0; i < runs; i++) {
      sample();
      log(`${t.name} run ${i + 1}/${runs}: ours`);
      r.ours.push(await ours(t.path));
      log(`  ${r.ours.at(-1)!.seconds.toFixed(1)} s, ${r.ours.at(-1)!.rssMiB.toFixed(0)} MiB`);
      if (!args['no-ostree']) {
        sample();
        log(`${t.name} run ${i + 1}/${runs}: ostree commit + encapsulate`);
        r.ostree.push(await ostree(t.path, encap));
        log(`  ${r.ostree.at(-1)!.seconds.toFixed(1)} s, ${r.ostree.at(-1)!.rssMiB.toFixed(0)} MiB`);
      }
    }
    results.push(r);
  }
  let big: TreeResult | undefined;
  if (!args['no-big']) {
    const t = synthTree(Number(args['big-files']), Number(args['median-bytes']));
    const c = countTree(t.path);
    big = { name: t.name, entries: c.entries, bytes: c.bytes, ours: [], ostree: [] };
    execFileSync('tar', ['-cf', '/dev/null', '-C', t.path, '.']);
    sample();
    log(`${t.name}: ours`);
    big.ours.push(await ours(t.path));
  }
  rmSync(join(WORK, 'repo'), { recursive: true, force: true });

  const L: string[] = [];
  const ostreeVersion = execFileSync('ostree', ['--version'], { encoding: 'utf8' }).match(/Version: '([^']+)'/)?.[1] ?? '?';
  const systemZlib = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'zlib1g'], { encoding: 'utf8' });
  const rustc = execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim();
  L.push(`Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]!.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM;`);
  L.push(`ours: Node ${process.version} (bundled zlib ${process.versions.zlib}), --jobs ${args.jobs ?? 'default (CPUs)'}; ` +
    `ostree: libostree ${ostreeVersion} CLI, ostree-ext 0.15.3 (${rustc}, opt-level 3, system zlib ${systemZlib}).`);
  L.push(`Load average (1 min) at the start of each run: ${Math.min(...loads)}–${Math.max(...loads)} on ${cpus().length} CPUs.`);
  L.push('');
  L.push('| tree | tool | wall (median; runs) | CPU (median) | peak RSS (max) | layers | compressed |');
  L.push('|---|---|---|---|---|---|---|');
  const notes: string[] = [];
  for (const r of results) {
    const label = `${r.name}: ${r.entries} entries, ${mib(r.bytes)}`;
    L.push(row(`${label} | ours`, r.ours));
    if (r.ostree.length === 0) continue;
    L.push(row(`${label} | ostree commit + encapsulate`, r.ostree));
    const speedup = median(r.ostree.map((s) => s.seconds)) / median(r.ours.map((s) => s.seconds));
    const p = r.ostree.map((s) => s.parts!);
    const part = (k: string) => `${median(p.map((x) => x[k]!.seconds)).toFixed(1)} s`;
    const peak = (k: string) => `${Math.max(...p.map((x) => x[k]!.rssMiB)).toFixed(0)} MiB`;
    notes.push(`- ${r.name}: ours **${speedup.toFixed(2)}×** faster. ostree side: commit ${part('commit')} (${peak('commit')}), ` +
      `encapsulate ${part('encapsulate')} (${peak('encapsulate')}; ${part('mapping')} of it mapping objects to components).`);
  }
  if (big) L.push(row(`${big.name}: ${big.entries} entries, ${mib(big.bytes)} | ours`, big.ours));
  if (notes.length > 0) L.push('', ...notes);
  process.stdout.write(`${L.join('\n')}\n`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ loads, results, big }, null, 2));
}

await main();