// Helpers that make encoded LLB byte-identical to Go's deterministic marshaling:
// ts-proto writes map entries in Object.entries() order, so maps are built with
// keys inserted in Go's order (byte-wise ascending), and JSON attrs are escaped
// like Go's encoding/json.
import { createHash } from 'node:crypto';
import { LlbError } from './errors.ts';

/** `sha256:<hex>` of exactly these bytes: the digest BuildKit expects for an op. */
export function digestOf(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** Go's strings.Compare: byte-wise UTF-8 order (JS `<` compares UTF-16 units). */
import { compareBytewise as compareBytes } from '../util/order.ts';

export { compareBytes };

// JS objects enumerate array-index-like keys ("0", "42") first in numeric order,
// whatever the insertion order; such keys would break the sorted encoding.
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * A plain object whose keys are inserted in byte-wise ascending order, so
 * ts-proto encodes map entries sorted by key like Go does.
 */
export function sortedRecord<V>(entries: Iterable<readonly [string, V]>, what: string): Record<string, V> {
  const list = [...entries];
  for (const [k] of list) {
    if (ARRAY_INDEX.test(k) && Number(k) < 2 ** 32 - 1) {
      throw new LlbError(`${what}: key "${k}" is numeric; numeric map keys cannot be encoded in sorted order`);
    }
  }
  list.sort((x, y) => compareBytes(x[0], y[0]));
  const out: Record<string, V> = {};
  for (const [k, v] of list) {
    if (Object.hasOwn(out, k)) throw new LlbError(`${what}: duplicate key "${k}"`);
    out[k] = v;
  }
  return out;
}

/** JSON array of strings exactly as Go's json.Marshal writes it (HTML-safe escapes). */
export function goJsonStringArray(items: readonly string[]): string {
  return '[' + items.map(goJsonString).join(',') + ']';
}

function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // lone surrogate: Go writes invalid UTF-8 as \ufffd
    else if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}
