// The working form of a treefile during include processing: every value keeps the origin
// (file and line) it was declared at, and merging follows the per-key rules of spec §3.3.

import type { Origin } from './errors.ts';
import { KEYS } from './keys.ts';
import { compareBytes } from './packages.ts';
import type { ExternalFile, KeyOrigins, Treefile } from './types.ts';

export interface Located<T = unknown> {
  value: T;
  origin: Origin;
}

export interface Layer {
  scalars: Map<string, Located>;
  arrays: Map<string, Located[]>;
  sets: Map<string, Map<string, Origin>>;
  maps: Map<string, Map<string, Located>>;
}

export function emptyLayer(): Layer {
  return { scalars: new Map(), arrays: new Map(), sets: new Map(), maps: new Map() };
}

/** Externals by name while merging (add-files and finalize.d are keyed by name). */
export interface LayerExternals {
  postprocessScript?: ExternalFile;
  addFiles: Map<string, ExternalFile>;
  passwd?: ExternalFile;
  group?: ExternalFile;
  finalizeD: Map<string, ExternalFile>;
}

export function emptyExternals(): LayerExternals {
  return { addFiles: new Map(), finalizeD: new Map() };
}

/**
 * After a merge, a package named in several repo-packages entries keeps only its last
 * occurrence (the includer's), and entries left empty disappear.
 */
function dedupeByPackage(entries: Located[] | undefined): Located[] | undefined {
  if (!entries) return entries;
  const seen = new Set<string>();
  const out: Located[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    const v = e.value as { packages: string[] };
    const kept = v.packages.filter((p) => !seen.has(p) && (seen.add(p), true));
    if (kept.length > 0) out.push({ value: { ...v, packages: kept }, origin: e.origin });
  }
  return out.reverse();
}

/** Merge `src` (the included config) into `dest` (the includer). */
export function mergeLayers(dest: Layer, src: Layer): void {
  for (const [k, v] of src.scalars) {
    if (KEYS.get(k)?.merge === 'scalar' && !dest.scalars.has(k)) dest.scalars.set(k, v);
  }
  for (const [k, arr] of src.arrays) {
    dest.arrays.set(k, [...arr, ...(dest.arrays.get(k) ?? [])]);
  }
  for (const [k, set] of src.sets) {
    const d = dest.sets.get(k) ?? new Map<string, Origin>();
    for (const [item, o] of set) if (!d.has(item)) d.set(item, o);
    dest.sets.set(k, d);
  }
  for (const [k, map] of src.maps) {
    const merged = new Map(map);
    for (const [kk, vv] of dest.maps.get(k) ?? []) merged.set(kk, vv);
    dest.maps.set(k, merged);
  }
  for (const k of ['repo-packages', 'ex-override-replace']) {
    const d = dedupeByPackage(dest.arrays.get(k));
    if (d) dest.arrays.set(k, d);
  }
}

export function mergeExternals(dest: LayerExternals, src: LayerExternals): void {
  dest.postprocessScript ??= src.postprocessScript;
  for (const [n, f] of src.addFiles) dest.addFiles.set(n, f);
  dest.passwd ??= src.passwd;
  dest.group ??= src.group;
  for (const [n, f] of src.finalizeD) dest.finalizeD.set(n, f);
}

function sortedKeys<T>(m: Map<string, T>): string[] {
  return [...m.keys()].sort(compareBytes);
}

/** Flatten a merged layer into the plain treefile object plus per-key origins. */
export function layerToTreefile(layer: Layer): { treefile: Treefile; origins: Record<string, KeyOrigins> } {
  const tf: Record<string, unknown> = {};
  const origins: Record<string, KeyOrigins> = {};
  for (const key of KEYS.keys()) {
    const s = layer.scalars.get(key);
    if (s) {
      tf[key] = s.value;
      origins[key] = s.origin;
      continue;
    }
    const a = layer.arrays.get(key);
    if (a) {
      tf[key] = a.map((e) => e.value);
      origins[key] = a.map((e) => e.origin);
      continue;
    }
    const set = layer.sets.get(key);
    if (set) {
      const items = sortedKeys(set);
      tf[key] = items;
      origins[key] = Object.fromEntries(items.map((i) => [i, set.get(i)!]));
      continue;
    }
    const map = layer.maps.get(key);
    if (map) {
      const keys = sortedKeys(map);
      tf[key] = Object.fromEntries(keys.map((k) => [k, map.get(k)!.value]));
      origins[key] = Object.fromEntries(keys.map((k) => [k, map.get(k)!.origin]));
    }
  }
  return { treefile: tf as Treefile, origins };
}
