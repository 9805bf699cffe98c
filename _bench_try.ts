import { buildxBuild, pruneCache } from './test/harness/buildkit.ts';
const [kit, mode] = process.argv.slice(2) as ['docker'|'standalone', string];
await pruneCache(kit);
const r = await buildxBuild({ builder: kit, contextDir: '/tmp/cfb/ctx', dockerfileDir: '/tmp/cfb/def', filename: mode === 'chunked' ? 'build.yaml' : 'Dockerfile',
  frontendImage: mode === 'chunked' ? '127.0.0.1:5000/compose-frontend@sha256:309c81409b4d611c79d8ea50f62d8578d017a8b0e32e6f02f808f5483af806f8' : undefined,
  opts: mode === 'chunked' ? { 'build-arg:COMPOSE_FRONTEND_STATS': '1' } : {},
  output: { type: 'push', ref: `127.0.0.1:5000/bench-try/${kit}-${mode}:latest` }, timeoutMs: 600000 });
console.log(r.durationMs, r.digest); console.log(r.stderr);
