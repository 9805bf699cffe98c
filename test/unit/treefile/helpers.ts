// Test helpers: temp build contexts and fixture copies.

import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TreefileError, loadTreefile } from '../../../src/compose/treefile/index.ts';
import type { LoadOptions, LoadedTreefile } from '../../../src/compose/treefile/index.ts';

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/treefiles/', import.meta.url));
export const FCOS = join(FIXTURES, 'fedora-coreos-config');
export const CENTOS = join(FIXTURES, 'centos-bootc');

const made: string[] = [];
after(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'treefile-test-'));
  made.push(d);
  return d;
}

export type Entry = string | { symlink: string } | { content: string; mode: number } | { dir: true };

/** Create a build context from `files` (path -> content / symlink / mode); returns its dir. */
export async function makeContext(files: Record<string, Entry>): Promise<string> {
  const root = join(await tempDir(), 'ctx');
  await mkdir(root);
  for (const [p, e] of Object.entries(files)) {
    const abs = join(root, p);
    await mkdir(dirname(abs), { recursive: true });
    if (typeof e === 'string') await writeFile(abs, e);
    else if ('symlink' in e) await symlink(e.symlink, abs);
    else if ('dir' in e) await mkdir(abs, { recursive: true });
    else {
      await writeFile(abs, e.content);
      await chmod(abs, e.mode);
    }
  }
  return root;
}

/** A writable copy of a fixture directory. */
export async function copyFixture(src: string): Promise<string> {
  const d = join(await tempDir(), 'copy');
  await cp(src, d, { recursive: true });
  return d;
}

export function load(contextDir: string, path = 'tf.yaml', opts: Partial<LoadOptions> = {}): Promise<LoadedTreefile> {
  return loadTreefile(path, { contextDir, basearch: 'x86_64', ...opts });
}

/** Load and expect failure; returns the error message (asserting it is a TreefileError). */
export async function loadError(contextDir: string, path = 'tf.yaml', opts: Partial<LoadOptions> = {}): Promise<string> {
  try {
    await load(contextDir, path, opts);
  } catch (e) {
    assert.ok(e instanceof TreefileError, `expected TreefileError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected loading to fail');
}
