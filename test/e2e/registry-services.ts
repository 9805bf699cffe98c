// Throwaway registries for test/e2e/registry.test.ts, all on 127.0.0.1 and free ports: Debian's
// docker-registry (no auth, htpasswd, or token auth), a token server signing JWTs with a self-made
// certificate, and a fault-injecting HTTP proxy. Everything started here is stopped by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createSign, X509Certificate, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../harness/run.ts';

/** A port nobody listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

const children = new Set<ChildProcess>();
// Last resort if a test process dies without running its `after` hooks.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export interface RunningRegistry {
  /** host:port */
  addr: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; file: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

/** Starts `docker-registry serve` on a free port with data under `dir`. */
export async function startRegistry(dir: string, auth: RegistryAuth): Promise<RunningRegistry> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const authYaml =
    auth.kind === 'htpasswd'
      ? `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${auth.file}\n`
      : auth.kind === 'token'
        ? `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${auth.rootCertBundle}\n`
        : '';
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${addr}\n  secret: test-secret\n${authYaml}`,
  );
  const logFile = join(dir, 'registry.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      return;
    }
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    children.delete(child);
  };
  for (let i = 0; i < 80; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`http://${addr}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return { addr, logFile, pid: child.pid!, stop };
    } catch {
      // not listening yet
    }
    await sleep(125);
  }
  await stop();
  throw new Error(`docker-registry did not come up on ${addr}; log ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
}

/** htpasswd file with bcrypt entries (`htpasswd -B`, as the registry requires). */
export async function writeHtpasswd(file: string, users: Record<string, string>): Promise<void> {
  const lines: string[] = [];
  for (const [user, pass] of Object.entries(users)) {
    const r = await run('htpasswd', ['-Bbn', user, pass], { timeoutMs: 30_000 });
    lines.push(r.stdout.trim());
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export interface SigningCert {
  certPem: string;
  certFile: string;
  key: KeyObject;
}

/** Self-signed RSA certificate + key (openssl), the token issuer's identity. */
export async function makeSigningCert(dir: string): Promise<SigningCert> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=test token issuer'], {
    timeoutMs: 60_000,
  });
  return { certPem: readFileSync(certFile, 'utf8'), certFile, key: createPrivateKey(readFileSync(keyFile)) };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** Token requests received, by the sorted `scope` parameters (space-separated). */
  requests: Map<string, number>;
  /** Requests refused for bad credentials. */
  refused: number;
  stop(): Promise<void>;
}

/**
 * Docker token-auth server: GET /token?service&scope… with Basic credentials from `users` → a JWT
 * (RS256, x5c = the signing cert) granting every requested action; anonymous callers get pull only.
 */
export async function startTokenServer(cert: SigningCert, users: Record<string, string>): Promise<TokenServer> {
  const service = 'test-registry';
  const issuer = 'test-token-issuer';
  const der = new X509Certificate(cert.certPem).raw.toString('base64');
  const requests = new Map<string, number>();
  let jti = 0;
  const state = { refused: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.set([...scopes].sort().join(' '), (requests.get([...scopes].sort().join(' ')) ?? 0) + 1);
    const auth = req.headers.authorization;
    let subject = '';
    if (auth?.startsWith('Basic ')) {
      const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      if (!user || users[user] === undefined || users[user] !== rest.join(':')) {
        state.refused++;
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid user name or password' }] }));
        return;
      }
      subject = user;
    }
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(':') as [string, string, string];
      const wanted = actions.split(',');
      return { type, name, actions: subject ? wanted : wanted.filter((a) => a === 'pull') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der] };
    const claims = { iss: issuer, sub: subject, aud: url.searchParams.get('service') ?? '', exp: now + 300, nbf: now - 10, iat: now, jti: String(++jti), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(cert.key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: 300, issued_at: new Date(now * 1000).toISOString() }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    get refused() {
      return state.refused;
    },
    stop: () => closeServer(server),
  };
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface ProxyRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  /** Status returned, or what the proxy did instead. */
  outcome: number | 'dropped' | 'dropped-mid-body';
}

export type FaultAction =
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Close the connection without an answer, before forwarding. */
  | { kind: 'drop' }
  /** Forward, then cut both connections after this many request body bytes. */
  | { kind: 'drop-mid-body'; afterBytes: number }
  /** Wait, then forward. */
  | { kind: 'delay'; ms: number }
  /** Forward, but flip one byte of the response body. */
  | { kind: 'corrupt' }
  /** Answer 307 to the same path on another origin (like a registry sending reads to storage). */
  | { kind: 'redirect'; origin: string };

export interface FaultRule {
  method: string;
  /** Tested against path + query. */
  path: RegExp;
  action: FaultAction;
  /** How many matching requests the rule applies to (Infinity = all). */
  times: number;
  /** Matching requests it has applied to. */
  hits: number;
}

export interface FaultProxy {
  addr: string;
  log: ProxyRequest[];
  rules: FaultRule[];
  /** Adds a rule; returns it (its `hits` count the injected faults). */
  fault(method: string, path: RegExp, action: FaultAction, times?: number): FaultRule;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * HTTP proxy on a free port in front of `upstream` (host:port). It passes the Host header through, so
 * the registry's Location headers point back at the proxy.
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const [uHost, uPort] = upstream.split(':') as [string, string];
  const agent = new http.Agent({ keepAlive: true });
  const log: ProxyRequest[] = [];
  const rules: FaultRule[] = [];

  const server = http.createServer((req, res) => {
    const entry: ProxyRequest = { method: req.method ?? '', url: req.url ?? '', outcome: 0 };
    log.push(entry);
    const rule = rules.find((r) => r.hits < r.times && r.method === req.method && r.path.test(req.url ?? ''));
    if (rule) rule.hits++;
    const action = rule?.action;
    if (action?.kind === 'drop') {
      entry.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    if (action?.kind === 'redirect') {
      entry.outcome = 307;
      res.writeHead(307, { location: `${action.origin}${req.url}`, 'content-length': '0' }).end();
      return;
    }
    if (action?.kind === 'status') {
      // Read the whole body first so the client sees the answer, not a broken pipe.
      req.resume();
      req.on('end', () => {
        entry.outcome = action.status;
        res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault' }] }));
      });
      return;
    }
    const forward = (): void => {
      const up = http.request({ host: uHost, port: Number(uPort), method: req.method, path: req.url, headers: req.headers, agent }, (ures) => {
        entry.outcome = ures.statusCode ?? 0;
        if (action?.kind === 'corrupt') {
          const parts: Buffer[] = [];
          ures.on('data', (b: Buffer) => parts.push(b));
          ures.on('end', () => {
            const body = Buffer.concat(parts);
            if (body.length > 0) body[body.length >> 1]! ^= 0xff;
            res.writeHead(ures.statusCode ?? 502, ures.headers).end(body);
          });
          return;
        }
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      });
      up.on('error', () => res.destroy());
      if (action?.kind === 'drop-mid-body') {
        let seen = 0;
        req.on('data', (b: Buffer) => {
          seen += b.length;
          if (seen >= action.afterBytes && entry.outcome !== 'dropped-mid-body') {
            entry.outcome = 'dropped-mid-body';
            req.socket.destroy();
            up.destroy();
          }
        });
      }
      req.pipe(up);
    };
    if (action?.kind === 'delay') setTimeout(forward, action.ms);
    else forward();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    addr: `127.0.0.1:${port}`,
    log,
    rules,
    fault(method, path, action, times = 1) {
      const rule: FaultRule = { method, path, action, times, hits: 0 };
      rules.push(rule);
      return rule;
    },
    reset() {
      log.length = 0;
      rules.length = 0;
    },
    async stop() {
      await closeServer(server);
      agent.destroy();
    },
  };
}
