// Our plan label: what the next build needs to stay close to this one, small enough for a config
// label. Format (JSON, no whitespace):
//   {"v":1,"l":[[NAME, [COMPONENT_ID, …], FINGERPRINTS], …]}
// one entry per layer in layer order; FINGERPRINTS concatenates the 8-hex-digit fingerprint of each
// listed component in list order (fingerprint.ts). An entry may be shortened to [NAME, IDS] (no
// fingerprints known) or [NAME] (list dropped to fit the bound: the next build assumes the layer
// still holds what its fresh plan puts there). Encoded text never exceeds the limit (64 KiB by
// default): fingerprints and lists of the layers with the longest encodings are dropped first, then,
// if names alone are too long, whole entries with the longest names.
//
// Room for a later delta mode (previous layers kept as they are, one layer of the changed files plus
// whiteouts on top, repacked now and then): an entry may carry a fourth element, an object of layer
// attributes, with FINGERPRINTS written as "" or null when unknown: [NAME, IDS, FPS, {"kind": K, …}].
// This build writes none; it reads kind "components" (or no kind) as an ordinary layer and refuses
// any other kind with a clear error, so the caller drops the previous plan (a warning) instead of
// mistaking a delta layer for a set of whole components. Unknown top-level keys are ignored.
import { FINGERPRINT_HEX } from './fingerprint.ts';
import type { PreviousPlanDetail } from './sticky.ts';
import type { LayerPlan } from './types.ts';

export const PLAN_LABEL_LIMIT = 64 * 1024;
/** Decoding refuses anything larger than this, whatever wrote it. */
const DECODE_LIMIT = 1024 * 1024;

type Entry = [string] | [string, string[]] | [string, string[], string];

/** Layer kinds this build understands in the optional attribute object of an entry. */
const KNOWN_KINDS = new Set(['components']);

export function encodePlanLabel(plan: LayerPlan, fingerprints?: Map<string, string>, limit = PLAN_LABEL_LIMIT): string {
  const entries: Entry[] = plan.layers.map((l) => {
    const fps = fingerprints ? l.components.map((c) => fingerprints.get(c)) : [];
    const complete = fingerprints !== undefined && fps.every((f) => f !== undefined && f.length === FINGERPRINT_HEX);
    return complete ? [l.name, l.components, fps.join('')] : [l.name, l.components];
  });
  const text = () => JSON.stringify({ v: 1, l: entries });
  let out = text();
  if (byteLength(out) <= limit) return out;

  // Shorten the entries whose encodings are longest; recompute the total from per-entry deltas.
  let total = byteLength(out);
  const len = (e: Entry) => byteLength(JSON.stringify(e));
  const cuts = entries
    .map((e, i) => ({ i, n: len(e) }))
    .filter((x) => entries[x.i].length > 1)
    .sort((a, b) => b.n - a.n || (entries[a.i][0] < entries[b.i][0] ? -1 : 1));
  for (const { i } of cuts) {
    if (total <= limit) break;
    const before = len(entries[i]);
    entries[i] = [entries[i][0]];
    total -= before - len(entries[i]);
  }
  if (total > limit) {
    const byName = entries.map((e, i) => ({ i, n: len(e) })).sort((a, b) => b.n - a.n || a.i - b.i);
    const gone = new Set<number>();
    for (const { i, n } of byName) {
      if (total <= limit) break;
      gone.add(i);
      total -= n + 1; // the entry and its comma
    }
    const kept = entries.filter((_, i) => !gone.has(i));
    entries.length = 0;
    entries.push(...kept);
  }
  out = text();
  return out;
}

/** Parses our label; errors say what is wrong and where ("plan label: layer 'x': …"). */
export function decodePlanLabel(text: string): PreviousPlanDetail {
  if (byteLength(text) > DECODE_LIMIT) throw new Error(`plan label: ${byteLength(text)} bytes, more than the ${DECODE_LIMIT} accepted`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`plan label: not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('plan label: expected a JSON object {"v":1,"l":[…]}');
  const v = (doc as Record<string, unknown>).v;
  if (v !== 1) throw new Error(`plan label: unsupported version ${JSON.stringify(v)} (this build reads version 1)`);
  const l = (doc as Record<string, unknown>).l;
  if (!Array.isArray(l)) throw new Error('plan label: "l" must be an array of layers');

  const layers: { name: string; components: string[] }[] = [];
  const fingerprints: Record<string, string> = {};
  let anyFp = false;
  const names = new Set<string>();
  const owner = new Map<string, string>();
  l.forEach((e, i) => {
    if (!Array.isArray(e) || e.length < 1 || e.length > 4) throw new Error(`plan label: layer #${i + 1}: expected [name, components?, fingerprints?, attributes?]`);
    const [name, ids, rawFps, attrs] = e as unknown[];
    if (typeof name !== 'string' || name === '') throw new Error(`plan label: layer #${i + 1}: name must be a non-empty string`);
    if (names.has(name)) throw new Error(`plan label: layer '${name}' appears twice`);
    if (attrs !== undefined) {
      if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) throw new Error(`plan label: layer '${name}': attributes must be a JSON object`);
      const kind = (attrs as Record<string, unknown>).kind;
      if (kind !== undefined && (typeof kind !== 'string' || !KNOWN_KINDS.has(kind))) {
        throw new Error(`plan label: layer '${name}': kind ${JSON.stringify(kind)} is not supported by this build (known: ${[...KNOWN_KINDS].join(', ')})`);
      }
    }
    // With attributes present, unknown fingerprints are written as "" (no components) or null.
    const fps = attrs !== undefined && (rawFps === null || rawFps === '') ? undefined : rawFps;
    names.add(name);
    if (ids !== undefined && (!Array.isArray(ids) || ids.some((c) => typeof c !== 'string' || c === ''))) {
      throw new Error(`plan label: layer '${name}': components must be an array of non-empty strings`);
    }
    const list = (ids as string[] | undefined) ?? [];
    for (const c of list) {
      const other = owner.get(c);
      if (other !== undefined) throw new Error(`plan label: component '${c}' is in layers '${other}' and '${name}'`);
      owner.set(c, name);
    }
    if (fps !== undefined) {
      if (typeof fps !== 'string' || fps.length !== list.length * FINGERPRINT_HEX || !/^[0-9a-f]*$/.test(fps)) {
        throw new Error(`plan label: layer '${name}': fingerprints must be ${list.length} × ${FINGERPRINT_HEX} lowercase hex digits`);
      }
      list.forEach((c, k) => (fingerprints[c] = fps.slice(k * FINGERPRINT_HEX, (k + 1) * FINGERPRINT_HEX)));
      anyFp = true;
    }
    layers.push({ name, components: [...list] });
  });
  return anyFp ? { layers, fingerprints } : { layers };
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
