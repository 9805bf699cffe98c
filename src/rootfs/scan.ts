// Walks a RootfsView into a flat, sorted entry list (the input of component detection and planning).
import { compareBytewise } from '../util/order.ts';
import type { FsEntry, RootfsView } from './types.ts';
import type { HardLinkKeys } from './local.ts';

export interface ScanOptions {
  /** Directory reads in flight at once (default 16). */
  concurrency?: number;
}

export interface ScanResult {
  /** Files, directories and symlinks, sorted by path (bytewise, i.e. UTF-8 byte order). */
  entries: FsEntry[];
  /** Sockets, fifos and device nodes left out (a layer copy must exclude them explicitly). */
  skipped: FsEntry[];
  warnings: string[];
}

export { compareBytewise } from '../util/order.ts';

function hasLinkKeys(view: RootfsView): view is RootfsView & HardLinkKeys {
  return typeof (view as Partial<HardLinkKeys>).linkKey === 'function';
}

function childName(dir: string, path: string): string | undefined {
  const prefix = dir === '' ? '' : `${dir}/`;
  if (!path.startsWith(prefix)) return undefined;
  const name = path.slice(prefix.length);
  return name === '' || name === '.' || name === '..' || name.includes('/') ? undefined : name;
}

/**
 * Lists every entry of the view. Sockets, fifos and device nodes are left out with a warning
 * (an image layer of a bootable OS has no use for them); hard links get `linkGroup` when the view
 * can identify inodes (LocalRootfs), otherwise the view is expected to have set it.
 */
export async function scanRootfs(view: RootfsView, opts: ScanOptions = {}): Promise<ScanResult> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 16));
  const entries: FsEntry[] = [];
  const skipped: FsEntry[] = [];
  const pending: string[] = [''];
  let inFlight = 0;

  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(new Error(`scanning ${view.description}: ${(err as Error).message}`));
    };
    const pump = () => {
      if (failed) return;
      if (pending.length === 0 && inFlight === 0) { resolve(); return; }
      while (inFlight < concurrency && pending.length > 0) {
        const dir = pending.pop()!;
        inFlight++;
        view.readDir(dir).then((children) => {
          inFlight--;
          for (const child of children) {
            if (childName(dir, child.path) === undefined) {
              throw new Error(`reading '${dir}' returned '${child.path}', which is not a direct child`);
            }
            if (child.kind === 'dir') pending.push(child.path);
            if (child.kind === 'file' || child.kind === 'dir' || child.kind === 'symlink') entries.push(child);
            else skipped.push(child);
          }
          pump();
        }).catch(fail);
      }
    };
    pump();
  });

  entries.sort((x, y) => compareBytewise(x.path, y.path));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].path === entries[i - 1].path) throw new Error(`scanning ${view.description}: '${entries[i].path}' listed twice`);
  }
  if (hasLinkKeys(view)) assignLinkGroups(view, entries);

  skipped.sort((x, y) => compareBytewise(x.path, y.path));
  const warnings = skipped.map((e) => `${view.description}: skipping ${e.kind} '${e.path}' (only files, directories and symlinks go into layers)`);
  return { entries, skipped, warnings };
}

/** Sets linkGroup on files sharing an inode; entries are sorted, so the first member is the smallest. */
function assignLinkGroups(view: HardLinkKeys, entries: FsEntry[]): void {
  const groups = new Map<string, FsEntry[]>();
  for (const e of entries) {
    if (e.kind !== 'file') continue;
    const key = view.linkKey(e.path);
    if (key === undefined) continue;
    const members = groups.get(key);
    if (members === undefined) groups.set(key, [e]);
    else members.push(e);
  }
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    for (const m of members) m.linkGroup = members[0].path;
  }
}
