// `previous-build`: the layer plan of the image this build updates, read through ResolveImageConfig —
// our own plan label, or chunkah's history comments. Never fatal: a missing or unreadable previous
// image only means planning from scratch, so it is reported as a warning.
import { decodePlanLabel } from '../chunking/plan-label.ts';
import { previousFromChunkahHistory } from '../chunking/plan-foreign.ts';
import type { PreviousPlanDetail } from '../chunking/sticky.ts';
import { PLAN_LABEL } from '../image/config.ts';
import { normalizeImageRef } from '../llb/index.ts';
import type { Gateway } from './gateway.ts';
import type { Platform } from './options.ts';

export interface PreviousResult {
  previous?: PreviousPlanDetail;
  warning?: string;
  /** Where the plan came from, for messages. */
  source?: 'label' | 'chunkah';
}

export async function readPreviousPlan(gw: Gateway, ref: string, platform: Platform, mode: string): Promise<PreviousResult> {
  let config: { config?: { Labels?: Record<string, string> }; history?: { created_by?: string; comment?: string; empty_layer?: boolean }[] };
  try {
    const res = await gw.resolveImageConfig(normalizeImageRef(ref), platform, mode, `[previous-build] resolve ${ref}`);
    config = JSON.parse(Buffer.from(res.config).toString('utf8'));
  } catch (e) {
    return { warning: `previous build '${ref}' cannot be read (${(e as Error).message.split('\n')[0]}); planning without it` };
  }
  const label = config.config?.Labels?.[PLAN_LABEL];
  try {
    if (label) return { previous: decodePlanLabel(label), source: 'label' };
    if (config.history?.some((h) => h.created_by === 'chunkah')) return { previous: previousFromChunkahHistory(config.history), source: 'chunkah' };
  } catch (e) {
    return { warning: `previous build '${ref}': its layer plan is unreadable (${(e as Error).message}); planning without it` };
  }
  return { warning: `previous build '${ref}' has no layer plan (no ${PLAN_LABEL} label, no chunkah history); planning without it` };
}
