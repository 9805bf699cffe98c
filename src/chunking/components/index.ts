// Component detection: which paths of a rootfs change together.
export { buildComponents, restKey, DEFAULT_BIG_FILE_THRESHOLD, COMPONENT_XATTR } from './build.ts';
export type { BuildComponentsOptions, BuildComponentsResult } from './build.ts';
export { EVERY_BUILD, CHANGE_WINDOW_DAYS } from './history.ts';
export type { PackageDb, PackageGroup, OwnedPath } from './source.ts';
