// rpm-ostree lockfiles (spec/treefile.md §5): `packages` maps a name to exactly one of `evra`
// (`[E:]V-R.ARCH`) or `evr`, plus optional `digest` and free-form `metadata`. Several lockfiles
// are applied in order; a later entry replaces an earlier one of the same name. Unknown keys at
// the top level, in `metadata` and in entries are errors (upstream's deny_unknown_fields).

import { parse as parseYaml } from 'yaml';
import { TreefileError } from './treefile/errors.ts';
import { compareBytes } from './treefile/packages.ts';

export interface LockedPackage {
  name: string;
  /** `[E:]V-R` (epoch only when written). */
  evr: string;
  /** Present for `evra` entries. */
  arch?: string;
  /** `<algo>:<hex>` of the .rpm file, when the lockfile records it. */
  digest?: string;
}

export interface LockfileInput {
  /** Context-relative path, used in messages and to pick YAML or JSON by extension. */
  path: string;
  data: Uint8Array;
}

const TOP_KEYS = new Set(['packages', 'metadata']);
const META_KEYS = new Set(['generated', 'rpmmd_repos']);
const ENTRY_KEYS = new Set(['evra', 'evr', 'digest', 'metadata']);
// [epoch:]version-release: version and release are non-empty and hold no '-' or whitespace.
const EVR = /^(?:[0-9]+:)?[^\s:-]+-[^\s:-]+$/;

function bad(path: string, message: string): never {
  throw new TreefileError([{ file: path, line: 0, key: '', message }]);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKeys(o: Record<string, unknown>, allowed: Set<string>): string[] {
  return Object.keys(o).filter((k) => !allowed.has(k)).sort(compareBytes);
}

/** Parses one lockfile; entries sorted by name. */
export function parseLockfile(input: LockfileInput): LockedPackage[] {
  const { path } = input;
  const text = new TextDecoder().decode(input.data);
  let doc: unknown;
  try {
    doc = /\.ya?ml$/.test(path) ? parseYaml(text, { schema: 'core' }) : JSON.parse(text);
  } catch (e) {
    bad(path, `cannot parse lockfile: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isObject(doc)) bad(path, 'lockfile must be a mapping with a `packages` key');
  const extra = unknownKeys(doc, TOP_KEYS);
  if (extra.length > 0) bad(path, `Unknown fields: ${extra.join(', ')}`);
  if (doc.metadata !== undefined) {
    if (!isObject(doc.metadata)) bad(path, '`metadata` must be a mapping');
    const m = unknownKeys(doc.metadata, META_KEYS);
    if (m.length > 0) bad(path, `metadata: Unknown fields: ${m.join(', ')}`);
  }
  if (doc.packages === undefined) bad(path, `Key 'packages' not found in ${path}`);
  if (!isObject(doc.packages)) bad(path, '`packages` must be a mapping of package name to entry');

  const out: LockedPackage[] = [];
  for (const name of Object.keys(doc.packages).sort(compareBytes)) {
    const e = doc.packages[name];
    const where = `packages.${name}`;
    if (!isObject(e)) bad(path, `${where}: entry must be a mapping with \`evra\` or \`evr\``);
    const x = unknownKeys(e, ENTRY_KEYS);
    if (x.length > 0) bad(path, `${where}: Unknown fields: ${x.join(', ')}`);
    if ((e.evra === undefined) === (e.evr === undefined)) bad(path, `${where}: needs exactly one of \`evra\` or \`evr\``);
    if (e.digest !== undefined && (typeof e.digest !== 'string' || !/^[a-z0-9]+:[0-9a-f]+$/.test(e.digest))) {
      bad(path, `${where}: digest must be "<algo>:<hex>"`);
    }
    const pkg: LockedPackage = { name, evr: '' };
    if (e.evra !== undefined) {
      const s = e.evra;
      const dot = typeof s === 'string' ? s.lastIndexOf('.') : -1;
      if (typeof s !== 'string' || dot <= 0 || dot === s.length - 1 || !EVR.test(s.slice(0, dot))) {
        bad(path, `package ${name} has malformed evra: ${String(s)}`);
      }
      pkg.evr = s.slice(0, dot);
      pkg.arch = s.slice(dot + 1);
    } else {
      if (typeof e.evr !== 'string' || !EVR.test(e.evr)) bad(path, `package ${name} has malformed evr: ${String(e.evr)}`);
      pkg.evr = e.evr;
    }
    if (typeof e.digest === 'string') pkg.digest = e.digest;
    out.push(pkg);
  }
  return out;
}

/** Applies lockfiles in order (later entries replace earlier ones by name); sorted by name. */
export function mergeLockfiles(inputs: readonly LockfileInput[]): LockedPackage[] {
  const byName = new Map<string, LockedPackage>();
  for (const input of inputs) for (const p of parseLockfile(input)) byName.set(p.name, p);
  return [...byName.values()].sort((a, b) => compareBytes(a.name, b.name));
}

/** `name-evr[.arch]`, the spec dnf and rpm accept for one locked build. */
export function lockedSpec(p: LockedPackage): string {
  return `${p.name}-${p.evr}${p.arch ? `.${p.arch}` : ''}`;
}
