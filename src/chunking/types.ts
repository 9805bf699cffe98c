// Types shared by component sources, planners and layer writers.
import type { FsEntry } from '../rootfs/types.ts';

/** A set of paths that change together: a (source) package, an xattr-tagged group, a big file, … */
export interface Component {
  /** Stable, unique identifier, prefixed with its source: `rpm:bash`, `deb:libc6`, `xattr:foo`, `big:usr/lib/x`, `rest:etc`. */
  id: string;
  /** Paths (entries of the scan) owned by this component, sorted. */
  paths: string[];
  /** Sum of regular-file sizes in bytes. */
  size: number;
  /** Version string when known (EVR, dpkg version); used in history text and for change detection. */
  version?: string;
  /** Unix seconds of the component's most recent change (build time / changelog), when known. */
  changeTime?: number;
  /** How often it changes, from changelog history (changes per year, or a count); higher = less stable. */
  changeFrequency?: number;
}

export interface PlannedLayer {
  /** Stable name used in history and for matching against a previous plan. */
  name: string;
  /** Component ids in this layer, sorted. */
  components: string[];
  /** Every entry path in this layer (files, dirs, symlinks), sorted. */
  paths: string[];
  /** Sum of regular-file sizes. */
  size: number;
}

export interface LayerPlan {
  layers: PlannedLayer[];
}

/** What a previous build recorded: layer name → component ids (read back from our config label). */
export interface PreviousPlan {
  layers: { name: string; components: string[] }[];
  /** Component id → short fingerprint (version + file metadata) when recorded: tells what changed. */
  fingerprints?: Record<string, string>;
}

export interface PlanInput {
  entries: FsEntry[];
  components: Component[];
  maxLayers: number;
  previous?: PreviousPlan;
  /** Unix seconds (SOURCE_DATE_EPOCH); never the wall clock. */
  now: number;
}

/**
 * A planner is a pure, deterministic function. Contract: every entry path lands in exactly one
 * layer, members of a hard-link group (same `linkGroup`) land in the same layer, and there are at
 * most `maxLayers` layers (none empty).
 */
export type Planner = (input: PlanInput) => LayerPlan;
