// ed25519 commit signatures: RFC 8032 test vector through the key-file format, the detached
// metadata layout libostree reads, and every bad key file with its message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, createPublicKey } from 'node:crypto';
import { decode } from '../../../src/ostree/gvariant.ts';
import { ED25519_METADATA_KEY, formatEd25519Key, parseEd25519Keys, signedCommitmeta } from '../../../src/ostree/sign.ts';

// RFC 8032 §7.1, TEST 1 (empty message).
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const LINE = Buffer.from(SEED + PUB, 'hex').toString('base64');

test('key file line = base64(seed ‖ public key); signature matches RFC 8032', () => {
  const [k] = parseEd25519Keys(`${LINE}\n`, 'k');
  assert.equal(k!.publicKey, Buffer.from(PUB, 'hex').toString('base64'));
  const meta = signedCommitmeta(new Uint8Array(0), [k!]);
  const dict = decode('a{sv}', meta) as [string, { type: string; value: Uint8Array[] }][];
  assert.equal(dict.length, 1);
  assert.equal(dict[0]![0], ED25519_METADATA_KEY);
  assert.equal(dict[0]![1].type, 'aay');
  assert.equal(Buffer.from(dict[0]![1].value[0]!).toString('hex'), SIG);
});

test('every key in the file signs, in file order', () => {
  const a = formatEd25519Key(generateKeyPairSync('ed25519').privateKey);
  const b = formatEd25519Key(generateKeyPairSync('ed25519').privateKey);
  const keys = parseEd25519Keys(`${a.secret}\n\n${b.secret}\n`, 'k');
  assert.deepEqual(keys.map((k) => k.publicKey), [a.public, b.public]);
  const data = Buffer.from('commit bytes');
  const dict = decode('a{sv}', signedCommitmeta(data, keys)) as [string, { value: Uint8Array[] }][];
  const sigs = dict[0]![1].value;
  assert.equal(sigs.length, 2);
  for (const [i, pub] of [a.public, b.public].entries()) {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub, 'base64').toString('base64url') }, format: 'jwk' });
    assert.equal(verify(null, data, key, sigs[i]!), true);
  }
});

test('bad key files: each error names the file and line', () => {
  const wrongPub = Buffer.from(SEED + 'ff'.repeat(32), 'hex').toString('base64');
  const cases: [string, string][] = [
    ['', "ed25519 key file 'f' holds no keys"],
    ['\n  \n', "ed25519 key file 'f' holds no keys"],
    [`${LINE}\nnot base64!\n`, "ed25519 key file 'f' line 2: not base64 (want one base64-encoded 64-byte secret key per line, as 'ostree sign --keys-file' reads)"],
    [Buffer.from(PUB, 'hex').toString('base64'), "ed25519 key file 'f' line 1: a secret key is 64 bytes (32-byte seed + 32-byte public key), this one decodes to 32 bytes"],
    [wrongPub, "ed25519 key file 'f' line 1: the public half does not belong to the secret seed (corrupt key?)"],
  ];
  for (const [text, message] of cases) assert.throws(() => parseEd25519Keys(text, 'f'), { message }, JSON.stringify(text));
});
