// Package entries may hold several requests separated by whitespace; a single-quoted run
// is kept whole ("'podman >= 4.1'"). Same rules as upstream's split_whitespace_unless_quoted,
// including its quirks (an empty '' yields an empty request).

export class PackageSplitError extends Error {}

export function splitPackageEntry(entry: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  const words = (s: string) => s.split(/\s+/).filter((w) => w !== '');
  for (let i = 0; i < entry.length; i++) {
    if (entry[i] !== "'") continue;
    if (quoted) out.push(entry.slice(start, i));
    else out.push(...words(entry.slice(start, i)));
    quoted = !quoted;
    start = i + 1;
  }
  if (quoted) throw new PackageSplitError(`Missing terminating quote: ${entry}`);
  out.push(...words(entry.slice(start)));
  return out;
}

/** Byte-wise (UTF-8) ordering, as Rust's BTreeSet<String> sorts. */
import { compareBytewise as compareBytes } from '../../util/order.ts';

export { compareBytes };
