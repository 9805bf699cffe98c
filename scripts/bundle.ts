// Bundles the frontend into one self-contained ESM file for the frontend image (Dockerfile.frontend).
// Usage: node scripts/bundle.ts [--entry src/main.ts] [--outfile dist/compose-frontend.mjs]
// Output is deterministic: paths are relative to the repo root, no source maps, no timestamps.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    entry: { type: 'string', default: 'src/main.ts' },
    outfile: { type: 'string', default: 'dist/compose-frontend.mjs' },
  },
});
const entry = resolve(root, values.entry!);
const outfile = resolve(process.cwd(), values.outfile!);

// CommonJS dependencies (grpc-js, ajv, …) call require(); ESM output has none, so create one.
const banner = [
  "import { createRequire as __cfCreateRequire } from 'node:module';",
  'const require = __cfCreateRequire(import.meta.url);',
].join('\n');

try {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner: { js: banner },
    sourcemap: false,
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
  });
  if (result.errors.length > 0) process.exit(1);
} catch {
  // esbuild has already printed the errors with file:line.
  process.exit(1);
}
const bytes = readFileSync(outfile);
const digest = createHash('sha256').update(bytes).digest('hex');
console.error(`[bundle] ${values.outfile} ${bytes.length} bytes sha256:${digest}`);
