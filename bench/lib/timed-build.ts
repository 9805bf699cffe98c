// `docker buildx build` (push, or cache-only) on either BuildKit with every progress line stamped on
// arrival, so a build can be split into phases on the wall clock (test/harness/buildkit.ts keeps only
// the text).
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { bin, builders, toolEnv } from '../../test/harness/env.ts';
import type { BuildKitName } from '../../test/harness/env.ts';
import { getManifest } from '../../test/harness/registry.ts';
import { tail } from '../../test/harness/run.ts';
import { frontendStats, parseProgress, phases, type Phases, type Progress, type TimedLine } from './progress.ts';

export interface TimedBuildOptions {
  kit: BuildKitName;
  contextDir: string;
  /** Absolute path of the build file (may lie outside the context). */
  file: string;
  /** Gateway frontend image (BUILDKIT_SYNTAX); absent = the Dockerfile frontend. */
  frontend?: string;
  buildArgs?: Record<string, string>;
  /** Push here; absent = build only (`type=cacheonly`: layers built, nothing exported). */
  ref?: string;
  timeoutMs: number;
}

export interface TimedBuild {
  wallMs: number;
  /** 1-minute load average when the build started and when it ended (other work on the machine). */
  load: [number, number];
  ref?: string;
  manifestDigest?: string;
  /** Compressed layer blobs of the pushed manifest, in order. */
  layers: { digest: string; size: number }[];
  progress: Progress;
  phases: Phases;
  stats?: Record<string, number | boolean>;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function runTimed(args: string[], timeoutMs: number): Promise<{ wallMs: number; lines: TimedLine[] }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin.docker, args, { env: toolEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const lines: TimedLine[] = [];
    let partial = '';
    const onData = (b: Buffer) => {
      const t = Math.round(performance.now() - t0);
      const parts = (partial + b.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ t, text });
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (e) => reject(new Error(`cannot run docker: ${e.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (partial) lines.push({ t: Math.round(performance.now() - t0), text: partial });
      const wallMs = Math.round(performance.now() - t0);
      if (code === 0) return resolve({ wallMs, lines });
      const why = signal ? `killed by ${signal}${wallMs >= timeoutMs ? ` after the ${timeoutMs} ms timeout` : ''}` : `exited with code ${code}`;
      reject(new Error(`docker ${args.join(' ')} ${why}\n${tail(lines.map((l) => l.text).join('\n'))}`));
    });
  });
}

/** Layer blobs of `ref` (an index is resolved to its first linux/amd64 manifest). */
export async function layerBlobs(ref: string): Promise<{ digest: string; layers: { digest: string; size: number }[] }> {
  let m = await getManifest(ref);
  if (Array.isArray(m.json.manifests)) {
    const d = (m.json.manifests as any[]).find((x) => x.platform?.os === 'linux' && x.platform?.architecture === 'amd64') ?? m.json.manifests[0];
    m = await getManifest(`${ref.split('@')[0].replace(/:[^:/]*$/, '')}@${d.digest}`);
  }
  return { digest: m.digest, layers: (m.json.layers as any[]).map((l) => ({ digest: String(l.digest), size: Number(l.size) })) };
}

export async function timedBuild(o: TimedBuildOptions): Promise<TimedBuild> {
  const args = ['buildx', 'build', '--builder', builders[o.kit], '--progress=plain', '-f', o.file];
  if (o.frontend) args.push('--build-arg', `BUILDKIT_SYNTAX=${o.frontend}`);
  for (const [k, v] of Object.entries(o.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
  args.push('--provenance=false', '--sbom=false', '--output', o.ref ? `type=image,name=${o.ref},push=true` : 'type=cacheonly', o.contextDir);
  const load0 = loadavg()[0];
  const { wallMs, lines } = await runTimed(args, o.timeoutMs);
  const load: [number, number] = [round1(load0), round1(loadavg()[0])];
  const progress = parseProgress(lines);
  const blobs = o.ref ? await layerBlobs(o.ref) : { digest: undefined, layers: [] };
  return {
    wallMs,
    load,
    ref: o.ref,
    manifestDigest: blobs.digest,
    layers: blobs.layers,
    progress,
    phases: phases(progress, wallMs),
    stats: frontendStats(progress),
  };
}
