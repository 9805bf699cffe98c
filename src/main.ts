#!/usr/bin/env node
// One program, two front doors: started by BuildKit (no arguments, BUILDKIT_SESSION_ID set) it is the
// gateway frontend; with a sub-command it is the CLI.
const args = process.argv.slice(2);
if (args.length === 0 && process.env.BUILDKIT_SESSION_ID !== undefined) {
  const { runFrontend } = await import('./frontend/main.ts');
  try {
    await runFrontend();
    process.exit(0);
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
} else {
  const { runCli } = await import('./cli/main.ts');
  process.exitCode = await runCli(args);
}
