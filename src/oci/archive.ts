// oci-archive: a tar of an OCI layout directory (what `skopeo copy oci-archive:` reads), entries in
// byte order of their paths, root-owned, one fixed mtime.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { coalesce } from '../ostree/tar.ts';
import { padding, plainHeader, trailer } from './tar-writer.ts';

async function* layoutTar(dir: string, mtime: number): AsyncGenerator<Uint8Array> {
  const walk = async function* (rel: string): AsyncGenerator<Uint8Array> {
    const names = (await readdir(join(dir, rel))).filter((n) => !n.startsWith('.')).sort();
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(dir, path));
      if (st.isDirectory()) {
        yield* plainHeader({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime });
        yield* walk(path);
      } else if (st.isFile()) {
        yield* plainHeader({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime, size: st.size });
        let n = 0;
        for await (const chunk of createReadStream(join(dir, path), { highWaterMark: 1 << 20 })) {
          n += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        if (n !== st.size) throw new Error(`oci-archive: '${join(dir, path)}' changed while being archived`);
        yield padding(st.size);
      }
    }
  };
  yield* walk('');
  yield trailer();
}

/** Writes the layout at `dir` as a tar to `file`. */
export async function writeOciArchive(dir: string, file: string, mtime: number): Promise<void> {
  await pipeline(Readable.from(coalesce(layoutTar(dir, mtime))), createWriteStream(file));
}
