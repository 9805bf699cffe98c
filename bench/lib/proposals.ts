// Planner changes proposed by the update-size benchmark, evaluated without touching src/: each wraps
// the real planner (src/chunking/pack.ts) and changes only what it is given.
import { componentFingerprints } from '../../src/chunking/fingerprint.ts';
import type { Planner } from '../../src/chunking/types.ts';

/**
 * Refresh after a mass change: when the previous plan's clean layers (no member changed or left,
 * judged by the recorded fingerprints) hold less than `below` of the image bytes, plan as if there
 * were no previous build. Almost everything is downloaded anyway, and the sticky repack would work
 * from calibrated probabilities that say nothing (every component changed, so the calibrated update
 * interval hits its upper bound: p ≈ 1 for every component with history and 0 for the rest, and
 * the repack piles every component without history into one zero-cost layer).
 */
export function refreshAfterMassChange(planner: Planner, below: number): Planner {
  return (input) => {
    const prev = input.previous;
    if (!prev?.fingerprints || below <= 0) return planner(input);
    const fps = componentFingerprints(input.entries, input.components);
    const size = new Map(input.components.map((c) => [c.id, c.size]));
    let clean = 0;
    for (const l of prev.layers) {
      const ok = l.components.length > 0 && l.components.every((c) => size.has(c) && prev.fingerprints![c] !== undefined && prev.fingerprints![c] === fps.get(c));
      if (ok) for (const c of l.components) clean += size.get(c)!;
    }
    const total = input.components.reduce((s, c) => s + c.size, 0);
    return total > 0 && clean < below * total ? planner({ ...input, previous: undefined }) : planner(input);
  };
}
