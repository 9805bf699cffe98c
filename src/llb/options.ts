// Per-op options shared by every constructor (Go's ConstraintsOpt subset) and
// source mapping, so solver errors can point at lines of the user's file.
import type { Range } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';

/** A user file that ops can point into (pb.SourceInfo). */
export interface SourceFile {
  readonly filename: string;
  readonly data: Uint8Array;
  readonly language: string;
}

/** Ranges use 1-based lines, like BuildKit's Dockerfile frontend. */
export interface SourceLocation {
  readonly file: SourceFile;
  readonly ranges: readonly Range[];
}

export function sourceFile(filename: string, data: Uint8Array | string, language = ''): SourceFile {
  return Object.freeze({
    filename,
    data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
    language,
  });
}

/** Range covering whole lines `first`..`last` (1-based, inclusive). */
export function lineRange(first: number, last = first): Range {
  return { start: { line: first, character: 0 }, end: { line: last, character: 0 } };
}

export interface OpOptions {
  /** Progress display name (description key `llb.customname`). */
  customName?: string;
  /** Extra description entries (free-form metadata the solver does not parse). */
  description?: Readonly<Record<string, string>>;
  /** Never reuse a cached result for this op. */
  ignoreCache?: boolean;
  progressGroup?: { id: string; name: string; weak?: boolean };
  locations?: readonly SourceLocation[];
}
