// Docker image reference normalization (the rules of distribution/reference
// ParseNormalizedNamed + TagNameOnly): BuildKit does not normalize
// docker-image:// identifiers server-side, so `alpine` must be sent as
// `docker.io/library/alpine:latest`.
import { LlbError } from './errors.ts';

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const MAX_NAME = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX_ID = /^[a-f0-9]{64}$/;
const DIGEST_HEX_LEN: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export interface ImageReference {
  /** e.g. docker.io/library/alpine */
  name: string;
  tag?: string;
  digest?: string;
}

/** Parses and normalizes `ref`; throws LlbError naming the reference on bad input. */
export function parseImageRef(ref: string): ImageReference {
  const fail = (why: string): never => {
    throw new LlbError(`invalid image reference "${ref}": ${why}`);
  };
  if (ref === '') fail('empty');
  if (HEX_ID.test(ref)) fail('a 64-character hexadecimal string is an image ID, not a reference');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`bad digest "${digest}"`);
    const [alg, hex] = digest.split(':') as [string, string];
    const len = DIGEST_HEX_LEN[alg];
    if (len === undefined) fail(`unsupported digest algorithm "${alg}"`);
    if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) fail(`bad ${alg} digest "${hex}" (need ${len} lowercase hex characters)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`bad tag "${tag}"`);
  }
  if (rest === '') fail('missing repository name');

  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = rest;
  } else {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = 'library/' + path;

  if (!DOMAIN.test(domain)) fail(`bad registry host "${domain}"`);
  if (path.toLowerCase() !== path) fail('repository name must be lowercase');
  for (const comp of path.split('/')) {
    if (!PATH_COMPONENT.test(comp)) fail(`bad path component "${comp}"`);
  }
  const name = `${domain}/${path}`;
  if (name.length > MAX_NAME) fail(`repository name longer than ${MAX_NAME} characters`);
  const out: ImageReference = { name };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** `alpine` → `docker.io/library/alpine:latest`; a digest-only ref gets no tag. */
export function normalizeImageRef(ref: string): string {
  const r = parseImageRef(ref);
  const tag = r.tag ?? (r.digest === undefined ? 'latest' : undefined);
  return r.name + (tag !== undefined ? ':' + tag : '') + (r.digest !== undefined ? '@' + r.digest : '');
}
