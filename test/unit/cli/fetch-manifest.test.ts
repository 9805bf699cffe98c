import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchManifestCommand, parsePlatform } from '../../../src/cli/fetch-manifest.ts';

test('platforms: OS/ARCH[/VARIANT]', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.throws(() => parsePlatform('linux'), { message: "--platform 'linux': expected OS/ARCH[/VARIANT]" });
  assert.throws(() => parsePlatform('a/b/c/d'), { message: "--platform 'a/b/c/d': expected OS/ARCH[/VARIANT]" });
});

test('a registry that cannot be reached is an answer, not a failure: {"error"} and exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-fetch-'));
  try {
    // Port 9 on loopback: connection refused at once.
    const code = await fetchManifestCommand(['127.0.0.1:9/x/y@sha256:' + '0'.repeat(64), join(dir, 'm.json'), '--platform', 'linux/amd64']);
    assert.equal(code, 0);
    const out = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    assert.deepEqual(Object.keys(out), ['error']);
    assert.match(out.error, /127\.0\.0\.1:9/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments: usage and exit 2', async () => {
  assert.equal(await fetchManifestCommand(['only-a-ref']), 2);
  assert.equal(await fetchManifestCommand(['r', 'o', '--platform']), 2);
});
