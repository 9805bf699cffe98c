// Runs coreos/chunkah (a binary built from its public source; path in CHUNKAH_BIN) on a rootfs and
// reads back the layers of the OCI layout it writes. chunkah has no notion of a previous image: its
// layer stability comes from hash binning alone, so each version is chunked on its own.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ChunkahLayer {
  /** sha256 of the uncompressed layer blob (chunkah writes uncompressed layers by default), hex. */
  digest: string;
  size: number;
  blob: string;
  /** Component names from the layer annotation (`rpm/bash`, `bigfiles/…`, `chunkah/unclaimed`, …). */
  components: string[];
}

export interface ChunkahRun {
  layers: ChunkahLayer[];
  seconds: number;
  version: string;
}

async function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${bin} ${args.join(' ')} exited with ${code}:\n${stderr.slice(-4000)}`))));
  });
}

/** chunkah has no --version; the bench names the source commit it was built from (CHUNKAH_REF). */
export function chunkahVersion(): string {
  return process.env.CHUNKAH_REF ?? 'version unknown (set CHUNKAH_REF)';
}

export async function runChunkah(bin: string, rootfs: string, out: string, o: { maxLayers: number; epoch: number; threads: number }): Promise<ChunkahRun> {
  await rm(out, { recursive: true, force: true });
  await mkdir(dirname(out), { recursive: true });
  const t0 = performance.now();
  await run(bin, [
    'build', '--rootfs', rootfs, '--output', `oci:${out}`, '--max-layers', String(o.maxLayers),
    '--skip-special-files', '--threads', String(o.threads),
  ], { ...process.env, SOURCE_DATE_EPOCH: String(o.epoch), RUST_LOG: 'warn' });
  const seconds = (performance.now() - t0) / 1000;
  const blob = (d: string) => join(out, 'blobs', ...d.split(':'));
  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0].digest), 'utf8'));
  const layers: ChunkahLayer[] = manifest.layers.map((l: { digest: string; size: number; annotations?: Record<string, string> }) => ({
    digest: l.digest.replace(/^sha256:/, ''),
    size: l.size,
    blob: blob(l.digest),
    components: (l.annotations?.['org.chunkah.component'] ?? '').split(' ').filter((s) => s !== ''),
  }));
  return { layers, seconds, version: chunkahVersion() };
}
