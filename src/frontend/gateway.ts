// Promise-based, typed access to BuildKit's LLBBridge, with caps decided from Ping.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  LLBBridgeClient,
  type Result,
} from '../gen/github.com/moby/buildkit/frontend/gateway/pb/gateway.ts';
import type { Definition, Platform as PbPlatform, Range, SourceInfo } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import type { Stat } from '../gen/github.com/tonistiigi/fsutil/types/stat.ts';
import type { APICap } from '../gen/github.com/moby/buildkit/util/apicaps/pb/caps.ts';
import type { Any } from '../gen/google/protobuf/any.ts';
import { Status } from '../gen/google/rpc/status.ts';
import type { Platform } from './options.ts';

const MiB = 1024 * 1024;

export interface SolveResult {
  /** '' = scratch. */
  ref: string;
  /** Per-platform refs when the (nested frontend's) result is a map. */
  refs: Record<string, string>;
  metadata: Record<string, Uint8Array>;
  /** The LLB that produces `ref` / each of `refs`, to build on a nested frontend's result. */
  def?: Definition;
  defs: Record<string, Definition>;
}

export interface SolveArgs {
  definition?: Definition;
  frontend?: string;
  frontendOpt?: Record<string, string>;
  frontendInputs?: Record<string, Definition>;
  cacheImports?: { type: string; attrs: Record<string, string> }[];
  evaluate?: boolean;
}

export class GatewayError extends Error {
  readonly code: number;
  /** BuildKit's full status (with details such as the failing vertex and source lines), when sent. */
  readonly status?: Status;
  constructor(method: string, e: ServiceError) {
    super(e.details || e.message);
    this.name = 'GatewayError';
    this.code = e.code;
    this.stack = `${method}: ${this.message}`;
    const bin = e.metadata?.get('grpc-status-details-bin')[0];
    if (bin instanceof Buffer) {
      try {
        this.status = Status.decode(bin);
      } catch {
        // not a google.rpc.Status: keep code and message only
      }
    }
  }
}

export class Gateway {
  readonly client: LLBBridgeClient;
  private frontendCaps = new Map<string, APICap>();
  private llbCaps = new Map<string, APICap>();
  workers: { id: string; platforms: Platform[] }[] = [];
  private returned = false;

  constructor(address: string) {
    this.client = new LLBBridgeClient(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * MiB,
      'grpc.max_send_message_length': 64 * MiB,
      // grpc-js drops idle channels after 30 min by default and would then try to reconnect to a
      // stream that cannot be reconnected.
      'grpc.client_idle_timeout_ms': 2147483647,
    });
  }

  private call<Req, Res>(method: string, req: Req): Promise<Res> {
    const fn = (this.client as unknown as Record<string, Function>)[method];
    return new Promise((resolve, reject) => {
      fn.call(this.client, req, new Metadata(), (err: ServiceError | null, res: Res) => {
        if (err) reject(new GatewayError(method, err));
        else resolve(res);
      });
    });
  }

  async ping(): Promise<void> {
    const pong = await this.call<object, { FrontendAPICaps: APICap[]; LLBCaps: APICap[]; Workers: { ID: string; platforms: PbPlatform[] }[] }>('ping', {});
    for (const c of pong.FrontendAPICaps) this.frontendCaps.set(c.ID, c);
    for (const c of pong.LLBCaps) this.llbCaps.set(c.ID, c);
    this.workers = pong.Workers.map((w) => ({
      id: w.ID,
      platforms: w.platforms.map((p) => ({ os: p.OS, architecture: p.Architecture, ...(p.Variant ? { variant: p.Variant } : {}) })),
    }));
  }

  /** A cap counts only when present AND enabled (Docker's classic store lists mergeop disabled). */
  has(cap: string): boolean {
    return this.frontendCaps.get(cap)?.Enabled === true;
  }
  llbHas(cap: string): boolean {
    return this.llbCaps.get(cap)?.Enabled === true;
  }
  llbCapReason(cap: string): string {
    const c = this.llbCaps.get(cap);
    if (!c) return 'not offered by this BuildKit';
    return c.Enabled ? 'enabled' : c.DisabledReasonMsg || c.DisabledReason || 'disabled';
  }
  /** BuildKit ≤ 0.13 (Docker Engine ≤ 26) receives at most 4 MiB per request; newer ones 16 MiB. */
  get maxRequestBytes(): number {
    return this.llbCaps.has('file.copy.alwaysreplaceexistingdestpaths') ? 16 * MiB : 4 * MiB;
  }

  async solve(a: SolveArgs): Promise<SolveResult> {
    const res = await this.call<object, { result?: Result }>('solve', {
      Definition: a.definition,
      Frontend: a.frontend ?? '',
      FrontendOpt: a.frontendOpt ?? {},
      allowResultReturn: true,
      allowResultArrayRef: true,
      Final: false,
      ExporterAttr: new Uint8Array(),
      CacheImports: (a.cacheImports ?? []).map((c) => ({ Type: c.type, Attrs: c.attrs })),
      FrontendInputs: a.frontendInputs ?? {},
      Evaluate: a.evaluate ?? false,
    });
    const r = res.result;
    const refs: Record<string, string> = {};
    const defs: Record<string, Definition> = {};
    for (const [k, v] of Object.entries(r?.refs?.refs ?? {})) {
      refs[k] = v.id;
      if (v.def) defs[k] = v.def;
    }
    for (const [k, v] of Object.entries(r?.refsDeprecated?.refs ?? {})) refs[k] = v;
    return { ref: r?.ref?.id ?? r?.refDeprecated ?? '', refs, metadata: r?.metadata ?? {}, def: r?.ref?.def, defs };
  }

  async readFile(ref: string, path: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    const res = await this.call<object, { Data: Uint8Array }>('readFile', {
      Ref: ref, FilePath: path, MountIndex: 0,
      Range: range ? { Offset: BigInt(range.offset), Length: BigInt(range.length) } : undefined,
    });
    return res.Data;
  }

  async readDir(ref: string, dir: string, includePattern = ''): Promise<Stat[]> {
    const res = await this.call<object, { entries: Stat[] }>('readDir', { Ref: ref, DirPath: dir, IncludePattern: includePattern, MountIndex: 0 });
    return res.entries;
  }

  async statFile(ref: string, path: string): Promise<Stat | undefined> {
    const res = await this.call<object, { stat?: Stat }>('statFile', { Ref: ref, Path: path, MountIndex: 0 });
    return res.stat;
  }

  async evaluate(ref: string): Promise<void> {
    if (this.has('gateway.evaluate')) await this.call('evaluate', { Ref: ref });
    else await this.statFile(ref, '.');
  }

  async inputs(): Promise<Record<string, Definition>> {
    if (!this.has('frontend.inputs')) return {};
    const res = await this.call<object, { Definitions: Record<string, Definition> }>('inputs', {});
    return res.Definitions;
  }

  async resolveImageConfig(ref: string, platform: Platform | undefined, mode: string, logName?: string): Promise<{ digest: string; config: Uint8Array; ref: string }> {
    const res = await this.call<object, { Digest: string; Config: Uint8Array; Ref: string }>('resolveImageConfig', {
      Ref: ref,
      Platform: platform ? { OS: platform.os, Architecture: platform.architecture, Variant: platform.variant ?? '', OSVersion: '', OSFeatures: [] } : undefined,
      ResolveMode: mode,
      LogName: logName ?? `resolve image config for ${ref}`,
      ResolverType: 0, SessionID: '', StoreID: '',
    });
    return { digest: res.Digest, config: res.Config, ref: res.Ref || ref };
  }

  /** A user-visible warning (BuildKit ≥ 0.10); older daemons get it on stderr only. */
  /** @param vertex digest of the op the warning belongs to (printers such as buildctl's show it there). */
  async warn(short: string, detail: string[] = [], source?: { info: SourceInfo; ranges: Range[] }, vertex = ''): Promise<void> {
    if (!this.has('gateway.warnings')) {
      console.error(`warning: ${short}`);
      return;
    }
    const enc = new TextEncoder();
    await this.call('warn', {
      digest: vertex, level: 1n, short: enc.encode(short), detail: detail.map((d) => enc.encode(d)), url: '',
      info: source?.info, ranges: source?.ranges ?? [],
    });
  }

  async returnResult(result: Result): Promise<void> {
    await this.doReturn({ result, error: undefined });
  }

  async returnError(code: number, message: string, details: Any[] = []): Promise<void> {
    await this.doReturn({ result: undefined, error: { code, message, details } });
  }

  private async doReturn(req: object): Promise<void> {
    if (this.returned) throw new Error('Return called twice');
    this.returned = true;
    await this.call('return', req);
  }

  close(): void {
    this.client.close();
  }
}
