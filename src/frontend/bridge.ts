// BuildKit serves the LLBBridge over the frontend's stdin/stdout (HTTP/2 with prior knowledge).
// grpc-js cannot dial an arbitrary stream, so we expose stdio on a private Unix socket and let
// grpc-js dial that; exactly one connection is accepted, since the stdio byte stream cannot be reused.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StdioBridge {
  address: string;
  close(): void;
}

export async function bridgeStdio(
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stdout,
): Promise<StdioBridge> {
  // The socket path must stay under 108 bytes, hence a short temp dir.
  const dir = mkdtempSync(join(tmpdir(), 'cf-'));
  const path = join(dir, 'gw.sock');
  let used = false;
  const server = net.createServer((conn) => {
    if (used) {
      conn.destroy();
      return;
    }
    used = true;
    input.pipe(conn);
    conn.pipe(output);
    conn.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    address: `unix://${path}`,
    close() {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Nothing but gRPC frames may reach stdout: route every console method there to stderr. */
export function silenceStdout(): void {
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  console.warn = console.error;
}
