// A small root filesystem that exercises everything a layer copy must preserve.
import { chmodSync, chownSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../harness/run.ts';

export interface FixtureOptions {
  /** Give some entries non-root owners (only images keep them; local contexts upload as 0:0). */
  owners?: boolean;
  /** Variation of file contents, for update tests. */
  version?: number;
}

export function makeRootfs(dir: string, o: FixtureOptions = {}): void {
  const v = o.version ?? 1;
  const d = (p: string, mode = 0o755) => {
    mkdirSync(join(dir, p), { recursive: true });
    chmodSync(join(dir, p), mode);
  };
  const f = (p: string, data: string | Buffer, mode = 0o644) => {
    writeFileSync(join(dir, p), data);
    chmodSync(join(dir, p), mode);
  };
  d('');
  for (const p of ['usr', 'usr/bin', 'usr/lib', 'usr/lib/modules', 'usr/lib/modules/6.1.0-test', 'usr/share', 'usr/share/doc',
    'etc', 'var', 'var/lib', 'run', 'proc', 'sys', 'dev', 'boot', 'sysroot', 'usr/lib/sysimage']) d(p);
  d('tmp', 0o1777);
  d('var/tmp', 0o1777);
  d('var/mail', 0o2775);
  d('usr/share/empty');
  d('usr/lib/empty-deep/a/b');
  f('usr/bin/bash', `#!bash v${v}\n`.repeat(200), 0o755);
  f('usr/bin/su', 'su binary\n', 0o4755);
  f('usr/bin/wall', 'wall binary\n', 0o2755);
  f('usr/bin/readonly', 'r\n', 0o444);
  f('usr/bin/perl', 'perl interpreter\n', 0o755);
  linkSync(join(dir, 'usr/bin/perl'), join(dir, 'usr/bin/perl5.36'));
  f('usr/lib/libdata.so.1', Buffer.alloc(3 * 1024 * 1024, v), 0o755);
  linkSync(join(dir, 'usr/lib/libdata.so.1'), join(dir, 'usr/share/doc/libdata-hardlink'));
  symlinkSync('libdata.so.1', join(dir, 'usr/lib/libdata.so'));
  symlinkSync('/usr/bin/bash', join(dir, 'usr/bin/sh'));
  symlinkSync('usr/bin', join(dir, 'bin'));
  symlinkSync('sysroot/ostree', join(dir, 'ostree'));
  symlinkSync('does-not-exist', join(dir, 'usr/lib/dangling'));
  f('usr/lib/modules/6.1.0-test/vmlinuz', 'kernel\n'.repeat(1000));
  f('usr/share/doc/weird [name] *?.txt', 'pattern metacharacters\n');
  f('usr/share/doc/!bang', 'leading bang\n');
  f('usr/share/doc/space name', 'spaces\n');
  f('usr/share/doc/ünïcödé', 'utf-8\n');
  f('usr/share/doc/empty-file', '');
  for (let i = 0; i < 300; i++) f(`usr/share/doc/file-${String(i).padStart(3, '0')}`, `doc ${i} v${i % 7 === 0 ? v : 1}\n`);
  f('etc/os-release', `ID=exampleos\nVERSION_ID=${v}\n`);
  f('etc/shadow', 'root:*::0:::::\n', 0o600);
  symlinkSync('../run', join(dir, 'var/run'));
  if (o.owners) {
    d('home');
    d('home/user', 0o700);
    f('home/user/.profile', 'export A=1\n', 0o640);
    chownSync(join(dir, 'home/user'), 1000, 1000);
    chownSync(join(dir, 'home/user/.profile'), 1000, 100);
    chownSync(join(dir, 'var/mail'), 0, 8);
    chownSync(join(dir, 'usr/bin/wall'), 0, 5);
  }
}

/** A tar of the tree with numeric owners, for `FROM scratch` + `ADD rootfs.tar /` images. */
export async function tarRootfs(dir: string, tarFile: string): Promise<void> {
  await run('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-cf', tarFile, '-C', dir, '.']);
}
