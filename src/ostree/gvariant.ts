// GVariant serialization (normal form) for the types ostree uses, written from the GVariant
// specification. Values are plain JS data; numbers are written in little-endian (host order on
// every platform ostree-containers are built for). ostree's own integers are big-endian in the
// bytes: callers pass them through `be32`/`be64`, exactly like ostree's GUINT32_TO_BE.

/** A parsed GVariant type. `fixed` is the fixed size in bytes, or undefined for variable size. */
export type GType =
  | { kind: 'basic'; sig: string; align: number; fixed: number | undefined }
  | { kind: 'array'; sig: string; elem: GType; align: number; fixed: undefined }
  | { kind: 'maybe'; sig: string; elem: GType; align: number; fixed: undefined }
  | { kind: 'tuple'; sig: string; members: GType[]; align: number; fixed: number | undefined }
  | { kind: 'variant'; sig: 'v'; align: 8; fixed: undefined };

/** A value of type `v`: the child's type string and value. */
export interface Variant {
  type: string;
  value: GValue;
}

/**
 * y n q i u h: number · x t: bigint (number accepted when encoding) · d: number · b: boolean ·
 * s o g: string · ay: Uint8Array (an array of numbers is accepted too) · aT, (…), {kv}: arrays ·
 * mT: null or the value · v: Variant.
 */
export type GValue = number | bigint | boolean | string | Uint8Array | null | Variant | GValue[];

const BASIC: Record<string, [align: number, fixed: number | undefined]> = {
  y: [1, 1], b: [1, 1], n: [2, 2], q: [2, 2], i: [4, 4], u: [4, 4], h: [4, 4],
  x: [8, 8], t: [8, 8], d: [8, 8], s: [1, undefined], o: [1, undefined], g: [1, undefined],
};

const typeCache = new Map<string, GType>();

/** Parses one complete type string, e.g. `(a{sv}aya(say)sstayay)`. */
export function parseType(sig: string): GType {
  let t = typeCache.get(sig);
  if (t) return t;
  const [parsed, end] = parseAt(sig, 0);
  if (end !== sig.length) throw new Error(`GVariant type '${sig}': trailing characters at offset ${end}`);
  t = parsed;
  typeCache.set(sig, t);
  return t;
}

function parseAt(sig: string, pos: number): [GType, number] {
  const c = sig[pos];
  if (c === undefined) throw new Error(`GVariant type '${sig}': unexpected end`);
  const basic = BASIC[c];
  if (basic) return [{ kind: 'basic', sig: c, align: basic[0], fixed: basic[1] }, pos + 1];
  if (c === 'v') return [{ kind: 'variant', sig: 'v', align: 8, fixed: undefined }, pos + 1];
  if (c === 'a' || c === 'm') {
    const [elem, end] = parseAt(sig, pos + 1);
    // Values model Nothing as null, so Just(Nothing) would be ambiguous.
    if (c === 'm' && elem.kind === 'maybe') throw new Error(`GVariant type '${sig}': nested maybe types are not supported`);
    const kind = c === 'a' ? 'array' : 'maybe';
    return [{ kind, sig: sig.slice(pos, end), elem, align: elem.align, fixed: undefined }, end];
  }
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    const members: GType[] = [];
    let p = pos + 1;
    while (sig[p] !== close) {
      if (p >= sig.length) throw new Error(`GVariant type '${sig}': missing '${close}'`);
      const [m, end] = parseAt(sig, p);
      members.push(m);
      p = end;
    }
    if (c === '{' && (members.length !== 2 || members[0]!.kind !== 'basic')) {
      throw new Error(`GVariant type '${sig}': a dict entry needs a basic key and one value`);
    }
    let align = 1;
    let size: number | undefined = 0;
    for (const m of members) {
      align = Math.max(align, m.align);
      size = size === undefined || m.fixed === undefined ? undefined : alignUp(size, m.align) + m.fixed;
    }
    // Fixed-size tuples are padded to their alignment; the unit tuple `()` is one byte.
    const fixed = size === undefined ? undefined : members.length === 0 ? 1 : alignUp(size, align);
    return [{ kind: 'tuple', sig: sig.slice(pos, p + 1), members, align, fixed }, p + 1];
  }
  throw new Error(`GVariant type '${sig}': unsupported type character '${c}' at offset ${pos}`);
}

function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}

/** Byte-swaps a uint32, so that writing the result little-endian yields big-endian bytes. */
export function be32(n: number): number {
  return ((n & 0xff) << 24 | (n & 0xff00) << 8 | (n >>> 8) & 0xff00 | n >>> 24) >>> 0;
}

/** Byte-swaps a uint64 (see be32). */
export function be64(n: bigint | number): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b.readBigUInt64LE();
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Serializes `value` as type `sig` in normal form. */
export function encode(sig: string | GType, value: GValue): Uint8Array {
  const t = typeof sig === 'string' ? parseType(sig) : sig;
  const w = new Writer();
  writeValue(w, t, value);
  return w.finish();
}

/** Growable output buffer; offsets are relative to the start of the outermost value. */
class Writer {
  buf = new Uint8Array(256);
  len = 0;
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }
  pad(start: number, align: number): void {
    const rel = this.len - start;
    this.zeros(alignUp(rel, align) - rel);
  }
  uint(v: number | bigint, size: number): void {
    this.reserve(size);
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.len, size);
    if (size === 1) dv.setUint8(0, Number(v));
    else if (size === 2) dv.setUint16(0, Number(v), true);
    else if (size === 4) dv.setUint32(0, Number(v), true);
    else dv.setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    this.len += size;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Smallest framing offset size for a container whose non-offset part is `body` bytes. */
function offsetSize(body: number, count: number): number {
  if (count === 0) return 0;
  if (body + count <= 0xff) return 1;
  if (body + 2 * count <= 0xffff) return 2;
  if (body + 4 * count <= 0xffffffff) return 4;
  return 8;
}

function writeOffsets(w: Writer, start: number, offsets: number[]): void {
  const size = offsetSize(w.len - start, offsets.length);
  for (const o of offsets) w.uint(o, size);
}

function typeError(t: GType, value: unknown, why: string): Error {
  const shown = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value);
  return new Error(`GVariant '${t.sig}': ${why} (got ${shown?.slice(0, 60)})`);
}

function writeValue(w: Writer, t: GType, v: GValue): void {
  const start = w.len;
  switch (t.kind) {
    case 'basic':
      return writeBasic(w, t, v);
    case 'variant': {
      if (v === null || typeof v !== 'object' || v instanceof Uint8Array || Array.isArray(v)) {
        throw typeError(t, v, 'expected { type, value }');
      }
      const child = parseType(v.type);
      writeValue(w, child, v.value);
      w.zeros(1);
      w.bytes(utf8.encode(child.sig));
      return;
    }
    case 'maybe':
      if (v === null) return;
      writeValue(w, t.elem, v);
      if (t.elem.fixed === undefined) w.zeros(1);
      return;
    case 'array': {
      if (t.elem.sig === 'y' && v instanceof Uint8Array) return w.bytes(v);
      if (!Array.isArray(v)) throw typeError(t, v, 'expected an array');
      if (t.elem.fixed !== undefined) {
        for (const e of v) writeValue(w, t.elem, e);
        return;
      }
      const ends: number[] = [];
      for (const e of v) {
        w.pad(start, t.elem.align);
        writeValue(w, t.elem, e);
        ends.push(w.len - start);
      }
      return writeOffsets(w, start, ends);
    }
    case 'tuple': {
      if (!Array.isArray(v) || v.length !== t.members.length) {
        throw typeError(t, v, `expected an array of ${t.members.length} members`);
      }
      if (t.members.length === 0) return w.zeros(1);
      const ends: number[] = [];
      t.members.forEach((m, i) => {
        w.pad(start, m.align);
        writeValue(w, m, v[i]!);
        if (m.fixed === undefined && i < t.members.length - 1) ends.push(w.len - start);
      });
      if (t.fixed !== undefined) return w.pad(start, t.align);
      // The first variable member's end goes last: the table is written in reverse.
      return writeOffsets(w, start, ends.reverse());
    }
  }
}

function writeBasic(w: Writer, t: GType, v: GValue): void {
  switch (t.sig) {
    case 'b':
      if (typeof v !== 'boolean') throw typeError(t, v, 'expected a boolean');
      return w.uint(v ? 1 : 0, 1);
    case 's': case 'o': case 'g': {
      if (typeof v !== 'string') throw typeError(t, v, 'expected a string');
      if (v.includes('\0')) throw typeError(t, v, 'strings cannot contain NUL');
      if (!v.isWellFormed()) throw typeError(t, v, 'string is not valid Unicode');
      w.bytes(utf8.encode(v));
      return w.zeros(1);
    }
    case 'd': {
      if (typeof v !== 'number') throw typeError(t, v, 'expected a number');
      w.reserve(8);
      new DataView(w.buf.buffer, w.buf.byteOffset + w.len, 8).setFloat64(0, v, true);
      w.len += 8;
      return;
    }
    default: {
      const size = t.fixed!;
      const signed = t.sig === 'n' || t.sig === 'i' || t.sig === 'x';
      if (typeof v !== 'number' && typeof v !== 'bigint') throw typeError(t, v, 'expected an integer');
      if (typeof v === 'number' && !Number.isInteger(v)) throw typeError(t, v, 'expected an integer');
      const big = BigInt(v);
      const bits = BigInt(size * 8);
      const min = signed ? -(1n << (bits - 1n)) : 0n;
      const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
      if (big < min || big > max) throw typeError(t, v, 'integer out of range');
      return w.uint(BigInt.asUintN(size * 8, big), size);
    }
  }
}

/** Parses serialized bytes of type `sig` (strict: rejects malformed framing instead of defaulting). */
export function decode(sig: string | GType, bytes: Uint8Array): GValue {
  const t = typeof sig === 'string' ? parseType(sig) : sig;
  return readValue(t, bytes);
}

function readOffset(b: Uint8Array, at: number, size: number): number {
  const dv = new DataView(b.buffer, b.byteOffset + at, size);
  if (size === 1) return dv.getUint8(0);
  if (size === 2) return dv.getUint16(0, true);
  if (size === 4) return dv.getUint32(0, true);
  return Number(dv.getBigUint64(0, true));
}

function containerOffsetSize(len: number): number {
  return len === 0 ? 0 : len <= 0xff ? 1 : len <= 0xffff ? 2 : len <= 0xffffffff ? 4 : 8;
}

function readValue(t: GType, b: Uint8Array): GValue {
  if (t.fixed !== undefined && b.length !== t.fixed) {
    throw new Error(`GVariant '${t.sig}': expected ${t.fixed} bytes, got ${b.length}`);
  }
  switch (t.kind) {
    case 'basic':
      return readBasic(t, b);
    case 'variant': {
      const nul = b.lastIndexOf(0);
      if (nul < 0) throw new Error(`GVariant 'v': no type string separator`);
      const type = new TextDecoder().decode(b.subarray(nul + 1));
      return { type, value: readValue(parseType(type), b.subarray(0, nul)) };
    }
    case 'maybe':
      if (b.length === 0) return null;
      return readValue(t.elem, t.elem.fixed === undefined ? b.subarray(0, b.length - 1) : b);
    case 'array': {
      if (t.elem.sig === 'y') return b.slice();
      const out: GValue[] = [];
      if (t.elem.fixed !== undefined) {
        if (b.length % t.elem.fixed !== 0) throw new Error(`GVariant '${t.sig}': length not a multiple of element size`);
        for (let p = 0; p < b.length; p += t.elem.fixed) out.push(readValue(t.elem, b.subarray(p, p + t.elem.fixed)));
        return out;
      }
      if (b.length === 0) return out;
      const os = containerOffsetSize(b.length);
      const tableStart = readOffset(b, b.length - os, os);
      if (tableStart > b.length || (b.length - tableStart) % os !== 0) throw new Error(`GVariant '${t.sig}': bad framing`);
      let pos = 0;
      for (let at = tableStart; at < b.length; at += os) {
        const end = readOffset(b, at, os);
        const begin = alignUp(pos, t.elem.align);
        if (end < begin || end > tableStart) throw new Error(`GVariant '${t.sig}': bad element offset`);
        out.push(readValue(t.elem, b.subarray(begin, end)));
        pos = end;
      }
      return out;
    }
    case 'tuple': {
      const out: GValue[] = [];
      const os = containerOffsetSize(b.length);
      let tableEnd = b.length; // offsets are consumed from the end
      let pos = 0;
      t.members.forEach((m, i) => {
        const begin = alignUp(pos, m.align);
        let end: number;
        if (m.fixed !== undefined) end = begin + m.fixed;
        else if (i === t.members.length - 1) end = t.fixed === undefined ? tableEnd : b.length;
        else {
          tableEnd -= os;
          end = readOffset(b, tableEnd, os);
        }
        if (end < begin || end > b.length) throw new Error(`GVariant '${t.sig}': bad member ${i} framing`);
        out.push(readValue(m, b.subarray(begin, end)));
        pos = end;
      });
      return out;
    }
  }
}

function readBasic(t: GType, b: Uint8Array): GValue {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  switch (t.sig) {
    case 'y': return dv.getUint8(0);
    case 'b': return dv.getUint8(0) !== 0;
    case 'n': return dv.getInt16(0, true);
    case 'q': return dv.getUint16(0, true);
    case 'i': return dv.getInt32(0, true);
    case 'u': case 'h': return dv.getUint32(0, true);
    case 'x': return dv.getBigInt64(0, true);
    case 't': return dv.getBigUint64(0, true);
    case 'd': return dv.getFloat64(0, true);
    default:
      if (b.length === 0 || b[b.length - 1] !== 0) throw new Error(`GVariant '${t.sig}': string without NUL terminator`);
      return utf8Strict.decode(b.subarray(0, b.length - 1));
  }
}
