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
/**
 * Written into the ExecOp's own root (our image), whose output we read: an extra output mount would
 * cost BuildKit one more snapshot to create, mount and commit (the root's is committed anyway).
 */
const LISTING = '/tmp/compose-frontend-listing.json';

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
    args: [process.execPath, process.argv[1], 'scan-rootfs', '/rootfs', LISTING],
    network: 'none',
    mounts: [
      { dest: '/rootfs', state: rootfs.state, selector: rootfs.prefix ? `/${rootfs.prefix}` : undefined, readonly: true },
    ],
  }, { customName: '[scan] list the root filesystem', ignoreCache: opts.ignoreCache });
  const def = llb.marshal(run.root, { platform: opts.platform });
  const ref = (await gw.solve({ definition: def, evaluate: true })).ref;
  // A range to the end: read until a short read, without a stat round trip first.
  const view = new GatewayRootfs(gw, ref, '', 'rootfs listing');
  return decodeListing(await view.readFile(LISTING.slice(1), { offset: 0, length: Number.MAX_SAFE_INTEGER }));
}
