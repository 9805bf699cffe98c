// A plain image layer (`--format plain`, the layers the gateway frontend makes): the planned
// layer's entries in tree order, every missing parent directory first (with its real metadata),
// hard links inside the layer as tar hard links to the first member written, mtimes normalized.
import { cmp } from '../chunking/simple.ts';
import type { PlannedLayer } from '../chunking/types.ts';
import { readContent } from '../ostree/commit.ts';
import { coalesce } from '../ostree/tar.ts';
import type { FsEntry, RootfsView } from '../rootfs/types.ts';
import { padding, plainHeader, trailer, type PlainEntry } from './tar-writer.ts';

export interface PlainLayerInput {
  view: RootfsView;
  /** Every scanned entry by path (for parent directories). */
  entries: Map<string, FsEntry>;
  layer: PlannedLayer;
  /** mtime of every entry (SOURCE_DATE_EPOCH or the rootfs root mtime). */
  mtime: number;
  chunkSize?: number;
}

/** Not carried in plain layers: container runtimes drop it and bootc relabels from the policy. */
const SKIPPED_XATTRS = new Set(['security.selinux']);

function xattrsOf(e: FsEntry): Record<string, Uint8Array> | undefined {
  if (!e.xattrs) return undefined;
  const kept = Object.entries(e.xattrs).filter(([k]) => !SKIPPED_XATTRS.has(k));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

export async function* plainLayer(x: PlainLayerInput): AsyncGenerator<Uint8Array> {
  yield* coalesce(entriesOf(x));
}

async function* entriesOf(x: PlainLayerInput): AsyncGenerator<Uint8Array> {
  const written = new Set<string>();
  /** linkGroup → path written first in this layer. */
  const leaders = new Map<string, string>();
  const where = x.view.description;
  const base = (e: FsEntry): Omit<PlainEntry, 'type'> => ({
    path: e.path, mode: e.mode, uid: e.uid, gid: e.gid, mtime: x.mtime, xattrs: xattrsOf(e),
  });
  const dir = function* (path: string): Generator<Uint8Array> {
    if (written.has(path)) return;
    const slash = path.lastIndexOf('/');
    if (slash > 0) yield* dir(path.slice(0, slash));
    const e = x.entries.get(path);
    if (e === undefined || e.kind !== 'dir') throw new Error(`${where}: '/${path}' is not a directory in the scan`);
    written.add(path);
    yield* plainHeader({ ...base(e), type: 'dir' });
  };

  for (const path of [...x.layer.paths].sort(cmp)) {
    const e = x.entries.get(path);
    if (e === undefined) throw new Error(`${where}: the layer plan names '/${path}', which is not in the scan`);
    const slash = path.lastIndexOf('/');
    if (slash > 0) yield* dir(path.slice(0, slash));
    if (e.kind === 'dir') {
      yield* dir(path);
    } else if (e.kind === 'symlink') {
      yield* plainHeader({ ...base(e), type: 'symlink', linkname: e.target ?? '' });
    } else if (e.kind === 'file') {
      const leader = e.linkGroup === undefined ? undefined : leaders.get(e.linkGroup);
      if (leader !== undefined) {
        yield* plainHeader({ ...base(e), type: 'hardlink', linkname: leader });
        continue;
      }
      if (e.linkGroup !== undefined) leaders.set(e.linkGroup, path);
      yield* plainHeader({ ...base(e), type: 'file', size: e.size });
      yield* readContent(x.view, path, e.size, x.chunkSize);
      yield padding(e.size);
    } else {
      throw new Error(`${where}: '/${path}' is a ${e.kind}; plain layers hold only files, directories and symlinks`);
    }
  }
  yield trailer();
}
