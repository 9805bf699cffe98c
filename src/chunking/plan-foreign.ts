// Previous plans of images made by other tools, so switching to us does not scatter their layout:
//  - rpm-ostree / bootc (`build-chunked-oci`, `container-encapsulate`): every chunk layer descriptor
//    carries the annotation `ostree.components`, the comma-joined *binary* package names of the
//    layer (empty for the reserved layer; none on the commit layer);
//  - chunkah: every layer has a history entry with created_by "chunkah" and a comment of the
//    space-joined component names of the layer, each "<repo>/<name>" (rpm/<source package>,
//    alpm/…, xattr/…, bigfiles/<file name or path>, chunkah/unclaimed).
// Names are mapped to our component ids by a caller-supplied function (undefined = no equivalent);
// the defaults suit ids of the form rpm:<name>. Layers become "ostree-<index>" / "chunkah-<index>"
// (index among the image's layers); a component named in several layers keeps the first.
import type { PreviousPlan } from './types.ts';

export const OSTREE_COMPONENTS_ANNOTATION = 'ostree.components';

export type NameMap = (name: string) => string | undefined;

/**
 * rpm-ostree's names are RPM names (written by our CLI without the `rpm:` prefix, see
 * ostreeComponentName); its synthetic components have no counterpart. A name with ':' cannot be an
 * RPM name: it is one of our own component ids (deb:, rest:, big:, …), written by our CLI.
 */
export const defaultOstreeName: NameMap = (name) =>
  name === 'rpmostree-unpackaged-content' || name === 'initramfs' ? undefined : name.includes(':') ? name : `rpm:${name}`;

/** The name our CLI writes into `ostree.components` for a component id: RPMs as rpm-ostree names them. */
export function ostreeComponentName(id: string): string {
  return id.startsWith('rpm:') ? id.slice(4) : id;
}

/** chunkah's "<repo>/<name>" → "<repo>:<name>" (bigfiles → big); its catch-all has no counterpart. */
export const defaultChunkahName: NameMap = (name) => {
  const slash = name.indexOf('/');
  if (slash <= 0 || slash === name.length - 1) return undefined;
  const repo = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (repo === 'chunkah') return undefined;
  return `${repo === 'bigfiles' ? 'big' : repo}:${rest}`;
};

export function previousFromOstreeLayers(layers: { annotations?: Record<string, string> }[], mapName: NameMap = defaultOstreeName): PreviousPlan {
  if (!layers.some((l) => l.annotations?.[OSTREE_COMPONENTS_ANNOTATION] !== undefined)) {
    throw new Error(`previous image: no layer carries an '${OSTREE_COMPONENTS_ANNOTATION}' annotation (not chunked by rpm-ostree?)`);
  }
  return collect(layers.map((l, i) => ({ name: `ostree-${i}`, names: split(l.annotations?.[OSTREE_COMPONENTS_ANNOTATION], ',') })), mapName);
}

export function previousFromChunkahHistory(
  history: { created_by?: string; comment?: string; empty_layer?: boolean }[],
  mapName: NameMap = defaultChunkahName,
): PreviousPlan {
  const layers: { name: string; names: string[] }[] = [];
  let index = 0;
  for (const h of history) {
    if (h.empty_layer) continue;
    if (h.created_by === 'chunkah') layers.push({ name: `chunkah-${index}`, names: split(h.comment, ' ') });
    index++;
  }
  if (layers.length === 0) throw new Error("previous image: no history entry was created by chunkah (created_by 'chunkah')");
  return collect(layers, mapName);
}

function split(v: string | undefined, sep: string): string[] {
  return v === undefined ? [] : v.split(sep).filter((s) => s !== '');
}

function collect(layers: { name: string; names: string[] }[], mapName: NameMap): PreviousPlan {
  const seen = new Set<string>();
  const out: PreviousPlan = { layers: [] };
  for (const l of layers) {
    const ids: string[] = [];
    for (const n of l.names) {
      const id = mapName(n);
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      ids.push(id);
    }
    if (ids.length) out.layers.push({ name: l.name, components: ids.sort() });
  }
  return out;
}
