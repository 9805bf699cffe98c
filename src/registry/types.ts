// Public shapes of the registry client: what a push takes, what it reports, what reads return.
import type { Readable } from 'node:stream';
import type { RetryPolicy } from './retry.ts';

/** One blob of an image to push. Give at most one of bytes / path / open. */
export interface BlobSource {
  digest: string;
  size: number;
  mediaType: string;
  bytes?: Uint8Array;
  /** A file holding exactly the blob (read again from the start on each attempt). */
  path?: string;
  /** Produces the blob's bytes from the start; called again for every attempt. */
  open?: () => Readable | AsyncIterable<Uint8Array>;
  /**
   * Repository on the same registry that already has this blob: mounted instead of uploaded
   * (`POST …/blobs/uploads/?mount=DIGEST&from=REPO`). A blob with no content source must either
   * exist in the target repository already or be mountable.
   */
  mountFrom?: string;
}

export interface ImageToPush {
  config: BlobSource;
  layers: BlobSource[];
  /** The exact manifest bytes (their sha256 is the pushed digest) and media type. */
  manifest: { bytes: Uint8Array; mediaType: string };
}

export type BlobAction = 'exists' | 'mounted' | 'uploaded';

export type RegistryEvent =
  | { kind: 'blob'; digest: string; size: number; action: BlobAction; from?: string }
  | { kind: 'retry'; what: string; attempt: number; delayMs: number; reason: string }
  | { kind: 'manifest'; digest: string; reference: string };

export interface PushResult {
  /** Digest of the manifest bytes, as the registry confirmed it. */
  digest: string;
  /** `registry/repository@digest`. */
  reference: string;
  tag?: string;
  blobs: { digest: string; action: BlobAction }[];
}

export interface RemoteManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

export interface RemoteImage {
  /** The manifest the reference resolved to (an index when it is multi-platform). */
  top: RemoteManifest;
  /** The platform's image manifest (same as `top` for a single-platform image). */
  manifest: RemoteManifest;
  config: { digest: string; bytes: Buffer; json: Record<string, unknown> };
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface RegistryClientOptions {
  /** `--authfile`; otherwise $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, … */
  authfile?: string;
  /** Environment for auth file lookup (default process.env). */
  env?: NodeJS.ProcessEnv;
  home?: string;
  retry?: Partial<RetryPolicy>;
  /**
   * Blobs larger than this go up in PATCH chunks of this size (each held in memory once); smaller
   * ones in one PUT. 0 = always one PUT. Default 16 MiB.
   */
  chunkSize?: number;
  /** Blobs uploaded at the same time. Default 3. */
  concurrency?: number;
  /** Extra registries to speak plain HTTP to (loopback ones always are). */
  plainHttp?: string[];
  connectTimeoutMs?: number;
  /** Time to wait for response headers (a stalled registry counts as a transient failure). */
  headersTimeoutMs?: number;
  /** Longest gap between body bytes. */
  bodyTimeoutMs?: number;
  onEvent?: (e: RegistryEvent) => void;
  userAgent?: string;
}
