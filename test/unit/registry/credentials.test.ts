import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { authFileCandidates, findCredentials, normalizeAuthKey } from '../../../src/registry/credentials.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function sandbox(t: { after(fn: () => void): void }): { dir: string; put(rel: string, json: unknown): string } {
  const dir = mkdtempSync(join(tmpdir(), 'registry-creds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    put(rel, json) {
      const file = join(dir, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
      return file;
    },
  };
}

test('files are searched in the containers order: --authfile, XDG_RUNTIME_DIR, ~/.config, docker config', (t) => {
  const s = sandbox(t);
  const env = { HOME: join(s.dir, 'home'), XDG_RUNTIME_DIR: join(s.dir, 'run') };
  assert.deepEqual(
    authFileCandidates({ env, authfile: '/x/auth.json' }).map((c) => c.path),
    ['/x/auth.json', join(s.dir, 'run/containers/auth.json'), join(s.dir, 'home/.config/containers/auth.json'), join(s.dir, 'home/.docker/config.json')],
  );
  assert.deepEqual(
    authFileCandidates({ env: { HOME: '/h', REGISTRY_AUTH_FILE: '/e/a.json', DOCKER_CONFIG: '/d', XDG_CONFIG_HOME: '/c' } }).map((c) => c.path),
    ['/e/a.json', '/c/containers/auth.json', '/d/config.json'],
  );

  s.put('home/.docker/config.json', { auths: { 'reg.io': { auth: b64('docker:d') } } });
  s.put('run/containers/auth.json', { auths: { 'reg.io': { auth: b64('runtime:r') } } });
  const r = findCredentials('reg.io', 'app', { env });
  assert.deepEqual(r.credentials, { username: 'runtime', password: 'r', file: join(s.dir, 'run/containers/auth.json'), key: 'reg.io' });
  assert.deepEqual(r.searched, [join(s.dir, 'run/containers/auth.json')]);

  const explicit = s.put('mine.json', { auths: { 'reg.io': { auth: b64('me:pass:with:colons') } } });
  assert.deepEqual(findCredentials('reg.io', 'app', { env, authfile: explicit }).credentials, {
    username: 'me',
    password: 'pass:with:colons',
    file: explicit,
    key: 'reg.io',
  });
  // A registry only the docker config knows falls through the earlier files.
  s.put('home/.docker/config.json', { auths: { 'other.io': { auth: b64('docker:d') } } });
  const other = findCredentials('other.io', 'x', { env, authfile: explicit });
  assert.equal(other.credentials?.username, 'docker');
  assert.deepEqual(other.searched, [
    explicit,
    join(s.dir, 'run/containers/auth.json'),
    `${join(s.dir, 'home/.config/containers/auth.json')} (missing)`,
    join(s.dir, 'home/.docker/config.json'),
  ]);
});

test('$REGISTRY_AUTH_FILE is used when there is no --authfile', (t) => {
  const s = sandbox(t);
  const f = s.put('env.json', { auths: { 'reg.io': { auth: b64('envuser:x') } } });
  assert.equal(findCredentials('reg.io', 'a', { env: { HOME: s.dir, REGISTRY_AUTH_FILE: f } }).credentials?.username, 'envuser');
});

test('key spellings: schemes, /v1/ suffixes, docker.io aliases, namespaces (most specific wins)', (t) => {
  assert.equal(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normalizeAuthKey('registry-1.docker.io'), 'docker.io');
  assert.equal(normalizeAuthKey('http://Reg.IO:5000/v2/'), 'reg.io:5000');
  assert.equal(normalizeAuthKey('reg.io/team/'), 'reg.io/team');

  const s = sandbox(t);
  const f = s.put('auth.json', {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hub:h') },
      'reg.io': { auth: b64('generic:g') },
      'reg.io/team': { auth: b64('team:t') },
      'reg.io/team/app': { auth: b64('app:a') },
      'reg.io:5000': { username: 'port', password: 'p' },
    },
  });
  const who = (registry: string, repo: string): string | undefined => findCredentials(registry, repo, { authfile: f, env: { HOME: s.dir } }).credentials?.username;
  assert.equal(who('docker.io', 'library/alpine'), 'hub');
  assert.equal(who('reg.io', 'team/app'), 'app');
  assert.equal(who('reg.io', 'team/app2'), 'team');
  assert.equal(who('reg.io', 'team/sub/x'), 'team');
  assert.equal(who('reg.io', 'teamx'), 'generic');
  assert.equal(who('reg.io:5000', 'x'), 'port');
  assert.equal(who('reg.io:5001', 'x'), undefined);
});

test('credential helpers and identity tokens become notes, not credentials', (t) => {
  const s = sandbox(t);
  const cfg = s.put('home/.docker/config.json', {
    auths: { 'quay.io': {}, 'ghcr.io': { identitytoken: 'secret-refresh-token' } },
    credHelpers: { 'quay.io': 'secretservice' },
  });
  const env = { HOME: join(s.dir, 'home') };
  const quay = findCredentials('quay.io', 'a', { env });
  assert.equal(quay.credentials, undefined);
  assert.deepEqual(quay.notes, [
    `${cfg}: auths["quay.io"] has no "auth" value`,
    `${cfg} names credential helper "docker-credential-secretservice" for quay.io; credential helpers are not supported: log in with "podman login --authfile FILE" or store an "auth" entry`,
  ]);
  const ghcr = findCredentials('ghcr.io', 'a', { env });
  assert.deepEqual(ghcr.notes, [`${cfg}: auths["ghcr.io"] holds an identity token (OAuth refresh token), which is not supported; log in with a user name and password`]);
  assert.ok(!JSON.stringify(ghcr).includes('secret-refresh-token'));

  s.put('home/.docker/config.json', { credsStore: 'desktop' });
  assert.deepEqual(findCredentials('x.io', 'a', { env }).notes, [
    `${cfg} uses credential store "docker-credential-desktop"; credential helpers are not supported: log in with "podman login --authfile FILE" or store an "auth" entry`,
  ]);
});

test('broken auth files fail with the file named', (t) => {
  const s = sandbox(t);
  const env = { HOME: s.dir };
  assert.throws(() => findCredentials('r.io', 'a', { env, authfile: join(s.dir, 'nope.json') }), {
    name: 'AuthFileError',
    message: `auth file ${join(s.dir, 'nope.json')} (--authfile) does not exist`,
  });
  const cases: [unknown, string][] = [
    ['{not json', 'is not valid JSON: '],
    ['[1]', 'must hold a JSON object'],
    [{ auths: [] }, '"auths" must be an object'],
    [{ auths: { 'r.io': { auth: '***' } } }, 'auths["r.io"].auth is not base64'],
    [{ auths: { 'r.io': { auth: b64('nocolon') } } }, 'auths["r.io"].auth must be base64 of "user:password"'],
    [{ auths: { 'r.io': 'x' } }, 'auths["r.io"] must be an object'],
  ];
  for (const [content, msg] of cases) {
    const f = s.put('bad.json', content);
    assert.throws(
      () => findCredentials('r.io', 'a', { env, authfile: f }),
      (e: Error) => e.name === 'AuthFileError' && e.message.includes(f) && e.message.includes(msg),
      msg,
    );
  }
  // An unset REGISTRY_AUTH_FILE target is just missing, not an error.
  assert.deepEqual(findCredentials('r.io', 'a', { env: { HOME: s.dir, REGISTRY_AUTH_FILE: join(s.dir, 'gone.json') } }).searched[0], `${join(s.dir, 'gone.json')} (missing)`);
});
