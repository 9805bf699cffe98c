// `fetch-manifest REF OUT [--platform OS/ARCH[/VARIANT]]`: writes `{"digest", "manifest"}` (the
// platform manifest REF names) or `{"error"}` to OUT, and exits 0 either way so the caller can word
// the failure. The frontend runs it inside BuildKit (an ExecOp with network) to read what the gateway
// API does not expose: layer annotations, such as rpm-ostree's `ostree.components`.
import { writeFileSync } from 'node:fs';
import { RegistryClient, hostPlatform } from '../registry/client.ts';
import type { Platform } from '../registry/types.ts';

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.split('/');
  if (!os || !architecture || rest.length > 0) throw new Error(`--platform '${text}': expected OS/ARCH[/VARIANT]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export async function fetchManifestCommand(args: string[], deps: { client?: () => RegistryClient } = {}): Promise<number> {
  const pi = args.indexOf('--platform');
  const platformText = pi >= 0 ? args[pi + 1] : undefined;
  const rest = pi >= 0 ? [...args.slice(0, pi), ...args.slice(pi + 2)] : args;
  const [ref, out] = rest;
  if (!ref || !out || rest.length !== 2 || (pi >= 0 && !platformText)) {
    process.stderr.write('usage: compose-frontend fetch-manifest REF OUT [--platform OS/ARCH[/VARIANT]]\n');
    return 2;
  }
  const client = deps.client?.() ?? new RegistryClient({ retry: { attempts: 3, totalMs: 30_000 }, connectTimeoutMs: 10_000 });
  let result: object;
  try {
    const platform = platformText ? parsePlatform(platformText) : hostPlatform();
    const { manifest } = await client.getPlatformManifest(ref, platform);
    result = { digest: manifest.digest, manifest: manifest.json };
  } catch (e) {
    result = { error: (e as Error).message.split('\n')[0] };
  } finally {
    await client.close();
  }
  writeFileSync(out, JSON.stringify(result));
  return 0;
}
