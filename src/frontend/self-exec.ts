// Running this very program inside BuildKit: the frontend image is mounted as a definition at
// frontend.bin, so an ExecOp can start from it with the same paths. The exec scan uses it to list the
// rootfs; previous-build uses it to read a manifest the gateway API does not expose.
import { existsSync, readFileSync } from 'node:fs';
import { Definition } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';
import * as llb from '../llb/index.ts';
import { GatewayRootfs } from '../rootfs/gateway.ts';
import type { Gateway } from './gateway.ts';
import type { Platform } from './options.ts';

export const FRONTEND_DEFINITION = '/run/config/buildkit/metadata/frontend.bin';

export interface SelfExec {
  /** Arguments after the program, e.g. ['scan-rootfs', '/rootfs', '/out/x']. */
  args: readonly string[];
  network: 'none' | 'sandbox';
  /** Mounts besides the output directory /out. */
  mounts?: readonly llb.MountSpec[];
  name: string;
  platform: Platform;
  ignoreCache: boolean;
  definitionPath?: string;
}

/** Whether our own image is available to run (BuildKit ≥ 0.10 mounts frontend.bin). */
export function selfExecAvailable(gw: Gateway, definitionPath = FRONTEND_DEFINITION): boolean {
  return existsSync(definitionPath) && gw.llbHas('exec.mount.bind') && gw.llbHas('exec.mount.selector');
}

/** Runs the program in an ExecOp and returns a reader of its /out directory. */
export async function selfExec(gw: Gateway, x: SelfExec): Promise<GatewayRootfs> {
  const self = llb.fromDefinition(Definition.decode(readFileSync(x.definitionPath ?? FRONTEND_DEFINITION)));
  const run = self.run({
    args: [process.execPath, process.argv[1]!, ...x.args],
    network: x.network,
    mounts: [...(x.mounts ?? []), { dest: '/out', output: true }],
  }, { customName: x.name, ignoreCache: x.ignoreCache });
  const def = llb.marshal(run.mount('/out'), { platform: x.platform });
  const ref = (await gw.solve({ definition: def, evaluate: true })).ref;
  return new GatewayRootfs(gw, ref, '', x.name);
}
