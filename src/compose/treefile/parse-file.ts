// Parsing of one treefile (spec §3.1): syntax, unknown keys, packages-<arch>, schema,
// basearch, container / edition-2024 defaults, package splitting, legacy keys, and the
// external files it names (opened relative to this file, inside the build context).

import type { Condition } from './conditions.ts';
import { parseCondition } from './conditions.ts';
import type { ContextFs } from './context-fs.ts';
import type { Diagnostic, Origin } from './errors.ts';
import { TreefileError, failAt, normalizeDiagnostics } from './errors.ts';
import { KEYS, keyHint } from './keys.ts';
import type { Layer, LayerExternals, Located } from './layer.ts';
import { emptyExternals, emptyLayer } from './layer.ts';
import { PackageSplitError, compareBytes, splitPackageEntry } from './packages.ts';
import type { ResolvedPath } from './resolve.ts';
import { ResolveError, joinRel, resolveInContext } from './resolve.ts';
import type { ParsedSource, PathSegment } from './source.ts';
import { describeValue, schemaDiagnostics } from './validate.ts';
import { keyPath, parseSource } from './source.ts';
import type { ExternalFile, VarValue } from './types.ts';

/** An include reference as written, with where it was written. */
export interface IncludeRef {
  value: string;
  origin: Origin;
  key: string;
}

export interface ConditionalInclude {
  conditions: { cond: Condition; origin: Origin; key: string }[];
  files?: IncludeRef[];
  inline?: Layer;
}

export interface ParsedFile {
  file: string;
  /** Canonical directory relative paths in this file resolve from. */
  dir: string;
  layer: Layer;
  externals: LayerExternals;
  includes: IncludeRef[];
  archIncludes: IncludeRef[];
  conditionals: ConditionalInclude[];
  /** variables + basearch + releasever, to fold into the include-time map. */
  variables: Map<string, Located<VarValue>>;
  warnings: Diagnostic[];
}

export interface ParseContext {
  fs: ContextFs;
  basearch: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function includeRefs(src: ParsedSource, v: unknown, path: PathSegment[]): IncludeRef[] {
  const list = Array.isArray(v) ? (v as string[]) : [v as string];
  return list.map((value, i) => {
    const p = Array.isArray(v) ? [...path, i] : path;
    return { value, origin: { file: src.file, line: src.lineOf(p) }, key: keyPath(p) };
  });
}

function splitEntries(src: ParsedSource, key: string, entries: string[], path: PathSegment[]): Map<string, Origin> {
  const out = new Map<string, Origin>();
  entries.forEach((entry, i) => {
    const origin = { file: src.file, line: src.lineOf([...path, i]), index: i };
    let parts: string[];
    try {
      parts = splitPackageEntry(entry);
    } catch (e) {
      if (e instanceof PackageSplitError) failAt(origin, keyPath([...path, i]), e.message);
      throw e;
    }
    for (const p of parts) if (!out.has(p)) out.set(p, origin);
  });
  return out;
}

/**
 * Turn validated key/values into a layer. `whole` = a real file (split packages, fold
 * legacy keys); false = an inline conditional-include object, which upstream takes as-is.
 */
function buildLayer(
  src: ParsedSource,
  obj: Record<string, unknown>,
  base: PathSegment[],
  whole: boolean,
  warnings: Diagnostic[],
): Layer {
  const layer = emptyLayer();
  const at = (p: PathSegment[], index?: number): Origin =>
    index === undefined ? { file: src.file, line: src.lineOf([...base, ...p]) } : { file: src.file, line: src.lineOf([...base, ...p]), index };
  for (const [key, value] of Object.entries(obj)) {
    const info = KEYS.get(key);
    if (!info) continue;
    if (['include', 'arch-include', 'conditional-include', 'variables'].includes(key)) continue;
    if (key === 'packages' || key === 'bootstrap-packages') continue; // below
    if (info.legacyOf) continue; // below
    if (key === 'repo-packages' || key === 'ex-override-replace') {
      const entries = (value as { packages: string[] }[]).map((e, i) => {
        let pkgs: string[];
        if (whole) pkgs = [...splitEntries(src, key, e.packages, [...base, key, i, 'packages']).keys()];
        else pkgs = [...new Set(e.packages)];
        return { value: { ...e, packages: pkgs.sort(compareBytes) }, origin: at([key, i], i) };
      });
      layer.arrays.set(key, entries);
      continue;
    }
    switch (info.merge) {
      case 'scalar':
      case 'root-only':
        layer.scalars.set(key, { value, origin: at([key]) });
        break;
      case 'array':
        layer.arrays.set(key, (value as unknown[]).map((v, i) => ({ value: v, origin: at([key, i], i) })));
        break;
      case 'set': {
        const m = new Map<string, Origin>();
        (value as string[]).forEach((v, i) => m.has(v) || m.set(v, at([key, i], i)));
        layer.sets.set(key, m);
        break;
      }
      case 'map': {
        const m = new Map<string, Located>();
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) m.set(k, { value: v, origin: at([key, k]) });
        layer.maps.set(key, m);
        break;
      }
      case 'consumed':
        break;
    }
  }
  if (!whole) {
    if ('packages' in obj) {
      const m = new Map<string, Origin>();
      (obj.packages as string[]).forEach((v, i) => m.has(v) || m.set(v, at(['packages', i], i)));
      layer.sets.set('packages', m);
    }
    for (const key of Object.keys(obj)) {
      const info = KEYS.get(key);
      const ignored = !info || info.legacyOf || ['include', 'arch-include', 'conditional-include', 'variables', 'bootstrap-packages'].includes(key);
      if (ignored) {
        warnings.push({
          file: src.file,
          line: src.lineOf([...base, key]),
          key: keyPath([...base, key]),
          message: 'ignored: not supported inside an inline conditional-include object',
        });
      }
    }
  }
  return layer;
}

/** Container and edition defaults, then package splitting and legacy keys (upstream order). */
function applyFileRules(src: ParsedSource, obj: Record<string, unknown>, layer: Layer, basearch: string): void {
  const at = (key: string): Origin => ({ file: src.file, line: src.lineOf([key]) });
  layer.scalars.set('basearch', { value: basearch, origin: 'basearch' in obj ? at('basearch') : { file: src.file, line: 0 } });
  if (obj.container === true) {
    const o = at('container');
    const forced: [string, unknown][] = [
      ['boot-location', 'modules'],
      ['selinux', false],
      ['tmp-is-dir', true],
      ['preserve-passwd', false],
      ['check-passwd', { type: 'none' }],
      ['check-groups', { type: 'none' }],
    ];
    for (const [k, v] of forced) layer.scalars.set(k, { value: v, origin: o });
  }
  if (obj.edition === '2024') {
    const o = at('edition');
    if (!layer.scalars.has('boot-location')) layer.scalars.set('boot-location', { value: 'modules', origin: o });
    if (!layer.scalars.has('tmp-is-dir')) layer.scalars.set('tmp-is-dir', { value: true, origin: o });
  }
  const pkgs = new Map<string, Origin>();
  for (const key of ['packages', 'bootstrap-packages', `packages-${basearch}`]) {
    if (!Array.isArray(obj[key])) continue;
    for (const [p, o] of splitEntries(src, key, obj[key] as string[], [key])) if (!pkgs.has(p)) pkgs.set(p, o);
  }
  layer.sets.set('packages', pkgs);
  for (const [legacy, info] of KEYS) {
    if (!info.legacyOf || !(legacy in obj)) continue;
    if (layer.scalars.has(info.legacyOf)) {
      failAt(at(legacy), legacy, `Cannot use new and legacy forms of ${legacy}`);
    }
    layer.scalars.set(info.legacyOf, { value: obj[legacy], origin: at(legacy) });
  }
}

async function openExternal(
  ctx: ParseContext,
  dir: string,
  name: string,
  origin: Origin,
  key: string,
): Promise<ExternalFile> {
  let r: ResolvedPath;
  try {
    r = await resolveInContext(ctx.fs, dir, name);
  } catch (e) {
    if (e instanceof ResolveError) failAt(origin, key, e.message);
    throw e;
  }
  let data: Uint8Array;
  try {
    data = await ctx.fs.readFile(r.real);
  } catch (e) {
    failAt(origin, key, `Can't open file "${r.path}" for reading: ${(e as Error).message}`);
  }
  return { path: r.real, name, mode: r.stat.mode, data, origin };
}

async function openFinalizeD(ctx: ParseContext, dir: string, file: string): Promise<Map<string, ExternalFile>> {
  const out = new Map<string, ExternalFile>();
  let d: ResolvedPath;
  try {
    d = await resolveInContext(ctx.fs, dir, 'finalize.d', 'directory');
  } catch (e) {
    if (e instanceof ResolveError && /Can't open file/.test(e.message)) return out; // absent: fine
    if (e instanceof ResolveError) failAt({ file, line: 0 }, 'finalize.d', e.message);
    throw e;
  }
  const names = (await ctx.fs.readdir(d.real)).sort(compareBytes);
  for (const name of names) {
    const p = joinRel(d.real, name);
    const st = await ctx.fs.lstat(p);
    if (!st || st.type !== 'file' || (st.mode & 0o100) === 0) continue;
    out.set(name, { path: p, name, mode: st.mode, data: await ctx.fs.readFile(p), origin: { file, line: 0 } });
  }
  return out;
}

/** Parse one treefile at `at` (already resolved inside the context). */
export async function parseTreefileFile(ctx: ParseContext, at: ResolvedPath, bytes: Uint8Array): Promise<ParsedFile> {
  const file = at.path;
  const src = parseSource(file, bytes);
  const raw = src.value ?? {};
  if (!isPlainObject(raw)) {
    throw new TreefileError([{ file, line: src.lineOf([]), key: '', message: `expected a mapping of keys at the top level, got ${describeValue(raw)}` }]);
  }
  const diags: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const known: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const line = src.lineOf([key]);
    if (KEYS.has(key)) {
      if (value !== null) known[key] = value; // null = unset, as for serde's Option
    } else if (key.startsWith('packages-')) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        diags.push({ file, line, key, message: `Invalid field ${key}: expected array of strings` });
      } else if (key === `packages-${ctx.basearch}`) {
        known[key] = value;
      }
    } else if (src.format === 'yaml') {
      const hint = keyHint(key);
      diags.push({ file, line, key, message: `unknown field${hint ? ` (${hint})` : ''}` });
    } else if (!key.startsWith('comment')) {
      const hint = keyHint(key);
      warnings.push({ file, line, key, message: `unknown field, ignored in JSON${hint ? ` (${hint})` : ''}` });
    }
  }
  const archKey = `packages-${ctx.basearch}`;
  const forSchema = Object.fromEntries(Object.entries(known).filter(([k]) => k !== archKey));
  diags.push(...schemaDiagnostics(src, forSchema));
  // Conditions are parsed with upstream's regex too (the schema pattern is only a guide).
  const cis = Array.isArray(known['conditional-include']) ? (known['conditional-include'] as unknown[]) : [];
  cis.forEach((ci, i) => {
    if (!isPlainObject(ci)) return;
    const conds = Array.isArray(ci.if) ? ci.if : [ci.if];
    conds.forEach((c, j) => {
      if (typeof c !== 'string') return;
      const p: PathSegment[] = Array.isArray(ci.if) ? ['conditional-include', i, 'if', j] : ['conditional-include', i, 'if'];
      try {
        parseCondition(c);
      } catch (e) {
        diags.push({ file, line: src.lineOf(p), key: keyPath(p), message: (e as Error).message });
      }
    });
  });
  if (diags.length > 0) throw new TreefileError(normalizeDiagnostics(diags));

  if (typeof known.basearch === 'string' && known.basearch !== ctx.basearch) {
    failAt(
      { file, line: src.lineOf(['basearch']) },
      'basearch',
      `Invalid basearch ${known.basearch} on ${ctx.basearch}: cross-composes are not supported`,
    );
  }

  const layer = buildLayer(src, known, [], true, warnings);
  applyFileRules(src, known, layer, ctx.basearch);

  const variables = new Map<string, Located<VarValue>>();
  for (const [k, v] of Object.entries((known.variables as Record<string, VarValue>) ?? {})) {
    variables.set(k, { value: v, origin: { file, line: src.lineOf(['variables', k]) } });
  }
  variables.set('basearch', { value: ctx.basearch, origin: layer.scalars.get('basearch')!.origin });
  if (known.releasever !== undefined) {
    variables.set('releasever', { value: known.releasever as VarValue, origin: { file, line: src.lineOf(['releasever']) } });
  }

  const includes = known.include !== undefined ? includeRefs(src, known.include, ['include']) : [];
  const archMap = (known['arch-include'] as Record<string, unknown>) ?? {};
  const archIncludes = ctx.basearch in archMap && archMap[ctx.basearch] !== null ? includeRefs(src, archMap[ctx.basearch], ['arch-include', ctx.basearch]) : [];

  const conditionals: ConditionalInclude[] = cis.map((ci, i) => {
    const c = ci as { if: string | string[]; include: unknown };
    const list = Array.isArray(c.if) ? c.if : [c.if];
    const conditions = list.map((s, j) => {
      const p: PathSegment[] = Array.isArray(c.if) ? ['conditional-include', i, 'if', j] : ['conditional-include', i, 'if'];
      return { cond: parseCondition(s), origin: { file, line: src.lineOf(p) }, key: keyPath(p) };
    });
    if (isPlainObject(c.include)) {
      return { conditions, inline: buildLayer(src, c.include, ['conditional-include', i, 'include'], false, warnings) };
    }
    return { conditions, files: includeRefs(src, c.include, ['conditional-include', i, 'include']) };
  });

  // Externals, relative to this file's directory (upstream opens them while parsing).
  const externals = emptyExternals();
  const dir = at.dir;
  const o = (p: PathSegment[]): Origin => ({ file, line: src.lineOf(p) });
  if (typeof known['postprocess-script'] === 'string') {
    externals.postprocessScript = await openExternal(ctx, dir, known['postprocess-script'], o(['postprocess-script']), 'postprocess-script');
  }
  const addFiles = (known['add-files'] as [string, string][] | undefined) ?? [];
  for (const [i, [name]] of addFiles.entries()) {
    const p = ['add-files', i, 0];
    externals.addFiles.set(name, await openExternal(ctx, dir, name, o(p), keyPath(p)));
  }
  externals.finalizeD = await openFinalizeD(ctx, dir, file);
  for (const [key, slot] of [['check-passwd', 'passwd'], ['check-groups', 'group']] as const) {
    const check = layer.scalars.get(key)?.value as { type: string; filename?: string } | undefined;
    if (check?.type === 'file') {
      externals[slot] = await openExternal(ctx, dir, check.filename!, o([key, 'filename']), `${key}.filename`);
    }
  }

  return { file, dir, layer, externals, includes, archIncludes, conditionals, variables, warnings };
}
