// `scan-rootfs DIR OUT`: what the frontend's exec scan runs inside BuildKit (see rootfs/exec-scan.ts).
import { writeFileSync } from 'node:fs';
import { inventory } from '../rootfs/inventory.ts';
import { encodeListing } from '../rootfs/listing.ts';
import { LocalRootfs } from '../rootfs/local.ts';

export async function scanRootfsCommand(args: string[]): Promise<number> {
  const [dir, out] = args;
  if (!dir || !out || args.length !== 2) {
    process.stderr.write('usage: compose-frontend scan-rootfs DIR OUT\n');
    return 2;
  }
  let data: Buffer;
  try {
    data = encodeListing(await inventory(new LocalRootfs(dir, 'rootfs'), 16));
  } catch (e) {
    data = encodeListing({ entries: [], skipped: [], components: [], warnings: [], error: (e as Error).message });
  }
  writeFileSync(out, data);
  return 0;
}
