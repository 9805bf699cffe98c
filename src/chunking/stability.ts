// How likely a component is to change before a client's next update, from its own metadata only
// (never from the rest of the population, so its tier cannot shift when other packages come or go).
import type { Component } from './types.ts';

export const SECONDS_PER_DAY = 86400;

/** A stability tier: components changing at least `minRate` times a year (and less than the next tier). */
export interface TierSpec {
  name: string;
  minRate: number;
  /** Weight of this tier in the split of the hash bins. */
  share: number;
}

/** Knobs of the packer. Defaults are tuned with bench/update-sim.ts; see DEFAULT_TUNING. */
export interface PackTuning {
  /** Update cadence assumed for change probabilities (days between the versions a client pulls). */
  intervalDays: number;
  /** Changes per year at or above which a component counts as changing on every update. */
  volatileRate: number;
  /** Non-volatile tiers, most stable first (the first has minRate 0). */
  tiers: TierSpec[];
  /** A component changed within this many days joins the last non-volatile tier (update bursts); 0 disables. */
  recentDays: number;
  /** Share of the layer budget reserved for hash bins (the volatile bin included) once components outnumber layers. */
  binFraction: number;
  /** Singleton ranking: plain size, or size weighted by the chance of staying unchanged. */
  value: 'size' | 'stable-size';
  /** Updates over which dissolving a clean layer is costed (its size now vs horizon × expected waste saved). */
  horizon: number;
  /** Extra chance of changing again soon for a component whose fingerprint just changed (follow-up fixes). */
  burst: number;
}

export const VOLATILE = 'volatile';

export const DEFAULT_TUNING: PackTuning = {
  intervalDays: 14,
  volatileRate: 120,
  tiers: [
    { name: 'cold', minRate: 0, share: 0.5 },
    { name: 'warm', minRate: 8, share: 0.3 },
    { name: 'hot', minRate: 24, share: 0.2 },
  ],
  recentDays: 0,
  binFraction: 0.25,
  value: 'size',
  horizon: 4,
  burst: 0,
};

export interface ChangeModel {
  /** Estimated changes per year (Infinity = every build). */
  rate: number;
  /** Probability of changing within one update interval. */
  p: number;
  /** Tier name (a TierSpec name or VOLATILE). */
  tier: string;
  /** Tier index, most stable first; VOLATILE ranks last. */
  rank: number;
}

/** The model of a component; `undefined` stands for content nobody claims (changes with every package set). */
export function changeModel(c: Component | undefined, now: number, t: PackTuning): ChangeModel {
  const rate = c === undefined ? Infinity : estimateRate(c, now, t);
  let rank = t.tiers.length;
  if (rate < t.volatileRate) {
    rank = 0;
    while (rank + 1 < t.tiers.length && rate >= t.tiers[rank + 1].minRate) rank++;
    if (c?.changeTime !== undefined && t.recentDays > 0 && (now - c.changeTime) / SECONDS_PER_DAY < t.recentDays) {
      rank = t.tiers.length - 1;
    }
  }
  const p = rate === Infinity ? 1 : 1 - Math.exp((-rate * t.intervalDays) / 365);
  return { rate, p, tier: rank === t.tiers.length ? VOLATILE : t.tiers[rank].name, rank };
}

/** Changes per year: the changelog count when known, else one change per age, else a middling default. */
function estimateRate(c: Component, now: number, t: PackTuning): number {
  if (c.changeFrequency !== undefined) return c.changeFrequency;
  if (c.changeTime !== undefined) {
    const ageDays = Math.max(0, (now - c.changeTime) / SECONDS_PER_DAY);
    return 365 / Math.max(ageDays, t.intervalDays);
  }
  const mid = t.tiers[Math.floor(t.tiers.length / 2)];
  return mid.minRate;
}
