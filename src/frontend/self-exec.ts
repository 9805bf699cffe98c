// Running this very program inside BuildKit: BuildKit (≥ 0.10) mounts the frontend image's definition
// at frontend.bin, so an ExecOp can start from our own image with the same paths. The exec scan lists
// the rootfs with it, previous-build reads a manifest the gateway API does not expose, and treefile
// builds normalize the rpmdb.
import { existsSync, readFileSync } from 'node:fs';
import { Definition } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import * as llb from '../llb/index.ts';
import { GatewayRootfs } from '../rootfs/gateway.ts';
import type { Gateway } from './gateway.ts';
import type { Platform } from './options.ts';

export const FRONTEND_DEFINITION = '/run/config/buildkit/metadata/frontend.bin';

/** Our own image as an LLB state, and the argv prefix that starts this program inside it. */
export interface SelfImage {
  state: llb.State;
  argv: string[];
}

export function selfImage(definitionPath = FRONTEND_DEFINITION): SelfImage | undefined {
  if (!existsSync(definitionPath) || process.argv[1] === undefined) return undefined;
  return { state: llb.fromDefinition(Definition.decode(readFileSync(definitionPath))), argv: [process.execPath, process.argv[1]] };
}

/** Whether our own image can run with bind mounts here. */
export function selfExecAvailable(gw: Gateway, definitionPath = FRONTEND_DEFINITION): boolean {
  return existsSync(definitionPath) && gw.llbHas('exec.mount.bind') && gw.llbHas('exec.mount.selector');
}

export interface SelfExec {
  /** Arguments after the program, e.g. ['scan-rootfs', '/rootfs', OUT]. */
  args: readonly string[];
  network: 'none' | 'sandbox';
  mounts?: readonly llb.MountSpec[];
  name: string;
  platform: Platform;
  ignoreCache: boolean;
  definitionPath?: string;
}

/**
 * Runs the program in an ExecOp and returns a view of the ExecOp's root afterwards: results are
 * written into the root (our image) rather than an extra output mount, which would cost BuildKit one
 * more snapshot to create, mount and commit (the root's is committed anyway).
 */
export async function selfExec(gw: Gateway, x: SelfExec): Promise<GatewayRootfs> {
  const self = selfImage(x.definitionPath);
  if (self === undefined) throw new Error(`${x.name}: this frontend's own image is not available (${x.definitionPath ?? FRONTEND_DEFINITION})`);
  const run = self.state.run({ args: [...self.argv, ...x.args], network: x.network, mounts: x.mounts ?? [] }, { customName: x.name, ignoreCache: x.ignoreCache });
  const ref = (await gw.solve({ definition: llb.marshal(run.root, { platform: x.platform }), evaluate: true })).ref;
  return new GatewayRootfs(gw, ref, '', x.name);
}

/** A whole file written by selfExec: one ranged read to the end, without a stat round trip first. */
export function readResult(view: GatewayRootfs, absPath: string): Promise<Uint8Array> {
  return view.readFile(absPath.replace(/^\/+/, ''), { offset: 0, length: Number.MAX_SAFE_INTEGER });
}
