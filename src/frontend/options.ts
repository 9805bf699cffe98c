// Frontend options as BuildKit hands them over (BUILDKIT_FRONTEND_OPT_<n>="key=value"), interpreted
// with the conventions of docker buildx / the Dockerfile frontend (spec/buildkit-frontend.md §3.1).

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface FrontendOptions {
  /** Every option verbatim (needed when forwarding to another frontend). */
  raw: Record<string, string>;
  filename: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  platforms: Platform[];
  /** `no-cache` present: true = every op, string[] = named stages only. */
  noCache: boolean | string[];
  imageResolveMode: 'default' | 'pull' | 'local';
  cacheImports: { type: string; attrs: Record<string, string> }[];
  /** `context:NAME[::platform]` → value. */
  namedContexts: Record<string, string>;
  requestId?: string;
  sessionId: string;
  /** Unix seconds from build-arg SOURCE_DATE_EPOCH, else 0. */
  epoch: number;
  /** `dockerfilekey` / `contextkey` style overrides of local names. */
  dockerfileLocal: string;
  contextLocal: string;
  localSessionIds: Record<string, string>;
}

export function readEnvOptions(env: NodeJS.ProcessEnv): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('BUILDKIT_FRONTEND_OPT_') || v === undefined) continue;
    const i = v.indexOf('=');
    if (i < 0) raw[v] = '';
    else raw[v.slice(0, i)] = v.slice(i + 1);
  }
  return raw;
}

export class OptionError extends Error {}

export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new OptionError(`invalid platform '${s}': expected os/arch[/variant]`);
  }
  const [os, arch, variant] = parts;
  const p: Platform = { os: os.toLowerCase(), architecture: normalizeArch(arch.toLowerCase()) };
  if (variant) p.variant = variant;
  return p;
}

function normalizeArch(a: string): string {
  switch (a) {
    case 'x86_64': case 'x86-64': return 'amd64';
    case 'aarch64': return 'arm64';
    default: return a;
  }
}

export function platformId(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

export function parseOptions(raw: Record<string, string>, env: NodeJS.ProcessEnv): FrontendOptions {
  const buildArgs: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const namedContexts: Record<string, string> = {};
  const localSessionIds: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('build-arg:')) buildArgs[k.slice(10)] = v;
    else if (k.startsWith('label:')) labels[k.slice(6)] = v;
    else if (k.startsWith('context:')) namedContexts[k.slice(8)] = v;
    else if (k.startsWith('local-sessionid:')) localSessionIds[k.slice(16)] = v;
  }
  const platforms = raw.platform
    ? raw.platform.split(',').filter((s) => s.trim() !== '').map(parsePlatform)
    : [];
  let noCache: boolean | string[] = false;
  if ('no-cache' in raw) noCache = raw['no-cache'] === '' ? true : raw['no-cache'].split(',');
  const mode = raw['image-resolve-mode'] ?? 'default';
  if (mode !== 'default' && mode !== 'pull' && mode !== 'local') {
    throw new OptionError(`invalid image-resolve-mode '${mode}': expected default, pull or local`);
  }
  const cacheImports: FrontendOptions['cacheImports'] = [];
  if (raw['cache-imports']) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw['cache-imports']);
    } catch {
      throw new OptionError('invalid cache-imports: not JSON');
    }
    for (const e of (Array.isArray(parsed) ? parsed : []) as { Type?: string; Attrs?: Record<string, string> }[]) {
      if (e && typeof e.Type === 'string') cacheImports.push({ type: e.Type, attrs: e.Attrs ?? {} });
    }
  } else if (raw['cache-from']) {
    for (const ref of raw['cache-from'].split(',')) if (ref) cacheImports.push({ type: 'registry', attrs: { ref } });
  }
  const epochText = buildArgs.SOURCE_DATE_EPOCH;
  let epoch = 0;
  if (epochText !== undefined && epochText !== '') {
    if (!/^\d+$/.test(epochText)) throw new OptionError(`invalid SOURCE_DATE_EPOCH '${epochText}': expected Unix seconds`);
    epoch = Number(epochText);
  }
  return {
    raw,
    filename: raw.filename || 'Dockerfile',
    buildArgs,
    labels,
    target: raw.target || undefined,
    platforms,
    noCache,
    imageResolveMode: mode,
    cacheImports,
    namedContexts,
    requestId: raw.requestid || undefined,
    sessionId: env.BUILDKIT_SESSION_ID ?? '',
    epoch,
    dockerfileLocal: raw.dockerfilekey || 'dockerfile',
    contextLocal: raw.contextkey && raw.contextkey !== 'context' ? raw.contextkey : 'context',
    localSessionIds,
  };
}

/** Named-context lookup as dockerui does it: `NAME::os/arch` first, then `NAME`. */
export function namedContext(opts: FrontendOptions, name: string, platform?: Platform): string | undefined {
  if (platform) {
    const v = opts.namedContexts[`${name}::${platformId(platform)}`];
    if (v !== undefined) return v;
  }
  return opts.namedContexts[name];
}
