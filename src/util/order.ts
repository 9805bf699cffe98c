// Orderings used wherever output must not depend on input order (sorting is how we get determinism).

/**
 * UTF-8 byte order (what Go, ostree and tar writers use) without encoding: it equals code point order,
 * and UTF-16 code unit order only differs from it where a surrogate meets U+E000..U+FFFF, so
 * surrogates are lifted above the rest of the BMP.
 */
export function compareBytewise(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && x <= 0xdfff) x += 0x10000;
    if (y >= 0xd800 && y <= 0xdfff) y += 0x10000;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/**
 * Depth-first tree order of '/'-separated paths (a directory's children right after it): 'a' < 'a/b'
 * < 'a-c'. This is the order BuildKit writes tar entries in.
 */
export function compareTreeOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x === 47 ? -1 : x) - (y === 47 ? -1 : y);
  }
  return a.length - b.length;
}

/** Parent of a relative '/'-separated path ('' for a top-level name). */
export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}
