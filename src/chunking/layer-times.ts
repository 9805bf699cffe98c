// File time of every file in a layer. A layer's bytes must change only when its content does, or a
// client downloads it again for nothing. So the time is derived from the layer's members only: the
// newest change time of its components (a package's build / changelog time, which moves only with
// its version), clamped to SOURCE_DATE_EPOCH. A layer none of whose components has a change time
// (unpackaged content, big unclaimed files) gets 0, not the epoch: the epoch moves with every build
// and would make such a layer (an initramfs, say) a new download each time though nothing in it
// changed (measured in bench/update-size.ts: 32 MiB of a 39 MiB userland update on Debian).
import type { Component, LayerPlan } from './types.ts';

export function layerTimes(plan: LayerPlan, components: Component[], epoch: number): number[] {
  const changed = new Map(components.map((c) => [c.id, c.changeTime]));
  return plan.layers.map((l) => {
    let newest = 0;
    for (const id of l.components) {
      const t = changed.get(id);
      if (t !== undefined && t > newest) newest = t;
    }
    return Math.min(epoch, newest);
  });
}
