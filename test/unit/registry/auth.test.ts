import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Authorizer, parseChallenges, repositoryScope, type TokenResponse } from '../../../src/registry/auth.ts';
import type { CredentialLookup } from '../../../src/registry/credentials.ts';

test('WWW-Authenticate: Bearer with quoted params, several challenges, escapes, unquoted values', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseChallenges('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Bearer realm=https://t.io/token,service=reg'), [
    { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
    { scheme: 'basic', params: { realm: 'simple' } },
    { scheme: 'bearer', params: { realm: 'https://t.io/token', service: 'reg' } },
  ]);
  assert.deepEqual(parseChallenges(['Negotiate', 'BASIC Realm = "x, y"']), [
    { scheme: 'negotiate', params: {} },
    { scheme: 'basic', params: { realm: 'x, y' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
  assert.throws(() => parseChallenges('Bearer realm="open'), { message: 'malformed WWW-Authenticate header: unterminated quoted value of realm in "Bearer realm=\\"open"' });
  assert.throws(() => parseChallenges('"x"'), /malformed WWW-Authenticate header: unexpected """ at 0/);
});

function lookup(creds?: { username: string; password: string }): () => CredentialLookup {
  return () =>
    creds
      ? { credentials: { ...creds, file: '/tmp/auth.json', key: 'reg.io' }, searched: ['/tmp/auth.json'], notes: [] }
      : { searched: ['/run/containers/auth.json (missing)', '/root/.docker/config.json'], notes: ['/root/.docker/config.json names credential helper "docker-credential-pass" for reg.io; credential helpers are not supported'] };
}

test('Bearer flow: token requested with service and scopes, Basic credentials, cached per scope set', async () => {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  let clock = 0;
  const a = new Authorizer({
    registry: 'reg.io',
    lookup: lookup({ username: 'alice', password: 's3cret' }),
    now: () => clock,
    fetchToken: async (url, headers): Promise<TokenResponse> => {
      calls.push({ url: url.toString(), headers });
      return { status: 200, body: JSON.stringify({ token: `t${calls.length}`, expires_in: 60 }) };
    },
  });
  const push = [repositoryScope('os/app', 'pull,push'), repositoryScope('os/base', 'pull')];
  assert.equal(await a.authorization(push), undefined, 'nothing is sent before the first challenge');
  a.unauthorized('Bearer realm="https://auth.reg.io/token",service="reg.io"', push);
  assert.equal(await a.authorization(push), 'Bearer t1');
  assert.equal(await a.authorization([...push].reverse()), 'Bearer t1', 'same scope set, other order: cached');
  assert.equal(await a.authorization([repositoryScope('os/app', 'pull')]), 'Bearer t2');
  assert.deepEqual(calls[0], {
    url: 'https://auth.reg.io/token?service=reg.io&scope=repository%3Aos%2Fapp%3Apull%2Cpush&scope=repository%3Aos%2Fbase%3Apull',
    headers: { authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` },
  });
  clock = 56_000; // 60 s lifetime minus a 5 s margin has passed
  assert.equal(await a.authorization(push), 'Bearer t3');
  // A 401 to a request sent without the token (raced the first challenge) keeps the cached token…
  a.unauthorized('Bearer realm="https://auth.reg.io/token",service="reg.io"', push, undefined);
  assert.equal(await a.authorization(push), 'Bearer t3');
  // …a 401 to the token itself drops it.
  a.unauthorized('Bearer realm="https://auth.reg.io/token",service="reg.io"', push, 'Bearer t3');
  assert.equal(await a.authorization(push), 'Bearer t4');
  assert.equal(a.tokenRequests, 4);
});

test('concurrent requests share one token request', async () => {
  let n = 0;
  const a = new Authorizer({
    registry: 'reg.io',
    lookup: lookup(),
    fetchToken: async () => {
      n++;
      await new Promise((r) => setTimeout(r, 20));
      return { status: 200, body: JSON.stringify({ access_token: 'anon' }) };
    },
  });
  a.unauthorized('Bearer realm="https://t.io/token"', ['s']);
  const got = await Promise.all([a.authorization(['s']), a.authorization(['s']), a.authorization(['s'])]);
  assert.deepEqual(got, ['Bearer anon', 'Bearer anon', 'Bearer anon']);
  assert.equal(n, 1);
});

test('token refusal names the token server, scope, user and file, never the password', async () => {
  const a = new Authorizer({
    registry: 'reg.io',
    lookup: lookup({ username: 'alice', password: 'wrong-pass' }),
    fetchToken: async () => ({ status: 401, body: '{"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}' }),
  });
  a.unauthorized('Bearer realm="https://auth.reg.io/token",service="reg.io"', ['repository:a:pull']);
  await assert.rejects(a.authorization(['repository:a:pull']), (e: Error) => {
    assert.equal(e.name, 'RegistryAuthError');
    assert.equal(
      e.message,
      'token server https://auth.reg.io/token (for reg.io, scope repository:a:pull) refused: HTTP 401 {"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}; tried user "alice" from /tmp/auth.json (key "reg.io")',
    );
    assert.ok(!e.message.includes('wrong-pass'));
    return true;
  });
});

test('token server answers that are not tokens', async () => {
  const cases: [TokenResponse, RegExp][] = [
    [{ status: 200, body: 'nope' }, /answered with something that is not JSON/],
    [{ status: 200, body: '{}' }, /answered without a token/],
    [{ status: 503, body: '' }, /HTTP 503/],
  ];
  for (const [res, re] of cases) {
    const a = new Authorizer({ registry: 'reg.io', lookup: lookup(), fetchToken: async () => res });
    a.unauthorized('Bearer realm="https://t.io/token"', ['s']);
    await assert.rejects(a.authorization(['s']), re);
  }
  const bad = new Authorizer({ registry: 'reg.io', lookup: lookup(), fetchToken: async () => ({ status: 200, body: '' }) });
  bad.unauthorized('Bearer realm="not a url"', ['s']);
  await assert.rejects(bad.authorization(['s']), { message: 'registry reg.io named an invalid token realm "not a url"' });
});

test('Basic challenge: credentials sent after it; without credentials a clear error listing what was searched', async () => {
  const a = new Authorizer({ registry: 'reg.io', lookup: lookup({ username: 'bob', password: 'pw' }), fetchToken: async () => assert.fail('no token flow') });
  a.unauthorized('Basic realm="r"', ['s']);
  assert.equal(await a.authorization(['s']), `Basic ${Buffer.from('bob:pw').toString('base64')}`);
  assert.equal(
    a.refused(401, ['s'], 'UNAUTHORIZED: authentication required').message,
    'registry reg.io refused access (HTTP 401: UNAUTHORIZED: authentication required) using Basic auth; tried user "bob" from /tmp/auth.json (key "reg.io")',
  );

  const anon = new Authorizer({ registry: 'reg.io', lookup: lookup(), fetchToken: async () => assert.fail('no token flow') });
  assert.throws(() => anon.unauthorized('Basic realm="r"', ['s']), {
    name: 'RegistryAuthError',
    message:
      'registry reg.io requires a user name and password (Basic auth); no credentials for reg.io found in /run/containers/auth.json (missing), /root/.docker/config.json; /root/.docker/config.json names credential helper "docker-credential-pass" for reg.io; credential helpers are not supported',
  });
  assert.throws(() => anon.unauthorized('Negotiate', ['s']), { message: 'registry reg.io requires authentication but offers negotiate (supported: Bearer, Basic)' });
  assert.throws(() => anon.unauthorized(undefined, ['s']), { message: 'registry reg.io requires authentication but offers no WWW-Authenticate challenge (supported: Bearer, Basic)' });
});
