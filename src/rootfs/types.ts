// The file-tree model shared by the gateway frontend and the CLI. Paths are relative to the rootfs
// root, '/'-separated, without a leading '/' or './'; the root directory itself is never an entry.

export type EntryKind = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket';

export interface FsEntry {
  path: string;
  kind: EntryKind;
  /** POSIX permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes, for regular files; 0 otherwise. */
  size: number;
  /** Symlink target, verbatim. */
  target?: string;
  /**
   * Hard links: every member of a group carries the lexically smallest member's path here
   * (that member included). Undefined for files that are not hard-linked.
   */
  linkGroup?: string;
  /** Extended attributes, where the view can read them. */
  xattrs?: Record<string, Uint8Array>;
}

export interface ByteRange {
  offset: number;
  length: number;
}

/** Read access to a root filesystem: a gateway ref, a local directory, … */
export interface RootfsView {
  /** For messages, e.g. "rootfs dir 'rootfs'" or "image docker.io/library/x". */
  readonly description: string;
  /** Immediate children of `dir` ('' = root), in any order; their `path` is the full relative path. */
  readDir(dir: string): Promise<FsEntry[]>;
  /** lstat-like: undefined when the path does not exist. */
  stat(path: string): Promise<FsEntry | undefined>;
  /** Contents of a regular file (a range of it when given). */
  readFile(path: string, range?: ByteRange): Promise<Uint8Array>;
}
