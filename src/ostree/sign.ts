// ed25519 commit signatures (libostree's "ed25519" sign engine): the signature covers the commit
// object's serialized bytes and lives in the detached metadata under `ostree.sign.ed25519` as an
// `aay` (one 64-byte signature per key). Key files are what `ostree sign --keys-file` reads: one
// base64 secret key per line, each 64 bytes = 32-byte seed followed by the 32-byte public key.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { commitmeta } from './objects.ts';

export const ED25519_METADATA_KEY = 'ostree.sign.ed25519';

export interface Ed25519Key {
  privateKey: KeyObject;
  /** Raw 32-byte public key, base64 (what `ostree sign --verify` and remotes' `verification-ed25519-key` take). */
  publicKey: string;
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** Parses a key file; errors name the file and line. Blank lines are ignored. */
export function parseEd25519Keys(text: string, file: string): Ed25519Key[] {
  const keys: Ed25519Key[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `ed25519 key file '${file}' line ${i + 1}`;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(line) || line.length % 4 !== 0) {
      throw new Error(`${where}: not base64 (want one base64-encoded 64-byte secret key per line, as 'ostree sign --keys-file' reads)`);
    }
    const raw = Buffer.from(line, 'base64');
    if (raw.length !== 64) {
      throw new Error(`${where}: a secret key is 64 bytes (32-byte seed + 32-byte public key), this one decodes to ${raw.length} bytes`);
    }
    const seed = raw.subarray(0, 32);
    const pub = raw.subarray(32);
    const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(pub) }, format: 'jwk' });
    const derived = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
    if (!derived.equals(pub)) throw new Error(`${where}: the public half does not belong to the secret seed (corrupt key?)`);
    keys.push({ privateKey, publicKey: pub.toString('base64') });
  }
  if (keys.length === 0) throw new Error(`ed25519 key file '${file}' holds no keys`);
  return keys;
}

/** Detached metadata `a{sv}` with one signature of `commitBytes` per key, in key order. */
export function signedCommitmeta(commitBytes: Uint8Array, keys: Ed25519Key[]): Uint8Array {
  const sigs = keys.map((k) => new Uint8Array(sign(null, commitBytes, k.privateKey)));
  return commitmeta([[ED25519_METADATA_KEY, { type: 'aay', value: sigs }]]);
}

/** A fresh key pair in key-file form (tests, docs): `{ secret: base64 64 bytes, public: base64 32 bytes }`. */
export function formatEd25519Key(privateKey: KeyObject): { secret: string; public: string } {
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  return { secret: Buffer.concat([seed, pub]).toString('base64'), public: pub.toString('base64') };
}
