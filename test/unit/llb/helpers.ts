// Test helpers: decode marshaled LLB with the generated types.
import { Definition, Op } from '../../../src/gen/github.com/moby/buildkit/solver/pb/ops.ts';
import { digestOf, marshal, type LlbPlatform, type MarshalOptions, type State } from '../../../src/llb/index.ts';

export const AMD64: LlbPlatform = { os: 'linux', architecture: 'amd64' };
export const ARM64: LlbPlatform = { os: 'linux', architecture: 'arm64' };

export interface Decoded {
  def: Definition;
  /** Ops in definition order, terminal last, decoded from the exact bytes. */
  ops: { digest: string; op: Op; bytes: Uint8Array }[];
  byDigest: Map<string, Op>;
  terminal: Op;
  /** The op the terminal points at. */
  head: Op;
}

/** Marshals, round-trips the Definition through its wire bytes, decodes every op. */
export function build(state: State, opts: MarshalOptions = { platform: AMD64 }): Decoded {
  const def = Definition.decode(Definition.encode(marshal(state, opts)).finish());
  const ops = def.def.map((bytes) => ({ digest: digestOf(bytes), op: Op.decode(bytes), bytes }));
  const byDigest = new Map(ops.map((o) => [o.digest, o.op]));
  const terminal = ops.at(-1)!.op;
  const head = byDigest.get(terminal.inputs[0]!.digest)!;
  return { def, ops, byDigest, terminal, head };
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
