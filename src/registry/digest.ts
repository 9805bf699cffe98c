// sha256 digests of byte strings and streams.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A hash for `digest`'s algorithm (sha256 or sha512). */
export function hasherFor(digest: string): Hash {
  const algo = digest.slice(0, digest.indexOf(':'));
  if (algo !== 'sha256' && algo !== 'sha512') throw new Error(`digest algorithm of ${digest} is not supported`);
  return createHash(algo);
}

export function digestOf(bytes: Uint8Array, like: string): string {
  const algo = like.slice(0, like.indexOf(':'));
  return `${algo}:${hasherFor(like).update(bytes).digest('hex')}`;
}

/**
 * Pass-through that fails at the end when the bytes do not hash to `digest` or do not add up to
 * `size`, so a consumer never mistakes corrupt content for good.
 */
export class VerifyingStream extends Transform {
  readonly #hash: Hash;
  readonly #digest: string;
  readonly #size: number | undefined;
  readonly #what: string;
  #seen = 0;

  constructor(digest: string, size: number | undefined, what: string) {
    super();
    this.#hash = hasherFor(digest);
    this.#digest = digest;
    this.#size = size;
    this.#what = what;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#size !== undefined && this.#seen > this.#size) {
      cb(new Error(`${this.#what}: more than the expected ${this.#size} bytes`));
      return;
    }
    this.#hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const algo = this.#digest.slice(0, this.#digest.indexOf(':'));
    const got = `${algo}:${this.#hash.digest('hex')}`;
    if (this.#size !== undefined && this.#seen !== this.#size) {
      cb(new Error(`${this.#what}: got ${this.#seen} bytes, expected ${this.#size}`));
    } else if (got !== this.#digest) {
      cb(new Error(`${this.#what}: content has digest ${got}, expected ${this.#digest}`));
    } else {
      cb();
    }
  }
}
