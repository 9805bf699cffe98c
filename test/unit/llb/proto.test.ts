// Generated stubs (src/gen): gRPC service wiring, message round trips, wire
// details that matter for BuildKit, and the field order of our .proto files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  LLBBridgeClient, LLBBridgeService, PongResponse, type PingRequest, ReadDirResponse, Result, ReturnRequest, SolveRequest,
  WarnRequest,
} from '../../../src/gen/github.com/moby/buildkit/frontend/gateway/pb/gateway.ts';
import { Source as ErrdefsSource } from '../../../src/gen/github.com/moby/buildkit/solver/errdefs/errdefs.ts';
import { Definition, Input, NetMode, Op } from '../../../src/gen/github.com/moby/buildkit/solver/pb/ops.ts';
import { Stat } from '../../../src/gen/github.com/tonistiigi/fsutil/types/stat.ts';
import { hex } from './helpers.ts';

const METHODS = ['Ping', 'Solve', 'ReadFile', 'ReadDir', 'StatFile', 'Return', 'ResolveImageConfig', 'ResolveSourceMeta', 'Inputs', 'Warn', 'Evaluate'];

test('LLBBridgeService has the eleven unary methods on BuildKit paths', () => {
  const defs = Object.values(LLBBridgeService);
  assert.deepEqual(defs.map((d) => d.path).sort(), METHODS.map((m) => `/moby.buildkit.v1.frontend.LLBBridge/${m}`).sort());
  for (const d of defs) {
    assert.equal(d.requestStream, false, d.path);
    assert.equal(d.responseStream, false, d.path);
  }
});

test('LLBBridgeClient constructs and exposes lower-camel methods', () => {
  const c = new LLBBridgeClient('unix:///nonexistent/llb.sock', grpc.credentials.createInsecure());
  try {
    for (const m of METHODS) {
      const name = m[0]!.toLowerCase() + m.slice(1);
      assert.equal(typeof (c as unknown as Record<string, unknown>)[name], 'function', name);
    }
  } finally {
    c.close();
  }
});

test('client and server talk over a unix socket (Ping, Solve)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'llbp-'));
  const sock = join(dir, 's');
  const server = new grpc.Server();
  let seen: SolveRequest | undefined;
  const unimpl = (_: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED } as grpc.ServiceError, null);
  server.addService(LLBBridgeService, {
    ping: (_: grpc.ServerUnaryCall<PingRequest, PongResponse>, cb: grpc.sendUnaryData<PongResponse>) =>
      cb(null, PongResponse.fromPartial({ LLBCaps: [{ ID: 'mergeop', Enabled: false, DisabledReasonMsg: 'graphdriver' }] })),
    solve: (call: grpc.ServerUnaryCall<SolveRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      seen = call.request;
      cb(null, { ref: '', result: Result.fromPartial({ ref: { id: 'r1' } }) });
    },
    readFile: unimpl, readDir: unimpl, statFile: unimpl, return: unimpl, resolveImageConfig: unimpl,
    resolveSourceMeta: unimpl, inputs: unimpl, warn: unimpl, evaluate: unimpl,
  });
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  const client = new LLBBridgeClient(`unix://${sock}`, grpc.credentials.createInsecure());
  try {
    const pong = await new Promise<PongResponse>((res, rej) => client.ping({}, (e, r) => (e ? rej(e) : res(r))));
    assert.deepEqual(pong.LLBCaps, [{ ID: 'mergeop', Enabled: false, Deprecated: false, DisabledReason: '', DisabledReasonMsg: 'graphdriver', DisabledAlternative: '' }]);
    const req = SolveRequest.fromPartial({ Definition: { def: [new Uint8Array([1, 2])] }, allowResultReturn: true, allowResultArrayRef: true, Evaluate: true });
    const resp = await new Promise<{ result?: Result }>((res, rej) => client.solve(req, (e, r) => (e ? rej(e) : res(r))));
    assert.equal(resp.result?.ref?.id, 'r1');
    assert.deepEqual(seen?.Definition?.def.map((b) => [...b]), [[1, 2]]);
    assert.equal(seen?.Evaluate, true);
  } finally {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SolveRequest round-trips maps, nested definitions and cache imports', () => {
  const msg = SolveRequest.fromPartial({
    Definition: { def: [new Uint8Array([10, 0])], metadata: { 'sha256:aa': { ignoreCache: true, description: { 'llb.customname': 'x' }, caps: { 'file.base': true } } } },
    Frontend: '',
    FrontendOpt: { b: '2', a: '1' },
    allowResultReturn: true,
    allowResultArrayRef: true,
    CacheImports: [{ Type: 'registry', Attrs: { ref: 'r/c' } }],
    FrontendInputs: { context: { def: [new Uint8Array([1])] } },
  });
  const back = SolveRequest.decode(SolveRequest.encode(msg).finish());
  assert.deepEqual(back, msg);
});

test('int64 nanosecond times survive beyond 2^53 (forceLong=bigint)', () => {
  const t = 1_700_000_000_123_456_789n;
  const dirMode = 2 ** 31 + 0o755; // Go os.ModeDir | 0755: decodes as a positive uint32
  const st = Stat.decode(Stat.encode(Stat.fromPartial({ path: 'f', mode: dirMode, size: 5n, modTime: t })).finish());
  assert.equal(st.modTime, t);
  assert.equal(st.mode, dirMode);
  const dir = ReadDirResponse.decode(ReadDirResponse.encode({ entries: [st] }).finish());
  assert.equal(dir.entries[0]!.modTime, t);
});

test('negative int64 uses the 10-byte varint Go writes; enums are plain numbers', () => {
  assert.equal(hex(Input.encode({ digest: 'd', index: -1n }).finish()), '0a016410ffffffffffffffffff01');
  assert.equal(NetMode.NONE, 2);
  assert.deepEqual(Object.entries(NetMode), [['UNSET', 0], ['HOST', 1], ['NONE', 2]]);
});

test('Op encodes the oneof body after platform/constraints (Go wire order)', () => {
  const bytes = Op.encode(Op.fromPartial({ platform: { OS: 'linux', Architecture: 'amd64' }, constraints: {}, source: { identifier: 'x' } })).finish();
  // 0x52 = field 10 (platform), 0x5a = field 11 (constraints), 0x1a = field 3 (source)
  assert.equal(hex(bytes), '520e0a05616d64363412056c696e75785a001a030a0178');
});

test('unknown fields from newer daemons are skipped on decode', () => {
  // SolveRequest field 15 (SourcePolicies) is not in our trimmed proto.
  const extra = Buffer.concat([Buffer.from(SolveRequest.encode(SolveRequest.fromPartial({ Frontend: 'f' })).finish()), Buffer.from([0x7a, 0x02, 0x0a, 0x00])]);
  assert.equal(SolveRequest.decode(extra).Frontend, 'f');
});

test('ReturnRequest carries google.rpc.Status with an errdefs.Source detail', () => {
  const detail = ErrdefsSource.encode({
    info: { filename: 'spec.yaml', data: new TextEncoder().encode('a: 1\n'), definition: undefined, language: 'yaml' },
    ranges: [{ start: { line: 1, character: 0 }, end: { line: 1, character: 3 } }],
  }).finish();
  const req = ReturnRequest.fromPartial({
    error: { code: 2, message: 'bad key', details: [{ typeUrl: 'type.googleapis.com/errdefs.Source', value: detail }] },
  });
  const back = ReturnRequest.decode(ReturnRequest.encode(req).finish());
  assert.equal(back.result, undefined);
  assert.equal(back.error?.details[0]?.typeUrl, 'type.googleapis.com/errdefs.Source');
  const src = ErrdefsSource.decode(back.error!.details[0]!.value);
  assert.equal(src.info?.filename, 'spec.yaml');
  assert.equal(src.ranges[0]?.end?.character, 3);
});

test('WarnRequest and Definition round-trip', () => {
  const w = WarnRequest.fromPartial({ digest: 'sha256:ab', level: 1n, short: new Uint8Array([104, 105]), detail: [new Uint8Array([1])], url: 'u' });
  assert.deepEqual(WarnRequest.decode(WarnRequest.encode(w).finish()), w);
  assert.equal(Definition.encode(Definition.fromPartial({})).finish().length, 0);
});

// ts-proto writes fields in declaration order; Go writes non-oneof fields by
// number, then oneof members. Our .proto files must be declared that way.
test('every .proto message declares fields in Go wire order', () => {
  const root = join(import.meta.dirname, '../../../proto');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.proto')) files.push(p);
    }
  };
  walk(root);
  assert.ok(files.length >= 7, `found ${files.length} proto files`);
  let checked = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '');
    for (const m of text.matchAll(/message\s+(\w+)\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g)) {
      const body = m[2]!;
      const oneofs = [...body.matchAll(/oneof\s+\w+\s*\{([^}]*)\}/g)].map((o) => o[1]!);
      const plain = body.replace(/oneof\s+\w+\s*\{[^}]*\}/g, '');
      const nums = (s: string) => [...s.matchAll(/=\s*(\d+)\s*;/g)].map((x) => Number(x[1]));
      const order = [...nums(plain), ...oneofs.flatMap(nums)];
      const plainNums = nums(plain);
      assert.deepEqual(plainNums, [...plainNums].sort((a, b) => a - b), `${relative(root, f)} ${m[1]}: non-oneof fields out of order`);
      const tailIdx = body.search(/oneof\s/);
      if (tailIdx >= 0) assert.equal(nums(body.slice(tailIdx).replace(/oneof\s+\w+\s*\{[^}]*\}/g, '')).length, 0, `${m[1]}: fields after a oneof`);
      assert.equal(new Set(order).size, order.length, `${m[1]}: duplicate field numbers`);
      checked++;
    }
  }
  assert.ok(checked > 60, `checked ${checked} messages`);
});
