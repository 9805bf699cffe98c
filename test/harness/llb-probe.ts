// A hand-encoded LLB definition (independent of src/llb) that merges two local sources with MergeOp,
// to prove a BuildKit executes MergeOp. Field numbers: moby/buildkit solver/pb/ops.proto.
import { createHash } from 'node:crypto';

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}
const field = (num: number, bytes: Uint8Array | number[]): number[] => [(num << 3) | 2, ...varint(bytes.length), ...bytes];
// proto3: zero scalars are omitted, as Go's marshaler does (canonical bytes, stable digests).
const intField = (num: number, n: number): number[] => (n === 0 ? [] : [(num << 3) | 0, ...varint(n)]);
const str = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/** Input { digest = 1; index = 2 } */
const input = (digest: string, index: number): number[] => [...field(1, str(digest)), ...intField(2, index)];

function digestOf(op: number[]): string {
  return `sha256:${createHash('sha256').update(Uint8Array.from(op)).digest('hex')}`;
}

/** Definition bytes for merge(local://<a>, local://<b>). */
export function mergeOfLocals(a: string, b: string): Buffer {
  // Op { source = 3: SourceOp { identifier = 1 } }
  const srcA = field(3, field(1, str(`local://${a}`)));
  const srcB = field(3, field(1, str(`local://${b}`)));
  // Op { inputs = 1 (x2); merge = 6: MergeOp { inputs = 1: MergeInput { input = 1 } (x2) } }
  const merge = [
    ...field(1, input(digestOf(srcA), 0)),
    ...field(1, input(digestOf(srcB), 0)),
    ...field(6, [...field(1, intField(1, 0)), ...field(1, intField(1, 1))]),
  ];
  // terminal Op: only an input
  const terminal = field(1, input(digestOf(merge), 0));
  // Definition { def = 1 (repeated bytes) }
  return Buffer.from([srcA, srcB, merge, terminal].flatMap((op) => field(1, op)));
}
