// The ostree-encapsulated image (spec §3): layer 0 = commit layer, then one chunk layer per planned
// layer; config labels `ostree.commit` / `ostree.final-diffid` / bootc, history and
// `ostree.components` annotations named the way rpm-ostree names chunks (§6.7).
import { ostreeComponentName } from '../chunking/plan-foreign.ts';
import type { LayerPlan } from '../chunking/types.ts';
import type { CommitTreeResult } from '../ostree/commit.ts';
import { chunkLayer, chunkObjects, CommitIndex, commitLayer, type ChunkObject, type OstreeExportInput } from '../ostree/tar.ts';
import type { RootfsView } from '../rootfs/types.ts';
import { rfc3339, type ConfigDocument, type LayerSource } from './image.ts';

export const COMPONENTS_ANNOTATION = 'ostree.components';
export const COMMIT_LABEL = 'ostree.commit';
export const FINAL_DIFFID_LABEL = 'ostree.final-diffid';

export interface OstreeImageInput {
  view: RootfsView;
  commit: CommitTreeResult;
  plan: LayerPlan;
  formatVersion: 1 | 2;
  /** Detached metadata (signatures). */
  commitmeta?: Uint8Array;
  chunkSize?: number;
}

export interface OstreeLayers {
  sources: LayerSource[];
  /** created_by / comment of every layer, in layer order. */
  history: { created_by: string; comment?: string }[];
}

/** rpm-ostree's chunk name: what `created_by` says about a layer's components (§6.7). */
export function chunkName(components: string[]): string {
  if (components.length === 0) return 'Reserved for new packages';
  if (components.length === 1) return components[0]!;
  if (components.length <= 5) return components.join(' and ');
  return `${components.length} components`;
}

const byteOrder = (a: string, b: string) => (Buffer.compare(Buffer.from(a), Buffer.from(b)));

/**
 * Layer sources for a commit and a plan. Planned layers that carry no content object (only
 * directories, or only /sysroot contents) are left out: their tars would be identical empty
 * chunks, and a duplicate of the final chunk confuses the importer's `ostree.final-diffid` lookup.
 */
export function ostreeLayers(inp: OstreeImageInput): OstreeLayers {
  const x: OstreeExportInput = {
    view: inp.view, commit: inp.commit, formatVersion: inp.formatVersion, commitmeta: inp.commitmeta, chunkSize: inp.chunkSize,
  };
  const index = new CommitIndex(inp.commit);
  const planned = new Set<string>();
  const chunks: { objects: ChunkObject[]; components: string[]; name: string; size: number }[] = [];
  for (const l of inp.plan.layers) {
    for (const p of l.paths) planned.add(p);
    const objects = chunkObjects(inp.commit, l.paths);
    if (objects.length === 0) continue;
    chunks.push({ objects, components: l.components.map(ostreeComponentName).sort(byteOrder), name: l.name, size: l.size });
  }
  const unplanned = [...inp.commit.files.keys()].filter((p) => !planned.has(p));
  const remainder = chunkObjects(inp.commit, unplanned);

  const sources: LayerSource[] = [{ open: () => commitLayer(x, remainder, index), weight: 0 }];
  const history: OstreeLayers['history'] = [{ created_by: `ostree export of commit ${inp.commit.commit}` }];
  for (const c of chunks) {
    const label = c.components.length > 0 ? c.components.join(',') : c.name;
    sources.push({ open: () => chunkLayer(x, c.objects, index), annotations: { [COMPONENTS_ANNOTATION]: label }, weight: c.size });
    history.push({ created_by: c.components.length > 0 ? chunkName(c.components) : c.name, comment: c.name });
  }
  return { sources, history };
}

export interface OstreeConfigInput {
  architecture: string;
  os: string;
  /** Seconds since the epoch (the commit timestamp). */
  created: number;
  commit: string;
  diffIds: string[];
  history: { created_by: string; comment?: string }[];
  /** Labels besides the ostree ones (bootc labels, user labels, plan label). */
  labels: Record<string, string>;
}

export interface OstreeConfigDocument extends ConfigDocument {
  created: string;
  config: { Labels: Record<string, string> };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: { created: string; created_by: string; comment?: string }[];
}

/** The config document; `ostree.final-diffid` names the last layer (layer 0 when there are no chunks). */
export function ostreeConfig(c: OstreeConfigInput): OstreeConfigDocument {
  const final = c.diffIds[c.diffIds.length - 1];
  if (final === undefined) throw new Error('ostree image: no layers');
  if (c.diffIds.indexOf(final) !== c.diffIds.length - 1) {
    throw new Error(`ostree image: the last layer's diff_id ${final} also appears earlier; clients would mis-split the image`);
  }
  const created = rfc3339(c.created);
  return {
    architecture: c.architecture,
    os: c.os,
    created,
    config: { Labels: { ...c.labels, [COMMIT_LABEL]: c.commit, [FINAL_DIFFID_LABEL]: final } },
    rootfs: { type: 'layers', diff_ids: c.diffIds },
    history: c.history.map((h) => ({ created, ...h })),
  };
}
