// Scanning inside BuildKit: one ExecOp runs this very program (the frontend image, which BuildKit
// mounts as a definition at frontend.bin) over the rootfs and writes a listing that we read back.
// Unlike per-directory ReadDir it sees inode numbers, so hard links across directories are found,
// and its result is cached by BuildKit: an unchanged rootfs is not walked again.
import { existsSync, readFileSync } from 'node:fs';
import type { Gateway } from '../frontend/gateway.ts';
import type { Platform } from '../frontend/options.ts';
import { Definition } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import * as llb from '../llb/index.ts';
import { GatewayRootfs } from './gateway.ts';
import { decodeListing, type Listing } from './listing.ts';

export const FRONTEND_DEFINITION = '/run/config/buildkit/metadata/frontend.bin';
const LISTING = 'listing.json.gz';

/** The exec scan needs our own image (frontend.bin, BuildKit ≥ 0.10) and bind mounts. */
export function execScanAvailable(gw: Gateway, definitionPath = FRONTEND_DEFINITION): boolean {
  return existsSync(definitionPath) && gw.llbHas('exec.mount.bind') && gw.llbHas('exec.mount.selector');
}

export async function execScan(
  gw: Gateway,
  rootfs: { state: llb.State; prefix: string },
  opts: { platform: Platform; ignoreCache: boolean; definitionPath?: string },
): Promise<Listing> {
  const self = llb.fromDefinition(Definition.decode(readFileSync(opts.definitionPath ?? FRONTEND_DEFINITION)));
  const run = self.run({
    // Same paths inside the ExecOp: its root is the image this process runs from.
    args: [process.execPath, process.argv[1], 'scan-rootfs', '/rootfs', `/out/${LISTING}`],
    network: 'none',
    mounts: [
      { dest: '/rootfs', state: rootfs.state, selector: rootfs.prefix ? `/${rootfs.prefix}` : undefined, readonly: true },
      { dest: '/out', output: true },
    ],
  }, { customName: '[scan] list the root filesystem', ignoreCache: opts.ignoreCache });
  const def = llb.marshal(run.mount('/out'), { platform: opts.platform });
  const ref = (await gw.solve({ definition: def, evaluate: true })).ref;
  return decodeListing(await new GatewayRootfs(gw, ref, '', 'rootfs listing').readFile(LISTING));
}
