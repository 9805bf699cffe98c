// A short fingerprint per component: its version plus the metadata of the entries it claims. Recorded
// in the plan label, it tells the next build which previous layers change anyway, so components can
// be moved between those for free. A differing fingerprint means different layer content; an equal
// one is only a hint (same-size edits are invisible), and the packer only trusts the former.
import { createHash } from 'node:crypto';
import type { FsEntry } from '../rootfs/types.ts';
import type { Component } from './types.ts';
import { UNOWNED_ID } from './units.ts';

/** Hex digits kept: 32 bits, ample to tell versions of one component apart. */
export const FINGERPRINT_HEX = 8;

/** Fingerprint of every component (and of the unowned unit when it holds anything), by id. */
export function componentFingerprints(entries: FsEntry[], components: Component[]): Map<string, string> {
  const byPath = new Map<string, FsEntry>();
  for (const e of entries) byPath.set(e.path, e);
  const out = new Map<string, string>();
  const claimed = new Set<string>();
  for (const c of components) {
    const h = createHash('sha256').update(`v\0${c.version ?? ''}\0`);
    for (const p of [...c.paths].sort()) {
      const e = byPath.get(p);
      if (!e) continue;
      claimed.add(p);
      h.update(entryLine(e));
    }
    out.set(c.id, h.digest('hex').slice(0, FINGERPRINT_HEX));
  }
  const rest = entries.filter((e) => !claimed.has(e.path) && e.kind !== 'dir').sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (rest.length) {
    const h = createHash('sha256').update('v\0\0');
    for (const e of rest) h.update(entryLine(e));
    out.set(UNOWNED_ID, h.digest('hex').slice(0, FINGERPRINT_HEX));
  }
  return out;
}

function entryLine(e: FsEntry): string {
  return `${e.path}\0${e.kind}\0${e.mode}\0${e.uid}\0${e.gid}\0${e.size}\0${e.target ?? ''}\0${e.linkGroup ?? ''}\n`;
}
