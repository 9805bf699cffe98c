// Plain (non-ostree) tar entries: ustar headers, with PAX records for what ustar cannot hold (long
// or non-ASCII names and link targets, sizes ≥ 8 GiB, large ids, xattrs). Numeric owners only, no
// user/group names, caller-chosen mtime: the same tree always gives the same bytes.
import { paxRecords, TarHeader, padding, trailer, type EntryType } from '../ostree/tar-header.ts';

export { padding, trailer };

export interface PlainEntry {
  /** Relative path without a trailing slash ('/' is added for directories). */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  /** Permission bits incl. setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Regular files only. */
  size?: number;
  /** Symlink target, or the path a hard link points to. */
  linkname?: string;
  xattrs?: Record<string, Uint8Array>;
}

const utf8 = new TextEncoder();
const TYPES: Record<PlainEntry['type'], EntryType> = { file: '0', dir: '5', symlink: '2', hardlink: '1' };
const OCTAL_SIZE_MAX = 2 ** 33 - 1;
const OCTAL_ID_MAX = 2 ** 21 - 1;

/** Fits a ustar name/linkname field: at most 100 bytes of printable ASCII. */
function fitsField(b: Uint8Array): boolean {
  return b.length <= 100 && b.every((c) => c >= 0x20 && c < 0x7f);
}

/** The first ≤ 100 bytes, cut at a UTF-8 character boundary. */
function head(b: Uint8Array): Uint8Array {
  if (b.length <= 100) return b;
  let cut = 100;
  while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--;
  return b.subarray(0, cut);
}

/** Header blocks ([PAX header, PAX data, padding,] header) for one entry; data follows separately. */
export function plainHeader(e: PlainEntry): Uint8Array[] {
  const name = utf8.encode(e.type === 'dir' ? `${e.path}/` : e.path);
  const link = e.linkname === undefined ? undefined : utf8.encode(e.linkname);
  const size = e.type === 'file' ? e.size ?? 0 : 0;
  const pax: [string, Uint8Array][] = [];
  if (!fitsField(name)) pax.push(['path', name]);
  if (link !== undefined && !fitsField(link)) pax.push(['linkpath', link]);
  if (size > OCTAL_SIZE_MAX) pax.push(['size', utf8.encode(String(size))]);
  if (e.uid > OCTAL_ID_MAX) pax.push(['uid', utf8.encode(String(e.uid))]);
  if (e.gid > OCTAL_ID_MAX) pax.push(['gid', utf8.encode(String(e.gid))]);
  for (const k of Object.keys(e.xattrs ?? {}).sort()) pax.push([`SCHILY.xattr.${k}`, e.xattrs![k]!]);

  const out: Uint8Array[] = [];
  if (pax.length > 0) {
    const data = paxRecords(pax);
    const x = TarHeader.ustar();
    x.nameField().set(head(utf8.encode(`PaxHeaders/${e.path}`)));
    x.setMode(0o644);
    x.setUid(0);
    x.setGid(0);
    x.setMtime(e.mtime);
    x.setSize(data.length);
    x.setType('x');
    x.setChecksum();
    out.push(x.bytes, data, padding(data.length));
  }
  const h = TarHeader.ustar();
  h.nameField().set(head(name));
  if (link !== undefined) h.linkField().set(head(link));
  h.setMode(e.mode & 0o7777);
  h.setUid(e.uid);
  h.setGid(e.gid);
  h.setSize(size);
  h.setMtime(e.mtime);
  h.setType(TYPES[e.type]);
  h.setChecksum();
  out.push(h.bytes);
  return out;
}
