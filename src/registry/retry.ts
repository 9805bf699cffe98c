// Retry policy: which failures are transient, how long to wait, and when to give up.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in total, first one included. */
  attempts: number;
  /** Delay before the second attempt; doubles each time. */
  baseDelayMs: number;
  /** Ceiling of one delay (also caps Retry-After). */
  maxDelayMs: number;
  /** No new attempt starts once this much time has passed since the first. */
  totalMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 15_000, totalMs: 300_000 };

/** HTTP answers worth trying again: overload, gateway trouble, rate limits. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Connection-level failures (resets, refused, timeouts), looking through `cause` chains. */
export function isTransientError(err: unknown): boolean {
  if (err instanceof GaveUpError) return false; // an inner retry loop already spent its budget
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  }
  return false;
}

/** Seconds or HTTP-date of a Retry-After header → milliseconds, or undefined. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^[0-9]+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs);
}

/** Wait before attempt number `attempt` (2 = first retry): base·2^(attempt-2), capped; Retry-After wins if larger. */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 2));
  return Math.min(policy.maxDelayMs, Math.max(exp, retryAfterMs ?? 0));
}

/** A failure that the retry loop may repeat, with an optional server-requested delay. */
export class TransientFailure extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'TransientFailure';
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export interface RetryEvent {
  what: string;
  /** The attempt about to start (2 = first retry). */
  attempt: number;
  delayMs: number;
  reason: string;
}

export class GaveUpError extends Error {
  readonly attempts: number;
  constructor(message: string, attempts: number, cause: unknown) {
    super(message, { cause });
    this.name = 'GaveUpError';
    this.attempts = attempts;
  }
}

/**
 * Runs `fn` until it succeeds, throws something that is neither a TransientFailure nor a transient
 * connection error, or the policy is exhausted (then GaveUpError naming `what`, the attempt count, the
 * time spent and the last failure).
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  opts: { onRetry?: (e: RetryEvent) => void; signal?: AbortSignal } = {},
): Promise<T> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof TransientFailure) && !isTransientError(err)) throw err;
      if (opts.signal?.aborted) throw err;
      const reason = describeFailure(err);
      const delay = backoffDelay(policy, attempt + 1, err instanceof TransientFailure ? err.retryAfterMs : undefined);
      const elapsed = performance.now() - started;
      if (attempt >= policy.attempts || elapsed + delay > policy.totalMs) {
        throw new GaveUpError(
          `${what}: gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${(elapsed / 1000).toFixed(1)}s; last error: ${reason}`,
          attempt,
          err,
        );
      }
      opts.onRetry?.({ what, attempt: attempt + 1, delayMs: delay, reason });
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}

/** One line for a failure, including the connection error code when there is one. */
export function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let code: string | undefined;
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') {
      code = c;
      break;
    }
  }
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
