// --previous-build REF: the layer plan of an earlier image, from an OCI layout or a registry. Our own
// images carry the plan label; images chunked by rpm-ostree/bootc carry `ostree.components` layer
// annotations; chunkah images name components in their history.
import { stat } from 'node:fs/promises';
import { decodePlanLabel } from '../chunking/plan-label.ts';
import { OSTREE_COMPONENTS_ANNOTATION, previousFromChunkahHistory, previousFromOstreeLayers } from '../chunking/plan-foreign.ts';
import type { PreviousPlan } from '../chunking/types.ts';
import { PLAN_LABEL } from '../image/config.ts';
import { RegistryClient } from '../registry/client.ts';
import type { RetryPolicy } from '../registry/retry.ts';
import { parseReference } from '../registry/ref.ts';
import { readLayoutImage } from './layout.ts';

interface ImageView {
  labels: Record<string, string>;
  layers: { annotations?: Record<string, string> }[];
  history: { created_by?: string; comment?: string; empty_layer?: boolean }[];
}

/** The plan an image records, or an error saying why it has none. */
export function planOfImage(img: ImageView, where: string): PreviousPlan {
  const label = img.labels[PLAN_LABEL];
  try {
    if (label !== undefined) return decodePlanLabel(label);
    if (img.layers.slice(1).some((l) => l.annotations?.[OSTREE_COMPONENTS_ANNOTATION] !== undefined)) {
      return previousFromOstreeLayers(img.layers);
    }
    if (img.history.some((h) => h.created_by === 'chunkah')) return previousFromChunkahHistory(img.history);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  throw new Error(`${where}: has no layer plan (no '${PLAN_LABEL}' label, no '${OSTREE_COMPONENTS_ANNOTATION}' layer annotations, no chunkah history)`);
}

/**
 * Reads the previous build named by `ref`: `oci:DIR[:TAG]`, a plain directory path, or
 * `docker://REF` (also a bare registry reference such as `quay.io/x/y:tag`).
 */
export async function readPreviousPlan(
  ref: string, opts: { authfile?: string; retry?: Partial<RetryPolicy> } = {}, flag = '--previous-build',
): Promise<PreviousPlan> {
  const where = `${flag} '${ref}'`;
  let layoutDir: string | undefined;
  let tag: string | undefined;
  if (ref.startsWith('oci:')) {
    const rest = ref.slice(4);
    const sep = rest.indexOf(':');
    layoutDir = sep < 0 ? rest : rest.slice(0, sep);
    tag = sep < 0 ? undefined : rest.slice(sep + 1);
  } else if (!ref.startsWith('docker://') && (await stat(ref).then((s) => s.isDirectory(), () => false))) {
    layoutDir = ref;
  }
  if (layoutDir !== undefined) {
    let img;
    try {
      img = await readLayoutImage(layoutDir, tag);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    return planOfImage({
      labels: img.config.config?.Labels ?? {}, layers: img.manifest.layers, history: img.config.history ?? [],
    }, where);
  }
  let parsed;
  try {
    parsed = parseReference(ref);
  } catch (err) {
    throw new Error(`${where}: not an OCI layout directory, and ${(err as Error).message}`);
  }
  const client = new RegistryClient({ authfile: opts.authfile, retry: opts.retry });
  try {
    const img = await client.getImage(parsed);
    const config = img.config.json as { config?: { Labels?: Record<string, string> }; history?: ImageView['history'] };
    const layers = (img.manifest.json.layers ?? []) as ImageView['layers'];
    return planOfImage({ labels: config.config?.Labels ?? {}, layers, history: config.history ?? [] }, where);
  } catch (err) {
    if ((err as Error).message.startsWith(where)) throw err;
    throw new Error(`${where}: ${(err as Error).message}`);
  } finally {
    await client.close();
  }
}
