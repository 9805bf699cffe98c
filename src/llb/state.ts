// Immutable LLB states: a state is (vertex output | scratch) plus the platform
// later ops inherit. Building states only records the graph; marshal() encodes it.
import { Op, type Definition, type OpMetadata, type Source } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import { Cap } from './caps.ts';
import { digestOf, goJsonStringArray } from './canonical.ts';
import { LlbError } from './errors.ts';
import { normalizeRun, type NormalRun, type RunOptions } from './exec.ts';
import { FileAction, type FileActionSpec } from './fileaction.ts';
import type { OpOptions } from './options.ts';
import type { LlbPlatform } from './platform.ts';
import { normalizeImageRef } from './reference.ts';

export type Vertex = SourceVertex | FileVertex | ExecVertex | MergeVertex | DiffVertex | DefinitionVertex;

interface VertexBase {
  readonly opts: OpOptions;
}
export interface SourceVertex extends VertexBase {
  readonly kind: 'source';
  readonly identifier: string;
  readonly attrs: ReadonlyMap<string, string>;
  /** Only image sources carry Op.platform (Go clears it for other sources). */
  readonly platformSpecific: boolean;
  readonly platform: LlbPlatform | undefined;
  readonly caps: readonly string[];
}
export interface FileVertex extends VertexBase {
  readonly kind: 'file';
  readonly base: Output | undefined;
  readonly actions: readonly FileActionSpec[];
}
export interface ExecVertex extends VertexBase {
  readonly kind: 'exec';
  readonly run: NormalRun;
  readonly platform: LlbPlatform | undefined;
}
export interface MergeVertex extends VertexBase {
  readonly kind: 'merge';
  readonly inputs: readonly Output[];
}
export interface DiffVertex extends VertexBase {
  readonly kind: 'diff';
  readonly lower: Output | undefined;
  readonly upper: Output | undefined;
}

/** An already-marshaled graph (Go's DefinitionOp): its ops are copied verbatim. */
export interface DefinitionVertex extends VertexBase {
  readonly kind: 'definition';
  /** Every op except the terminal one, with digests of their exact bytes. */
  readonly ops: readonly { readonly digest: string; readonly bytes: Uint8Array; readonly op: Op }[];
  readonly metadata: Readonly<Record<string, OpMetadata>>;
  readonly source: Source | undefined;
  readonly head: { readonly digest: string; readonly index: number };
}

/** Output `index` of `vertex`. */
export interface Output {
  readonly vertex: Vertex;
  readonly index: number;
}

export class State {
  readonly output: Output | undefined;
  readonly platform: LlbPlatform | undefined;

  constructor(output: Output | undefined, platform: LlbPlatform | undefined) {
    this.output = output;
    this.platform = platform;
    Object.freeze(this);
  }

  get isScratch(): boolean {
    return this.output === undefined;
  }

  /**
   * Applies file actions in ONE FileOp. An array of chains is concatenated in
   * order (same as chaining them fluently).
   */
  file(actions: FileAction | readonly FileAction[], opts: OpOptions = {}): State {
    const list = (Array.isArray(actions) ? actions : [actions]) as readonly FileAction[];
    const specs: FileActionSpec[] = [];
    for (const a of list) {
      if (!(a instanceof FileAction)) throw new LlbError('file(): expected FileAction chains (from copy/mkdir/mkfile/rm/symlink)');
      specs.push(...a.list());
    }
    if (specs.length === 0) throw new LlbError('file(): at least one action is required');
    const v: FileVertex = Object.freeze({ kind: 'file', base: this.output, actions: Object.freeze(specs), opts: freezeOpts(opts) });
    return new State({ vertex: v, index: 0 }, this.platform);
  }

  /** Runs a command with this state as the root filesystem ("/"). */
  run(opts: RunOptions, opOpts: OpOptions = {}): ExecResult {
    const run = normalizeRun(this, opts);
    const v: ExecVertex = Object.freeze({ kind: 'exec', run, platform: this.platform, opts: freezeOpts(opOpts) });
    const outputs = new Map<string, State>();
    for (const m of run.mounts) {
      if (m.output >= 0) outputs.set(m.dest, new State({ vertex: v, index: m.output }, this.platform));
    }
    return new ExecResult(outputs);
  }
}

/** States produced by run(): the root filesystem and every output mount by dest. */
export class ExecResult {
  readonly outputs: ReadonlyMap<string, State>;
  constructor(outputs: ReadonlyMap<string, State>) {
    this.outputs = outputs;
    Object.freeze(this);
  }
  get root(): State {
    return this.mount('/');
  }
  mount(dest: string): State {
    const s = this.outputs.get(dest);
    if (s === undefined) {
      throw new LlbError(`run(): no output mount at ${JSON.stringify(dest)} (outputs: ${[...this.outputs.keys()].join(', ') || 'none'})`);
    }
    return s;
  }
}

const SCRATCH = new State(undefined, undefined);

export function scratch(): State {
  return SCRATCH;
}

export interface ImageOptions extends OpOptions {
  platform?: LlbPlatform;
  /** `default` (no attr), `pull` (needs cap source.image.resolvemode) or `local`. */
  resolveMode?: 'default' | 'pull' | 'local';
  /** Use only the first N layers of the image (cap source.image.layerlimit). */
  layerLimit?: number;
}

/** `docker-image://` source; short refs are normalized (`alpine` → docker.io/library/alpine:latest). */
export function image(ref: string, opts: ImageOptions = {}): State {
  const id = normalizeImageRef(ref);
  const attrs = new Map<string, string>();
  const caps: string[] = [Cap.sourceImage];
  const mode = opts.resolveMode ?? 'default';
  if (mode !== 'default' && mode !== 'pull' && mode !== 'local') {
    throw new LlbError(`image "${ref}": resolveMode must be default, pull or local`);
  }
  if (mode !== 'default') attrs.set('image.resolvemode', mode);
  if (mode === 'pull') caps.push(Cap.sourceImageResolveMode);
  if (opts.layerLimit !== undefined) {
    if (!Number.isSafeInteger(opts.layerLimit) || opts.layerLimit < 0) throw new LlbError(`image "${ref}": layerLimit must be a non-negative integer`);
    attrs.set('image.layerlimit', String(opts.layerLimit));
    caps.push(Cap.sourceImageLayerLimit);
  }
  const v: SourceVertex = Object.freeze({
    kind: 'source', identifier: 'docker-image://' + id, attrs, platformSpecific: true,
    platform: opts.platform, caps: Object.freeze(caps), opts: freezeOpts(opts),
  });
  return new State({ vertex: v, index: 0 }, opts.platform);
}

export interface LocalOptions extends OpOptions {
  /** Client session that exposes the directory (BUILDKIT_SESSION_ID). Required: without it Go adds a random attr. */
  sessionId: string;
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
  followPaths?: readonly string[];
  sharedKeyHint?: string;
  differ?: 'none' | 'metadata';
  /** Require cap source.local.differ (Go's Differ(t, true)). */
  differRequired?: boolean;
}

/** `local://<name>`: a directory the client exposes under `name`. */
export function local(name: string, opts: LocalOptions): State {
  if (typeof name !== 'string' || name === '') throw new LlbError('local(): name must be a non-empty string');
  if (typeof opts?.sessionId !== 'string' || opts.sessionId === '') throw new LlbError(`local "${name}": sessionId is required`);
  const attrs = new Map<string, string>();
  const caps: string[] = [];
  attrs.set('local.session', opts.sessionId);
  caps.push(Cap.sourceLocalSessionId);
  const list = (key: string, cap: string, v: readonly string[] | undefined, what: string): void => {
    if (v === undefined || v.length === 0) return;
    if (v.some((p) => typeof p !== 'string' || p === '')) throw new LlbError(`local "${name}": ${what} must be non-empty strings`);
    attrs.set(key, goJsonStringArray(v));
    caps.push(cap);
  };
  list('local.includepattern', Cap.sourceLocalIncludePatterns, opts.includePatterns, 'includePatterns');
  list('local.followpaths', Cap.sourceLocalFollowPaths, opts.followPaths, 'followPaths');
  list('local.excludepatterns', Cap.sourceLocalExcludePatterns, opts.excludePatterns, 'excludePatterns');
  if (opts.sharedKeyHint) {
    attrs.set('local.sharedkeyhint', opts.sharedKeyHint);
    caps.push(Cap.sourceLocalSharedKeyHint);
  }
  if (opts.differ !== undefined) {
    if (opts.differ !== 'none' && opts.differ !== 'metadata') throw new LlbError(`local "${name}": differ must be none or metadata`);
    attrs.set('local.differ', opts.differ);
    if (opts.differRequired) caps.push(Cap.sourceLocalDiffer);
  }
  caps.push(Cap.sourceLocal);
  const v: SourceVertex = Object.freeze({
    kind: 'source', identifier: 'local://' + name, attrs, platformSpecific: false,
    platform: undefined, caps: Object.freeze(caps), opts: freezeOpts(opts),
  });
  return new State({ vertex: v, index: 0 }, undefined);
}

export interface OciLayoutOptions extends OpOptions {
  /** Client session exposing the layout store (BUILDKIT_SESSION_ID). */
  sessionId: string;
  platform?: LlbPlatform;
  /** Name shown in the identifier (cosmetic; default: the store ID). */
  name?: string;
  layerLimit?: number;
}

/**
 * `oci-layout://` source: image `digest` from the OCI layout the client exposes as
 * store `store` (buildctl --oci-layout STORE=dir). Needs cap `source.ocilayout`.
 */
export function ociLayout(store: string, digest: string, opts: OciLayoutOptions): State {
  const what = `oci-layout "${store}@${digest}"`;
  if (typeof store !== 'string' || store === '' || /[@\s]/.test(store)) throw new LlbError(`${what}: bad store ID`);
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new LlbError(`${what}: digest must be sha256:<64 lowercase hex>`);
  if (typeof opts?.sessionId !== 'string' || opts.sessionId === '') throw new LlbError(`${what}: sessionId is required`);
  const attrs = new Map<string, string>([['oci.session', opts.sessionId], ['oci.store', store]]);
  if (opts.layerLimit !== undefined) {
    if (!Number.isSafeInteger(opts.layerLimit) || opts.layerLimit < 0) throw new LlbError(`${what}: layerLimit must be a non-negative integer`);
    attrs.set('oci.layerlimit', String(opts.layerLimit));
  }
  const v: SourceVertex = Object.freeze({
    kind: 'source', identifier: `oci-layout://${opts.name ?? store}@${digest}`, attrs, platformSpecific: true,
    platform: opts.platform, caps: Object.freeze(['source.ocilayout']), opts: freezeOpts(opts),
  });
  return new State({ vertex: v, index: 0 }, opts.platform);
}

/**
 * State for an existing Definition (frontend inputs, a nested frontend's Ref.def):
 * its ops, metadata and source map are carried over byte for byte. An empty
 * definition is scratch.
 */
export function fromDefinition(def: Definition): State {
  const list = def.def ?? [];
  if (list.length === 0) return SCRATCH;
  const ops = list.map((bytes, i) => {
    let op: Op;
    try {
      op = Op.decode(bytes);
    } catch (e) {
      throw new LlbError(`fromDefinition: op ${i} is not a valid pb.Op: ${(e as Error).message}`);
    }
    return Object.freeze({ digest: digestOf(bytes), bytes, op });
  });
  const terminal = ops.pop()!;
  const t = terminal.op;
  if (t.inputs.length !== 1 || t.exec || t.source || t.file || t.merge || t.diff || t.passthrough) {
    throw new LlbError('fromDefinition: the last op must be a terminal op (one input, no body)');
  }
  const head = { digest: t.inputs[0]!.digest, index: Number(t.inputs[0]!.index) };
  const headOp = ops.find((o) => o.digest === head.digest);
  if (headOp === undefined) throw new LlbError(`fromDefinition: terminal op points at ${head.digest}, which is not in the definition`);
  const p = headOp.op.platform;
  const platform = p ? { os: p.OS, architecture: p.Architecture, ...(p.Variant ? { variant: p.Variant } : {}) } : undefined;
  const v: DefinitionVertex = Object.freeze({
    kind: 'definition', ops: Object.freeze(ops), metadata: def.metadata ?? {}, source: def.Source, head, opts: Object.freeze({}),
  });
  return new State({ vertex: v, index: head.index }, platform);
}

/**
 * Layers states in order (later wins). Scratch inputs are dropped; no inputs ⇒
 * scratch, one input ⇒ that input (Go's llb.Merge). Needs cap `mergeop`.
 */
export function merge(states: readonly State[], opts: OpOptions = {}): State {
  const inputs = states.filter((s) => {
    if (!(s instanceof State)) throw new LlbError('merge(): inputs must be llb States');
    return !s.isScratch;
  });
  if (inputs.length === 0) return SCRATCH;
  if (inputs.length === 1) return inputs[0]!;
  const v: MergeVertex = Object.freeze({ kind: 'merge', inputs: Object.freeze(inputs.map((s) => s.output!)), opts: freezeOpts(opts) });
  return new State({ vertex: v, index: 0 }, inputs[0]!.platform);
}

/**
 * Changes from `lower` to `upper` (Go's llb.Diff): both scratch ⇒ scratch,
 * lower scratch ⇒ upper. Needs cap `diffop`.
 */
export function diff(lower: State, upper: State, opts: OpOptions = {}): State {
  if (lower.isScratch) return upper;
  const v: DiffVertex = Object.freeze({ kind: 'diff', lower: lower.output, upper: upper.output, opts: freezeOpts(opts) });
  return new State({ vertex: v, index: 0 }, lower.platform);
}

function freezeOpts(o: OpOptions): OpOptions {
  const { customName, description, ignoreCache, progressGroup, locations } = o;
  if (customName !== undefined && typeof customName !== 'string') throw new LlbError('customName must be a string');
  return Object.freeze({ customName, description, ignoreCache, progressGroup, locations });
}
