// OCI image layout directories: `oci-layout`, `index.json`, `blobs/`. Writing the index is the last
// step of an output and is atomic (temp file + rename); reading resolves a tag (or the only image)
// to its manifest and config, for --previous-build.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_TYPES, type Descriptor } from './blobs.ts';
import { canonicalJson } from './json.ts';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';

interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  [key: string]: unknown;
}

async function readIndex(dir: string): Promise<Index | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'index.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let idx: Index;
  try {
    idx = JSON.parse(text) as Index;
  } catch (err) {
    throw new Error(`OCI layout '${dir}': index.json is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(idx.manifests)) throw new Error(`OCI layout '${dir}': index.json has no manifests list`);
  return idx;
}

/**
 * Points the layout's index at `manifest`: with a tag, other tags are kept and an older image
 * with the same tag is replaced; without one, the index holds just this image (what ocidir does).
 */
export async function writeIndex(dir: string, manifest: Descriptor, tag?: string): Promise<void> {
  const entry: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
  if (tag !== undefined) entry.annotations = { [REF_NAME]: tag };
  if (manifest.platform) entry.platform = manifest.platform;
  let manifests: Descriptor[] = [entry];
  if (tag !== undefined) {
    const old = await readIndex(dir);
    if (old) manifests = [...old.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag), entry];
  }
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests };
  await writeFile(join(dir, 'oci-layout'), OCI_LAYOUT);
  const tmp = join(dir, `.index.json.tmp-${process.pid}`);
  await writeFile(tmp, canonicalJson(index));
  await rename(tmp, join(dir, 'index.json'));
}

export interface LayoutImage {
  manifestDigest: string;
  manifest: { layers: Descriptor[]; annotations?: Record<string, string>; config: Descriptor; [k: string]: unknown };
  config: { config?: { Labels?: Record<string, string> }; history?: { created_by?: string; comment?: string; empty_layer?: boolean }[]; [k: string]: unknown };
}

/** The image a layout's index names by `tag`, or its only image when no tag is given. */
export async function readLayoutImage(dir: string, tag?: string): Promise<LayoutImage> {
  const where = `OCI layout '${dir}'`;
  const idx = await readIndex(dir);
  if (idx === undefined) throw new Error(`${where}: no index.json (not an OCI layout)`);
  let picked: Descriptor | undefined;
  if (tag !== undefined) {
    picked = idx.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
    if (!picked) throw new Error(`${where}: no image tagged '${tag}'`);
  } else {
    if (idx.manifests.length !== 1) throw new Error(`${where}: holds ${idx.manifests.length} images; name one with oci:${dir}:TAG`);
    picked = idx.manifests[0]!;
  }
  if (picked.mediaType !== undefined && picked.mediaType !== MEDIA_TYPES.manifest && picked.mediaType !== 'application/vnd.docker.distribution.manifest.v2+json') {
    throw new Error(`${where}: ${picked.digest} is a ${picked.mediaType}, not an image manifest`);
  }
  const blob = async (d: string) => {
    if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw new Error(`${where}: unsupported digest '${d}'`);
    return JSON.parse(await readFile(join(dir, 'blobs', 'sha256', d.slice(7)), 'utf8')) as unknown;
  };
  const manifest = await blob(picked.digest) as LayoutImage['manifest'];
  if (!Array.isArray(manifest.layers) || !manifest.config) throw new Error(`${where}: manifest ${picked.digest} has no layers or config`);
  const config = await blob(manifest.config.digest) as LayoutImage['config'];
  return { manifestDigest: picked.digest, manifest, config };
}
