// Frontend entry point for benchmarking the fallback scan (ReadDir through the gateway). The frontend
// picks the exec scan whenever BuildKit mounted its own definition (frontend.bin) and has no switch to
// turn it off, so this entry hides that file before loading the real program: existsSync on it says
// false, and syncBuiltinESMExports makes the `import { existsSync } from 'node:fs'` bindings see that.
// Bundle: scripts/image.sh REF --entry bench/lib/no-exec-scan.ts
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const HIDDEN = '/run/config/buildkit/metadata/frontend.bin';
const existsSync = fs.existsSync;
fs.existsSync = (p: fs.PathLike): boolean => (String(p) === HIDDEN ? false : existsSync(p));
syncBuiltinESMExports();

await import('../../src/main.ts');
