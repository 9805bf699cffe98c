// State graph → pb.Definition: dependency-first op list, identical ops once,
// terminal op last, metadata and optional source map keyed by op digest.
import {
  Definition, type Input, type Location, Op, type OpMetadata, type Source, type SourceInfo,
} from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import { Cap, CapSet, type CapInfo } from './caps.ts';
import { digestOf, sortedRecord } from './canonical.ts';
import { encodeVertex } from './encode.ts';
import { LlbError } from './errors.ts';
import type { SourceFile, SourceLocation } from './options.ts';
import { hostPlatform, type LlbPlatform } from './platform.ts';
import type { State, Vertex } from './state.ts';

/** BuildKit ≤ 0.13 (Docker ≤ 26) rejects gRPC requests over 4 MiB; newer ones 16 MiB. */
export const LEGACY_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export interface MarshalOptions {
  /** Platform for image sources and execs whose state names none (default: host). */
  platform?: LlbPlatform;
  /** PongResponse.LLBCaps: every cap an op needs must be listed and enabled, else LlbError. */
  caps?: Iterable<CapInfo>;
  /** Set ignore_cache on every op (the `no-cache` frontend option). */
  ignoreCache?: boolean;
}

export interface MarshaledOp {
  readonly digest: string;
  /** Exact bytes in Definition.def; digest = sha256 of these. */
  readonly bytes: Uint8Array;
  readonly op: Op;
}

export interface MarshalResult {
  readonly definition: Definition;
  /** Same order as definition.def; the terminal op is last. */
  readonly ops: readonly MarshaledOp[];
  /** The result edge (terminal op's input); undefined for scratch. */
  readonly head: { readonly digest: string; readonly index: number } | undefined;
}

/** The definition of a scratch result (no ops). */
export function emptyDefinition(): Definition {
  return Definition.fromPartial({});
}

/** Encoded size of `def` in bytes (what a SolveRequest carries for it, minus a few tag bytes). */
export function definitionSize(def: Definition): number {
  return Definition.encode(def).finish().length;
}

interface Encoded {
  readonly digest: string;
  readonly caps: ReadonlySet<string>;
}

/** The Definition to send in SolveRequest (see marshalGraph for per-op bytes). */
export function marshal(state: State, opts: MarshalOptions = {}): Definition {
  return marshalGraph(state, opts).definition;
}

export function marshalGraph(state: State, opts: MarshalOptions = {}): MarshalResult {
  if (state.output === undefined) return { definition: emptyDefinition(), ops: [], head: undefined };
  const platform = opts.platform ?? hostPlatform();
  const caps = opts.caps === undefined ? undefined : new CapSet(opts.caps);

  const done = new Map<Vertex, Encoded>();
  const ops: MarshaledOp[] = [];
  const byDigest = new Map<string, MarshaledOp>();
  const meta = new Map<string, MetaAcc>();
  const sources = new SourceCollector();

  const ctx = {
    platform,
    caps,
    input(out: { vertex: Vertex; index: number }): Input {
      const e = done.get(out.vertex);
      if (e === undefined) throw new LlbError('internal: input encoded before its dependency');
      return { digest: e.digest, index: BigInt(out.index) };
    },
  };

  // Iterative post-order walk so long chains cannot overflow the stack.
  const stack: { v: Vertex; expanded: boolean }[] = [{ v: state.output.vertex, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (done.has(top.v)) { stack.pop(); continue; }
    if (!top.expanded) {
      top.expanded = true;
      const deps = dependencies(top.v);
      for (let i = deps.length - 1; i >= 0; i--) if (!done.has(deps[i]!)) stack.push({ v: deps[i]!, expanded: false });
      continue;
    }
    stack.pop();
    const v = top.v;
    if (v.kind === 'definition') {
      for (const o of v.ops) {
        if (!byDigest.has(o.digest)) {
          byDigest.set(o.digest, o);
          ops.push(o);
        }
        const m = v.metadata[o.digest];
        mergePbMeta(meta, o.digest, m, opts.ignoreCache === true);
      }
      sources.addPb(v.source, new Set(v.ops.map((o) => o.digest)));
      done.set(v, { digest: v.head.digest, caps: new Set() });
      continue;
    }
    const { op, caps: opCaps } = encodeVertex(v, ctx);
    const bytes = Op.encode(op).finish();
    const digest = digestOf(bytes);
    done.set(v, { digest, caps: opCaps });
    if (!byDigest.has(digest)) {
      const m: MarshaledOp = { digest, bytes, op };
      byDigest.set(digest, m);
      ops.push(m);
    }
    mergeMeta(meta, digest, v, opCaps, opts.ignoreCache === true);
    sources.add(digest, v.opts.locations);
  }

  const head = ctx.input(state.output);
  const terminal = Op.fromPartial({ inputs: [head] });
  const tBytes = Op.encode(terminal).finish();
  const tDigest = digestOf(tBytes);
  const tCaps = new Set<string>([Cap.constraints, Cap.platform]);
  for (const m of meta.values()) {
    if (m.ignoreCache) tCaps.add(Cap.metaIgnoreCache);
    if (m.description.size > 0) tCaps.add(Cap.metaDescription);
  }
  if (!byDigest.has(tDigest)) ops.push({ digest: tDigest, bytes: tBytes, op: terminal });
  const tAcc = meta.get(tDigest) ?? newAcc();
  for (const c of tCaps) tAcc.caps.add(c);
  meta.set(tDigest, tAcc);

  if (caps !== undefined) checkCaps(caps, meta, byDigest);

  const definition = Definition.fromPartial({
    def: ops.map((o) => o.bytes),
    metadata: sortedRecord([...meta].map(([d, m]) => [d, toPbMeta(m)] as const), 'definition metadata'),
    Source: sources.toPb(),
  });
  return { definition, ops, head: { digest: head.digest, index: Number(head.index) } };
}

function dependencies(v: Vertex): Vertex[] {
  const outs = (() => {
    switch (v.kind) {
      case 'source': return [];
      case 'file': return [v.base, ...v.actions.map((a) => (a.kind === 'copy' ? a.source.output : undefined))];
      case 'exec': return v.run.mounts.map((m) => ('state' in m ? m.state?.output : undefined));
      case 'merge': return [...v.inputs];
      case 'diff': return [v.lower, v.upper];
      case 'definition': return [];
    }
  })();
  return outs.filter((o) => o !== undefined).map((o) => o.vertex);
}

interface MetaAcc {
  ignoreCache: boolean;
  description: Map<string, string>;
  caps: Set<string>;
  progressGroup: { id: string; name: string; weak?: boolean } | undefined;
  /** Display name for cap errors. */
  label: string | undefined;
}

function newAcc(): MetaAcc {
  return { ignoreCache: false, description: new Map(), caps: new Set(), progressGroup: undefined, label: undefined };
}

/** Identical ops reached through different vertices share one metadata entry (union, like Go). */
function mergeMeta(meta: Map<string, MetaAcc>, digest: string, v: Vertex, caps: ReadonlySet<string>, ignoreAll: boolean): void {
  const acc = meta.get(digest) ?? newAcc();
  const o = v.opts;
  if (o.ignoreCache || ignoreAll) acc.ignoreCache = true;
  for (const [k, val] of Object.entries(o.description ?? {})) acc.description.set(k, val);
  if (o.customName !== undefined && o.customName !== '') acc.description.set('llb.customname', o.customName);
  for (const c of caps) acc.caps.add(c);
  acc.progressGroup ??= o.progressGroup;
  acc.label ??= o.customName || (v.kind === 'source' ? v.identifier : `${v.kind} op`);
  meta.set(digest, acc);
}

/** Metadata carried in from an existing Definition (fromDefinition). */
function mergePbMeta(meta: Map<string, MetaAcc>, digest: string, m: OpMetadata | undefined, ignoreAll: boolean): void {
  const acc = meta.get(digest) ?? newAcc();
  if (m?.ignoreCache || ignoreAll) acc.ignoreCache = true;
  for (const [k, val] of Object.entries(m?.description ?? {})) acc.description.set(k, val);
  for (const [c, on] of Object.entries(m?.caps ?? {})) if (on) acc.caps.add(c);
  if (m?.progressGroup) acc.progressGroup ??= m.progressGroup;
  acc.label ??= m?.description?.['llb.customname'] || `op ${digest.slice(7, 19)}`;
  meta.set(digest, acc);
}

function toPbMeta(m: MetaAcc): OpMetadata {
  return {
    ignoreCache: m.ignoreCache,
    description: sortedRecord(m.description, 'op description'),
    exportCache: undefined,
    caps: sortedRecord([...m.caps].map((c) => [c, true] as const), 'op caps'),
    progressGroup: m.progressGroup
      ? { id: m.progressGroup.id, name: m.progressGroup.name, weak: m.progressGroup.weak === true }
      : undefined,
    linuxResources: undefined,
  };
}

function checkCaps(caps: CapSet, meta: ReadonlyMap<string, MetaAcc>, ops: ReadonlyMap<string, MarshaledOp>): void {
  const problems: string[] = [];
  for (const [digest, m] of meta) {
    for (const c of [...m.caps].sort()) {
      const why = caps.whyNot(c);
      if (why !== undefined) {
        const what = ops.has(digest) && m.label ? m.label : 'definition';
        problems.push(`cap "${c}" needed by ${what}: ${why}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new LlbError(`BuildKit daemon lacks LLB features this build needs:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
}

/** pb.Source: one SourceInfo per distinct file, locations per op digest. */
class SourceCollector {
  readonly #files: SourceFile[] = [];
  readonly #locs = new Map<string, Location[]>();

  add(digest: string, locations: readonly SourceLocation[] | undefined): void {
    if (!locations || locations.length === 0) return;
    const list = this.#locs.get(digest) ?? [];
    for (const l of locations) {
      list.push({ sourceIndex: this.#index(l.file), ranges: l.ranges.map((r) => ({ start: r.start, end: r.end })) });
    }
    this.#locs.set(digest, list);
  }

  /** Re-indexes an existing pb.Source, keeping locations of `digests` only. */
  addPb(src: Source | undefined, digests: ReadonlySet<string>): void {
    if (!src) return;
    const files = src.infos.map((i) => ({ filename: i.filename, data: i.data, language: i.language }));
    for (const [digest, locs] of Object.entries(src.locations)) {
      if (!digests.has(digest)) continue;
      const list = this.#locs.get(digest) ?? [];
      for (const l of locs.locations) {
        const f = files[l.sourceIndex];
        if (f === undefined) throw new LlbError(`fromDefinition: source location of ${digest} names missing source index ${l.sourceIndex}`);
        list.push({ sourceIndex: this.#index(f), ranges: l.ranges });
      }
      this.#locs.set(digest, list);
    }
  }

  #index(f: SourceFile): number {
    let i = this.#files.findIndex((g) => g === f
      || (g.filename === f.filename && g.language === f.language && Buffer.from(g.data).equals(Buffer.from(f.data))));
    if (i < 0) i = this.#files.push(f) - 1;
    return i;
  }

  toPb(): Source | undefined {
    if (this.#files.length === 0) return undefined;
    const infos: SourceInfo[] = this.#files.map((f) => ({ filename: f.filename, data: f.data, definition: undefined, language: f.language }));
    const locations = sortedRecord([...this.#locs].map(([d, l]) => [d, { locations: l }] as const), 'source locations');
    return { locations, infos };
  }
}
