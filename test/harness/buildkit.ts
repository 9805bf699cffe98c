// Builds through either BuildKit: `buildctl` against the standalone buildkitd, or `docker buildx` on
// the Docker 26.1 engine's embedded BuildKit (docker driver) or on the standalone one (remote driver).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { bin, buildkitAddr, builders, toolEnv } from './env.ts';
import type { BuildKitName } from './env.ts';
import { manifestDigest } from './registry.ts';
import { run } from './run.ts';

export type BuildOutput =
  /** Image pushed to a registry (the local one is plain HTTP). */
  | { type: 'push'; ref: string }
  /** Unpacked OCI layout directory (not available on the docker driver). */
  | { type: 'oci-dir'; dest: string }
  /** The result's root filesystem written to a directory. */
  | { type: 'local'; dest: string }
  /** Build only (cache). */
  | { type: 'none' };

export interface BuildOptions {
  /** Gateway frontend image (prefer `repo@sha256:…`); absent → the Dockerfile frontend / `# syntax=`. */
  frontendImage?: string;
  contextDir: string;
  /** Directory holding the build file (the `dockerfile` local); default `contextDir`. */
  dockerfileDir?: string;
  /** Build file name inside `dockerfileDir`; default `Dockerfile`. */
  filename?: string;
  /**
   * Frontend options in buildctl form (`build-arg:K`, `label:K`, `target`, `platform`, `no-cache`,
   * `context:NAME`, …). buildx gets the equivalent flags; an option buildx cannot express throws.
   */
  opts?: Record<string, string>;
  /**
   * Named build contexts in buildx syntax: a directory, `docker-image://REF`, `target:STAGE`.
   * buildctl gets `--local NAME=DIR` + `context:NAME=local:NAME` for directories (what buildx sends).
   */
  namedContexts?: Record<string, string>;
  /** Extra raw local dirs (buildctl `--local NAME=DIR`; buildctl only). */
  localDirs?: Record<string, string>;
  output: BuildOutput;
  /** Extra `k=v` attributes for the exporter (e.g. `rewrite-timestamp: 'true'`). */
  outputAttrs?: Record<string, string>;
  /** Keep buildx's default provenance attestation (off by default: it makes digests unstable). */
  provenance?: boolean;
  timeoutMs?: number;
  /** Raw extra arguments for the tool, appended last. */
  extraArgs?: string[];
}

export interface BuildResult {
  tool: 'buildctl' | 'buildx';
  /** buildkitd address (buildctl) or buildx builder name. */
  builder: string;
  /** For `push`: manifest (or index) digest as the registry serves it. */
  digest?: string;
  /** The tool's `--metadata-file` JSON (`containerimage.digest`, `containerimage.config.digest`, …). */
  metadata: Record<string, unknown>;
  command: string;
  stdout: string;
  /** Progress output (`--progress=plain`): vertex names, warnings, errors. */
  stderr: string;
  durationMs: number;
}

const abs = (p: string): string => (isAbsolute(p) ? p : resolve(p));

function outputSpec(out: BuildOutput, attrs: Record<string, string> | undefined, tool: string, builder: string): string[] {
  const extra = Object.entries(attrs ?? {}).map(([k, v]) => `${k}=${v}`);
  const spec = (...parts: string[]): string[] => ['--output', [...parts, ...extra].join(',')];
  switch (out.type) {
    case 'push':
      return spec('type=image', `name=${out.ref}`, 'push=true');
    case 'oci-dir':
      if (tool === 'buildx' && builder === builders.docker) {
        throw new Error('oci-dir output: the docker driver has no OCI exporter; use the standalone BuildKit');
      }
      return spec('type=oci', `dest=${abs(out.dest)}`, 'tar=false');
    case 'local':
      return spec('type=local', `dest=${abs(out.dest)}`);
    case 'none':
      return tool === 'buildx' ? spec('type=cacheonly') : [];
  }
}

async function withMetadata<T>(fn: (file: string) => Promise<T>): Promise<[T, Record<string, unknown>]> {
  const dir = await mkdtemp(join(tmpdir(), 'cf-build-'));
  const file = join(dir, 'metadata.json');
  try {
    const value = await fn(file);
    let metadata: Record<string, unknown> = {};
    try {
      metadata = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch {
      // no metadata for this exporter
    }
    return [value, metadata];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function finish(
  tool: 'buildctl' | 'buildx',
  builder: string,
  o: BuildOptions,
  r: Awaited<ReturnType<typeof run>>,
  metadata: Record<string, unknown>,
): Promise<BuildResult> {
  const digest = o.output.type === 'push' ? await manifestDigest(o.output.ref) : undefined;
  return { tool, builder, digest, metadata, command: r.command, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs };
}

/** `buildctl build` against the standalone buildkitd (or `addr`). */
export async function buildctlBuild(o: BuildOptions, addr: string = buildkitAddr): Promise<BuildResult> {
  const args = ['--addr', addr, 'build', '--progress=plain'];
  if (o.frontendImage) args.push('--frontend', 'gateway.v0', '--opt', `source=${o.frontendImage}`);
  else args.push('--frontend', 'dockerfile.v0');
  args.push('--local', `context=${abs(o.contextDir)}`, '--local', `dockerfile=${abs(o.dockerfileDir ?? o.contextDir)}`);
  if (o.filename) args.push('--opt', `filename=${o.filename}`);
  for (const [k, v] of Object.entries(o.opts ?? {})) args.push('--opt', `${k}=${v}`);
  for (const [name, value] of Object.entries(o.namedContexts ?? {})) {
    if (/^[a-z-]+:\/\//.test(value) || value.startsWith('target:')) {
      args.push('--opt', `context:${name}=${value}`);
    } else {
      args.push('--local', `${name}=${abs(value)}`, '--opt', `context:${name}=local:${name}`);
    }
  }
  for (const [k, v] of Object.entries(o.localDirs ?? {})) args.push('--local', `${k}=${abs(v)}`);
  args.push(...outputSpec(o.output, o.outputAttrs, 'buildctl', addr));
  const [r, metadata] = await withMetadata((file) =>
    run(bin.buildctl, [...args, '--metadata-file', file, ...(o.extraArgs ?? [])], { timeoutMs: o.timeoutMs }),
  );
  return finish('buildctl', addr, o, r, metadata);
}

/** Translates buildctl-style frontend options into `docker buildx build` flags. */
function buildxOptArgs(opts: Record<string, string>): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(opts)) {
    if (k.startsWith('build-arg:')) args.push('--build-arg', `${k.slice(10)}=${v}`);
    else if (k.startsWith('label:')) args.push('--label', `${k.slice(6)}=${v}`);
    else if (k.startsWith('context:')) args.push('--build-context', `${k.slice(8)}=${v}`);
    else if (k === 'target') args.push('--target', v);
    else if (k === 'platform') args.push('--platform', v);
    else if (k === 'no-cache') args.push(...(v === '' ? ['--no-cache'] : v.split(',').flatMap((s) => ['--no-cache-filter', s])));
    else if (k === 'filename') throw new Error('buildxBuild: pass the build file as `filename`, not as an option');
    else throw new Error(`buildxBuild: frontend option "${k}" has no docker buildx equivalent`);
  }
  return args;
}

/**
 * `docker buildx build` (Docker 26.1 client). `builder` 'docker' = the engine's embedded BuildKit,
 * 'standalone' = the standalone buildkitd through the remote driver. The frontend image is passed as
 * BUILDKIT_SYNTAX, exactly what a `# syntax=` line does.
 */
export async function buildxBuild(o: BuildOptions & { builder?: BuildKitName }): Promise<BuildResult> {
  const builder = builders[o.builder ?? 'docker'];
  const file = join(abs(o.dockerfileDir ?? o.contextDir), o.filename ?? 'Dockerfile');
  const args = ['buildx', 'build', '--builder', builder, '--progress=plain', '-f', file];
  if (o.frontendImage) args.push('--build-arg', `BUILDKIT_SYNTAX=${o.frontendImage}`);
  args.push(...buildxOptArgs(o.opts ?? {}));
  for (const [name, value] of Object.entries(o.namedContexts ?? {})) {
    const v = /^[a-z-]+:\/\//.test(value) || value.startsWith('target:') ? value : abs(value);
    args.push('--build-context', `${name}=${v}`);
  }
  if (o.localDirs && Object.keys(o.localDirs).length > 0) {
    throw new Error('buildxBuild: localDirs is buildctl-only; use namedContexts');
  }
  if (!o.provenance) args.push('--provenance=false', '--sbom=false');
  args.push(...outputSpec(o.output, o.outputAttrs, 'buildx', builder));
  const [r, metadata] = await withMetadata((md) =>
    run(bin.docker, [...args, '--metadata-file', md, ...(o.extraArgs ?? []), abs(o.contextDir)], {
      env: toolEnv(),
      timeoutMs: o.timeoutMs,
    }),
  );
  return finish('buildx', builder, o, r, metadata);
}

/** The natural tool for each BuildKit: buildx on the docker driver, buildctl on the standalone. */
export function buildOn(kit: BuildKitName, o: BuildOptions): Promise<BuildResult> {
  return kit === 'docker' ? buildxBuild({ ...o, builder: 'docker' }) : buildctlBuild(o);
}

/** Drops the whole build cache of one BuildKit (images in dockerd's image store stay). */
export async function pruneCache(kit: BuildKitName): Promise<void> {
  if (kit === 'docker') {
    await run(bin.docker, ['buildx', 'prune', '--all', '--force', '--builder', builders.docker], { env: toolEnv() });
  } else {
    await run(bin.buildctl, ['--addr', buildkitAddr, 'prune', '--all']);
  }
}
