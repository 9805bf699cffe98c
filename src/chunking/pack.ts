// The package-aware, history-aware planner. Pure: the output depends only on the input (never on its
// order, the wall clock or map iteration order). Steps: resolve who owns each path (units.ts), model
// each component's change rate (stability.ts), build the fresh plan (fresh.ts), and when a previous
// plan is given reconcile with it (sticky.ts), or after a mass change keep its clean layers and plan
// the rest fresh (refresh.ts).
import { componentFingerprints } from './fingerprint.ts';
import { freshAssign, layerOrder, type FreshChoice, type PackUnit } from './fresh.ts';
import { cmp } from './simple.ts';
import { changeModel, DEFAULT_TUNING, type PackTuning } from './stability.ts';
import { cleanLayers, isMassChange, refreshPlan } from './refresh.ts';
import { reconcile, type PreviousPlanDetail } from './sticky.ts';
import type { LayerPlan, PlanInput, PlannedLayer, Planner } from './types.ts';
import { byteCompare, resolveUnits, type Unit } from './units.ts';

export const MAX_LAYERS_LIMIT = 500;

export function makePackPlanner(tuning: PackTuning = DEFAULT_TUNING): Planner {
  return (input) => plan(input, tuning);
}

export const packPlanner: Planner = makePackPlanner();

function plan(input: PlanInput, t: PackTuning): LayerPlan {
  validate(input);
  const units = resolveUnits(input.entries, input.components);
  if (units.length === 0) return { layers: [] };
  const packUnits: PackUnit[] = units.map((u) => ({ id: u.id, size: u.size, model: changeModel(u.component, input.now, t) }));
  const fresh = freshAssign(packUnits, input.maxLayers, t);

  let layerOf: Map<string, string>;
  let order: string[];

  const previous = input.previous as PreviousPlanDetail | undefined;
  const fps = previous?.fingerprints ? componentFingerprints(input.entries, input.components) : undefined;
  const clean = previous ? cleanLayers(packUnits, previous, fps) : [];
  if (previous && previous.layers.length > 0 && fps && isMassChange(packUnits, clean, t)) {
    ({ layerOf, order } = refreshPlan(packUnits, clean, input.maxLayers, t));
  } else if (previous && previous.layers.length > 0) {
    ({ layerOf, order } = reconcile(packUnits, fresh, previous, input.maxLayers, fps, t));
  } else {
    ({ layerOf, order } = fromFresh(fresh));
  }
  return assemble(units, layerOf, order);
}

function fromFresh(fresh: Map<string, FreshChoice>) {
  const layerOf = new Map<string, string>();
  const rankOf = new Map<string, number>();
  for (const [id, f] of fresh) {
    layerOf.set(id, f.layer);
    rankOf.set(f.layer, f.rank);
  }
  const order = [...rankOf.entries()].map(([name, rank]) => ({ name, rank })).sort(layerOrder).map((l) => l.name);
  return { layerOf, order };
}

function assemble(units: Unit[], layerOf: Map<string, string>, order: string[]): LayerPlan {
  const byName = new Map<string, PlannedLayer>(order.map((name) => [name, { name, components: [], paths: [], size: 0 }]));
  for (const u of units) {
    const l = byName.get(layerOf.get(u.id)!)!;
    l.components.push(u.id);
    for (const p of u.paths) l.paths.push(p);
    l.size += u.size;
  }
  const layers = order.map((n) => byName.get(n)!).filter((l) => l.paths.length > 0);
  for (const l of layers) {
    l.components.sort(byteCompare);
    l.paths.sort(cmp);
  }
  return { layers };
}

function validate(input: PlanInput): void {
  const k = input.maxLayers;
  if (!Number.isInteger(k) || k < 1 || k > MAX_LAYERS_LIMIT) {
    throw new Error(`planner: maxLayers must be an integer from 1 to ${MAX_LAYERS_LIMIT}, got ${k}`);
  }
  if (!Number.isFinite(input.now)) throw new Error(`planner: now must be a finite number of seconds (SOURCE_DATE_EPOCH), got ${input.now}`);
  for (const c of input.components) {
    const f = c.changeFrequency;
    if (f !== undefined && (Number.isNaN(f) || f < 0)) {
      throw new Error(`planner: component '${c.id}': changeFrequency must be a number ≥ 0 (Infinity = every build), got ${f}`);
    }
    if (c.changeTime !== undefined && !Number.isFinite(c.changeTime)) {
      throw new Error(`planner: component '${c.id}': changeTime must be finite Unix seconds, got ${c.changeTime}`);
    }
  }
  if (input.previous) {
    for (const l of input.previous.layers) {
      if (typeof l.name !== 'string' || l.name === '') throw new Error('planner: previous plan has a layer without a name');
    }
  }
}
