// `${name}` substitution (envsubst-style, spec §3.4): only the braced form, no defaults,
// unknown names left verbatim. Values may not contain `$`, `{` or `}`, so replacing one
// variable at a time equals a single pass.

import type { VarValue } from './types.ts';

export class SubstituteError extends Error {}

const FORBIDDEN = ['$', '{', '}'];

/** Check every variable name and value (used or not), as upstream does before substituting. */
export function validateVariables(vars: ReadonlyMap<string, VarValue>): void {
  for (const [k, v] of vars) {
    for (const [kind, s] of [['key', k], ['value', String(v)]] as const) {
      const c = FORBIDDEN.find((f) => s.includes(f));
      if (c) throw new SubstituteError(`envsubst error: variable ${kind} '${s}' contains forbidden character '${c}'`);
    }
  }
}

export function substitute(s: string, vars: ReadonlyMap<string, VarValue>): string {
  if (!s.includes('${')) return s;
  let out = s;
  for (const [k, v] of vars) out = out.replaceAll(`\${${k}}`, String(v));
  return out;
}
