// Spawning external tools with captured output, a timeout, and failures that explain themselves.
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed. */
  input?: string | Uint8Array;
  /** Default 10 minutes. The whole process group is killed when it expires. */
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit (timeouts still throw). */
  allowFailure?: boolean;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export class RunError extends Error {
  readonly result: RunResult;
  constructor(message: string, result: RunResult) {
    super(message);
    this.name = 'RunError';
    this.result = result;
  }
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

/** Quote for display only (the command is never run through a shell). */
export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Last `n` lines of `text`, for error messages. */
export function tail(text: string, n = 40): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return (lines.length > n ? [`… (${lines.length - n} earlier lines)`, ...lines.slice(-n)] : lines).join('\n');
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = shellQuote([cmd, ...args]);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // detached: own process group, so a timeout also kills grandchildren (buildx → buildkit client).
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = {
        command,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Math.round(performance.now() - started),
      };
      if (timedOut) {
        reject(new RunError(describe(`timed out after ${timeoutMs} ms`, result, opts.cwd), result));
      } else if (code !== 0 && !opts.allowFailure) {
        const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
        reject(new RunError(describe(why, result, opts.cwd), result));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => {}); // the child may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

function describe(why: string, r: RunResult, cwd: string | undefined): string {
  const parts = [`${r.command} ${why}${cwd ? ` (cwd ${cwd})` : ''}`];
  if (r.stderr.trim()) parts.push(`--- stderr (tail) ---\n${tail(r.stderr)}`);
  if (r.stdout.trim()) parts.push(`--- stdout (tail) ---\n${tail(r.stdout, 15)}`);
  return parts.join('\n');
}
