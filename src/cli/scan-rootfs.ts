// `scan-rootfs DIR OUT`: what the frontend's exec scan runs inside BuildKit (see rootfs/exec-scan.ts).
import { writeFileSync } from 'node:fs';
import { encodeListing } from '../rootfs/listing.ts';
import { LocalRootfs } from '../rootfs/local.ts';
import { scanRootfs } from '../rootfs/scan.ts';

export async function scanRootfsCommand(args: string[]): Promise<number> {
  const [dir, out] = args;
  if (!dir || !out || args.length !== 2) {
    process.stderr.write('usage: compose-frontend scan-rootfs DIR OUT\n');
    return 2;
  }
  let data: Buffer;
  try {
    const scan = await scanRootfs(new LocalRootfs(dir, 'rootfs'), { concurrency: 16 });
    data = encodeListing({ entries: scan.entries, skipped: scan.skipped.map((e) => e.path), warnings: scan.warnings });
  } catch (e) {
    data = encodeListing({ entries: [], skipped: [], warnings: [], error: (e as Error).message });
  }
  writeFileSync(out, data);
  return 0;
}
