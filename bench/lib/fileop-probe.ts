// Isolates the cost of one layer FileOp: copies from a large local tree with and without include
// patterns, solved directly with `buildctl build` (raw LLB on stdin) on the standalone buildkitd, so
// the copy vertex's own duration can be read without the frontend, the scan or the export around it.
import { createHash } from 'node:crypto';
import { Definition, Op } from '../../src/gen/github.com/moby/buildkit/solver/pb/ops.ts';
import * as llb from '../../src/llb/index.ts';
import { bin, buildkitAddr } from '../../test/harness/env.ts';
import { run } from '../../test/harness/run.ts';
import { parseProgress } from './progress.ts';

export interface ProbeCase {
  name: string;
  /** One entry per FileOp: its include patterns ([] = copy everything). */
  ops: string[][];
  /**
   * Let BuildKit cache the copies (same key across solves): a second solve then costs only the cache
   * key computation, i.e. the content checksum of each op's selection.
   */
  cacheable?: boolean;
}

export interface ProbeResult {
  name: string;
  ops: number;
  patternsPerOp: number;
  /** Wall time of the whole solve, ms (includes the context diff-transfer). */
  wallMs: number;
  /** Sum and max of the copy vertices' own durations (BuildKit's DONE), ms. */
  copySumMs: number;
  copyMaxMs: number;
  /** Copies BuildKit answered from its cache. */
  cached: number;
  contextMs: number;
}

/**
 * Our builder requires a session id on local sources (the frontend has one); buildctl makes its own
 * session, so drop the attribute (BuildKit then takes the directory from any session of the build)
 * and re-digest the ops.
 */
function anySession(def: Definition): Definition {
  const renamed = new Map<string, string>();
  const out: Uint8Array[] = [];
  for (const bytes of def.def) {
    const old = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const op = Op.decode(bytes);
    if (op.source?.identifier.startsWith('local://')) delete op.source.attrs['local.session'];
    for (const i of op.inputs) i.digest = renamed.get(i.digest) ?? i.digest;
    const b = Op.encode(op).finish();
    renamed.set(old, `sha256:${createHash('sha256').update(b).digest('hex')}`);
    out.push(b);
  }
  const metadata = Object.fromEntries(Object.entries(def.metadata).map(([k, v]) => [renamed.get(k) ?? k, v]));
  return { def: out, metadata, Source: def.Source };
}

function definitionFor(c: ProbeCase, epoch: number): Uint8Array {
  const src = llb.local('context', { sessionId: 'any', sharedKeyHint: 'context', includePatterns: ['rootfs'] });
  const layer = (include: string[], i: number) =>
    llb.scratch().file(
      llb.copy(src, '/rootfs', '/', {
        includePatterns: include.length ? include : undefined,
        dirCopyContents: true,
        createDestPath: true,
        allowWildcard: false,
        followSymlink: false,
        // Unique per bench run: the first solve of a case is always a cache miss.
        timestamp: epoch * 1e9,
      }),
      { customName: `[probe] ${c.name} ${i + 1}/${c.ops.length}`, ignoreCache: !c.cacheable },
    );
  const states = c.ops.map(layer);
  const head = states.length === 1 ? states[0] : llb.merge(states, { customName: `[probe] merge ${states.length}` });
  return Definition.encode(anySession(llb.marshal(head))).finish();
}

export async function probe(contextDir: string, c: ProbeCase, epoch: number): Promise<ProbeResult> {
  const t0 = performance.now();
  const r = await run(bin.buildctl, ['--addr', buildkitAddr, 'build', '--progress=plain', '--local', `context=${contextDir}`], {
    input: definitionFor(c, epoch),
    timeoutMs: 15 * 60_000,
  });
  const wallMs = Math.round(performance.now() - t0);
  const p = parseProgress(r.stderr.split('\n').map((text) => ({ t: 0, text })));
  const isCopy = (name: string) => name.startsWith('[probe] ') && !name.startsWith('[probe] merge');
  const copies = p.vertices.filter((v) => isCopy(v.name) && !v.cached);
  const context = p.vertices.find((v) => v.name.startsWith('local://context'));
  return {
    name: c.name,
    ops: c.ops.length,
    patternsPerOp: Math.round(c.ops.reduce((n, o) => n + o.length, 0) / c.ops.length),
    wallMs,
    copySumMs: copies.reduce((n, v) => n + v.durMs, 0),
    copyMaxMs: Math.max(0, ...copies.map((v) => v.durMs)),
    cached: p.vertices.filter((v) => isCopy(v.name) && v.cached).length,
    contextMs: context?.durMs ?? 0,
  };
}
