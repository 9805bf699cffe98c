// Addresses, binaries and image names of the local test environment (scripts/services.sh starts it).
// Every value can be overridden with the same CF_* environment variable the scripts read.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;

export const repoRoot: string = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** Runtime state of the services (pids, sockets, services.json). */
export const runDir: string = env.CF_RUN_DIR ?? '/run/compose-frontend';

/** Registry host:port (plain HTTP, no auth). */
export const registry: string = env.CF_REGISTRY ?? '127.0.0.1:5000';
/** Standalone buildkitd (v0.33, runc worker, MergeOp enabled). */
export const buildkitAddr: string = env.CF_BUILDKIT_ADDR ?? `unix://${runDir}/buildkitd.sock`;
/** Docker Engine 26.1 (embedded BuildKit v0.13, graphdriver store: no MergeOp, no OCI exporter). */
export const dockerHost: string = env.CF_DOCKER_HOST ?? 'unix:///var/run/docker.sock';

export const bin = {
  node: join(repoRoot, 'node_modules/.bin/node'),
  /** Debian's 26.1 client (matches the engine); /usr/local/bin/docker may be a newer CLI. */
  docker: env.CF_DOCKER ?? '/usr/bin/docker',
  buildctl: join(repoRoot, '.cache/go/bin/buildctl'),
  skopeo: 'skopeo',
  umoci: 'umoci',
} as const;

/** buildx builder names: `docker` = the engine's embedded BuildKit; `standalone` = remote driver. */
export const builders = {
  docker: 'default',
  standalone: env.CF_BUILDX_STANDALONE ?? 'cf-standalone',
} as const;

/** Which BuildKit a build goes to (both are driven by the tool named in BuildTool). */
export type BuildKitName = 'docker' | 'standalone';

/** Locally made Node 24 base (scripts/base-image.sh). */
export const baseImage: string = env.CF_BASE_IMAGE ?? `${registry}/compose-frontend/node:24`;
/** Frontend image tag scripts/test.sh builds (scripts/image.sh). */
export const frontendImageTag: string = env.CF_FRONTEND_IMAGE ?? `${registry}/compose-frontend:test`;

/** Environment for child processes that talk to dockerd. */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: dockerHost, ...extra };
}

interface ImageStamp {
  ref: string;
  digest: string;
}

/**
 * The frontend image pinned by digest (`repo@sha256:…`) as last pushed by scripts/image.sh, so builds
 * never use a stale tag (Docker's embedded BuildKit prefers a local copy of a tag).
 */
export function frontendImage(tag: string = frontendImageTag): string {
  const stamp = stampFor(tag);
  if (stamp === undefined) {
    throw new Error(`frontend image ${tag} has not been built: run scripts/image.sh ${tag} (npm test does)`);
  }
  return `${untagged(tag)}@${stamp.digest}`;
}

function stampFor(tag: string): ImageStamp | undefined {
  // scripts/image.sh names its stamp after the first 16 hex digits of sha256(REF).
  return readStamp(join(repoRoot, '.cache/images', `frontend-${createHashHex(tag).slice(0, 16)}.json`), tag);
}

function readStamp(file: string, ref: string): ImageStamp | undefined {
  if (!existsSync(file)) return undefined;
  const stamp = JSON.parse(readFileSync(file, 'utf8')) as ImageStamp;
  return stamp.ref === ref ? stamp : undefined;
}

/** The local Node 24 base pinned by digest, as last pushed by scripts/base-image.sh. */
export function baseImagePinned(): string {
  const stamp = readStamp(join(repoRoot, '.cache/images/base.json'), baseImage);
  if (stamp === undefined) throw new Error(`base image ${baseImage} has not been built: run scripts/base-image.sh`);
  return `${untagged(baseImage)}@${stamp.digest}`;
}

/** `host:port/name:tag` → `host:port/name` (digest and tag removed). */
export function untagged(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** Facts recorded by `scripts/services.sh start` (engine and BuildKit versions actually running). */
export interface ServiceFacts {
  registry: string;
  dockerHost: string;
  docker: string;
  dockerVersion: string;
  dockerNetwork: string;
  buildkitAddr: string;
  buildkitVersion: string;
  buildkitSnapshotter: string;
  buildxStandalone: string;
}

export function serviceFacts(): ServiceFacts {
  const file = join(runDir, 'services.json');
  if (!existsSync(file)) throw new Error(`${file} missing: run scripts/services.sh start`);
  return JSON.parse(readFileSync(file, 'utf8')) as ServiceFacts;
}

function createHashHex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
