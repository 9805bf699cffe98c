// Per-file schema validation (spec §8.1) with ajv, driven by the JSON Schema we ship for
// editors. ajv's errors are turned into `<file>:<line>: <key>: <what>` diagnostics, using
// upstream's wording where rpm-ostree has a specific message.

import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from './treefile.schema.json' with { type: 'json' };
import { parseCondition } from './conditions.ts';
import type { Diagnostic } from './errors.ts';
import type { ParsedSource, PathSegment } from './source.ts';
import { keyPath } from './source.ts';

export { schema as treefileSchema };

// ajv is CommonJS: under Node's ESM interop the class is the module's `default` export.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  validator ??= new Ajv2020({
    allErrors: true,
    verbose: true,
    allowUnionTypes: true,
    strict: true,
    strictRequired: false,
  }).compile(schema);
  return validator;
}

const LEGACY_PAIRS: readonly [string, string][] = [
  ['gpg-key', 'gpg_key'],
  ['boot-location', 'boot_location'],
  ['default-target', 'default_target'],
  ['automatic-version-prefix', 'automatic_version_prefix'],
];

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return `string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
    case 'number':
      return Number.isInteger(v) ? `integer ${v}` : `number ${v}`;
    case 'boolean':
      return `boolean ${v}`;
    default:
      return typeof v;
  }
}

function forbiddenChar(s: string): string {
  return ['$', '{', '}'].find((c) => s.includes(c)) ?? '$';
}

function typeMessage(expected: string[], data: unknown): string {
  let msg = `expected ${expected.join(' or ')}, got ${describeValue(data)}`;
  if (expected.length === 1 && expected[0] === 'string' && (typeof data === 'number' || typeof data === 'boolean')) {
    msg += ' (quote it to make it a string)';
  } else if (expected.includes('boolean') && typeof data === 'string' && /^(yes|no|on|off|y|n)$/i.test(data)) {
    msg += ' (use true or false)';
  }
  return msg;
}

/** Map one ajv error to [path, message]; undefined to drop it. */
function describeError(e: ErrorObject, root: unknown): [PathSegment[], string] | undefined {
  const path: PathSegment[] = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const top = path[0];
  const data = e.data;
  const pn = (e as ErrorObject & { propertyName?: string }).propertyName;
  if (e.keyword === 'if' || e.keyword === 'propertyNames') return undefined;
  if (pn !== undefined) {
    const p = [...path, pn];
    if (top === 'variables') {
      if (e.keyword === 'not') return [p, `cannot define reserved variable '${pn}'`];
      return [p, `envsubst error: variable key '${pn}' contains forbidden character '${forbiddenChar(pn)}'`];
    }
    if (top === 'repovars') {
      return [
        p,
        pn === 'releasever'
          ? `Treefile repo var "releasever" invalid; use "releasever" field instead`
          : `Treefile repo var "basearch" invalid; it is automatically filled in`,
      ];
    }
    return [p, `invalid key name: ${e.message ?? ''}`];
  }
  if (e.keyword === 'not' && path.length === 0) {
    const obj = root as Record<string, unknown>;
    const pair = LEGACY_PAIRS.find(([a, b]) => a in obj && b in obj);
    if (!pair) return undefined;
    return [[pair[1]], `Cannot use new and legacy forms of ${pair[1]}`];
  }
  const inCondition = path.some((s, i) => s === 'if' && path[i - 2] === 'conditional-include');
  if (e.keyword === 'pattern') {
    if (inCondition) {
      try {
        parseCondition(String(data));
      } catch (err) {
        return [path, (err as Error).message];
      }
      return [path, `invalid condition: ${String(data)}`];
    }
    if (top === 'variables') {
      return [path, `envsubst error: variable value '${String(data)}' contains forbidden character '${forbiddenChar(String(data))}'`];
    }
    if (top === 'add-files') return [path, `Unsupported path in add-files: ${String(data)}`];
    if (top === 'automatic-version-suffix') {
      return [path, `Invalid automatic-version-suffix, must be exactly one ASCII character: ${String(data)}`];
    }
    return [path, `must match pattern ${String(e.params.pattern)}`];
  }
  if (e.keyword === 'not' && path[path.length - 2] === 'remove-files') {
    const s = String(data);
    return [path, s.startsWith('/') ? `Invalid absolute path: ${s}` : `Invalid '..' in path: ${s}`];
  }
  switch (e.keyword) {
    case 'type': {
      const t = e.params.type as string | string[];
      return [path, typeMessage(Array.isArray(t) ? t : t.split(','), data)];
    }
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return [path, `expected one of ${allowed}, got ${describeValue(data)}`];
    }
    case 'const':
      return [path, `expected ${JSON.stringify(e.params.allowedValue)}, got ${describeValue(data)}`];
    case 'required':
      return [path, `missing required key "${String(e.params.missingProperty)}"`];
    case 'minItems':
      return [path, `expected at least ${String(e.params.limit)} items, got ${(data as unknown[]).length}`];
    case 'maxItems':
      return [path, `expected at most ${String(e.params.limit)} items, got ${(data as unknown[]).length}`];
    case 'minimum':
      return [path, `expected a value >= ${String(e.params.limit)}, got ${describeValue(data)}`];
    case 'maximum':
      return [path, `expected a value <= ${String(e.params.limit)}, got ${describeValue(data)}`];
    case 'unevaluatedProperties':
    case 'additionalProperties': {
      const k = String(e.params.unevaluatedProperty ?? e.params.additionalProperty);
      return [[...path, k], 'unknown field'];
    }
    default:
      return [path, e.message ?? `invalid (${e.keyword})`];
  }
}

/** Validate one file's known keys (unknown and `packages-<arch>` keys already taken out). */
export function schemaDiagnostics(src: ParsedSource, obj: Record<string, unknown>): Diagnostic[] {
  const validate = getValidator();
  if (validate(obj)) return [];
  const described: [PathSegment[], string, string][] = [];
  for (const e of validate.errors ?? []) {
    const d = describeError(e, obj);
    if (d) described.push([d[0], d[1], e.keyword]);
  }
  // A wrong type makes every other complaint about the same value noise.
  // Of several type errors for one value (union, then a branch), the first is the broadest.
  const typed = new Set<string>();
  const kept = described.filter(([p, , k]) => {
    const id = p.join('/');
    if (typed.has(id)) return false;
    if (k === 'type') typed.add(id);
    return true;
  });
  const typedAll = new Set(kept.filter(([, , k]) => k === 'type').map(([p]) => p.join('/')));
  return kept
    .filter(([p, , k]) => k === 'type' || !typedAll.has(p.join('/')))
    .map(([p, message]) => ({ file: src.file, line: src.lineOf(p), key: keyPath(p), message }));
}
