// LayerPlan → LLB: one scratch-based state per planned layer, copying exactly that layer's leaves from
// the rootfs (one copy action, so hard links inside it survive), with a fixed timestamp so an unchanged
// selection yields a byte-identical layer. Layers are merged with MergeOp when the daemon has it
// enabled (each layer cached independently), else stacked as a chain of FileOps.
import { leafEntries } from '../chunking/simple.ts';
import { parentOf } from '../util/order.ts';
import type { LayerPlan } from '../chunking/types.ts';
import * as llb from '../llb/index.ts';
import type { FsEntry } from '../rootfs/types.ts';
import { describeLayer } from './config.ts';
import { escapePattern, selections, unescapePattern, type Selection } from './selection.ts';

export interface LayerBuildInput {
  rootfs: llb.State;
  /** Rootfs location inside the `rootfs` state ('' = root). */
  prefix: string;
  entries: FsEntry[];
  /** Entries that must never be copied (sockets, fifos, devices): excluded wherever a pattern would take them. */
  skipped: string[];
  plan: LayerPlan;
  /** Unix seconds stamped on every file of layer i (see layerTimes in frontend/build.ts). */
  times: number[];
  useMerge: boolean;
  ignoreCache: boolean;
}

export function layerSelections(entries: FsEntry[], skipped: string[], plan: LayerPlan): Selection[] {
  const layerOf = new Map<string, number>();
  plan.layers.forEach((l, i) => l.paths.forEach((p) => layerOf.set(p, i)));
  const leafLayer = new Map<string, number>();
  for (const e of leafEntries(entries)) leafLayer.set(e.path, layerOf.get(e.path) ?? -1);
  const sels = selections(entries, leafLayer, plan.layers.length);
  // A special file sits inside a directory some layer includes whole: exclude it there explicitly.
  for (const sel of sels) {
    const inc = new Set(sel.include.map(unescapePattern));
    const exc = new Set(sel.exclude.map(unescapePattern));
    const under = (set: Set<string>, p: string) => {
      for (let q = p; q !== ''; q = parentOf(q)) if (set.has(q)) return true;
      return false;
    };
    for (const p of skipped) if (under(inc, p) && !under(exc, p)) sel.exclude.push(escapePattern(p));
  }
  return sels;
}

/** Ancestors of included paths that no include pattern covers (they are created as parents only). */
export function parentOnlyDirs(include: string[]): string[] {
  const inc = new Set(include.map(unescapePattern));
  const covered = (p: string) => {
    for (let q = p; q !== ''; q = parentOf(q)) if (inc.has(q)) return true;
    return false;
  };
  const out = new Set<string>();
  for (const p of inc) for (let d = parentOf(p); d !== '' && !covered(d); d = parentOf(d)) out.add(d);
  return [...out].sort();
}

export function buildLayers(inp: LayerBuildInput): llb.State {
  const sels = layerSelections(inp.entries, inp.skipped, inp.plan);
  const src = inp.prefix ? `/${inp.prefix}` : '/';
  const n = inp.plan.layers.length;
  const copyOf = (i: number) => {
    const timestamp = inp.times[i] * 1e9;
    let a = llb.copy(inp.rootfs, src, '/', {
      includePatterns: sels[i].include,
      excludePatterns: sels[i].exclude.length ? sels[i].exclude : undefined,
      dirCopyContents: true,
      createDestPath: true,
      allowWildcard: false,
      followSymlink: false,
      timestamp,
    });
    // A directory the copy created only as a parent got its timestamp before its children were
    // written, which moved its mtime to "now". Copying such a directory onto itself with every child
    // excluded writes nothing and ends by stamping it with the copy's timestamp.
    for (const d of parentOnlyDirs(sels[i].include)) {
      a = a.copy(inp.rootfs, inp.prefix ? `${src}/${d}` : `/${d}`, `/${d}`, { dirCopyContents: true, excludePatterns: ['*'], timestamp });
    }
    return a;
  };
  const name = (i: number) => `[layer ${i + 1}/${n}] ${describeLayer(inp.plan.layers[i].components, inp.plan.layers[i].paths)}`;
  if (inp.useMerge) {
    const states = inp.plan.layers.map((_, i) => llb.scratch().file(copyOf(i), { customName: name(i), ignoreCache: inp.ignoreCache }));
    return llb.merge(states, { customName: `[layers] merge ${n} layers` });
  }
  let s = llb.scratch();
  for (let i = 0; i < n; i++) s = s.file(copyOf(i), { customName: name(i), ignoreCache: inp.ignoreCache });
  return s;
}
