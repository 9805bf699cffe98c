import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelay,
  GaveUpError,
  isRetryableStatus,
  isTransientError,
  parseRetryAfter,
  TransientFailure,
  withRetries,
  type RetryEvent,
  type RetryPolicy,
} from '../../../src/registry/retry.ts';

const fast: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 4, totalMs: 10_000 };

test('backoff doubles from the base, is capped, and honours a longer Retry-After up to the cap', () => {
  const p: RetryPolicy = { attempts: 10, baseDelayMs: 500, maxDelayMs: 15_000, totalMs: 60_000 };
  assert.deepEqual([2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(p, a)), [500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  assert.equal(backoffDelay(p, 2, 3000), 3000);
  assert.equal(backoffDelay(p, 4, 100), 2000);
  assert.equal(backoffDelay(p, 2, 3_600_000), 15_000);
});

test('Retry-After in seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('7', 0), 7000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000), 6000);
  assert.equal(parseRetryAfter('soon', 0), undefined);
  assert.equal(parseRetryAfter(undefined, 0), undefined);
});

test('which answers and errors are transient', () => {
  for (const s of [429, 408, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, String(s));
  for (const s of [400, 401, 403, 404, 416, 501, 505]) assert.equal(isRetryableStatus(s), false, String(s));
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  assert.equal(isTransientError(reset), true);
  assert.equal(isTransientError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }) })), true);
  assert.equal(isTransientError(Object.assign(new Error('gone'), { code: 'ENOENT' })), false);
  assert.equal(isTransientError(new GaveUpError('spent', 3, reset)), false);
});

test('withRetries: recovers, reports each retry, and gives up with a message naming the work', async () => {
  const events: RetryEvent[] = [];
  let n = 0;
  const v = await withRetries(
    'upload of x',
    fast,
    async (attempt) => {
      n++;
      if (attempt === 1) throw Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
      if (attempt === 2) throw new TransientFailure('HTTP 503', { retryAfterMs: 3 });
      return 'done';
    },
    { onRetry: (e) => events.push(e) },
  );
  assert.equal(v, 'done');
  assert.equal(n, 3);
  assert.deepEqual(events, [
    { what: 'upload of x', attempt: 2, delayMs: 1, reason: 'other side closed (UND_ERR_SOCKET)' },
    { what: 'upload of x', attempt: 3, delayMs: 3, reason: 'HTTP 503' },
  ]);

  let tries = 0;
  await assert.rejects(
    withRetries('PUT manifest m', fast, async () => {
      tries++;
      throw new TransientFailure('PUT manifest m: HTTP 500 UNKNOWN: injected');
    }),
    (e: Error) => {
      assert.ok(e instanceof GaveUpError);
      assert.equal(e.attempts, 4);
      assert.match(e.message, /^PUT manifest m: gave up after 4 attempts in [0-9.]+s; last error: PUT manifest m: HTTP 500 UNKNOWN: injected$/);
      return true;
    },
  );
  assert.equal(tries, 4);
});

test('withRetries: a permanent error is not retried; the time budget bounds the attempts', async () => {
  let n = 0;
  await assert.rejects(
    withRetries('x', fast, async () => {
      n++;
      throw new Error('HTTP 400 DIGEST_INVALID');
    }),
    { message: 'HTTP 400 DIGEST_INVALID' },
  );
  assert.equal(n, 1);

  let m = 0;
  const started = performance.now();
  await assert.rejects(
    withRetries('slow', { attempts: 100, baseDelayMs: 40, maxDelayMs: 40, totalMs: 100 }, async () => {
      m++;
      throw new TransientFailure('busy');
    }),
    { message: /^slow: gave up after [23] attempts in [0-9.]+s; last error: busy$/ },
  );
  assert.ok(m <= 3 && performance.now() - started < 1000);
});
