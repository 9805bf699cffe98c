// The OCI image config we hand to the exporter: inherited fields of the rootfs image (if any), the
// spec's overrides, bootc labels, one history entry per layer saying what it holds, and the layer
// plan in a label so the next build can read it back. BuildKit fills rootfs.diff_ids itself.
import type { ConfigOverrides } from '../compose/spec.ts';
import type { LayerPlan } from '../chunking/types.ts';
import type { Platform } from '../frontend/options.ts';

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config: {
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export const PLAN_LABEL = 'dev.compose-frontend.plan';
export const BOOTC_LABELS: Record<string, string> = { 'containers.bootc': '1', 'ostree.bootable': 'true' };

export interface ConfigInput {
  platform: Platform;
  /** Config of the image the rootfs came from (image source, Containerfile stage), if any. */
  base?: Partial<ImageConfig>;
  overrides: ConfigOverrides;
  /** Spec labels, then `label:*` options (later wins). */
  labels: Record<string, string>;
  plan: LayerPlan;
  /** Encoded plan for PLAN_LABEL (bounded by the encoder). */
  planLabel?: string;
  epoch: number;
}

export function buildImageConfig(inp: ConfigInput): ImageConfig {
  const created = new Date(inp.epoch * 1000).toISOString().replace('.000Z', 'Z');
  const base = inp.base?.config ?? {};
  const o = inp.overrides;
  const env = o.env ? mergeEnv(base.Env ?? [], o.env) : base.Env;
  const config: ImageConfig['config'] = {
    ...pick(base, ['ExposedPorts', 'Volumes']),
    ...(env?.length ? { Env: env } : {}),
    ...((o.entrypoint ?? base.Entrypoint) ? { Entrypoint: o.entrypoint ?? base.Entrypoint } : {}),
    ...((o.cmd ?? base.Cmd) ? { Cmd: o.cmd ?? base.Cmd } : {}),
    ...((o.workdir ?? base.WorkingDir) ? { WorkingDir: o.workdir ?? base.WorkingDir } : {}),
    ...((o.user ?? base.User) ? { User: o.user ?? base.User } : {}),
    ...((o.stopSignal ?? base.StopSignal) ? { StopSignal: o.stopSignal ?? base.StopSignal } : {}),
    Labels: sortKeys({
      ...(base.Labels ?? {}),
      ...inp.labels,
      ...BOOTC_LABELS,
      ...(inp.planLabel ? { [PLAN_LABEL]: inp.planLabel } : {}),
    }),
  };
  const n = inp.plan.layers.length;
  return {
    architecture: inp.platform.architecture,
    os: inp.platform.os,
    ...(inp.platform.variant ? { variant: inp.platform.variant } : {}),
    created,
    config,
    rootfs: { type: 'layers', diff_ids: [] },
    history: inp.plan.layers.map((l, i) => ({
      created,
      created_by: `compose-frontend layer ${i + 1}/${n}: ${describeLayer(l.components, l.paths)}`,
      comment: l.name,
    })),
  };
}

/** A short, bounded description of a layer's contents for its history entry. */
export function describeLayer(components: string[], paths: string[]): string {
  if (components.length) {
    const shown = components.slice(0, 8).join(' ');
    return components.length > 8 ? `${shown} (+${components.length - 8} more)` : shown;
  }
  if (paths.length === 1) return paths[0];
  return `${paths.length} paths ${paths[0]} … ${paths[paths.length - 1]}`;
}

function mergeEnv(base: string[], add: Record<string, string>): string[] {
  const out = base.filter((kv) => !(kv.split('=')[0] in add));
  for (const k of Object.keys(add).sort()) out.push(`${k}=${add[k]}`);
  return out;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<T> {
  const r: Partial<T> = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}
