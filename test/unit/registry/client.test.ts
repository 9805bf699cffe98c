// Pure parts of the client: chunking, digest checking streams, error bodies, image validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { RegistryClient } from '../../../src/registry/client.ts';
import { sha256Digest, VerifyingStream } from '../../../src/registry/digest.ts';
import { describeErrorBody } from '../../../src/registry/errors.ts';
import type { ImageToPush } from '../../../src/registry/types.ts';
import { chunksOf } from '../../../src/registry/upload.ts';

test('chunksOf re-slices a stream into exact chunk sizes', async () => {
  async function* src(): AsyncGenerator<Buffer> {
    for (const n of [3, 1, 7, 0, 2, 5]) yield Buffer.alloc(n, n);
  }
  const out: number[] = [];
  const all: Buffer[] = [];
  for await (const c of chunksOf(src(), 4)) {
    out.push(c.length);
    all.push(c);
  }
  assert.deepEqual(out, [4, 4, 4, 4, 2]);
  assert.deepEqual(Buffer.concat(all), Buffer.concat([3, 1, 7, 0, 2, 5].map((n) => Buffer.alloc(n, n))));
  const exact: number[] = [];
  for await (const c of chunksOf(Readable.from([Buffer.alloc(8)]), 4)) exact.push(c.length);
  assert.deepEqual(exact, [4, 4]);
});

async function drain(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

test('VerifyingStream passes good bytes and fails on wrong digest or size', async () => {
  const data = Buffer.from('hello registry');
  const d = sha256Digest(data);
  assert.deepEqual(await drain(Readable.from([data]).pipe(new VerifyingStream(d, data.length, 'blob x'))), data);
  await assert.rejects(drain(Readable.from([Buffer.from('hello registrY')]).pipe(new VerifyingStream(d, undefined, 'blob x'))), {
    message: `blob x: content has digest sha256:${createHash('sha256').update('hello registrY').digest('hex')}, expected ${d}`,
  });
  await assert.rejects(drain(Readable.from([data]).pipe(new VerifyingStream(d, 5, 'blob x'))), { message: 'blob x: more than the expected 5 bytes' });
  await assert.rejects(drain(Readable.from([data]).pipe(new VerifyingStream(d, 99, 'blob x'))), { message: 'blob x: got 14 bytes, expected 99' });
});

test('registry error bodies become one line with the first code', () => {
  assert.deepEqual(describeErrorBody('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:x"}]}'), {
    code: 'BLOB_UNKNOWN',
    text: 'BLOB_UNKNOWN: blob unknown to registry',
  });
  assert.deepEqual(describeErrorBody('{"errors":[{"code":"DENIED","message":"no"},{"code":"X"}]}'), { code: 'DENIED', text: 'DENIED: no; X' });
  assert.deepEqual(describeErrorBody('<html>\n  <b>Bad gateway</b>\n</html>'), { text: '<html> <b>Bad gateway</b> </html>' });
  assert.deepEqual(describeErrorBody(''), { text: '' });
});

function image(): ImageToPush {
  const cfg = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layer = Buffer.from('layer bytes');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(cfg), size: cfg.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.length }],
  };
  return {
    config: { digest: sha256Digest(cfg), size: cfg.length, mediaType: manifest.config.mediaType, bytes: cfg },
    layers: [{ digest: sha256Digest(layer), size: layer.length, mediaType: manifest.layers[0]!.mediaType, bytes: layer }],
    manifest: { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: manifest.mediaType },
  };
}

test('pushImage refuses an image whose manifest does not describe its blobs, before any request', async () => {
  // Port 9 (discard) on loopback: a request would fail differently; these must fail in validation.
  const client = new RegistryClient({ retry: { attempts: 1 } });
  const ref = '127.0.0.1:9/app:v1';
  const cases: [string, (i: ImageToPush) => void, string][] = [
    ['layer digest', (i) => (i.layers[0]!.digest = `sha256:${'0'.repeat(64)}`), `push to ${ref}: layer 1: the manifest says ${image().layers[0]!.digest} (11 bytes), but sha256:${'0'.repeat(64)} (11 bytes) was given`],
    ['missing layer', (i) => i.layers.pop(), `push to ${ref}: the manifest lists 1 layers, but 0 were given`],
    ['bad digest', (i) => (i.config.digest = 'sha256:xyz'), `push to ${ref}: config: digest "sha256:xyz" must be sha256: followed by 64 lowercase hex digits`],
    ['bad size', (i) => (i.layers[0]!.size = -1), `push to ${ref}: layer 1 ${image().layers[0]!.digest}: size -1 is not a byte count`],
    ['bytes vs size', (i) => (i.layers[0]!.bytes = Buffer.from('x')), `push to ${ref}: layer 1 ${image().layers[0]!.digest}: 1 bytes given, size says 11`],
    ['two sources', (i) => (i.layers[0]!.path = '/x'), `push to ${ref}: layer 1 ${image().layers[0]!.digest}: give only one of bytes, path, open`],
    ['media type', (i) => (i.manifest.mediaType = 'application/vnd.docker.distribution.manifest.v2+json'), `push to ${ref}: the manifest says mediaType application/vnd.oci.image.manifest.v1+json, but it is pushed as application/vnd.docker.distribution.manifest.v2+json`],
    ['not json', (i) => (i.manifest.bytes = Buffer.from('{')), `push to ${ref}: the manifest bytes are not JSON`],
    ['index', (i) => (i.manifest.bytes = Buffer.from('{"manifests":[]}')), `push to ${ref}: the manifest has no config or layers (only image manifests can be pushed)`],
  ];
  try {
    for (const [name, mutate, message] of cases) {
      const i = image();
      mutate(i);
      await assert.rejects(client.pushImage(ref, i), { name: 'RegistryError', message }, name);
    }
    const i = image();
    const wrong = `sha256:${'1'.repeat(64)}`;
    await assert.rejects(client.pushImage(`127.0.0.1:9/app@${wrong}`, i), {
      message: `push to 127.0.0.1:9/app@${wrong}: the reference names digest ${wrong}, but the manifest bytes have digest ${sha256Digest(i.manifest.bytes)}`,
    });
    await assert.rejects(client.pushImage('127.0.0.1:9/App:v1', i), { name: 'ImageReferenceError', message: 'invalid image reference "127.0.0.1:9/App:v1": repository name "App" must be lowercase' });
  } finally {
    await client.close();
  }
});

test('plain HTTP for loopback registries (and ones named in plainHttp), HTTPS otherwise', async () => {
  const c = new RegistryClient({ plainHttp: ['insecure.example:5000'] });
  try {
    const base = (registry: string): string => c.endpoint(registry, 'a').base.href;
    assert.equal(base('127.0.0.1:5000'), 'http://127.0.0.1:5000/');
    assert.equal(base('localhost'), 'http://localhost/');
    assert.equal(base('[::1]:5000'), 'http://[::1]:5000/');
    assert.equal(base('insecure.example:5000'), 'http://insecure.example:5000/');
    assert.equal(base('quay.io'), 'https://quay.io/');
    assert.equal(base('docker.io'), 'https://registry-1.docker.io/');
    assert.equal(base('10.1.2.3:5000'), 'https://10.1.2.3:5000/');
  } finally {
    await c.close();
  }
});
