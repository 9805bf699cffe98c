// Layers → blobs (compressed in parallel, bounded), then the config (which needs every diff_id) and
// the manifest. Format-agnostic: the ostree and plain builders hand in layer generators and a
// function from diff_ids to the config document.
import { BlobStore, MEDIA_TYPES, type Compression, type Descriptor, type LayerBlob } from './blobs.ts';
import { canonicalJson } from './json.ts';
import { mapLimit } from './pool.ts';

export interface LayerSource {
  /** The uncompressed tar; called exactly once. */
  open: () => AsyncIterable<Uint8Array>;
  /** Descriptor annotations (e.g. `ostree.components`). */
  annotations?: Record<string, string>;
  /** Expected uncompressed size: bigger layers start first so parallel work ends together. */
  weight?: number;
}

export interface ImageOptions {
  compression: Compression;
  /** Layers compressed at once. */
  concurrency: number;
  /** Progress, one call per finished layer. */
  onLayer?: (index: number, blob: LayerBlob) => void;
}

export interface WrittenImage {
  store: BlobStore;
  layers: LayerBlob[];
  config: Descriptor & { bytes: Uint8Array };
  manifest: Descriptor & { bytes: Uint8Array };
  platform: { architecture: string; os: string };
}

export async function writeLayers(store: BlobStore, sources: LayerSource[], opts: ImageOptions): Promise<LayerBlob[]> {
  const order = sources.map((_, i) => i).sort((a, b) => (sources[b]!.weight ?? 0) - (sources[a]!.weight ?? 0) || a - b);
  return mapLimit(sources, opts.concurrency, async (src, i) => {
    const blob = await store.putLayer(src.open(), opts.compression);
    if (src.annotations !== undefined) blob.annotations = src.annotations;
    opts.onLayer?.(i, blob);
    return blob;
  }, order);
}

/** The parts of an image config the manifest and index need to know. */
export interface ConfigDocument {
  architecture: string;
  os: string;
}

/** Writes the config and manifest blobs for layers already in the store. */
export async function writeManifest(
  store: BlobStore,
  layers: LayerBlob[],
  config: ConfigDocument,
  annotations?: Record<string, string>,
): Promise<WrittenImage> {
  const configBytes = Buffer.from(canonicalJson(config));
  const configDesc = await store.putBytes(configBytes, MEDIA_TYPES.config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: configDesc,
    layers: layers.map((l) => ({
      mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const manifestBytes = Buffer.from(canonicalJson(manifest));
  const manifestDesc = await store.putBytes(manifestBytes, MEDIA_TYPES.manifest);
  return {
    store,
    layers,
    config: { ...configDesc, bytes: configBytes },
    manifest: { ...manifestDesc, bytes: manifestBytes },
    platform: { architecture: config.architecture, os: config.os },
  };
}

/** RFC 3339 with seconds and `Z`, as ostree-ext formats `created`. */
export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Go's architecture name for this machine (what `--arch` defaults to upstream). */
export function hostArchitecture(): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', ia32: '386' };
  return names[process.arch] ?? process.arch;
}
