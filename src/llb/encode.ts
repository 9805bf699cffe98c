// Vertex → pb.Op, mirroring Go's client/llb encoders: input de-duplication,
// FileOp index math, -1 defaults, cap requirements per op.
import {
  ChownOpt, FileAction as PbFileAction, Input, Mount, Op, type UserOpt,
} from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import { Cap, type CapSet } from './caps.ts';
import { sortedRecord } from './canonical.ts';
import { normalizePath, type FileActionSpec, type Owner, type UserRef } from './fileaction.ts';
import { toPbPlatform, type LlbPlatform } from './platform.ts';
import type { DiffVertex, ExecVertex, FileVertex, MergeVertex, Output, SourceVertex, Vertex } from './state.ts';

export interface EncodeContext {
  readonly platform: LlbPlatform;
  readonly caps: CapSet | undefined;
  /** Input edge for an already-encoded output. */
  input(out: Output): Input;
}

export interface EncodedOp {
  op: Op;
  caps: Set<string>;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Encodes every vertex kind except 'definition' (copied verbatim by marshal). */
export function encodeVertex(v: Exclude<Vertex, { kind: 'definition' }>, ctx: EncodeContext): EncodedOp {
  switch (v.kind) {
    case 'source': return encodeSource(v, ctx);
    case 'file': return encodeFile(v, ctx);
    case 'exec': return encodeExec(v, ctx);
    case 'merge': return encodeMerge(v, ctx);
    case 'diff': return encodeDiff(v, ctx);
  }
}

/** Go always sends an (empty) WorkerConstraints; keep that for identical bytes. */
function baseOp(inputs: Input[], platform: LlbPlatform | undefined): Pick<Op, 'inputs' | 'platform' | 'constraints'> {
  return { inputs, platform: platform ? toPbPlatform(platform) : undefined, constraints: { filter: [] } };
}

class Inputs {
  readonly list: Input[] = [];
  readonly #ctx: EncodeContext;
  constructor(ctx: EncodeContext) {
    this.#ctx = ctx;
  }
  /** Index of `out` in Op.inputs, adding it once (equal digest+index share a slot). */
  add(out: Output): number {
    const inp = this.#ctx.input(out);
    const i = this.list.findIndex((x) => x.digest === inp.digest && x.index === inp.index);
    if (i >= 0) return i;
    this.list.push(inp);
    return this.list.length - 1;
  }
  /** Always a new slot (MergeOp/DiffOp list every input, duplicates included). */
  push(out: Output): number {
    this.list.push(this.#ctx.input(out));
    return this.list.length - 1;
  }
}

function encodeSource(v: SourceVertex, ctx: EncodeContext): EncodedOp {
  const attrs = sortedRecord(v.attrs, `source ${v.identifier} attrs`);
  const op = Op.fromPartial({
    ...baseOp([], v.platformSpecific ? (v.platform ?? ctx.platform) : undefined),
    source: { identifier: v.identifier, attrs },
  });
  return { op, caps: new Set(v.caps) };
}

function userOpt(u: UserRef, base: number): UserOpt {
  if (typeof u === 'string') {
    // Go's WithUser: "root" and decimal strings are ids, anything else a name.
    if (u === 'root') return { byID: 0 };
    if (/^[0-9]+$/.test(u) && Number(u) <= 0x7fffffff) return { byID: Number(u) };
    return { byName: { name: u, input: BigInt(base) } };
  }
  return { byID: u };
}

function chown(o: Owner | undefined, base: number): ChownOpt | undefined {
  if (o === undefined) return undefined;
  return { user: userOpt(o.user, base), group: o.group === undefined ? undefined : userOpt(o.group, base) };
}

const ts = (t: bigint | number | undefined): bigint => (t === undefined ? -1n : BigInt(t));

function encodeFile(v: FileVertex, ctx: EncodeContext): EncodedOp {
  const caps = new Set<string>([Cap.fileBase]);
  const inputs = new Inputs(ctx);
  const base = v.base ? inputs.add(v.base) : -1;
  const secondary = v.actions.map((a) => (a.kind === 'copy' && !a.source.isScratch ? inputs.add(a.source.output!) : -1));
  const n = inputs.list.length;
  const last = v.actions.length - 1;
  const actions = v.actions.map((a, k) => {
    const action: Partial<PbFileAction> = fileActionBody(a, base, caps);
    return PbFileAction.fromPartial({
      ...action,
      input: BigInt(k === 0 ? base : n + k - 1),
      secondaryInput: BigInt(secondary[k]!),
      output: BigInt(k === last ? 0 : -1),
    });
  });
  const op = Op.fromPartial({ ...baseOp(inputs.list, undefined), file: { actions } });
  return { op, caps };
}

function fileActionBody(a: FileActionSpec, base: number, caps: Set<string>): Partial<PbFileAction> {
  switch (a.kind) {
    case 'copy': {
      const o = a.opts;
      if (o.includePatterns?.length || o.excludePatterns?.length) caps.add(Cap.fileCopyIncludeExcludePatterns);
      if (o.requiredPaths?.length) caps.add(Cap.fileCopyRequiredPaths);
      if (o.alwaysReplaceExistingDestPaths) caps.add(Cap.fileCopyAlwaysReplaceExistingDestPaths);
      if (typeof o.mode === 'string') caps.add(Cap.fileCopyModeString);
      return {
        copy: {
          src: normalizePath(a.src, false),
          dest: normalizePath(a.dest, true),
          owner: chown(o.owner, base),
          mode: typeof o.mode === 'number' ? o.mode : typeof o.mode === 'string' ? 0 : -1,
          followSymlink: o.followSymlink === true,
          dirCopyContents: o.dirCopyContents === true,
          attemptUnpackDockerCompatibility: o.attemptUnpack === true,
          createDestPath: o.createDestPath === true,
          allowWildcard: o.allowWildcard === true,
          allowEmptyWildcard: o.allowEmptyWildcard === true,
          timestamp: ts(o.timestamp),
          includePatterns: [...(o.includePatterns ?? [])],
          excludePatterns: [...(o.excludePatterns ?? [])],
          alwaysReplaceExistingDestPaths: o.alwaysReplaceExistingDestPaths === true,
          modeStr: typeof o.mode === 'string' ? o.mode : '',
          requiredPaths: [...(o.requiredPaths ?? [])],
        },
      };
    }
    case 'mkdir':
      return {
        mkdir: {
          path: normalizePath(a.path, false), mode: a.mode, makeParents: a.opts.makeParents === true,
          owner: chown(a.opts.owner, base), timestamp: ts(a.opts.timestamp),
        },
      };
    case 'mkfile':
      return {
        mkfile: {
          path: normalizePath(a.path, false), mode: a.mode, data: a.data,
          owner: chown(a.opts.owner, base), timestamp: ts(a.opts.timestamp),
        },
      };
    case 'rm':
      if (a.opts.allowWildcard) caps.add(Cap.fileRmWildcard);
      return {
        rm: { path: normalizePath(a.path, false), allowNotFound: a.opts.allowNotFound === true, allowWildcard: a.opts.allowWildcard === true },
      };
    case 'symlink':
      caps.add(Cap.fileSymlinkCreate);
      return {
        symlink: {
          oldpath: a.oldpath, newpath: normalizePath(a.newpath, false),
          owner: chown(a.opts.owner, base), timestamp: ts(a.opts.timestamp),
        },
      };
  }
}

function encodeExec(v: ExecVertex, ctx: EncodeContext): EncodedOp {
  const r = v.run;
  const caps = new Set<string>([Cap.execMetaBase]);
  let env = [...r.env];
  if (ctx.caps !== undefined) {
    // Same rule as Go: old daemons do not add a default PATH, so add it here.
    if (ctx.caps.supports(Cap.execMetaSetsDefaultPath)) caps.add(Cap.execMetaSetsDefaultPath);
    else if (!env.some((e) => e.startsWith('PATH='))) env = [...env, DEFAULT_PATH];
  }
  if (r.validExitCodes !== undefined) caps.add(Cap.execValidExitCode);
  if (r.network !== 0) caps.add(Cap.execMetaNetwork);
  if (r.security !== 0) caps.add(Cap.execMetaSecurity);

  const inputs = new Inputs(ctx);
  const mounts: Mount[] = [];
  for (const m of r.mounts) {
    switch (m.type) {
      case 'bind':
        if (m.selector) caps.add(Cap.execMountSelector);
        if (m.state) caps.add(Cap.execMountBind);
        mounts.push(Mount.fromPartial({
          input: BigInt(m.state ? inputs.add(m.state.output!) : -1), selector: m.selector, dest: m.dest,
          output: BigInt(m.output), readonly: m.readonly,
        }));
        break;
      case 'cache':
        if (m.selector) caps.add(Cap.execMountSelector);
        caps.add(Cap.execMountCache).add(Cap.execMountCacheSharing);
        mounts.push(Mount.fromPartial({
          input: BigInt(m.state ? inputs.add(m.state.output!) : -1), selector: m.selector, dest: m.dest,
          output: -1n, mountType: 3, cacheOpt: { ID: m.cacheId, sharing: m.sharing },
        }));
        break;
      case 'tmpfs':
        caps.add(Cap.execMountTmpfs);
        if (m.size > 0) caps.add(Cap.execMountTmpfsSize);
        mounts.push(Mount.fromPartial({ input: -1n, dest: m.dest, output: -1n, mountType: 4, TmpfsOpt: { size: BigInt(m.size) } }));
        break;
      case 'secret':
        caps.add(Cap.execMountSecret);
        // Go leaves output at 0 for secret mounts; the solver ignores it for non-bind mounts.
        mounts.push(Mount.fromPartial({
          input: -1n, dest: m.dest, mountType: 1,
          secretOpt: { ID: m.secretId, uid: m.uid, gid: m.gid, mode: m.mode, optional: m.optional },
        }));
        break;
    }
  }
  const op = Op.fromPartial({
    ...baseOp(inputs.list, v.platform ?? ctx.platform),
    exec: {
      meta: {
        args: [...r.args], env, cwd: r.cwd, user: r.user, hostname: r.hostname,
        removeMountStubsRecursive: true, validExitCodes: r.validExitCodes ? [...r.validExitCodes] : [],
      },
      mounts,
      network: r.network,
      security: r.security,
    },
  });
  return { op, caps };
}

function encodeMerge(v: MergeVertex, ctx: EncodeContext): EncodedOp {
  const inputs = new Inputs(ctx);
  const merge = { inputs: v.inputs.map((o) => ({ input: BigInt(inputs.push(o)) })) };
  return { op: Op.fromPartial({ ...baseOp(inputs.list, undefined), merge }), caps: new Set([Cap.mergeOp]) };
}

function encodeDiff(v: DiffVertex, ctx: EncodeContext): EncodedOp {
  const inputs = new Inputs(ctx);
  const lower = v.lower ? inputs.push(v.lower) : -1;
  const upper = v.upper ? inputs.push(v.upper) : -1;
  const op = Op.fromPartial({
    ...baseOp(inputs.list, undefined),
    diff: { lower: { input: BigInt(lower) }, upper: { input: BigInt(upper) } },
  });
  return { op, caps: new Set([Cap.diffOp]) };
}
