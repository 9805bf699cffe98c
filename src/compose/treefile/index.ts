// Public surface of treefile processing (parse, include/merge, validate).

export { loadTreefile, INCLUDE_MAXDEPTH } from './load.ts';
export type { LoadOptions } from './load.ts';
export { localContextFs } from './context-fs.ts';
export type { ContextFs, ContextStat } from './context-fs.ts';
export { TreefileError, formatDiagnostic } from './errors.ts';
export type { Diagnostic, Origin } from './errors.ts';
export { effectiveSettings } from './effective.ts';
export type { EffectiveSettings } from './effective.ts';
export { serializeTreefile, treefileForJson, treefileHashJson } from './serialize.ts';
export { loadRepoFiles, checkRepoIds } from './repos.ts';
export type { RepoFile } from './repos.ts';
export { treefileSchema } from './validate.ts';
export type * from './types.ts';
