// Diagnostics for treefile processing. Every message has the shape
// `<file>:<line>: <key>: <what is wrong>` so users can jump straight to the spot;
// parts that are unknown (e.g. the line of a file that cannot be read) are omitted.

/** Where a value was declared: context-relative file and 1-based line (0 = unknown). */
export interface Origin {
  file: string;
  line: number;
  /** Index of the element inside the declaring file's list, for array values. */
  index?: number;
}

export interface Diagnostic {
  file: string;
  line: number;
  /** Dotted key path, e.g. `conditional-include[2].if`; empty when not about one key. */
  key: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  let s = d.file;
  if (d.line > 0) s += `:${d.line}`;
  if (d.key) s += `: ${d.key}`;
  return `${s}: ${d.message}`;
}

/** Error carrying one or more diagnostics; `message` lists them one per line. */
export class TreefileError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'TreefileError';
    this.diagnostics = diagnostics;
  }
}

export function fail(file: string, line: number, key: string, message: string): never {
  throw new TreefileError([{ file, line, key, message }]);
}

export function failAt(origin: Origin, key: string, message: string): never {
  throw new TreefileError([{ file: origin.file, line: origin.line, key, message }]);
}

/** Sort by file, line, then message and drop exact duplicates (ajv can report twice). */
export function normalizeDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of [...ds].sort((a, b) => a.line - b.line || cmp(a.key, b.key) || cmp(a.message, b.message))) {
    const k = formatDiagnostic(d);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(d);
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
