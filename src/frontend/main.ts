// The gateway entry point: bridge stdio, Ping, build, Return exactly once, exit 0.
import { Any } from '../gen/google/protobuf/any.ts';
import { Source } from '../gen/github.com/moby/buildkit/solver/errdefs/errdefs.ts';
import { BuildFileError } from '../compose/errors.ts';
import { bridgeStdio, silenceStdout } from './bridge.ts';
import { build } from './build.ts';
import { subrequest } from './subrequest.ts';
import { Gateway, GatewayError } from './gateway.ts';
import { parseOptions, readEnvOptions } from './options.ts';

// Unknown, not InvalidArgument: clients print a non-Unknown code's name before the message (twice, in buildx).
const UNKNOWN = 2;

export async function runFrontend(): Promise<void> {
  silenceStdout();
  const bridge = await bridgeStdio();
  const gw = new Gateway(bridge.address);
  try {
    await gw.ping();
    try {
      const opts = parseOptions(readEnvOptions(process.env), process.env);
      await gw.returnResult(opts.requestId ? await subrequest(gw, opts, opts.requestId) : await build(gw, opts));
    } catch (e) {
      const err = e as Error;
      console.error(err.stack ?? err.message);
      // A nested build's failure (a RUN in a Containerfile) goes back as BuildKit sent it, so the user
      // sees the failing step and its source lines exactly as with the Dockerfile frontend.
      if (err instanceof GatewayError && err.status) await gw.returnError(err.status.code, err.status.message, err.status.details);
      else await gw.returnError(UNKNOWN, err.message, errorDetails(err));
    }
  } finally {
    gw.close();
    bridge.close();
  }
}

/** An errdefs.Source detail makes BuildKit print the offending lines of the build file. */
function errorDetails(err: Error): Any[] {
  if (!(err instanceof BuildFileError) || !err.range || !err.text) return [];
  const r = err.range;
  const src = Source.encode({
    info: { filename: err.file, data: Buffer.from(err.text), definition: undefined, language: 'YAML' },
    ranges: [{ start: { line: r.startLine, character: r.startCol }, end: { line: r.endLine, character: r.endCol } }],
  }).finish();
  return [{ typeUrl: 'type.googleapis.com/errdefs.Source', value: src }];
}
