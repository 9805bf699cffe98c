// Makes sure the local services run before a test talks to them (scripts/services.sh is idempotent).
import { join } from 'node:path';
import { repoRoot } from './env.ts';
import { run } from './run.ts';

let started: Promise<string> | undefined;

/** Starts whatever is down (once per test process); resolves to the status lines. */
export function ensureServices(): Promise<string> {
  started ??= run('bash', [join(repoRoot, 'scripts/services.sh'), 'start'], { timeoutMs: 180_000 }).then(
    (r) => r.stdout,
  );
  return started;
}
