// Errors in the user's build file: they carry the file and a 1-based line so the gateway can attach an
// errdefs.Source detail (BuildKit then prints the offending lines) and the CLI can print file:line.

export interface SourceRange {
  /** 1-based line and column of the start; end inclusive line. */
  startLine: number;
  startCol: number;
  endLine: number;
  endCol: number;
}

export class BuildFileError extends Error {
  readonly file: string;
  readonly range?: SourceRange;
  readonly key?: string;
  /** The build file's text, attached by whoever read it (for source-mapped error details). */
  text?: string;
  constructor(file: string, message: string, opts: { range?: SourceRange; key?: string } = {}) {
    const where = opts.range ? `${file}:${opts.range.startLine}` : file;
    super(`${where}: ${opts.key ? `${opts.key}: ` : ''}${message}`);
    this.name = 'BuildFileError';
    this.file = file;
    this.range = opts.range;
    this.key = opts.key;
  }
}
