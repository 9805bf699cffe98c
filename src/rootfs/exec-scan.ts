// Scanning inside BuildKit: one ExecOp runs this very program (our own image, frontend/self-exec.ts)
// over the rootfs and writes a listing that we read back. Unlike per-directory ReadDir it sees inode
// numbers, so hard links across directories are found, and its result is cached by BuildKit: an
// unchanged rootfs is not walked again.
import type { Gateway } from '../frontend/gateway.ts';
import type { Platform } from '../frontend/options.ts';
import { readResult, selfExec, selfExecAvailable } from '../frontend/self-exec.ts';
import type * as llb from '../llb/index.ts';
import { decodeListing, type Listing } from './listing.ts';

const LISTING = '/tmp/compose-frontend-listing.json';

/** The exec scan needs our own image (frontend.bin, BuildKit ≥ 0.10) and bind mounts. */
export const execScanAvailable = (gw: Gateway, definitionPath?: string): boolean => selfExecAvailable(gw, definitionPath);

export async function execScan(
  gw: Gateway,
  rootfs: { state: llb.State; prefix: string },
  opts: { platform: Platform; ignoreCache: boolean; definitionPath?: string },
): Promise<Listing> {
  const root = await selfExec(gw, {
    args: ['scan-rootfs', '/rootfs', LISTING],
    network: 'none',
    mounts: [{ dest: '/rootfs', state: rootfs.state, selector: rootfs.prefix ? `/${rootfs.prefix}` : undefined, readonly: true }],
    name: '[scan] list the root filesystem',
    platform: opts.platform,
    ignoreCache: opts.ignoreCache,
    ...(opts.definitionPath ? { definitionPath: opts.definitionPath } : {}),
  });
  return decodeListing(await readResult(root, LISTING));
}
