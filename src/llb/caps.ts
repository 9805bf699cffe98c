// LLB capability IDs (BuildKit solver/pb/caps.go) that ops built here may need.
// They go into OpMetadata.caps so an old daemon rejects the graph with a clear
// "requested feature not supported" error instead of misbehaving.
export const Cap = {
  sourceImage: 'source.image',
  sourceImageResolveMode: 'source.image.resolvemode',
  sourceImageLayerLimit: 'source.image.layerlimit',
  sourceLocal: 'source.local',
  sourceLocalSessionId: 'source.local.sessionid',
  sourceLocalIncludePatterns: 'source.local.includepatterns',
  sourceLocalFollowPaths: 'source.local.followpaths',
  sourceLocalExcludePatterns: 'source.local.excludepatterns',
  sourceLocalSharedKeyHint: 'source.local.sharedkeyhint',
  sourceLocalDiffer: 'source.local.differ',
  fileBase: 'file.base',
  fileRmWildcard: 'file.rm.wildcard',
  fileCopyIncludeExcludePatterns: 'file.copy.includeexcludepatterns',
  fileCopyRequiredPaths: 'file.copy.requiredpaths',
  fileCopyAlwaysReplaceExistingDestPaths: 'file.copy.alwaysreplaceexistingdestpaths',
  fileCopyModeString: 'file.copy.modestring',
  fileSymlinkCreate: 'file.symlink.create',
  execMetaBase: 'exec.meta.base',
  execMetaNetwork: 'exec.meta.network',
  execMetaSecurity: 'exec.meta.security',
  execMetaSetsDefaultPath: 'exec.meta.setsdefaultpath',
  execValidExitCode: 'exec.validexitcode',
  execMountBind: 'exec.mount.bind',
  execMountSelector: 'exec.mount.selector',
  execMountCache: 'exec.mount.cache',
  execMountCacheSharing: 'exec.mount.cache.sharing',
  execMountTmpfs: 'exec.mount.tmpfs',
  execMountTmpfsSize: 'exec.mount.tmpfs.size',
  execMountSecret: 'exec.mount.secret',
  mergeOp: 'mergeop',
  diffOp: 'diffop',
  constraints: 'constraints',
  platform: 'platform',
  metaIgnoreCache: 'meta.ignorecache',
  metaDescription: 'meta.description',
} as const;

export type CapId = (typeof Cap)[keyof typeof Cap];

/** A cap as PongResponse.LLBCaps lists it (structurally the generated APICap). */
export interface CapInfo {
  ID: string;
  Enabled: boolean;
  DisabledReasonMsg?: string;
}

/** Daemon caps by ID; a cap counts only when listed AND enabled. */
export class CapSet {
  readonly #caps: ReadonlyMap<string, CapInfo>;
  constructor(caps: Iterable<CapInfo>) {
    const m = new Map<string, CapInfo>();
    for (const c of caps) m.set(c.ID, c);
    this.#caps = m;
  }
  supports(id: string): boolean {
    return this.#caps.get(id)?.Enabled === true;
  }
  /** Why `id` is unusable, or undefined when supported. */
  whyNot(id: string): string | undefined {
    const c = this.#caps.get(id);
    if (c === undefined) return 'not listed by the daemon (BuildKit too old?)';
    if (!c.Enabled) return c.DisabledReasonMsg ? `disabled: ${c.DisabledReasonMsg}` : 'disabled by the daemon';
    return undefined;
  }
}
