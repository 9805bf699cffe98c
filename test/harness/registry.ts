// Reading images back from a plain-HTTP registry (the local one) and copying them with skopeo.
import { createHash } from 'node:crypto';
import { bin } from './env.ts';
import { run } from './run.ts';

export interface ImageRef {
  /** host[:port] */
  host: string;
  /** repository path without host */
  repo: string;
  tag?: string;
  digest?: string;
}

/** `host:port/repo[:tag][@sha256:…]` → parts. The host part is required (tests always name it). */
export function parseRef(ref: string): ImageRef {
  const [nameTag, digest] = ref.split('@') as [string, string | undefined];
  const slash = nameTag.indexOf('/');
  if (slash < 0) throw new Error(`image reference "${ref}" has no registry host`);
  const host = nameTag.slice(0, slash);
  let repo = nameTag.slice(slash + 1);
  let tag: string | undefined;
  const colon = repo.lastIndexOf(':');
  if (colon >= 0) {
    tag = repo.slice(colon + 1);
    repo = repo.slice(0, colon);
  }
  if (!repo || (!tag && !digest)) throw new Error(`image reference "${ref}" needs a repository and a tag or digest`);
  return { host, repo, tag, digest };
}

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export interface RawManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  json: Record<string, any>;
}

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function get(url: string, accept?: string): Promise<Response> {
  const res = await fetch(url, { headers: accept ? { accept } : {} });
  if (!res.ok) {
    const body = (await res.text()).slice(0, 500);
    throw new Error(`GET ${url}: HTTP ${res.status} ${body}`);
  }
  return res;
}

/** The manifest (or index) `ref` resolves to, with the digest computed from its bytes. */
export async function getManifest(ref: string): Promise<RawManifest> {
  const r = parseRef(ref);
  const url = `http://${r.host}/v2/${r.repo}/manifests/${r.digest ?? r.tag}`;
  const res = await get(url, MANIFEST_TYPES.join(', '));
  const bytes = Buffer.from(await res.arrayBuffer());
  const digest = sha256(bytes);
  if (r.digest && r.digest !== digest) throw new Error(`${ref}: registry served bytes with digest ${digest}`);
  const json = JSON.parse(bytes.toString('utf8')) as Record<string, any>;
  return { digest, mediaType: json.mediaType ?? res.headers.get('content-type') ?? '', bytes, json };
}

export async function manifestDigest(ref: string): Promise<string> {
  return (await getManifest(ref)).digest;
}

/** A blob of `ref`'s repository, checked against its digest. */
export async function getBlob(ref: string, digest: string): Promise<Buffer> {
  const r = parseRef(ref);
  const res = await get(`http://${r.host}/v2/${r.repo}/blobs/${digest}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  if (sha256(bytes) !== digest) throw new Error(`${ref}: blob ${digest} has digest ${sha256(bytes)}`);
  return bytes;
}

export interface ResolvedImage {
  /** Digest `ref` resolves to (index digest for multi-platform/attested images). */
  digest: string;
  /** The platform manifest. */
  manifestDigest: string;
  manifest: Record<string, any>;
  config: Record<string, any>;
  configDigest: string;
  layers: { digest: string; size: number; mediaType: string; annotations?: Record<string, string> }[];
}

/** Manifest, config and layer list of `ref` for one platform (an index is resolved). */
export async function resolveImage(ref: string, platform = { os: 'linux', architecture: 'amd64' }): Promise<ResolvedImage> {
  const top = await getManifest(ref);
  let m = top;
  if (Array.isArray(top.json.manifests)) {
    const entry = (top.json.manifests as any[]).find(
      (d) => d.platform?.os === platform.os && d.platform?.architecture === platform.architecture,
    );
    if (!entry) throw new Error(`${ref}: index has no ${platform.os}/${platform.architecture} manifest`);
    const r = parseRef(ref);
    m = await getManifest(`${r.host}/${r.repo}@${entry.digest}`);
  }
  const configDigest = m.json.config.digest as string;
  const config = JSON.parse((await getBlob(ref, configDigest)).toString('utf8')) as Record<string, any>;
  return {
    digest: top.digest,
    manifestDigest: m.digest,
    manifest: m.json,
    config,
    configDigest,
    layers: (m.json.layers as any[]).map((l) => ({
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
  };
}

/** `skopeo inspect` (config-level view: Labels, Env, Layers, Architecture, …). */
export async function skopeoInspect(ref: string, what: 'image' | 'config' | 'raw' = 'image'): Promise<any> {
  const flag = what === 'config' ? ['--config'] : what === 'raw' ? ['--raw'] : [];
  const r = await run(bin.skopeo, ['inspect', '--tls-verify=false', ...flag, `docker://${ref}`], { timeoutMs: 120_000 });
  return JSON.parse(r.stdout);
}

/** Copy `ref` into an OCI layout directory (`oci:DIR:TAG`); one platform unless `all`. */
export async function copyToOciLayout(ref: string, layoutDir: string, tag = 'image', all = false): Promise<void> {
  const args = ['copy', '--quiet', '--src-tls-verify=false'];
  if (all) args.push('--all');
  await run(bin.skopeo, [...args, `docker://${ref}`, `oci:${layoutDir}:${tag}`], { timeoutMs: 600_000 });
}

/** Tags of a repository, `repo` given as `host:port/name` (no tag). */
export async function listTags(repo: string): Promise<string[]> {
  const slash = repo.indexOf('/');
  const res = await get(`http://${repo.slice(0, slash)}/v2/${repo.slice(slash + 1)}/tags/list`);
  return (((await res.json()) as { tags?: string[] | null }).tags ?? []).sort();
}
