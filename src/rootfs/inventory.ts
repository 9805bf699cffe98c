// Scan + component detection over any RootfsView: what the planner needs, produced the same way
// inside BuildKit's exec scan (local disk) and through the gateway (ReadDir/ReadFile).
import { buildComponents } from '../chunking/components/index.ts';
import type { Listing } from './listing.ts';
import { scanRootfs } from './scan.ts';
import type { RootfsView } from './types.ts';

export async function inventory(view: RootfsView, concurrency: number): Promise<Listing> {
  const scan = await scanRootfs(view, { concurrency });
  const comps = await buildComponents(view, scan.entries, { concurrency });
  return {
    v: 1,
    entries: scan.entries,
    skipped: scan.skipped.map((e) => e.path),
    components: comps.components,
    warnings: [...scan.warnings, ...comps.warnings],
  };
}
