// The compose-frontend build spec: a YAML file naming a root filesystem (see spec.schema.json).
import { Ajv2020 } from 'ajv/dist/2020.js';
import schema from './spec.schema.json' with { type: 'json' };
import { BuildFileError, type SourceRange } from './errors.ts';
import { keyPath, parseYaml, rangeAt, type YamlSource } from './yaml-doc.ts';

export type RootfsSource =
  | { kind: 'dir'; dir: string }
  | { kind: 'image'; image: string }
  | { kind: 'context'; context: string }
  | { kind: 'containerfile'; containerfile: string; target?: string };

export interface ConfigOverrides {
  env?: Record<string, string>;
  cmd?: string[];
  entrypoint?: string[];
  workdir?: string;
  user?: string;
  stopSignal?: string;
}

export interface BuildSpec {
  rootfs: RootfsSource;
  maxLayers: number;
  labels: Record<string, string>;
  previousBuild?: string;
  config: ConfigOverrides;
  /** Non-fatal remarks (e.g. a max-layers value too deep for Docker). */
  warnings: { message: string; key: string[] }[];
  /** Error for a key found invalid after parsing (e.g. a rootfs dir missing from the context). */
  errorAt(key: string[], message: string): BuildFileError;
  /** Where a key is, for source-mapped warnings. */
  locate(key: string[]): SourceRange | undefined;
}

export const DEFAULT_MAX_LAYERS = 64;
const SOURCE_KEYS = ['dir', 'image', 'context', 'containerfile'] as const;

const ajv = new Ajv2020({ allErrors: false, strict: true, strictRequired: false });
const validate = ajv.compile(schema);

/** Cheap content test used to tell a spec from a treefile or a Containerfile. */
export function looksLikeSpec(data: unknown): boolean {
  return !!data && typeof data === 'object' && !Array.isArray(data) && 'rootfs' in data;
}

export function parseSpec(file: string, text: string): BuildSpec {
  return specFromYaml(parseYaml(file, text));
}

export function specFromYaml(src: YamlSource): BuildSpec {
  const { file } = src;
  const data = src.doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new BuildFileError(file, 'the build file must be a YAML mapping with a `rootfs` key', { range: rangeAt(src, []) });
  }
  const rootfs = (data as Record<string, unknown>).rootfs;
  if (rootfs && typeof rootfs === 'object' && !Array.isArray(rootfs)) {
    const given = SOURCE_KEYS.filter((k) => k in rootfs);
    const unknown = Object.keys(rootfs).find((k) => !(SOURCE_KEYS as readonly string[]).includes(k) && k !== 'target');
    if (unknown !== undefined) {
      throw new BuildFileError(file, `unknown key (known: ${SOURCE_KEYS.join(', ')}, target)`, {
        key: `rootfs.${unknown}`, range: rangeAt(src, ['rootfs', unknown], true),
      });
    }
    if (given.length !== 1) {
      const found = given.length ? `found ${given.join(' and ')}` : 'found none';
      throw new BuildFileError(file, `exactly one of ${SOURCE_KEYS.join(', ')} is required; ${found}`, {
        key: 'rootfs', range: rangeAt(src, ['rootfs', ...(given.length > 1 ? [given[1]] : [])], given.length > 1),
      });
    }
    if ('target' in rootfs && !('containerfile' in rootfs)) {
      throw new BuildFileError(file, '`target` only applies to `containerfile`', { key: 'rootfs.target', range: rangeAt(src, ['rootfs', 'target'], true) });
    }
  }
  if (!validate(data)) {
    const e = validate.errors![0];
    const path = e.instancePath.split('/').slice(1).map(decodeURIComponent);
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys(propertiesAt(path)).join(', ');
      throw new BuildFileError(file, `unknown key${known ? ` (known: ${known})` : ''}`, {
        key: keyPath([...path, extra]), range: rangeAt(src, [...path, extra], true),
      });
    }
    if (e.keyword === 'required') {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      throw new BuildFileError(file, 'is required', { key: keyPath([...path, missing]), range: rangeAt(src, path) });
    }
    throw new BuildFileError(file, e.message ?? 'invalid value', { key: keyPath(path) || '(top level)', range: rangeAt(src, path) });
  }
  const d = data as {
    rootfs: Record<string, string>;
    'max-layers'?: number;
    labels?: Record<string, string>;
    'previous-build'?: string;
    config?: { env?: Record<string, string>; cmd?: string[]; entrypoint?: string[]; workdir?: string; user?: string; 'stop-signal'?: string };
  };
  const r = d.rootfs;
  const source: RootfsSource = r.dir !== undefined ? { kind: 'dir', dir: r.dir }
    : r.image !== undefined ? { kind: 'image', image: r.image }
    : r.context !== undefined ? { kind: 'context', context: r.context }
    : { kind: 'containerfile', containerfile: r.containerfile, ...(r.target ? { target: r.target } : {}) };
  if (source.kind === 'dir') checkContextPath(src, source.dir, ['rootfs', 'dir']);
  if (source.kind === 'containerfile') checkContextPath(src, source.containerfile, ['rootfs', 'containerfile']);
  const maxLayers = d['max-layers'] ?? DEFAULT_MAX_LAYERS;
  const warnings: BuildSpec['warnings'] = [];
  if (maxLayers > 127) {
    warnings.push({
      message: `max-layers ${maxLayers} is above 127: Docker with overlay2 cannot run images with more than ~127 layers`,
      key: ['max-layers'],
    });
  }
  const c = d.config ?? {};
  return {
    rootfs: source,
    maxLayers,
    labels: d.labels ?? {},
    ...(d['previous-build'] ? { previousBuild: d['previous-build'] } : {}),
    config: {
      ...(c.env ? { env: c.env } : {}),
      ...(c.cmd ? { cmd: c.cmd } : {}),
      ...(c.entrypoint ? { entrypoint: c.entrypoint } : {}),
      ...(c.workdir !== undefined ? { workdir: c.workdir } : {}),
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c['stop-signal'] !== undefined ? { stopSignal: c['stop-signal'] } : {}),
    },
    warnings,
    errorAt: (key, message) => new BuildFileError(file, message, { key: keyPath(key), range: rangeAt(src, key) }),
    locate: (key) => rangeAt(src, key),
  };
}

/** Paths in the build context must stay inside it. */
function checkContextPath(src: YamlSource, p: string, path: string[]): void {
  const parts = p.split('/');
  if (p.startsWith('/') || parts.includes('..')) {
    throw new BuildFileError(src.file, `'${p}' must be a relative path inside the build context`, { key: keyPath(path), range: rangeAt(src, path) });
  }
}

function propertiesAt(path: string[]): Record<string, unknown> {
  let s = schema as unknown as { properties?: Record<string, unknown> };
  for (const seg of path) s = (s.properties?.[seg] ?? {}) as typeof s;
  return s.properties ?? {};
}

/** Normalize a context-relative directory ('./rootfs/' → 'rootfs', '.' → ''). */
export function cleanContextPath(p: string): string {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/');
}
