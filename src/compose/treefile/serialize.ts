// The merged treefile as upstream serializes it (`compose tree --print-only`, and the
// file /usr/share/rpm-ostree/treefile.json in the target): keys in upstream's order,
// `variables`/`repovars`/`conditional-include` left out, nested maps with sorted keys.

import { KEYS } from './keys.ts';
import { compareBytes } from './packages.ts';
import type { Treefile } from './types.ts';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort(compareBytes).map((k) => [k, canonical(o[k])]));
  }
  return v;
}

export function treefileForJson(tf: Treefile): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rec = tf as Record<string, unknown>;
  for (const [key, info] of KEYS) {
    if (info.noSerialize || rec[key] === undefined) continue;
    out[key] = key === 'metadata' || key === 'add-commit-metadata' || key === 'check-passwd' || key === 'check-groups' ? canonical(rec[key]) : rec[key];
  }
  return out;
}

/** Pretty form, as written into the target tree. */
export function serializeTreefile(tf: Treefile): string {
  return `${JSON.stringify(treefileForJson(tf), null, 2)}\n`;
}

/**
 * Compact form used for the input hash: like upstream, `ostree-layers` (names; their content
 * is hashed separately) and `metadata` are left out.
 */
export function treefileHashJson(tf: Treefile): string {
  const o = treefileForJson(tf);
  delete o['ostree-layers'];
  delete o.metadata;
  return JSON.stringify(o);
}
