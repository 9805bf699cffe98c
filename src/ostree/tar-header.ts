// Tar headers exactly as the Rust `tar` crate (tar-rs, what ostree-ext uses) writes them, spec §2.2:
// GNU headers (magic "ustar " " \0"), octal fields of width-1 digits + NUL, base-256 above the
// octal range, 7-digit checksum + NUL, GNU `L`/`K` entries for long names, ustar PAX `x` headers.
// Paths are copied component by component like tar-rs's copy_path_into, including its quirks: a
// name that does not fit is left partially written, and the bytes after the terminating NUL are
// never cleared (a header cloned from another keeps the rest of the old name: "stale-name quirk").
// The quirks are covered by the layer digests, so they are reproduced, not fixed.

export const BLOCK = 512;

const utf8 = new TextEncoder();

// Field offsets and widths (old/GNU/ustar share the first 257 bytes).
const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const UID = [108, 8] as const;
const GID = [116, 8] as const;
const SIZE = [124, 12] as const;
const MTIME = [136, 12] as const;
const CKSUM = [148, 8] as const;
const TYPE = 156;
const LINKNAME = [157, 100] as const;
const MAGIC = 257;

export type EntryType = '0' | '1' | '2' | '5' | 'x' | 'L' | 'K';

/** A path or link name that tar-rs cannot store in a header field (too long or invalid). */
export class TarPathError extends Error {}

export class TarHeader {
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** tar-rs `Header::new_gnu()`: zeroes, GNU magic, mtime 0. */
  static gnu(): TarHeader {
    const h = new TarHeader(new Uint8Array(BLOCK));
    h.bytes.set(utf8.encode('ustar  \0'), MAGIC);
    h.setMtime(0);
    return h;
  }

  /** tar-rs `Header::new_ustar()`: zeroes, ustar magic "ustar\0" + "00", mtime 0. */
  static ustar(): TarHeader {
    const h = new TarHeader(new Uint8Array(BLOCK));
    h.bytes.set(utf8.encode('ustar\u000000'), MAGIC);
    h.setMtime(0);
    return h;
  }

  clone(): TarHeader {
    return new TarHeader(this.bytes.slice());
  }

  setType(t: EntryType): void {
    this.bytes[TYPE] = t.charCodeAt(0);
  }

  get type(): string {
    return String.fromCharCode(this.bytes[TYPE]!);
  }

  setMode(mode: number): void {
    octalInto(this.field(MODE), mode);
  }

  setUid(uid: number): void {
    numberInto(this.field(UID), uid);
  }

  setGid(gid: number): void {
    numberInto(this.field(GID), gid);
  }

  setSize(size: number): void {
    numberInto(this.field(SIZE), size);
  }

  setMtime(mtime: number): void {
    numberInto(this.field(MTIME), mtime);
  }

  /** Size as written (octal or base-256). */
  get size(): number {
    return readNumber(this.field(SIZE));
  }

  /** `Header::set_path`: throws TarPathError, possibly after writing part of the name. */
  setPath(path: string): void {
    copyPathInto(this.field(NAME), path, false, false);
  }

  /** `Header::set_link_name`: components normalized like a Rust Path (so `a//b` → `a/b`). */
  setLinkName(target: string): void {
    copyPathInto(this.field(LINKNAME), target, true, false);
  }

  /** `Header::set_link_name_literal`: the bytes as given (+ NUL when there is room). */
  setLinkNameLiteral(target: string): void {
    copyInto(this.field(LINKNAME), utf8.encode(target));
  }

  /** `Header::set_cksum`: sum of all bytes with the checksum field read as spaces. */
  setChecksum(): void {
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= CKSUM[0] && i < CKSUM[0] + CKSUM[1] ? 0x20 : this.bytes[i]!;
    octalInto(this.field(CKSUM), sum);
  }

  private field([offset, width]: readonly [number, number]): Uint8Array {
    return this.bytes.subarray(offset, offset + width);
  }

  /** @internal the name field, for the long-name fallback. */
  nameField(): Uint8Array {
    return this.field(NAME);
  }

  /** @internal the linkname field. */
  linkField(): Uint8Array {
    return this.field(LINKNAME);
  }
}

/** tar-rs octal_into: right-aligned digits, NUL in the last byte, zero padded, excess digits dropped. */
function octalInto(dst: Uint8Array, value: number): void {
  const digits = value.toString(8);
  dst[dst.length - 1] = 0;
  for (let i = dst.length - 2, j = digits.length - 1; i >= 0; i--, j--) dst[i] = j >= 0 ? digits.charCodeAt(j) : 0x30;
}

/** tar-rs num_field_wrapper_into: octal, or base-256 with the high bit set when too large. */
function numberInto(dst: Uint8Array, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`tar: invalid numeric field value ${value}`);
  if (value >= 2 ** 33 || (value >= 2 ** 21 && dst.length === 8)) {
    let v = BigInt(value);
    dst.fill(0);
    for (let i = dst.length - 1; i >= dst.length - 8; i--) {
      dst[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    dst[0]! |= 0x80;
  } else {
    octalInto(dst, value);
  }
}

function readNumber(src: Uint8Array): number {
  if (src[0]! & 0x80) {
    let v = BigInt(src[0]! & 0x7f);
    for (let i = 1; i < src.length; i++) v = (v << 8n) | BigInt(src[i]!);
    return Number(v);
  }
  let end = src.indexOf(0);
  if (end < 0) end = src.length;
  return parseInt(new TextDecoder().decode(src.subarray(0, end)).trim() || '0', 8);
}

/** tar-rs copy_into: fails (writing nothing) when too long or containing NUL; NUL-terminates when there is room. */
function copyInto(slot: Uint8Array, bytes: Uint8Array): void {
  if (bytes.length > slot.length) throw new TarPathError('provided value is too long');
  if (bytes.includes(0)) throw new TarPathError('provided value contains a nul byte');
  slot.set(bytes);
  if (bytes.length < slot.length) slot[bytes.length] = 0;
}

type Component = { kind: 'root' | 'cur' | 'parent' | 'normal'; text: string };

/** Rust's `Path::components()` on Unix: repeated and trailing separators and non-leading `.` vanish. */
export function pathComponents(path: string): Component[] {
  const out: Component[] = [];
  let rest = path;
  if (rest.startsWith('/')) {
    out.push({ kind: 'root', text: '/' });
    rest = rest.replace(/^\/+/, '');
  } else if (rest === '.' || rest.startsWith('./')) {
    out.push({ kind: 'cur', text: '.' });
  }
  for (const part of rest.split('/')) {
    if (part === '' || part === '.') continue;
    out.push({ kind: part === '..' ? 'parent' : 'normal', text: part });
  }
  return out;
}

/** tar-rs copy_path_into_inner (relative paths only; link names accept anything). */
function copyPathInto(field: Uint8Array, path: string, isLink: boolean, truncatedGnu: boolean): void {
  let slot = field;
  const copy = (text: string) => {
    const b = utf8.encode(text);
    copyInto(slot, b);
    slot = slot.subarray(b.length);
  };
  const comps = pathComponents(path);
  let emitted = false;
  let needsSlash = false;
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!;
    if (!isLink) {
      if (c.kind === 'root') throw new TarPathError('paths in archives must be relative');
      if (c.kind === 'parent' && (!truncatedGnu || i < comps.length - 1)) throw new TarPathError('paths in archives must not have `..`');
      if (c.kind === 'cur' && comps.length > 1) continue;
    }
    if (needsSlash) copy('/');
    copy(c.text);
    if (c.text !== '/') needsSlash = true;
    emitted = true;
  }
  if (!emitted) throw new TarPathError('paths in archives must have at least one component');
  if (path.endsWith('/')) copy('/');
}

/** Zero bytes that pad `size` bytes of entry data to a whole block. */
export function padding(size: number): Uint8Array {
  const rem = size % BLOCK;
  return new Uint8Array(rem === 0 ? 0 : BLOCK - rem);
}

/** A GNU `././@LongLink` entry (type L or K) carrying `bytes` + NUL. */
function longLinkEntry(type: 'L' | 'K', bytes: Uint8Array): Uint8Array[] {
  const h = TarHeader.gnu();
  h.nameField().set(utf8.encode('././@LongLink'));
  h.setMode(0o644);
  h.setUid(0);
  h.setGid(0);
  h.setMtime(0);
  h.setSize(bytes.length + 1);
  h.setType(type);
  h.setChecksum();
  const data = new Uint8Array(bytes.length + 1);
  data.set(bytes);
  return [h.bytes, data, padding(data.length)];
}

/**
 * tar-rs prepare_header_path: sets the path, or (when it does not fit) emits an `L` entry and
 * stores the first 100 bytes (cut at a character boundary) in the header. Returns the blocks to
 * write before the header.
 */
export function preparePath(h: TarHeader, path: string): Uint8Array[] {
  try {
    h.setPath(path);
    return [];
  } catch (err) {
    if (!(err instanceof TarPathError)) throw err;
    const data = utf8.encode(path);
    if (data.length < 100) throw new TarPathError(`cannot store '${path}' in a tar header: ${err.message}`);
    let cut = 100;
    while (cut > 0 && (data[cut]! & 0xc0) === 0x80) cut--; // back to a UTF-8 character boundary
    const truncated = new TextDecoder().decode(data.subarray(0, cut));
    copyPathInto(h.nameField(), truncated, false, true);
    return longLinkEntry('L', data);
  }
}

/** tar-rs prepare_header_link: the link name, or a `K` entry when it does not fit. */
export function prepareLink(h: TarHeader, target: string): Uint8Array[] {
  try {
    h.setLinkName(target);
    return [];
  } catch (err) {
    if (!(err instanceof TarPathError)) throw err;
    const data = utf8.encode(target);
    if (data.length < 100) throw new TarPathError(`cannot store link target '${target}' in a tar header: ${err.message}`);
    return longLinkEntry('K', data);
  }
}

/** A literal link name (`set_link_name_literal`), with a `K` entry when longer than the field. */
export function prepareLinkLiteral(h: TarHeader, target: string): Uint8Array[] {
  const data = utf8.encode(target);
  if (data.includes(0)) throw new TarPathError(`link target ${JSON.stringify(target)} contains a NUL byte`);
  if (data.length <= 100) {
    h.setLinkNameLiteral(target);
    return [];
  }
  return longLinkEntry('K', data);
}

/** PAX records "<len> <key>=<value>\n" (tar-rs append_pax_extensions length rule). */
export function paxRecords(records: [key: string, value: Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, value] of records) {
    const k = utf8.encode(key);
    const rest = 3 + k.length + value.length;
    let lenLen = 1;
    let max = 10;
    while (rest + lenLen >= max) {
      lenLen++;
      max *= 10;
    }
    parts.push(utf8.encode(`${rest + lenLen} ${key}=`), value, utf8.encode('\n'));
  }
  return Buffer.concat(parts);
}

/** tar-rs append_pax_extensions: a ustar `x` entry with no name; nothing when there are no records. */
export function paxEntry(records: [key: string, value: Uint8Array][]): Uint8Array[] {
  if (records.length === 0) return [];
  const data = paxRecords(records);
  const h = TarHeader.ustar();
  h.setSize(data.length);
  h.setType('x');
  h.setChecksum();
  return [h.bytes, data, padding(data.length)];
}

/** The end of an archive: two zero blocks, no record padding (tar-rs `finish`). */
export function trailer(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}
