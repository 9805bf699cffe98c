// OCI distribution client: read manifests, configs and blobs (digests verified), and push an image
// with every blob confirmed before the manifest PUT, so a failed push never moves the tag.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher } from 'undici';
import { Authorizer, repositoryScope } from './auth.ts';
import { findCredentials, type CredentialLookup } from './credentials.ts';
import { digestOf, sha256Digest, VerifyingStream } from './digest.ts';
import { PushError, RegistryError } from './errors.ts';
import { headerValue, RegistryEndpoint } from './http.ts';
import { digestProblem, formatReference, manifestTarget, parseReference, type ImageReference } from './ref.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.ts';
import type { BlobAction, BlobSource, ImageToPush, Platform, PushResult, RegistryClientOptions, RemoteImage, RemoteManifest } from './types.ts';
import { ensureBlob, headBlob } from './upload.ts';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const ACCEPT = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerList].join(', ');
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
/** Manifests larger than this are refused (containerd uses the same bound). */
const MAX_MANIFEST = 4 << 20;
const MAX_CONFIG = 64 << 20;
const DEFAULT_CHUNK = 16 << 20;

type Ref = string | ImageReference;

function toRef(ref: Ref): ImageReference {
  return typeof ref === 'string' ? parseReference(ref) : ref;
}

/** Go's name for the machine this runs on, for picking a manifest out of an index. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

export class RegistryClient {
  readonly #opts: RegistryClientOptions;
  readonly #dispatcher: Agent;
  readonly #endpoints = new Map<string, RegistryEndpoint>();
  readonly #retry: RetryPolicy;

  constructor(opts: RegistryClientOptions = {}) {
    this.#opts = opts;
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#dispatcher = new Agent({
      connect: { timeout: opts.connectTimeoutMs ?? 30_000 },
      headersTimeout: opts.headersTimeoutMs ?? 120_000,
      bodyTimeout: opts.bodyTimeoutMs ?? 120_000,
      connections: 8,
    });
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /**
   * The endpoint (token cache, credentials) for a repository of a registry. Per repository because
   * auth files may hold credentials for `registry/namespace` keys.
   */
  endpoint(registry: string, repository: string): RegistryEndpoint {
    const key = `${registry}/${repository}`;
    let ep = this.#endpoints.get(key);
    if (!ep) {
      const o = this.#opts;
      const authorizer = new Authorizer({
        registry,
        lookup: () => findCredentials(registry, repository, { ...(o.authfile ? { authfile: o.authfile } : {}), ...(o.env ? { env: o.env } : {}), ...(o.home ? { home: o.home } : {}) }),
        fetchToken: async (url, headers) => {
          const res = await this.#dispatcher.request({ origin: url.origin, path: `${url.pathname}${url.search}`, method: 'GET', headers });
          return { status: res.statusCode, body: await res.body.text() };
        },
      });
      ep = new RegistryEndpoint({
        registry,
        dispatcher: this.#dispatcher as Dispatcher,
        authorizer,
        retry: this.#retry,
        plainHttp: (o.plainHttp ?? []).includes(registry),
        ...(o.userAgent ? { userAgent: o.userAgent } : {}),
        onRetry: (e) => o.onEvent?.({ kind: 'retry', ...e }),
      });
      this.#endpoints.set(key, ep);
    }
    return ep;
  }

  /**
   * The credentials a request to `ref` would use (or the files searched). Throws AuthFileError for a
   * missing --authfile or a broken auth file, so a CLI can fail before doing any work.
   */
  credentialsFor(ref: Ref): CredentialLookup {
    const r = toRef(ref);
    return this.endpoint(r.registry, r.repository).authorizer.lookup();
  }

  /** The manifest (or index) `ref` names; bytes checked against the digest in the ref or the registry's header. */
  async getManifest(ref: Ref, opts: { signal?: AbortSignal } = {}): Promise<RemoteManifest> {
    const r = toRef(ref);
    const ep = this.endpoint(r.registry, r.repository);
    const name = formatReference(r);
    const res = await ep.request({
      method: 'GET',
      url: `/v2/${r.repository}/manifests/${manifestTarget(r)}`,
      headers: { accept: ACCEPT },
      scopes: [repositoryScope(r.repository, 'pull')],
      ok: [200],
      what: `GET manifest ${name}`,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const bytes = await readCapped(res.body, MAX_MANIFEST, `manifest ${name}`);
    const expected = r.digest ?? headerValue(res.headers, 'docker-content-digest');
    const digest = expected && !digestProblem(expected) ? digestOf(bytes, expected) : sha256Digest(bytes);
    if (expected && !digestProblem(expected) && digest !== expected) {
      throw new RegistryError(`manifest ${name}: content has digest ${digest}, but ${r.digest ? 'the reference' : 'the registry'} says ${expected}`);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new RegistryError(`manifest ${name} is not JSON`);
    }
    const contentType = headerValue(res.headers, 'content-type')?.split(';')[0]?.trim();
    const mediaType = typeof json.mediaType === 'string' ? json.mediaType : (contentType ?? '');
    return { digest: sha256Digest(bytes), mediaType, bytes, json };
  }

  /** Whether `ref`'s repository has the blob. */
  async headBlob(ref: Ref, digest: string): Promise<{ exists: boolean; size?: number }> {
    const r = toRef(ref);
    return headBlob({ endpoint: this.endpoint(r.registry, r.repository), repository: r.repository, scopes: [repositoryScope(r.repository, 'pull')] }, digest);
  }

  /**
   * A blob of `ref`'s repository as a stream that errors at the end unless the bytes match `digest`
   * (and `size`, when given). Consume it fully to get the check.
   */
  async getBlob(ref: Ref, digest: string, opts: { size?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    const r = toRef(ref);
    const why = digestProblem(digest);
    if (why) throw new RegistryError(`getBlob ${formatReference(r)}: ${why}`);
    const ep = this.endpoint(r.registry, r.repository);
    const res = await ep.request({
      method: 'GET',
      url: `/v2/${r.repository}/blobs/${digest}`,
      scopes: [repositoryScope(r.repository, 'pull')],
      ok: [200],
      redirects: true,
      what: `GET blob ${digest} from ${r.registry}/${r.repository}`,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const verify = new VerifyingStream(digest, opts.size, `blob ${digest} from ${r.registry}/${r.repository}`);
    pipeline(res.body, verify).catch((e: unknown) => verify.destroy(e as Error));
    return verify;
  }

  /** A whole (small) blob in memory, verified. */
  async getBlobBytes(ref: Ref, digest: string, maxBytes: number = MAX_CONFIG): Promise<Buffer> {
    const stream = await this.getBlob(ref, digest);
    return readCapped(stream, maxBytes, `blob ${digest}`);
  }

  /** The manifest `ref` names for one platform: an index is resolved to its entry for `platform`. */
  async getPlatformManifest(ref: Ref, platform: Platform = hostPlatform()): Promise<{ top: RemoteManifest; manifest: RemoteManifest }> {
    const r = toRef(ref);
    const top = await this.getManifest(r);
    if (!INDEX_TYPES.has(top.mediaType) && !Array.isArray(top.json.manifests)) return { top, manifest: top };
    const entries = (top.json.manifests ?? []) as { digest?: string; platform?: Partial<Platform> }[];
    const hit = entries.find(
      (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture && (!platform.variant || m.platform?.variant === platform.variant),
    );
    if (!hit?.digest) {
      const have = entries.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ');
      throw new RegistryError(`${formatReference(r)} is an index without a ${platform.os}/${platform.architecture} image (has: ${have || 'nothing'})`);
    }
    return { top, manifest: await this.getManifest({ registry: r.registry, repository: r.repository, digest: hit.digest }) };
  }

  /** Manifest and config of `ref` for one platform (an index is resolved). For --previous-build. */
  async getImage(ref: Ref, platform: Platform = hostPlatform()): Promise<RemoteImage> {
    const r = toRef(ref);
    const { top, manifest } = await this.getPlatformManifest(r, platform);
    const config = manifest.json.config as { digest?: unknown } | undefined;
    if (!config || typeof config.digest !== 'string') throw new RegistryError(`manifest ${manifest.digest} of ${formatReference(r)} has no config descriptor`);
    const bytes = await this.getBlobBytes(r, config.digest);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new RegistryError(`config ${config.digest} of ${formatReference(r)} is not JSON`);
    }
    return { top, manifest, config: { digest: config.digest, bytes, json } };
  }

  /**
   * Pushes `image` to `ref`: every blob is made present first (HEAD, mount, or upload with retries),
   * and only then the manifest is PUT. Any failure before that leaves the tag where it was.
   */
  async pushImage(ref: Ref, image: ImageToPush): Promise<PushResult> {
    const r = toRef(ref);
    const name = formatReference(r);
    const digest = sha256Digest(image.manifest.bytes);
    checkImage(image, name, r.digest, digest);
    const ep = this.endpoint(r.registry, r.repository);
    const blobs = uniqueBlobs([image.config, ...image.layers]);
    const mountSources = [...new Set(blobs.map((b) => b.mountFrom).filter((m): m is string => !!m && m !== r.repository))].sort();
    const scopes = [repositoryScope(r.repository, 'pull,push'), ...mountSources.map((m) => repositoryScope(m, 'pull'))];
    const target = r.tag ? `tag "${r.tag}" was not changed` : 'nothing was tagged';

    const abort = new AbortController();
    const outcome = new Map<string, BlobAction>();
    let firstError: unknown;
    const queue = [...blobs];
    const worker = async (): Promise<void> => {
      for (let blob = queue.shift(); blob && !firstError; blob = queue.shift()) {
        try {
          const action = await ensureBlob({ endpoint: ep, repository: r.repository, scopes, signal: abort.signal }, blob, {
            chunkSize: this.#opts.chunkSize ?? DEFAULT_CHUNK,
          });
          outcome.set(blob.digest, action);
          this.#opts.onEvent?.({ kind: 'blob', digest: blob.digest, size: blob.size, action, ...(action === 'mounted' ? { from: blob.mountFrom! } : {}) });
        } catch (e) {
          if (!firstError) {
            firstError = e;
            abort.abort(); // stop the other uploads: the push has failed
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.#opts.concurrency ?? 3, blobs.length)) }, worker));
    if (firstError) {
      throw new PushError(`push to ${name} failed before the manifest was written (${target}): ${(firstError as Error).message}`, firstError);
    }

    let res;
    try {
      res = await ep.request({
        method: 'PUT',
        url: `/v2/${r.repository}/manifests/${r.tag ?? digest}`,
        headers: { 'content-type': image.manifest.mediaType },
        body: image.manifest.bytes,
        scopes,
        ok: [200, 201],
        what: `PUT manifest ${digest} to ${name}`,
      });
      await res.body.dump();
    } catch (e) {
      throw new PushError(`push to ${name} failed: the registry did not accept the manifest (${target}): ${(e as Error).message}`, e);
    }
    const confirmed = headerValue(res.headers, 'docker-content-digest');
    if (confirmed && confirmed !== digest) {
      throw new RegistryError(`push to ${name}: the registry stored the manifest as ${confirmed}, but its bytes have digest ${digest}`);
    }
    const reference = `${r.registry}/${r.repository}@${digest}`;
    this.#opts.onEvent?.({ kind: 'manifest', digest, reference });
    return {
      digest,
      reference,
      ...(r.tag ? { tag: r.tag } : {}),
      blobs: blobs.map((b) => ({ digest: b.digest, action: outcome.get(b.digest)! })),
    };
  }
}

function uniqueBlobs(list: BlobSource[]): BlobSource[] {
  const seen = new Map<string, BlobSource>();
  for (const b of list) if (!seen.has(b.digest)) seen.set(b.digest, b);
  return [...seen.values()];
}

/** The manifest must describe exactly the blobs given (config, then layers in order). */
function checkImage(image: ImageToPush, name: string, refDigest: string | undefined, digest: string): void {
  const bad = (why: string): never => {
    throw new RegistryError(`push to ${name}: ${why}`);
  };
  if (refDigest && refDigest !== digest) bad(`the reference names digest ${refDigest}, but the manifest bytes have digest ${digest}`);
  for (const [i, b] of [image.config, ...image.layers].entries()) {
    const what = i === 0 ? 'config' : `layer ${i}`;
    const why = digestProblem(b.digest);
    if (why) bad(`${what}: ${why}`);
    if (!Number.isSafeInteger(b.size) || b.size < 0) bad(`${what} ${b.digest}: size ${b.size} is not a byte count`);
    if ([b.bytes, b.path, b.open].filter((x) => x !== undefined).length > 1) bad(`${what} ${b.digest}: give only one of bytes, path, open`);
    if (b.bytes && b.bytes.byteLength !== b.size) bad(`${what} ${b.digest}: ${b.bytes.byteLength} bytes given, size says ${b.size}`);
  }
  let m: { mediaType?: unknown; config?: { digest?: unknown; size?: unknown }; layers?: { digest?: unknown; size?: unknown }[] };
  try {
    m = JSON.parse(Buffer.from(image.manifest.bytes).toString('utf8')) as typeof m;
  } catch {
    return bad('the manifest bytes are not JSON');
  }
  if (m.mediaType !== undefined && m.mediaType !== image.manifest.mediaType) {
    bad(`the manifest says mediaType ${String(m.mediaType)}, but it is pushed as ${image.manifest.mediaType}`);
  }
  if (!m.config || !Array.isArray(m.layers)) bad('the manifest has no config or layers (only image manifests can be pushed)');
  const described = [m.config!, ...m.layers!];
  const given = [image.config, ...image.layers];
  if (described.length !== given.length) bad(`the manifest lists ${described.length - 1} layers, but ${given.length - 1} were given`);
  for (const [i, d] of described.entries()) {
    const g = given[i]!;
    if (d.digest !== g.digest || d.size !== g.size) {
      bad(`${i === 0 ? 'config' : `layer ${i}`}: the manifest says ${String(d.digest)} (${String(d.size)} bytes), but ${g.digest} (${g.size} bytes) was given`);
    }
  }
}

async function readCapped(stream: AsyncIterable<Uint8Array>, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const b of stream) {
    n += b.length;
    if (n > max) {
      (stream as Readable).destroy?.();
      throw new RegistryError(`${what} is larger than ${max} bytes`);
    }
    parts.push(Buffer.from(b));
  }
  return Buffer.concat(parts, n);
}
