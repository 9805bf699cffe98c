// Output destinations (`--output`): `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker://REF`.
// Every destination is written so that a failure leaves nothing half-written behind: a new layout
// or archive is built in a temp sibling and renamed into place; into an existing layout only new
// blobs are added (removed again on failure) and index.json is replaced last, atomically; a push
// builds the layout in a temp dir and the registry client PUTs the manifest last.
import { mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { RegistryClient } from '../registry/client.ts';
import { formatReference, parseReference, type ImageReference } from '../registry/ref.ts';
import { writeOciArchive } from './archive.ts';
import { BlobStore } from './blobs.ts';
import type { WrittenImage } from './image.ts';
import { writeIndex } from './layout.ts';

export type OutputRef =
  | { transport: 'oci'; path: string; tag?: string }
  | { transport: 'oci-archive'; path: string; tag?: string }
  | { transport: 'docker'; ref: ImageReference };

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._\-:/@+]*$/;

/** Parses a destination; errors name the flag and the text. */
export function parseOutputRef(text: string, flag = '--output'): OutputRef {
  const bad = (why: string) => new Error(`${flag} '${text}': ${why}`);
  if (text.startsWith('docker://')) {
    try {
      return { transport: 'docker', ref: parseReference(text) };
    } catch (err) {
      throw bad((err as Error).message);
    }
  }
  const colon = text.indexOf(':');
  const transport = colon < 0 ? '' : text.slice(0, colon);
  if (transport !== 'oci' && transport !== 'oci-archive') {
    throw bad('unsupported destination (want oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker://REGISTRY/REPO[:TAG])');
  }
  // Like containers/image: the path ends at the first colon, the rest is the tag.
  const rest = text.slice(colon + 1);
  const sep = rest.indexOf(':');
  const path = sep < 0 ? rest : rest.slice(0, sep);
  const tag = sep < 0 ? undefined : rest.slice(sep + 1);
  if (path === '') throw bad('the path is empty');
  if (tag !== undefined && !TAG.test(tag)) throw bad(`invalid tag '${tag}'`);
  return { transport, path, ...(tag !== undefined ? { tag } : {}) };
}

export function describeOutput(o: OutputRef): string {
  if (o.transport === 'docker') return `docker://${formatReference(o.ref)}`;
  return `${o.transport}:${o.path}${o.tag !== undefined ? `:${o.tag}` : ''}`;
}

export interface OutputOptions {
  authfile?: string;
  /** mtime of oci-archive entries. */
  mtime: number;
}

/** Where blobs go while the image is written, and how it becomes visible. */
export interface OutputTarget {
  store: BlobStore;
  /** Makes the image visible at the destination; returns a one-line description (digest). */
  commit(image: WrittenImage): Promise<string>;
  /** Removes whatever this output wrote. */
  abort(): Promise<void>;
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function requireParentDir(path: string, flag: string, text: string): Promise<void> {
  const parent = dirname(resolve(path));
  const st = await statOrUndefined(parent);
  if (!st?.isDirectory()) throw new Error(`${flag} '${text}': directory '${parent}' does not exist`);
}

export async function openOutput(o: OutputRef, opts: OutputOptions, flag = '--output'): Promise<OutputTarget> {
  const text = describeOutput(o);
  if (o.transport === 'docker') return dockerOutput(o.ref, opts);
  await requireParentDir(o.path, flag, text);
  const st = await statOrUndefined(o.path);
  const tmpName = (suffix: string) => join(dirname(resolve(o.path)), `.${basename(o.path)}.tmp-${process.pid}${suffix}`);

  if (o.transport === 'oci') {
    if (st !== undefined && !st.isDirectory()) throw new Error(`${flag} '${text}': '${o.path}' exists and is not a directory`);
    if (st !== undefined && (await readdir(o.path)).length > 0) {
      if (!(await statOrUndefined(join(o.path, 'oci-layout')))) {
        throw new Error(`${flag} '${text}': '${o.path}' is a non-empty directory without an oci-layout file (not an OCI layout); refusing to write into it`);
      }
      // Existing layout: add blobs in place, swap the index last.
      const store = new BlobStore(o.path);
      await store.init();
      return {
        store,
        commit: async (img) => {
          await writeIndex(o.path, { ...img.manifest, platform: img.platform }, o.tag);
          return `${text} ${img.manifest.digest}`;
        },
        abort: () => store.removeAdded(),
      };
    }
    const tmp = tmpName('');
    await rm(tmp, { recursive: true, force: true });
    const store = new BlobStore(tmp);
    await store.init();
    return {
      store,
      commit: async (img) => {
        await writeIndex(tmp, { ...img.manifest, platform: img.platform }, o.tag);
        if (st !== undefined) await rmdir(o.path); // an empty directory: replaced by the layout
        await rename(tmp, o.path);
        return `${text} ${img.manifest.digest}`;
      },
      abort: () => rm(tmp, { recursive: true, force: true }),
    };
  }

  if (st?.isDirectory()) throw new Error(`${flag} '${text}': '${o.path}' is a directory, not an archive file`);
  const tmpDir = tmpName('.d');
  const tmpFile = tmpName('');
  await rm(tmpDir, { recursive: true, force: true });
  const store = new BlobStore(tmpDir);
  await store.init();
  const cleanup = async () => {
    await rm(tmpDir, { recursive: true, force: true });
    await rm(tmpFile, { force: true });
  };
  return {
    store,
    commit: async (img) => {
      await writeIndex(tmpDir, { ...img.manifest, platform: img.platform }, o.tag);
      await writeOciArchive(tmpDir, tmpFile, opts.mtime);
      await rename(tmpFile, o.path);
      await rm(tmpDir, { recursive: true, force: true });
      return `${text} ${img.manifest.digest}`;
    },
    abort: cleanup,
  };
}

async function dockerOutput(ref: ImageReference, opts: OutputOptions): Promise<OutputTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'compose-frontend-push-'));
  const store = new BlobStore(dir);
  await store.init();
  return {
    store,
    commit: async (img) => {
      const client = new RegistryClient({ authfile: opts.authfile });
      try {
        const blob = (d: { digest: string; size: number; mediaType: string }) => ({
          digest: d.digest, size: d.size, mediaType: d.mediaType, path: store.path(d.digest),
        });
        const res = await client.pushImage(ref, {
          config: blob(img.config),
          layers: img.layers.map(blob),
          manifest: { bytes: img.manifest.bytes, mediaType: img.manifest.mediaType },
        });
        return `docker://${formatReference(ref)}@${res.digest}`;
      } finally {
        await client.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
    abort: () => rm(dir, { recursive: true, force: true }),
  };
}
