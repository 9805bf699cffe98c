// `conditional-include` conditions: `NAME OP VALUE` (spec §3.4). The parsing regex mirrors
// upstream's, including its backtracking: the operator is any run of non-space characters,
// so `releasever<41` parses as operator `<4` and is then rejected, exactly as rpm-ostree does.

import type { VarValue } from './types.ts';

export type ConditionOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

export interface Condition {
  variable: string;
  op: ConditionOp;
  value: VarValue;
}

const COND = /^\s*([A-Za-z0-9_]+)\s*(\S+)\s*(?:(true)|(false)|([0-9]+)|"(.*)")\s*$/;
const OPS: readonly string[] = ['==', '!=', '>', '>=', '<', '<='];
const U64_MAX = 18446744073709551615n;

export class ConditionError extends Error {}

export function parseCondition(s: string): Condition {
  const m = COND.exec(s);
  if (!m) throw new ConditionError(`invalid condition: ${s}`);
  let value: VarValue;
  if (m[3] !== undefined) value = true;
  else if (m[4] !== undefined) value = false;
  else if (m[5] !== undefined) {
    if (BigInt(m[5]) > U64_MAX) throw new ConditionError(`number too large to fit in target type: ${m[5]}`);
    value = Number(m[5]);
  } else value = m[6]!;
  const op = m[2]!;
  if (!OPS.includes(op)) throw new ConditionError(`expected one of ==, !=, >, >=, <, <= but got ${op}`);
  return { variable: m[1]!, op: op as ConditionOp, value };
}

function typeOf(v: VarValue): string {
  return typeof v;
}

/** Evaluate against the include-time variables; errors use upstream's wording. */
export function evaluateCondition(c: Condition, vars: ReadonlyMap<string, VarValue>): boolean {
  if (!vars.has(c.variable)) throw new ConditionError(`undefined variable '${c.variable}'`);
  const val = vars.get(c.variable)!;
  if (typeOf(val) !== typeOf(c.value)) {
    throw new ConditionError(`${c.variable} is not same type as ${String(c.value)}`);
  }
  switch (c.op) {
    case '==':
      return val === c.value;
    case '!=':
      return val !== c.value;
  }
  if (typeof val !== 'number' || typeof c.value !== 'number') {
    throw new ConditionError(`invalid op for values '${String(val)}' and '${String(c.value)}'`);
  }
  switch (c.op) {
    case '>':
      return val > c.value;
    case '>=':
      return val >= c.value;
    case '<':
      return val < c.value;
    case '<=':
      return val <= c.value;
  }
}
