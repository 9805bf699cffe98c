// Typed LLB builder (in the spirit of BuildKit's Go client/llb): build immutable
// states, then marshal() them into a pb.Definition for Solve.
export { Cap, CapSet, type CapId, type CapInfo } from './caps.ts';
export { compareBytes, digestOf, goJsonStringArray, sortedRecord } from './canonical.ts';
export { LlbError } from './errors.ts';
export type { BindMount, CacheMount, MountSpec, RunOptions, SecretMount, TmpfsMount } from './exec.ts';
export {
  copy, FileAction, mkdir, mkfile, rm, symlink,
  type CopyOptions, type MkdirOptions, type MkfileOptions, type Owner, type RmOptions, type SymlinkOptions, type UserRef,
} from './fileaction.ts';
export {
  definitionSize, emptyDefinition, LEGACY_MAX_REQUEST_BYTES, marshal, marshalGraph, MAX_REQUEST_BYTES,
  type MarshaledOp, type MarshalOptions, type MarshalResult,
} from './marshal.ts';
export { lineRange, sourceFile, type OpOptions, type SourceFile, type SourceLocation } from './options.ts';
export { hostPlatform, toPbPlatform, type LlbPlatform } from './platform.ts';
export { normalizeImageRef, parseImageRef, type ImageReference } from './reference.ts';
export {
  diff, ExecResult, fromDefinition, image, local, merge, ociLayout, scratch, State,
  type ImageOptions, type LocalOptions, type OciLayoutOptions, type Output, type Vertex,
} from './state.ts';
