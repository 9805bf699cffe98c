// Command-line front door. Sub-commands grow here (build-chunked-oci: issue 4).
const USAGE = `usage: compose-frontend <command>

Started by BuildKit with no arguments, this program is the gateway frontend.

commands:
  version                  print the version
  scan-rootfs DIR OUT      list a root filesystem (used by the frontend inside BuildKit)
  fetch-manifest REF OUT   write an image's manifest as JSON (used by the frontend inside BuildKit)
  rpmdb-normalize ROOT     normalize a composed tree's rpmdb (used by treefile builds inside BuildKit)
  build-chunked-oci ...    package a rootfs directory as a chunked bootc image (--help for options)
`;

export async function runCli(args: string[]): Promise<number> {
  const [cmd] = args;
  if (cmd === 'version' || cmd === '--version') {
    const pkg = await import('../../package.json', { with: { type: 'json' } });
    process.stdout.write(`compose-frontend ${pkg.default.version}\n`);
    return 0;
  }
  if (cmd === 'scan-rootfs') {
    const { scanRootfsCommand } = await import('./scan-rootfs.ts');
    return scanRootfsCommand(args.slice(1));
  }
  if (cmd === 'fetch-manifest') {
    const { fetchManifestCommand } = await import('./fetch-manifest.ts');
    return fetchManifestCommand(args.slice(1));
  }
  if (cmd === 'rpmdb-normalize') {
    const { rpmdbNormalizeCommand } = await import('../compose/rpmdb-normalize.ts');
    return rpmdbNormalizeCommand(args.slice(1));
  }
  if (cmd === 'build-chunked-oci') {
    const { buildChunkedOciCommand } = await import('./build-chunked-oci.ts');
    return buildChunkedOciCommand(args.slice(1));
  }
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  process.stderr.write(`compose-frontend: unknown command '${cmd}'\n${USAGE}`);
  return 2;
}
