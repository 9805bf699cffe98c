// Include recursion, variables and final processing (spec §3.2-3.4): the entry point
// `loadTreefile` returns the merged, substituted and validated treefile.

import { resolve as resolveAbs, relative, isAbsolute, sep } from 'node:path';
import { evaluateCondition, ConditionError } from './conditions.ts';
import type { ContextFs } from './context-fs.ts';
import { localContextFs } from './context-fs.ts';
import type { Diagnostic, Origin } from './errors.ts';
import { TreefileError, fail, failAt } from './errors.ts';
import type { Located } from './layer.ts';
import { layerToTreefile, mergeExternals, mergeLayers } from './layer.ts';
import { compareBytes } from './packages.ts';
import type { IncludeRef, ParseContext, ParsedFile } from './parse-file.ts';
import { parseTreefileFile } from './parse-file.ts';
import type { ResolvedPath } from './resolve.ts';
import { ResolveError, resolveInContext } from './resolve.ts';
import { semanticDiagnostics } from './semantic.ts';
import { SubstituteError, substitute, validateVariables } from './substitute.ts';
import type { LoadedTreefile, Treefile, VarValue } from './types.ts';

export const INCLUDE_MAXDEPTH = 50;

export interface LoadOptions {
  /** Build architecture (rpm basearch, e.g. x86_64). */
  basearch: string;
  /** Local build context directory; used when `fs` is not given. */
  contextDir?: string;
  /** File access to the build context (e.g. a BuildKit context in the gateway). */
  fs?: ContextFs;
  /** Initial include-time variables (upstream's `--var`); they beat every file's. */
  variables?: Record<string, VarValue>;
}

interface LoadState {
  ctx: ParseContext;
  seen: Map<string, string>;
  files: string[];
  warnings: Diagnostic[];
  vars: Map<string, Located<VarValue>>;
}

function contextRelative(path: string, contextDir: string | undefined): string {
  if (!isAbsolute(path)) return path.split(sep).join('/');
  if (!contextDir) fail(path, 0, '', 'an absolute treefile path needs contextDir');
  const rel = relative(resolveAbs(contextDir), path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    fail(path, 0, '', `treefile is outside the build context ${contextDir}`);
  }
  return rel.split(sep).join('/');
}

async function resolveInclude(state: LoadState, dir: string, ref: IncludeRef): Promise<ResolvedPath> {
  try {
    return await resolveInContext(state.ctx.fs, dir, ref.value);
  } catch (e) {
    if (e instanceof ResolveError) failAt(ref.origin, ref.key, e.message);
    throw e;
  }
}

async function recurse(state: LoadState, at: ResolvedPath, depth: number, site?: IncludeRef): Promise<ParsedFile> {
  const id = at.stat.id ?? at.real;
  if (state.seen.has(id)) {
    const msg = `Include loop detected; ${at.path} was already included`;
    if (site) failAt(site.origin, site.key, msg);
    fail(at.path, 0, '', msg);
  }
  if (at.path.endsWith('.ks')) {
    const msg = `kickstart (.ks) treefiles are not supported; use YAML or JSON: ${at.path}`;
    if (site) failAt(site.origin, site.key, msg);
    fail(at.path, 0, '', msg);
  }
  state.seen.set(id, at.path);
  state.files.push(at.path);
  let bytes: Uint8Array;
  try {
    bytes = await state.ctx.fs.readFile(at.real);
  } catch (e) {
    const msg = `Can't open file "${at.path}" for reading: ${(e as Error).message}`;
    if (site) failAt(site.origin, site.key, msg);
    fail(at.path, 0, '', msg);
  }
  const parsed = await parseTreefileFile(state.ctx, at, bytes);
  state.warnings.push(...parsed.warnings);

  // Variables seen earlier (CLI, ancestors, earlier includes) win over this file's.
  for (const [k, v] of parsed.variables) if (!state.vars.has(k)) state.vars.set(k, v);

  const includes = [...parsed.includes, ...parsed.archIncludes];
  const varValues = new Map([...state.vars].map(([k, v]) => [k, v.value]));
  for (const ci of parsed.conditionals) {
    let matches = true;
    for (const c of ci.conditions) {
      // Evaluate all of them: type errors surface even after a false one.
      try {
        matches = evaluateCondition(c.cond, varValues) && matches;
      } catch (e) {
        if (e instanceof ConditionError) failAt(c.origin, c.key, e.message);
        throw e;
      }
    }
    if (!matches) continue;
    if (ci.inline) mergeLayers(parsed.layer, ci.inline);
    else includes.push(...ci.files!);
  }

  for (const ref of includes) {
    if (depth === INCLUDE_MAXDEPTH) failAt(ref.origin, ref.key, `Reached maximum include depth ${INCLUDE_MAXDEPTH}`);
    const child = await recurse(state, await resolveInclude(state, parsed.dir, ref), depth + 1, ref);
    mergeLayers(parsed.layer, child.layer);
    mergeExternals(parsed.externals, child.externals);
  }
  return parsed;
}

function substituteFields(tf: Treefile, vars: ReadonlyMap<string, VarValue>): void {
  const sub = (s: string | undefined) => (s === undefined ? s : substitute(s, vars));
  tf.ref = sub(tf.ref);
  if (tf.rojig) {
    tf.rojig = { ...tf.rojig, name: sub(tf.rojig.name)!, summary: sub(tf.rojig.summary)! };
    if (tf.rojig.description !== undefined) tf.rojig.description = sub(tf.rojig.description);
  }
  for (const key of ['metadata', 'add-commit-metadata'] as const) {
    const m = tf[key];
    if (!m) continue;
    for (const [k, v] of Object.entries(m)) if (typeof v === 'string') m[k] = substitute(v, vars);
  }
  tf['automatic-version-prefix'] = sub(tf['automatic-version-prefix']);
  tf['mutate-os-release'] = sub(tf['mutate-os-release']);
  tf['platform-module'] = sub(tf['platform-module']);
  for (const k of Object.keys(tf) as (keyof Treefile)[]) if (tf[k] === undefined) delete tf[k];
}

/**
 * Load a treefile and everything it includes from the build context.
 * `path` is relative to the context root (or absolute inside `contextDir`).
 */
export async function loadTreefile(path: string, opts: LoadOptions): Promise<LoadedTreefile> {
  const fs = opts.fs ?? localContextFs(opts.contextDir ?? '.');
  const rel = contextRelative(path, opts.contextDir);
  let top: ResolvedPath;
  try {
    top = await resolveInContext(fs, '', rel);
  } catch (e) {
    if (e instanceof ResolveError) fail(rel, 0, '', e.message);
    throw e;
  }
  const state: LoadState = {
    ctx: { fs, basearch: opts.basearch },
    seen: new Map(),
    files: [],
    warnings: [],
    vars: new Map(Object.entries(opts.variables ?? {}).map(([k, v]) => [k, { value: v, origin: { file: '<variables option>', line: 0 } }])),
  };
  const root = await recurse(state, top, 0);

  const varValues = new Map([...state.vars].sort(([a], [b]) => compareBytes(a, b)).map(([k, v]) => [k, v.value]));
  // Every variable is checked, used or not (upstream validates before substituting).
  for (const [k, v] of [...state.vars].sort(([a], [b]) => compareBytes(a, b))) {
    try {
      validateVariables(new Map([[k, v.value]]));
    } catch (e) {
      if (e instanceof SubstituteError) failAt(v.origin, `variables.${k}`, e.message);
      throw e;
    }
  }

  const { treefile, origins } = layerToTreefile(root.layer);
  if (varValues.size > 0) {
    treefile.variables = Object.fromEntries(varValues);
    origins.variables = Object.fromEntries([...state.vars].map(([k, v]) => [k, v.origin]));
  }
  substituteFields(treefile, varValues);

  const externals = {
    postprocessScript: root.externals.postprocessScript,
    addFiles: [...root.externals.addFiles.values()].sort((a, b) => compareBytes(a.name, b.name)),
    passwd: root.externals.passwd,
    group: root.externals.group,
    finalizeD: [...root.externals.finalizeD.values()].sort((a, b) => compareBytes(a.name, b.name)),
  };
  if (!externals.postprocessScript) delete externals.postprocessScript;
  if (!externals.passwd) delete externals.passwd;
  if (!externals.group) delete externals.group;

  const loaded: LoadedTreefile = {
    treefile,
    files: state.files,
    topDir: top.dir,
    origins,
    postprocessOrigins: (origins.postprocess as Origin[] | undefined) ?? [],
    externals,
    warnings: state.warnings,
  };
  const { errors, warnings } = semanticDiagnostics(loaded);
  loaded.warnings.push(...warnings);
  if (errors.length > 0) throw new TreefileError(errors);
  return loaded;
}
