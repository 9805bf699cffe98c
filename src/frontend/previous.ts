// `previous-build`: the layer plan of the image this build updates, read through ResolveImageConfig —
// our own plan label, or chunkah's history comments. Images chunked by rpm-ostree/bootc keep their
// plan in layer annotations (`ostree.components`), which only the manifest has and the gateway API does
// not return: for those (label `ostree.commit`), our own program fetches the manifest, pinned to the
// resolved digest, in an ExecOp with network. Never fatal: a missing or unreadable previous image only
// means planning from scratch, so it is reported as a warning.
import { decodePlanLabel } from '../chunking/plan-label.ts';
import { previousFromChunkahHistory, previousFromOstreeLayers } from '../chunking/plan-foreign.ts';
import type { PreviousPlanDetail } from '../chunking/sticky.ts';
import { PLAN_LABEL } from '../image/config.ts';
import { normalizeImageRef, parseImageRef } from '../llb/index.ts';
import type { Gateway } from './gateway.ts';
import type { Platform } from './options.ts';
import { readResult, selfExec, selfExecAvailable } from './self-exec.ts';

export interface PreviousResult {
  previous?: PreviousPlanDetail;
  warning?: string;
  /** Where the plan came from, for messages. */
  source?: 'label' | 'chunkah' | 'ostree';
}

/** Label every ostree-ext (rpm-ostree, bootc) image carries. */
export const OSTREE_COMMIT_LABEL = 'ostree.commit';
const MANIFEST_FILE = '/tmp/compose-frontend-manifest.json';

interface ImageConfig {
  config?: { Labels?: Record<string, string> };
  history?: { created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export interface PreviousOptions {
  platform: Platform;
  /** ResolveImageConfig's resolve mode. */
  mode: string;
  ignoreCache: boolean;
  /** Where our own image's definition is (tests). */
  definitionPath?: string;
}

export async function readPreviousPlan(gw: Gateway, ref: string, o: PreviousOptions): Promise<PreviousResult> {
  let config: ImageConfig;
  let digest: string;
  const name = normalizeImageRef(ref);
  try {
    const res = await gw.resolveImageConfig(name, o.platform, o.mode, `[previous-build] resolve ${ref}`);
    config = JSON.parse(Buffer.from(res.config).toString('utf8')) as ImageConfig;
    digest = res.digest;
  } catch (e) {
    return { warning: `previous build '${ref}' cannot be read (${(e as Error).message.split('\n')[0]}); planning without it` };
  }
  const labels = config.config?.Labels ?? {};
  const label = labels[PLAN_LABEL];
  try {
    if (label) return { previous: decodePlanLabel(label), source: 'label' };
    if (config.history?.some((h) => h.created_by === 'chunkah')) return { previous: previousFromChunkahHistory(config.history), source: 'chunkah' };
  } catch (e) {
    return { warning: `previous build '${ref}': its layer plan is unreadable (${(e as Error).message}); planning without it` };
  }
  if (labels[OSTREE_COMMIT_LABEL] !== undefined) return readOstreePlan(gw, ref, `${parseImageRef(name).name}@${digest}`, o);
  return { warning: `previous build '${ref}' has no layer plan (no ${PLAN_LABEL} label, no chunkah history, no ${OSTREE_COMMIT_LABEL} label); planning without it` };
}

/** rpm-ostree/bootc layout from the manifest's `ostree.components` layer annotations. */
async function readOstreePlan(gw: Gateway, ref: string, pinned: string, o: PreviousOptions): Promise<PreviousResult> {
  const where = `previous build '${ref}' (made by rpm-ostree/bootc)`;
  if (!selfExecAvailable(gw, o.definitionPath)) {
    return { warning: `${where}: its layer annotations need BuildKit ≥ 0.10 to be read; planning without it` };
  }
  const v = o.platform.variant ? `/${o.platform.variant}` : '';
  let out: { digest?: string; manifest?: { layers?: { annotations?: Record<string, string> }[] }; error?: string };
  try {
    const dir = await selfExec(gw, {
      args: ['fetch-manifest', pinned, MANIFEST_FILE, '--platform', `${o.platform.os}/${o.platform.architecture}${v}`],
      network: 'sandbox',
      name: `[previous-build] read the layer annotations of ${ref}`,
      platform: o.platform,
      // Pinned to a digest: a cached answer stays right. Only --no-cache asks again.
      ignoreCache: o.ignoreCache,
      ...(o.definitionPath ? { definitionPath: o.definitionPath } : {}),
    });
    out = JSON.parse(Buffer.from(await readResult(dir, MANIFEST_FILE)).toString('utf8')) as typeof out;
  } catch (e) {
    return { warning: `${where}: its manifest cannot be fetched (${(e as Error).message.split('\n')[0]}); planning without it` };
  }
  if (out.error !== undefined || !out.manifest) {
    return { warning: `${where}: its manifest cannot be fetched from inside the build (${out.error ?? 'empty answer'}; the fetch has no registry credentials); planning without it` };
  }
  try {
    return { previous: previousFromOstreeLayers(out.manifest.layers ?? []), source: 'ostree' };
  } catch (e) {
    return { warning: `${where}: ${(e as Error).message}; planning without it` };
  }
}
