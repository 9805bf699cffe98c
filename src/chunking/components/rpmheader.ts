// RPM header blobs as the rpmdb stores them (the on-disk header without its 8-byte magic):
//   u32 il (index entries), u32 dl (data bytes), il × {u32 tag, u32 type, i32 offset, u32 count},
//   then dl bytes of data. All integers big-endian. Every offset and length is checked against the
//   blob before anything is read, so a lying header fails here with a message instead of reading
//   garbage.

export const TYPE = {
  NULL: 0, CHAR: 1, INT8: 2, INT16: 3, INT32: 4, INT64: 5, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9,
} as const;

const ELEMENT_SIZE: Record<number, number> = { 0: 0, 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 };
const TYPE_NAMES = ['NULL', 'CHAR', 'INT8', 'INT16', 'INT32', 'INT64', 'STRING', 'BIN', 'STRING_ARRAY', 'I18NSTRING'];

/** rpm refuses headers beyond these; a blob claiming more is corrupt. */
const MAX_INDEX_ENTRIES = 0xffff;
const MAX_DATA_BYTES = 256 * 1024 * 1024;

interface Entry {
  index: number;
  type: number;
  offset: number;
  count: number;
  /** Byte length of the entry's data (strings: up to and including the last NUL). */
  length: number;
}

const utf8 = new TextDecoder('utf-8');

export class RpmHeader {
  readonly where: string;
  #data: Uint8Array;
  #dataStart: number;
  #view: DataView;
  #entries = new Map<number, Entry>();

  /** `where` prefixes every error, e.g. "rpmdb 'var/lib/rpm/rpmdb.sqlite' package #3". */
  constructor(blob: Uint8Array, where: string) {
    this.where = where;
    if (blob.length < 8) this.#fail(`header blob is ${blob.length} bytes, too short for its 8-byte preamble`);
    const pre = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const il = pre.getUint32(0);
    const dl = pre.getUint32(4);
    if (il === 0 || il > MAX_INDEX_ENTRIES) this.#fail(`header declares ${il} index entries (want 1..${MAX_INDEX_ENTRIES})`);
    if (dl > MAX_DATA_BYTES) this.#fail(`header declares ${dl} data bytes (limit ${MAX_DATA_BYTES})`);
    const want = 8 + il * 16 + dl;
    if (blob.length !== want) {
      this.#fail(`header declares ${il} index entries and ${dl} data bytes (${want} bytes in all) but the blob is ${blob.length} bytes`);
    }
    const dataStart = 8 + il * 16;
    this.#data = blob.subarray(dataStart);
    this.#dataStart = dataStart;
    this.#view = new DataView(blob.buffer, blob.byteOffset + dataStart, dl);
    for (let i = 0; i < il; i++) {
      const at = 8 + i * 16;
      const tag = pre.getUint32(at);
      const type = pre.getUint32(at + 4);
      const offset = pre.getInt32(at + 8);
      const count = pre.getUint32(at + 12);
      const what = `index entry ${i} (tag ${tag})`;
      if (type >= TYPE_NAMES.length) this.#fail(`${what} has unknown data type ${type}`);
      if (count === 0 || count > dl) this.#fail(`${what} has implausible count ${count} for a ${dl}-byte data store`);
      if (offset < 0 || offset >= dl) this.#fail(`${what} has data offset ${offset} outside the ${dl}-byte data store`);
      let length: number;
      if (type === TYPE.STRING || type === TYPE.STRING_ARRAY || type === TYPE.I18NSTRING) {
        if (type === TYPE.STRING && count !== 1) this.#fail(`${what} is a STRING with count ${count} (want 1)`);
        let end = offset;
        for (let n = 0; n < count; n++) {
          const nul = this.#data.indexOf(0, end);
          if (nul < 0) this.#fail(`${what}: string ${n + 1} of ${count} at offset ${end} runs past the end of the ${dl}-byte data store`);
          end = nul + 1;
        }
        length = end - offset;
      } else {
        length = ELEMENT_SIZE[type] * count;
        if (offset + length > dl) {
          this.#fail(`${what}: ${count} ${TYPE_NAMES[type]} values (${length} bytes) at offset ${offset} run past the end of the ${dl}-byte data store`);
        }
      }
      // Later ("dribble") entries replace earlier ones with the same tag, as in rpm itself.
      this.#entries.set(tag, { index: i, type, offset, count, length });
    }
  }

  has(tag: number): boolean {
    return this.#entries.has(tag);
  }

  count(tag: number): number | undefined {
    return this.#entries.get(tag)?.count;
  }

  /** A STRING (or the first element of a string array / I18N string); undefined when absent. */
  string(tag: number, name: string): string | undefined {
    const e = this.#entries.get(tag);
    if (e === undefined) return undefined;
    if (e.type !== TYPE.STRING && e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.I18NSTRING) this.#wrongType(name, e, 'a string');
    return utf8.decode(this.#data.subarray(e.offset, this.#data.indexOf(0, e.offset)));
  }

  strings(tag: number, name: string): string[] | undefined {
    const e = this.#entries.get(tag);
    if (e === undefined) return undefined;
    if (e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.I18NSTRING && e.type !== TYPE.STRING) this.#wrongType(name, e, 'a string array');
    const out: string[] = [];
    let at = e.offset;
    for (let n = 0; n < e.count; n++) {
      const nul = this.#data.indexOf(0, at);
      out.push(utf8.decode(this.#data.subarray(at, nul)));
      at = nul + 1;
    }
    return out;
  }

  /** Unsigned integers of any width (CHAR, INT8, INT16, INT32, INT64). */
  numbers(tag: number, name: string): number[] | undefined {
    const e = this.#entries.get(tag);
    if (e === undefined) return undefined;
    const out = new Array<number>(e.count);
    const v = this.#view;
    switch (e.type) {
      case TYPE.CHAR: case TYPE.INT8:
        for (let n = 0; n < e.count; n++) out[n] = v.getUint8(e.offset + n);
        break;
      case TYPE.INT16:
        for (let n = 0; n < e.count; n++) out[n] = v.getUint16(e.offset + 2 * n);
        break;
      case TYPE.INT32:
        for (let n = 0; n < e.count; n++) out[n] = v.getUint32(e.offset + 4 * n);
        break;
      case TYPE.INT64:
        for (let n = 0; n < e.count; n++) {
          const big = v.getBigUint64(e.offset + 8 * n);
          if (big > BigInt(Number.MAX_SAFE_INTEGER)) this.#fail(`${name} value ${big} is too large`);
          out[n] = Number(big);
        }
        break;
      default:
        this.#wrongType(name, e, 'an integer');
    }
    return out;
  }

  number(tag: number, name: string): number | undefined {
    return this.numbers(tag, name)?.[0];
  }

  /** Where a tag's data sits, as a byte offset from the blob's start (for in-place edits of fixed-size values). */
  dataRange(tag: number): { offset: number; length: number; type: number; count: number } | undefined {
    const e = this.#entries.get(tag);
    return e && { offset: this.#dataStart + e.offset, length: e.length, type: e.type, count: e.count };
  }

  #wrongType(name: string, e: Entry, want: string): never {
    this.#fail(`${name} (index entry ${e.index}) has type ${TYPE_NAMES[e.type]}, want ${want}`);
  }

  #fail(msg: string): never {
    throw new Error(`${this.where}: ${msg}`);
  }
}
