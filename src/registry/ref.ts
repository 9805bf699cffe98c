// Image references (`[registry/]repository[:tag][@digest]`) parsed and normalized the way docker and
// containers do it: no registry → docker.io, single-component docker.io names → library/NAME.

export interface ImageReference {
  /** Registry as users name it: `docker.io`, `quay.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/alpine`. */
  repository: string;
  /** Tag; `latest` when neither a tag nor a digest was given. */
  tag?: string;
  /** `sha256:<64 hex>` or `sha512:<128 hex>`. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Where docker.io's registry API actually lives. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGESTS: Record<string, number> = { sha256: 64, sha512: 128 };
const MAX_NAME = 255;

export class ImageReferenceError extends Error {
  constructor(input: string, why: string) {
    super(`invalid image reference "${input}": ${why}`);
    this.name = 'ImageReferenceError';
  }
}

/** Validates `algo:hex`; returns a reason when it is not a supported digest. */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon < 0) return `digest "${digest}" has no algorithm (expected sha256:<64 hex digits>)`;
  const algo = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const len = DIGESTS[algo];
  if (len === undefined) return `digest algorithm "${algo}" is not supported (sha256 or sha512)`;
  if (hex.length !== len || !/^[a-f0-9]+$/.test(hex)) {
    return `digest "${digest}" must be ${algo}: followed by ${len} lowercase hex digits`;
  }
  return undefined;
}

function registryProblem(host: string): string | undefined {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return `registry "${host}" has an unterminated IPv6 address`;
    const rest = host.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return `registry "${host}" is not host[:port]`;
    port = rest ? rest.slice(1) : undefined;
    if (!/^[0-9a-fA-F:.]+$/.test(host.slice(1, end))) return `registry "${host}" has a malformed IPv6 address`;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (!name.split('.').every((c) => DOMAIN_COMPONENT.test(c))) return `registry host "${name}" is not a valid host name`;
  }
  if (port !== undefined && !(/^[0-9]{1,5}$/.test(port) && Number(port) > 0 && Number(port) < 65536)) {
    return `registry "${host}" has an invalid port "${port}"`;
  }
  return undefined;
}

/**
 * Parses `ref` (an optional `docker://` prefix is accepted). Throws ReferenceError naming the input and
 * the problem. A reference with neither tag nor digest gets tag `latest`.
 */
export function parseReference(input: string): ImageReference {
  let s = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  if (s === '') throw new ImageReferenceError(input, 'it is empty');
  if (/\s/.test(s)) throw new ImageReferenceError(input, 'it contains white space');

  let digest: string | undefined;
  const at = s.indexOf('@');
  if (at >= 0) {
    digest = s.slice(at + 1);
    s = s.slice(0, at);
    const why = digestProblem(digest);
    if (why) throw new ImageReferenceError(input, why);
  }

  // The first component is a registry when it looks like a host: has a dot or port, is localhost, or
  // has upper case (repositories cannot).
  let registry = DOCKER_HUB;
  let rest = s;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const first = s.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      rest = s.slice(slash + 1);
      const why = registryProblem(registry);
      if (why) throw new ImageReferenceError(input, why);
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw new ImageReferenceError(input, `tag "${tag}" is invalid (letters, digits, _ . -; at most 128; not starting with . or -)`);
    }
  }
  if (rest === '') throw new ImageReferenceError(input, 'the repository name is empty');
  if (rest !== rest.toLowerCase()) throw new ImageReferenceError(input, `repository name "${rest}" must be lowercase`);
  for (const part of rest.split('/')) {
    if (!PATH_COMPONENT.test(part)) {
      throw new ImageReferenceError(input, `repository path component "${part}" is invalid (lowercase letters, digits and single separators . _ __ -)`);
    }
  }
  if (registry === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  if (`${registry}/${rest}`.length > MAX_NAME) throw new ImageReferenceError(input, `the name is longer than ${MAX_NAME} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Canonical text form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The same repository at another tag or digest. */
export function withTarget(ref: ImageReference, target: { tag?: string; digest?: string }): ImageReference {
  return { registry: ref.registry, repository: ref.repository, ...target };
}

/** What goes after `/manifests/`: the digest when there is one (it pins the content), else the tag. */
export function manifestTarget(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** Host part without the port (IPv6 keeps its brackets). */
export function hostName(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  const colon = registry.indexOf(':');
  return colon < 0 ? registry : registry.slice(0, colon);
}

/** Loopback registries are spoken to over plain HTTP, as docker, BuildKit and containers do. */
export function isLoopback(registry: string): boolean {
  const host = hostName(registry).toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(?:\.[0-9]{1,3}){3}$/.test(host);
}

/** `host[:port]` the HTTP requests go to (docker.io is served by registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}
