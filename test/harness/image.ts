// Pulling images into OCI layouts (skopeo), reading them, and unpacking their root filesystem (umoci).
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bin } from './env.ts';
import { copyToOciLayout } from './registry.ts';
import { compareTrees } from './tree.ts';
import { run } from './run.ts';

export { compareTrees, scanTree } from './tree.ts';
export type { CompareOptions, TreeDiff, TreeEntry } from './tree.ts';

export interface LayoutImage {
  /** Digest of the manifest in the layout (skopeo may convert Docker media types to OCI). */
  manifestDigest: string;
  manifest: Record<string, any>;
  configDigest: string;
  config: Record<string, any>;
  layers: { digest: string; size: number; mediaType: string; annotations?: Record<string, string> }[];
}

async function blob(layoutDir: string, digest: string): Promise<Buffer> {
  const [alg, hex] = digest.split(':') as [string, string];
  const bytes = await readFile(join(layoutDir, 'blobs', alg, hex));
  const got = `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
  if (got !== digest) throw new Error(`${layoutDir}: blob ${digest} has digest ${got}`);
  return bytes;
}

/**
 * Reads the image tagged `tag` (annotation org.opencontainers.image.ref.name) from an OCI layout, or
 * the only one when `tag` is omitted. A nested index is resolved to its linux/amd64 manifest.
 */
export async function readOciLayout(layoutDir: string, tag?: string): Promise<LayoutImage> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: any[] };
  const candidates = tag
    ? index.manifests.filter((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag)
    : index.manifests;
  if (candidates.length !== 1) {
    throw new Error(`${layoutDir}: expected one manifest${tag ? ` tagged ${tag}` : ''}, found ${candidates.length}`);
  }
  let desc = candidates[0];
  let manifest = JSON.parse((await blob(layoutDir, desc.digest)).toString('utf8'));
  while (Array.isArray(manifest.manifests)) {
    desc = (manifest.manifests as any[]).find((d) => d.platform?.os === 'linux' && d.platform?.architecture === 'amd64');
    if (!desc) throw new Error(`${layoutDir}: nested index has no linux/amd64 manifest`);
    manifest = JSON.parse((await blob(layoutDir, desc.digest)).toString('utf8'));
  }
  const configDigest = manifest.config.digest as string;
  const config = JSON.parse((await blob(layoutDir, configDigest)).toString('utf8'));
  return {
    manifestDigest: desc.digest,
    manifest,
    configDigest,
    config,
    layers: (manifest.layers as any[]).map((l) => ({
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
  };
}

/**
 * `umoci unpack` of `layoutDir:tag` into `bundleDir` (must not exist); returns the rootfs path.
 * Rootful by default (we run as root, so owners are kept); `rootless` maps every owner to the caller.
 */
export async function unpack(layoutDir: string, tag: string, bundleDir: string, rootless = false): Promise<string> {
  const args = ['unpack', ...(rootless ? ['--rootless'] : []), '--image', `${layoutDir}:${tag}`, bundleDir];
  await run(bin.umoci, args, { timeoutMs: 600_000 });
  return join(bundleDir, 'rootfs');
}

export interface PulledImage extends LayoutImage {
  layoutDir: string;
  rootfs: string;
}

/** Registry → OCI layout (`workDir/layout`) → unpacked rootfs (`workDir/bundle/rootfs`). */
export async function pullAndUnpack(ref: string, workDir: string, rootless = false): Promise<PulledImage> {
  await mkdir(workDir, { recursive: true });
  const layoutDir = join(workDir, 'layout');
  await copyToOciLayout(ref, layoutDir, 'image');
  const img = await readOciLayout(layoutDir, 'image');
  const rootfs = await unpack(layoutDir, 'image', join(workDir, 'bundle'), rootless);
  return { ...img, layoutDir, rootfs };
}

/** Paths (relative, no trailing '/') carried by one layer blob of a pulled image. */
export async function layerPaths(img: PulledImage, digest: string): Promise<string[]> {
  const blob = join(img.layoutDir, 'blobs', ...digest.split(':'));
  const r = await run('tar', ['-tzf', blob]);
  return r.stdout.split('\n').filter(Boolean).map((p) => p.replace(/\/$/, ''));
}

/**
 * Layers of `after` absent from `before`, each checked to hold at least one path whose content or
 * metadata differs between the two images: returns the offenders (layers that changed for nothing).
 */
export async function needlessLayers(before: PulledImage, after: PulledImage): Promise<{ changed: number; needless: string[] }> {
  const old = new Set(before.layers.map((l) => l.digest));
  const changed = after.layers.filter((l) => !old.has(l.digest));
  const diff = await compareTrees(before.rootfs, after.rootfs);
  const differing = diff.differences.map((d) => d.replace(/^[^/]*\//, '').split(/[: ]/)[0]);
  const needless: string[] = [];
  for (const l of changed) {
    const paths = await layerPaths(after, l.digest);
    const touches = paths.some((p) => differing.some((d) => d === p || d.startsWith(`${p}/`) || p.startsWith(`${d}/`)));
    if (!touches) needless.push(`${l.digest}: ${paths.slice(0, 8).join(', ')}`);
  }
  return { changed: changed.length, needless };
}
