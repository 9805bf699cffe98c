// Errors of the registry client. Messages name the registry, repository and operation; they never
// contain a password or token.

export class RegistryError extends Error {
  /** HTTP status, when the failure was an answer rather than a transport error. */
  readonly status: number | undefined;
  /** First error code of the registry's JSON error body (BLOB_UNKNOWN, DENIED, …). */
  readonly code: string | undefined;
  constructor(message: string, opts: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'RegistryError';
    this.status = opts.status;
    this.code = opts.code;
  }
}

/** Authentication or authorization failed; the message says what was tried. */
export class RegistryAuthError extends RegistryError {
  constructor(message: string, opts: { status?: number; code?: string } = {}) {
    super(message, opts);
    this.name = 'RegistryAuthError';
  }
}

/** A push that did not complete; the manifest was not written, so the tag did not move. */
export class PushError extends RegistryError {
  constructor(message: string, cause: unknown) {
    super(message, { cause, ...(cause instanceof RegistryError ? { status: cause.status, code: cause.code } : {}) });
    this.name = 'PushError';
  }
}

export interface RegistryErrorBody {
  code?: string;
  text: string;
}

/** The registry's JSON error body (`{"errors":[{"code","message","detail"}]}`) in one line. */
export function describeErrorBody(body: string): RegistryErrorBody {
  const trimmed = body.trim();
  if (trimmed === '') return { text: '' };
  try {
    const json = JSON.parse(trimmed) as { errors?: { code?: unknown; message?: unknown }[] };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      const parts = json.errors.map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': '));
      const code = typeof json.errors[0]!.code === 'string' ? json.errors[0]!.code : undefined;
      return { ...(code ? { code } : {}), text: parts.join('; ') };
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  const flat = trimmed.replace(/\s+/g, ' ');
  return { text: flat.length > 300 ? `${flat.slice(0, 300)}…` : flat };
}

/** The registry has no such manifest, blob or repository (e.g. no previous build to reuse). */
export function isNotFound(err: unknown): boolean {
  return err instanceof RegistryError && err.status === 404;
}
