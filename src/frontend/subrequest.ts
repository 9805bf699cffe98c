// Subrequests (`docker buildx build --call outline|targets`, `--check`): for a Containerfile the
// Dockerfile frontend answers them (it owns the stages and the linter); for our own build files we
// only describe what we support.
import { detectKind } from '../compose/kind.ts';
import type { Result } from '../gen/github.com/moby/buildkit/frontend/gateway/pb/gateway.ts';
import { readBuildFile } from './build.ts';
import type { Gateway } from './gateway.ts';
import type { FrontendOptions } from './options.ts';

export const DESCRIBE = 'frontend.subrequests.describe';

export async function subrequest(gw: Gateway, opts: FrontendOptions, id: string): Promise<Result> {
  const file = await readBuildFile(gw, opts);
  if (detectKind(file.name, file.text) === 'containerfile') {
    const frontendOpt: Record<string, string> = { ...opts.raw, cmdline: opts.raw.cmdline || opts.raw.source || 'compose-frontend' };
    delete frontendOpt['build-arg:BUILDKIT_SYNTAX'];
    const res = await gw.solve({ frontend: 'dockerfile.v0', frontendOpt, frontendInputs: await gw.inputs() });
    return { metadata: res.metadata, attestations: {} };
  }
  if (id !== DESCRIBE) throw new Error(`unsupported subrequest ${id}: ${file.name} is not a Containerfile, and only ${DESCRIBE} applies to it`);
  const list = [{ name: DESCRIBE, version: '1.0.0', type: 'rpc', description: 'List available subrequests' }];
  const json = JSON.stringify(list);
  return {
    metadata: {
      'result.json': Buffer.from(json),
      'result.txt': Buffer.from(`${DESCRIBE} - List available subrequests\n`),
      version: Buffer.from('1.0.0'),
    },
    attestations: {},
  };
}
