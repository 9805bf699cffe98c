// Content-addressed blobs of an OCI layout (`blobs/sha256/<hex>`): JSON documents from memory and
// layers streamed from a tar generator through sha256 (diff_id), the compressor, sha256 (digest)
// into a temp file that is renamed to its digest. Nothing is held in memory beyond stream buffers.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip, createZstdCompress } from 'node:zlib';

export type Compression = 'gzip' | 'zstd';

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface LayerBlob extends Descriptor {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  uncompressedSize: number;
}

/**
 * Compression levels: gzip 6 is flate2's default (what ostree-ext uses); zstd 3 is zstd's. Stream
 * buffers: 256 KiB of output per trip to the thread pool (16 KiB by default: a main-thread
 * round trip every ~40 KiB of input) and up to 1 MiB of queued input, so the compressor has the
 * next blocks while the layer's producer reads more files. The compressed bytes do not change.
 */
const STREAM = { chunkSize: 256 * 1024, writableHighWaterMark: 1024 * 1024 };
function compressor(c: Compression) {
  if (c === 'gzip') return createGzip({ level: 6, ...STREAM });
  return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 3 }, ...STREAM });
}

export class BlobStore {
  readonly root: string;
  readonly dir: string;
  /** Digests of blobs this store wrote (not ones that were already there): what to remove on failure. */
  readonly added: string[] = [];
  #tmp = 0;

  constructor(layoutDir: string) {
    this.root = layoutDir;
    this.dir = join(layoutDir, 'blobs', 'sha256');
  }

  path(digest: string): string {
    return join(this.dir, digest.replace(/^sha256:/, ''));
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async putBytes(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const tmp = this.#tmpPath();
    await writeFile(tmp, bytes);
    await this.#commit(tmp, digest);
    return { mediaType, digest, size: bytes.length };
  }

  /**
   * Streams a tar through the compressor into a blob. Chunks are written with backpressure (no
   * object-mode queues), so a layer holds at most ~1 MiB of source chunks in memory.
   */
  async putLayer(source: AsyncIterable<Uint8Array>, compression: Compression): Promise<LayerBlob> {
    const diff = createHash('sha256');
    const comp = createHash('sha256');
    let uncompressedSize = 0;
    let size = 0;
    const tmp = this.#tmpPath();
    const z = compressor(compression);
    const written = pipeline(
      z,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          comp.update(c);
          size += c.length;
          yield c;
        }
      },
      createWriteStream(tmp),
    );
    try {
      for await (const c of source) {
        diff.update(c);
        uncompressedSize += c.length;
        if (!z.write(c)) await Promise.race([once(z, 'drain'), written]);
      }
      z.end();
      await written;
    } catch (err) {
      z.destroy();
      await written.catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    const digest = `sha256:${comp.digest('hex')}`;
    await this.#commit(tmp, digest);
    return { mediaType: MEDIA_TYPES[compression], digest, size, diffId: `sha256:${diff.digest('hex')}`, uncompressedSize };
  }

  #tmpPath(): string {
    return join(this.dir, `.tmp-${process.pid}-${this.#tmp++}`);
  }

  async #commit(tmp: string, digest: string): Promise<void> {
    const dest = this.path(digest);
    const exists = await stat(dest).then(() => true, () => false);
    if (exists) {
      await rm(tmp, { force: true });
      return;
    }
    await rename(tmp, dest);
    this.added.push(digest);
  }

  /** Removes the blobs this store added (after a failure, when writing into an existing layout). */
  async removeAdded(): Promise<void> {
    for (const d of this.added.splice(0)) await rm(this.path(d), { force: true });
  }
}
