// The registry client against real registries on 127.0.0.1: Debian's docker-registry without auth
// (behind a fault-injecting proxy), with htpasswd (Basic) auth, and with token auth served by a JWT
// issuer written here. Outcomes are checked with the registry itself and with skopeo.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RegistryClient } from '../../src/registry/client.ts';
import { isNotFound, type RegistryError } from '../../src/registry/errors.ts';
import type { ImageToPush, RegistryClientOptions, RegistryEvent } from '../../src/registry/types.ts';
import { run } from '../harness/run.ts';
import {
  makeSigningCert,
  startFaultProxy,
  startRegistry,
  startTokenServer,
  writeHtpasswd,
  type FaultProxy,
  type RunningRegistry,
  type TokenServer,
} from './registry-services.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const USERS = { alice: 'alice-secret-pw' };

let dir: string;
let home: string;
let plain: RunningRegistry;
let proxy: FaultProxy;
let basic: RunningRegistry;
let tokenReg: RunningRegistry;
let tokens: TokenServer;
let authfile: string;
const stops: (() => Promise<void>)[] = [];

before(async () => {
  for (const tool of ['docker-registry', 'htpasswd', 'openssl', 'skopeo']) {
    const r = await run('sh', ['-c', `command -v ${tool}`], { allowFailure: true });
    assert.equal(r.code, 0, `${tool} is not installed (docker-registry, apache2-utils, openssl, skopeo are needed)`);
  }
  dir = mkdtempSync(join(tmpdir(), 'registry-e2e-'));
  home = join(dir, 'home'); // empty HOME: the machine's own auth files must not leak in
  mkdirSync(home);

  plain = await startRegistry(join(dir, 'plain'), { kind: 'none' });
  stops.push(plain.stop);
  proxy = await startFaultProxy(plain.addr);
  stops.push(proxy.stop);

  const htpasswd = join(dir, 'htpasswd');
  await writeHtpasswd(htpasswd, USERS);
  basic = await startRegistry(join(dir, 'basic'), { kind: 'htpasswd', file: htpasswd });
  stops.push(basic.stop);

  const cert = await makeSigningCert(dir);
  tokens = await startTokenServer(cert, USERS);
  stops.push(tokens.stop);
  tokenReg = await startRegistry(join(dir, 'token'), {
    kind: 'token',
    realm: tokens.realm,
    service: tokens.service,
    issuer: tokens.issuer,
    rootCertBundle: cert.certFile,
  });
  stops.push(tokenReg.stop);

  authfile = join(dir, 'auth.json');
  const auth = Buffer.from(`alice:${USERS.alice}`).toString('base64');
  writeFileSync(authfile, JSON.stringify({ auths: { [basic.addr]: { auth }, [tokenReg.addr]: { auth } } }));
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // Nothing of ours may outlive the test.
  const left = await run('pgrep', ['-f', `docker-registry serve ${dir}`], { allowFailure: true });
  assert.equal(left.stdout.trim(), '', 'registries left running');
});

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Deterministic pseudo-random bytes (AES-CTR keystream of `seed`). */
function bytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(size)), c.final()]);
}

interface TestImage {
  image: ImageToPush;
  digest: string;
  layerBytes: Buffer[];
}

/**
 * An image with a chunked-size layer from a file, a small layer from a stream factory, and a config
 * from memory. Layer content is opaque to the registry; the config is real enough for skopeo.
 */
function makeImage(seed: string, sizes: number[] = [3 * 1024 * 1024 + 12345, 200 * 1024]): TestImage {
  const layerBytes = sizes.map((n, i) => bytes(`${seed}/${i}`, n));
  const layers = layerBytes.map((b, i) => {
    const common = { digest: sha256(b), size: b.length, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
    if (i % 2 === 0) {
      const file = join(dir, `${seed.replace(/\W/g, '_')}-${i}.layer`);
      writeFileSync(file, b);
      return { ...common, path: file };
    }
    // Arrives in uneven pieces, like a compressor's output.
    return { ...common, open: () => Readable.from([b.subarray(0, 1000), b.subarray(1000, 70_000), b.subarray(70_000)]) };
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'test.seed': seed } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return {
    image: {
      config: { digest: sha256(config), size: config.length, mediaType: 'application/vnd.oci.image.config.v1+json', bytes: config },
      layers,
      manifest: { bytes: manifest, mediaType: OCI_MANIFEST },
    },
    digest: sha256(manifest),
    layerBytes,
  };
}

function client(t: { after(fn: () => Promise<void>): void }, opts: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient({
    env: { HOME: home },
    chunkSize: 1024 * 1024,
    retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 200, totalMs: 30_000 },
    ...opts,
  });
  t.after(() => c.close());
  return c;
}

async function skopeo(ref: string, extra: string[] = []): Promise<{ Digest: string; Layers: string[]; Labels: Record<string, string> }> {
  const r = await run('skopeo', ['inspect', '--tls-verify=false', ...extra, `docker://${ref}`], { timeoutMs: 60_000 });
  return JSON.parse(r.stdout);
}

async function readAll(s: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

const isBlobPut = (e: { method: string; url: string }): boolean => e.method === 'PUT' && /\/blobs\/uploads\/.*[?&]digest=/.test(e.url);
const isManifestPut = (e: { method: string; url: string }): boolean => e.method === 'PUT' && e.url.includes('/manifests/');

test('push: chunked and monolithic uploads, manifest last, digest confirmed by the registry and skopeo', async (t) => {
  proxy.reset();
  const img = makeImage('basic push');
  const c = client(t);
  const res = await c.pushImage(`${proxy.addr}/plain/app:v1`, img.image);
  assert.equal(res.digest, img.digest);
  assert.equal(res.reference, `${proxy.addr}/plain/app@${img.digest}`);
  assert.deepEqual(res.blobs.map((b) => b.action), ['uploaded', 'uploaded', 'uploaded']);

  // 3 MiB + 12345 bytes in 1 MiB chunks = 4 PATCHes; the other two blobs go up in one PUT each.
  const patches = proxy.log.filter((e) => e.method === 'PATCH');
  assert.equal(patches.length, 4);
  assert.ok(patches.every((e) => e.outcome === 202));
  assert.equal(proxy.log.filter(isBlobPut).length, 3);
  const manifestAt = proxy.log.findIndex(isManifestPut);
  assert.equal(manifestAt, proxy.log.length - 1, 'the manifest PUT is the last request');
  assert.equal(proxy.log[manifestAt]!.outcome, 201);

  // The registry itself (not through the proxy) and skopeo agree.
  const inspected = await skopeo(`${plain.addr}/plain/app:v1`);
  assert.equal(inspected.Digest, img.digest);
  assert.deepEqual(inspected.Layers, img.image.layers.map((l) => l.digest));
  assert.equal(inspected.Labels['test.seed'], 'basic push');
  const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${plain.addr}/plain/app:v1`]);
  assert.equal(raw.stdout, Buffer.from(img.image.manifest.bytes).toString('utf8'));
  // skopeo copy checks every blob's digest on the way.
  await run('skopeo', ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', `docker://${plain.addr}/plain/app:v1`, `oci:${join(dir, 'copied')}:v1`], { timeoutMs: 120_000 });
  const index = JSON.parse(readFileSync(join(dir, 'copied/index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]!.digest, img.digest);

  // Reading back: manifest, config and blobs, digest-checked.
  const remote = await c.getImage(`${plain.addr}/plain/app:v1`);
  assert.equal(remote.manifest.digest, img.digest);
  assert.deepEqual(remote.config.bytes, Buffer.from(img.image.config.bytes!));
  assert.deepEqual(await readAll(await c.getBlob(`${plain.addr}/plain/app`, img.image.layers[0]!.digest)), img.layerBytes[0]);
  assert.deepEqual(await c.headBlob(`${plain.addr}/plain/app`, img.image.layers[1]!.digest), { exists: true, size: img.layerBytes[1]!.length });
  assert.deepEqual(await c.headBlob(`${plain.addr}/plain/app`, sha256(Buffer.from('absent'))), { exists: false });

  // Same image again: every blob is found by HEAD, nothing is uploaded.
  proxy.reset();
  const again = await c.pushImage(`${proxy.addr}/plain/app:v1-again`, img.image);
  assert.deepEqual(again.blobs.map((b) => b.action), ['exists', 'exists', 'exists']);
  assert.deepEqual(
    proxy.log.map((e) => e.method),
    ['HEAD', 'HEAD', 'HEAD', 'PUT'],
  );
});

test('a monolithic-only client (chunkSize 0) pushes large blobs in one PUT', async (t) => {
  proxy.reset();
  const img = makeImage('monolithic');
  const res = await client(t, { chunkSize: 0 }).pushImage(`${proxy.addr}/plain/mono:v1`, img.image);
  assert.equal(res.digest, img.digest);
  assert.equal(proxy.log.filter((e) => e.method === 'PATCH').length, 0);
  assert.equal(proxy.log.filter(isBlobPut).length, 3);
  assert.equal((await skopeo(`${plain.addr}/plain/mono:v1`)).Digest, img.digest);
});

test('transient faults are retried: 500s, connection drops mid-upload and before the answer, 429, a stalled answer', async (t) => {
  proxy.reset();
  const img = makeImage('transient faults');
  const post500 = proxy.fault('POST', /\/blobs\/uploads\/$/, { kind: 'status', status: 500 }, 2);
  const patchDrop = proxy.fault('PATCH', /\/blobs\/uploads\//, { kind: 'drop-mid-body', afterBytes: 300 * 1024 }, 1);
  const putDrop = proxy.fault('PUT', /\/blobs\/uploads\/.*digest=/, { kind: 'drop' }, 1);
  const manifest429 = proxy.fault('PUT', /\/manifests\//, { kind: 'status', status: 429, headers: { 'retry-after': '0' } }, 1);
  const manifest503 = proxy.fault('PUT', /\/manifests\//, { kind: 'status', status: 503 }, 1);
  const headStall = proxy.fault('HEAD', /\/blobs\//, { kind: 'delay', ms: 2500 }, 1);
  const events: RegistryEvent[] = [];
  const c = client(t, { headersTimeoutMs: 1000, onEvent: (e) => events.push(e) });

  const res = await c.pushImage(`${proxy.addr}/faults/app:v2`, img.image);
  assert.equal(res.digest, img.digest);
  for (const rule of [post500, patchDrop, putDrop, manifest429, manifest503, headStall]) assert.equal(rule.hits, rule.times, `${rule.method} ${rule.path}`);

  // Two uploads were started over from a new session (after the PATCH cut and the PUT drop), so
  // 3 blobs took 5 sessions; the 500s on POST were retried in place.
  const posts = proxy.log.filter((e) => e.method === 'POST');
  assert.deepEqual(posts.map((p) => p.outcome).sort(), [202, 202, 202, 202, 202, 500, 500]);
  const retries = events.filter((e) => e.kind === 'retry');
  assert.equal(retries.length, 7, JSON.stringify(retries, null, 1));
  assert.ok(retries.some((e) => e.kind === 'retry' && /UND_ERR_HEADERS_TIMEOUT/.test(e.reason)), 'stalled HEAD timed out and was retried');
  assert.ok(retries.some((e) => e.kind === 'retry' && /HTTP 429/.test(e.reason)));
  assert.equal(proxy.log.filter(isManifestPut).at(-1)!.outcome, 201);
  assert.equal(proxy.log.findLastIndex(isManifestPut), proxy.log.length - 1);
  assert.equal((await skopeo(`${plain.addr}/faults/app:v2`)).Digest, img.digest);
});

test('an outage that does not end fails with a clear error and leaves the tag where it was', async (t) => {
  proxy.reset();
  const before = makeImage('outage before');
  const c = client(t, { retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, totalMs: 30_000 } });
  const ref = `${proxy.addr}/outage/app:stable`;
  assert.equal((await c.pushImage(ref, before.image)).digest, before.digest);

  // Every chunk upload is cut, every single-PUT upload answers 500: nothing can get in.
  proxy.reset();
  const next = makeImage('outage after');
  proxy.fault('PATCH', /\/blobs\/uploads\//, { kind: 'drop-mid-body', afterBytes: 64 * 1024 }, Infinity);
  proxy.fault('PUT', /\/blobs\/uploads\/.*digest=/, { kind: 'status', status: 500 }, Infinity);
  const started = performance.now();
  await assert.rejects(c.pushImage(ref, next.image), (e: Error) => {
    assert.equal(e.name, 'PushError');
    assert.match(
      e.message,
      new RegExp(
        `^push to ${proxy.addr.replace(/\./g, '\\.')}/outage/app:stable failed before the manifest was written \\(tag "stable" was not changed\\): ` +
          `upload of blob sha256:[0-9a-f]{64} \\([0-9]+ bytes, (file|stream|in-memory bytes)[^)]*\\) to ${proxy.addr.replace(/\./g, '\\.')}/outage/app: gave up after 3 attempts in [0-9.]+s; last error: `,
      ),
    );
    return true;
  });
  assert.ok(performance.now() - started < 20_000, 'bounded in time');
  assert.equal(proxy.log.filter(isManifestPut).length, 0, 'no manifest PUT was attempted');
  // The tag still serves the previous manifest, straight from the registry.
  assert.equal((await skopeo(`${plain.addr}/outage/app:stable`)).Digest, before.digest);
  assert.equal((await c.getManifest(`${plain.addr}/outage/app:stable`)).digest, before.digest);

  // The manifest PUT itself failing for good: same promise.
  proxy.reset();
  proxy.fault('PUT', /\/manifests\//, { kind: 'status', status: 500 }, Infinity);
  await assert.rejects(c.pushImage(ref, makeImage('outage manifest').image), {
    name: 'PushError',
    message: new RegExp(
      `^push to ${proxy.addr.replace(/\./g, '\\.')}/outage/app:stable failed: the registry did not accept the manifest \\(tag "stable" was not changed\\): ` +
        `PUT manifest sha256:[0-9a-f]{64} to .*: gave up after 3 attempts in [0-9.]+s; last error: PUT manifest .*: HTTP 500 UNKNOWN: injected fault$`,
    ),
  });
  assert.equal(proxy.log.filter(isManifestPut).length, 3);
  assert.equal((await skopeo(`${plain.addr}/outage/app:stable`)).Digest, before.digest);

  // A registry that is gone entirely.
  const gone = client(t, { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10, totalMs: 5000 } });
  await assert.rejects(gone.pushImage('127.0.0.1:1/nowhere/app:x', next.image), {
    name: 'PushError',
    message: /^push to 127\.0\.0\.1:1\/nowhere\/app:x failed before the manifest was written \(tag "x" was not changed\): HEAD blob sha256:[0-9a-f]{64} in 127\.0\.0\.1:1\/nowhere\/app: gave up after 2 attempts in [0-9.]+s; last error: .*ECONNREFUSED/,
  });
});

test('cross-repository mount: blobs of another repository are mounted, not uploaded', async (t) => {
  proxy.reset();
  const img = makeImage('mount source');
  const c = client(t);
  await c.pushImage(`${proxy.addr}/mount/src:v1`, img.image);
  proxy.reset();
  const mounted: ImageToPush = {
    ...img.image,
    config: { ...img.image.config, mountFrom: 'mount/src' },
    // The big layer has no local content at all: only the mount can provide it.
    layers: img.image.layers.map((l, i) => (i === 0 ? { digest: l.digest, size: l.size, mediaType: l.mediaType, mountFrom: 'mount/src' } : { ...l, mountFrom: 'mount/src' })),
  };
  const res = await c.pushImage(`${proxy.addr}/mount/dst:v1`, mounted);
  assert.equal(res.digest, img.digest);
  assert.deepEqual(res.blobs.map((b) => b.action), ['mounted', 'mounted', 'mounted']);
  const mounts = proxy.log.filter((e) => e.method === 'POST');
  assert.deepEqual(
    mounts.map((e) => [e.url, e.outcome]).sort(),
    [img.image.config, ...img.image.layers]
      .map((b) => [`/v2/mount/dst/blobs/uploads/?mount=${encodeURIComponent(b.digest)}&from=mount%2Fsrc`, 201])
      .sort(),
  );
  assert.equal(proxy.log.filter((e) => e.method === 'PATCH' || isBlobPut(e)).length, 0);
  assert.equal((await skopeo(`${plain.addr}/mount/dst:v1`)).Digest, img.digest);

  // Mount source without the blob and no local content: a clear error, no manifest.
  proxy.reset();
  const orphan = makeImage('orphan');
  const noContent: ImageToPush = { ...orphan.image, layers: orphan.image.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, mountFrom: 'mount/src' })) };
  await assert.rejects(c.pushImage(`${proxy.addr}/mount/dst:v2`, noContent), {
    name: 'PushError',
    message: new RegExp(`the image has no content for it$`),
  });
  assert.equal(proxy.log.filter(isManifestPut).length, 0);
});

test('reads verify digests: a corrupted blob or manifest is refused', async (t) => {
  proxy.reset();
  const img = makeImage('corruption');
  const c = client(t);
  await c.pushImage(`${proxy.addr}/corrupt/app:v1`, img.image);
  proxy.reset();
  proxy.fault('GET', /\/blobs\//, { kind: 'corrupt' }, 1);
  const digest = img.image.layers[1]!.digest;
  await assert.rejects(readAll(await c.getBlob(`${proxy.addr}/corrupt/app`, digest)), {
    message: new RegExp(`^blob ${digest} from ${proxy.addr.replace(/\./g, '\\.')}/corrupt/app: content has digest sha256:[0-9a-f]{64}, expected ${digest}$`),
  });
  proxy.fault('GET', /\/manifests\//, { kind: 'corrupt' }, 1);
  await assert.rejects(c.getManifest(`${proxy.addr}/corrupt/app:v1`), {
    name: 'RegistryError',
    message: new RegExp(`^manifest ${proxy.addr.replace(/\./g, '\\.')}/corrupt/app:v1: content has digest sha256:[0-9a-f]{64}, but the registry says ${img.digest}$`),
  });
  await assert.rejects(c.getManifest(`${proxy.addr}/corrupt/app:nope`), (e: Error) => isNotFound(e) && (e as RegistryError).code === 'MANIFEST_UNKNOWN');
});

test('blob content that disagrees with its descriptor is never committed; unreadable sources are named', async (t) => {
  const c = client(t, { retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10, totalMs: 10_000 } });
  const good = makeImage('bad content');
  const liar = join(dir, 'liar.layer');
  const cases: [string, (i: ImageToPush) => void, RegExp][] = [
    [
      'chunked file with other bytes',
      (i) => {
        writeFileSync(liar, bytes('not the layer', i.layers[0]!.size));
        i.layers[0] = { ...i.layers[0]!, path: liar };
      },
      /blob (sha256:[0-9a-f]{64}): file \/.*liar\.layer has digest sha256:[0-9a-f]{64}$/,
    ],
    [
      'single-PUT stream with other bytes',
      (i) => (i.layers[1] = { ...i.layers[1]!, open: () => Readable.from([bytes('other', i.layers[1]!.size)]) }),
      /blob (sha256:[0-9a-f]{64}): stream has digest sha256:[0-9a-f]{64}$/,
    ],
    [
      'stream longer than declared',
      (i) => (i.layers[1] = { ...i.layers[1]!, open: () => Readable.from([bytes('long', i.layers[1]!.size + 1)]) }),
      /blob (sha256:[0-9a-f]{64}): stream holds more than the declared 204800 bytes$/,
    ],
    [
      'stream shorter than declared',
      (i) => (i.layers[1] = { ...i.layers[1]!, open: () => Readable.from([Buffer.alloc(10)]) }),
      /blob (sha256:[0-9a-f]{64}): stream holds 10 bytes, not the declared 204800$/,
    ],
    [
      'missing file',
      (i) => (i.layers[0] = { ...i.layers[0]!, path: join(dir, 'no-such.layer') }),
      /blob (sha256:[0-9a-f]{64}): cannot read file \/.*no-such\.layer: ENOENT: no such file or directory/,
    ],
  ];
  for (const [n, [name, mutate, re]] of cases.entries()) {
    proxy.reset();
    const repo = `bad/app${n}`; // fresh repository: blobs good from an earlier case must not be found by HEAD
    const img: ImageToPush = { ...good.image, layers: [...good.image.layers] };
    mutate(img);
    let blob = '';
    await assert.rejects(c.pushImage(`${proxy.addr}/${repo}:v1`, img), (e: Error) => {
      assert.equal(e.name, 'PushError', name);
      const m = re.exec(e.message);
      assert.ok(m, `${name}: ${e.message}`);
      blob = m[1]!;
      return true;
    });
    // Not retried (the content will not change), not committed, no manifest.
    assert.equal(proxy.log.filter((e) => e.method === 'POST').length <= 3, true, name);
    assert.equal(proxy.log.filter(isManifestPut).length, 0, name);
    assert.deepEqual(await c.headBlob(`${plain.addr}/${repo}`, blob), { exists: false }, name);
  }
});

test('blob reads follow redirects to another origin', async (t) => {
  proxy.reset();
  const img = makeImage('redirect');
  const c = client(t);
  await c.pushImage(`${plain.addr}/redirect/app:v1`, img.image);
  const rule = proxy.fault('GET', /\/blobs\//, { kind: 'redirect', origin: `http://${plain.addr}` }, Infinity);
  const digest = img.image.layers[0]!.digest;
  assert.deepEqual(await readAll(await c.getBlob(`${proxy.addr}/redirect/app`, digest)), img.layerBytes[0]);
  assert.equal((await c.getImage(`${proxy.addr}/redirect/app:v1`)).config.digest, img.image.config.digest);
  assert.equal(rule.hits, 2);
});

test('Basic auth (htpasswd): credentials from --authfile; missing or wrong ones give errors that say what was tried', async (t) => {
  const img = makeImage('basic auth');
  const res = await client(t, { authfile }).pushImage(`${basic.addr}/secure/app:v1`, img.image);
  assert.equal(res.digest, img.digest);
  assert.equal((await skopeo(`${basic.addr}/secure/app:v1`, ['--creds', `alice:${USERS.alice}`])).Digest, img.digest);

  // Credentials from ~/.docker/config.json when no auth file is named.
  const dockerHome = join(dir, 'dockerhome');
  mkdirSync(join(dockerHome, '.docker'), { recursive: true });
  writeFileSync(join(dockerHome, '.docker/config.json'), JSON.stringify({ auths: { [`http://${basic.addr}`]: { auth: Buffer.from(`alice:${USERS.alice}`).toString('base64') } } }));
  const viaDocker = client(t, { env: { HOME: dockerHome } });
  assert.equal((await viaDocker.getManifest(`${basic.addr}/secure/app:v1`)).digest, img.digest);

  const none = client(t);
  await assert.rejects(none.pushImage(`${basic.addr}/secure/app:v2`, img.image), {
    name: 'PushError',
    message:
      `push to ${basic.addr}/secure/app:v2 failed before the manifest was written (tag "v2" was not changed): ` +
      `registry ${basic.addr} requires a user name and password (Basic auth); no credentials for ${basic.addr} found in ` +
      `${home}/.config/containers/auth.json (missing), ${home}/.docker/config.json (missing)`,
  });

  const wrongFile = join(dir, 'wrong-auth.json');
  writeFileSync(wrongFile, JSON.stringify({ auths: { [basic.addr]: { auth: Buffer.from('alice:not-the-password').toString('base64') } } }));
  await assert.rejects(client(t, { authfile: wrongFile }).getManifest(`${basic.addr}/secure/app:v1`), (e: Error) => {
    assert.equal(e.name, 'RegistryAuthError');
    assert.equal(
      e.message,
      `registry ${basic.addr} refused access (HTTP 401: UNAUTHORIZED: authentication required) using Basic auth; tried user "alice" from ${wrongFile} (key "${basic.addr}")`,
    );
    assert.ok(!e.message.includes('not-the-password'));
    return true;
  });

  const helperHome = join(dir, 'helperhome');
  mkdirSync(join(helperHome, '.docker'), { recursive: true });
  writeFileSync(join(helperHome, '.docker/config.json'), JSON.stringify({ credHelpers: { [basic.addr]: 'pass' } }));
  await assert.rejects(client(t, { env: { HOME: helperHome } }).getManifest(`${basic.addr}/secure/app:v1`), {
    name: 'RegistryAuthError',
    message: new RegExp(
      `; ${join(helperHome, '.docker/config.json').replace(/\./g, '\\.')} names credential helper "docker-credential-pass" for ${basic.addr.replace(/\./g, '\\.')}; credential helpers are not supported: `,
    ),
  });
  await assert.rejects(client(t, { authfile: join(dir, 'no-such-auth.json') }).getManifest(`${basic.addr}/secure/app:v1`), {
    name: 'AuthFileError',
    message: `auth file ${join(dir, 'no-such-auth.json')} (--authfile) does not exist`,
  });
});

test('token auth: Bearer tokens from the token server, one per scope set, mount scopes, refusals', async (t) => {
  tokens.requests.clear();
  const img = makeImage('token auth');
  const c = client(t, { authfile });
  const res = await c.pushImage(`${tokenReg.addr}/tok/app:v1`, img.image);
  assert.equal(res.digest, img.digest);
  // HEADs, POSTs, PATCHes, PUTs and the manifest all ran on one cached token.
  assert.deepEqual([...tokens.requests], [['repository:tok/app:pull,push', 1]]);
  assert.equal((await skopeo(`${tokenReg.addr}/tok/app:v1`, ['--creds', `alice:${USERS.alice}`])).Digest, img.digest);

  // Mounting asks for pull on the source repository in the same token.
  const mounted = await c.pushImage(`${tokenReg.addr}/tok/copy:v1`, {
    ...img.image,
    layers: img.image.layers.map((l) => ({ ...l, mountFrom: 'tok/app' })),
  });
  assert.deepEqual(mounted.blobs.map((b) => b.action), ['uploaded', 'mounted', 'mounted']);
  assert.equal(tokens.requests.get('repository:tok/app:pull repository:tok/copy:pull,push'), 1);

  // Reading needs only pull: a separate scope, a separate token (skopeo asks the same server: start afresh).
  tokens.requests.clear();
  const read = client(t, { authfile });
  assert.equal((await read.getImage(`${tokenReg.addr}/tok/app:v1`)).manifest.digest, img.digest);
  assert.equal(tokens.requests.get('repository:tok/app:pull'), 1);

  const wrongFile = join(dir, 'wrong-token-auth.json');
  writeFileSync(wrongFile, JSON.stringify({ auths: { [tokenReg.addr]: { auth: Buffer.from('alice:wrong-token-pw').toString('base64') } } }));
  await assert.rejects(client(t, { authfile: wrongFile }).pushImage(`${tokenReg.addr}/tok/app:v2`, img.image), (e: Error) => {
    assert.equal(e.name, 'PushError');
    assert.equal(
      e.message,
      `push to ${tokenReg.addr}/tok/app:v2 failed before the manifest was written (tag "v2" was not changed): ` +
        `token server ${tokens.realm} (for ${tokenReg.addr}, scope repository:tok/app:pull,push) refused: HTTP 401 ` +
        `{"errors":[{"code":"UNAUTHORIZED","message":"invalid user name or password"}]}; tried user "alice" from ${wrongFile} (key "${tokenReg.addr}")`,
    );
    assert.ok(!e.message.includes('wrong-token-pw'));
    return true;
  });

  // Anonymous: the token server grants pull only, so reading works and pushing is refused.
  const anon = client(t);
  assert.equal((await anon.getManifest(`${tokenReg.addr}/tok/app:v1`)).digest, img.digest);
  await assert.rejects(anon.pushImage(`${tokenReg.addr}/tok/app:v3`, makeImage('anon').image), {
    name: 'PushError',
    message: new RegExp(
      `^push to ${tokenReg.addr.replace(/\./g, '\\.')}/tok/app:v3 failed before the manifest was written \\(tag "v3" was not changed\\): ` +
        `registry ${tokenReg.addr.replace(/\./g, '\\.')} refused access \\(HTTP 401: UNAUTHORIZED: [^)]*\\) using a token for repository:tok/app:pull,push; ` +
        `no credentials for ${tokenReg.addr.replace(/\./g, '\\.')} found in `,
    ),
  });
  assert.equal((await skopeo(`${tokenReg.addr}/tok/app:v1`, ['--creds', `alice:${USERS.alice}`])).Digest, img.digest);
});
