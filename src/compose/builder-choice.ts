// Which image runs dnf for a treefile build: the COMPOSE_BUILDER_IMAGE build arg when given, else
// the distro's own image, derived from the merged treefile (releasever, or variables.distro as in
// CentOS/centos-bootc). The distro image brings the dnf/dnf5 and rpm that match the packages.

import { TreefileError } from './treefile/errors.ts';
import type { LoadedTreefile, Treefile } from './treefile/types.ts';

export const BUILDER_IMAGE_ARG = 'COMPOSE_BUILDER_IMAGE';

export interface BuilderChoice {
  /** Image reference as the user or the mapping wrote it. */
  ref: string;
  /** Why this image: `build arg COMPOSE_BUILDER_IMAGE` or `default for releasever 42`. */
  reason: string;
  /** True when the user named the image. */
  explicit: boolean;
}

const FEDORA = 'quay.io/fedora/fedora';
const CENTOS = 'quay.io/centos/centos';

/** The distro image for one releasever-like value; undefined when it names no known distro. */
export function distroImage(value: string | number): string | undefined {
  const v = String(value);
  // Fedora releases are plain numbers (releasever: 42) or rawhide.
  if (/^[1-9][0-9]*$/.test(v) || v === 'rawhide') return `${FEDORA}:${v}`;
  // CentOS Stream: releasever: stream9 / stream10 (CentOS/centos-bootc).
  if (/^stream[1-9][0-9]*$/.test(v)) return `${CENTOS}:${v}`;
  return undefined;
}

/** The default builder image for a merged treefile, with the key it was derived from. */
export function defaultBuilderImage(tf: Treefile): { ref: string; key: string; value: string | number } | undefined {
  if (tf.releasever !== undefined) {
    const ref = distroImage(tf.releasever);
    if (ref) return { ref, key: 'releasever', value: tf.releasever };
  }
  const distro = tf.variables?.distro;
  if (typeof distro === 'string' || typeof distro === 'number') {
    const ref = distroImage(distro);
    if (ref) return { ref, key: 'variables.distro', value: distro };
  }
  return undefined;
}

const USE_ARG = `pass --build-arg ${BUILDER_IMAGE_ARG}=<image with dnf or dnf5 and rpm>`;

/** The builder image for a build: the build arg, else the distro default, else an error naming why. */
export function chooseBuilderImage(loaded: LoadedTreefile, buildArg: string | undefined): BuilderChoice {
  if (buildArg !== undefined && buildArg.trim() !== '') {
    return { ref: buildArg.trim(), reason: `build arg ${BUILDER_IMAGE_ARG}`, explicit: true };
  }
  const d = defaultBuilderImage(loaded.treefile);
  if (d) return { ref: d.ref, reason: `default for ${d.key} ${JSON.stringify(d.value)}`, explicit: false };
  const rv = loaded.treefile.releasever;
  const origin = loaded.origins.releasever;
  const at = origin && !Array.isArray(origin) && 'file' in origin ? { file: String(origin.file), line: Number(origin.line) } : { file: loaded.files[0] ?? 'treefile', line: 0 };
  const why = rv === undefined
    ? 'releasever is not set, so there is no distro to take a builder image from'
    : `releasever ${JSON.stringify(rv)} names no distro with a known builder image (Fedora: a number such as 42; CentOS Stream: stream9, stream10)`;
  throw new TreefileError([{ file: at.file, line: at.line, key: 'releasever', message: `${why}; ${USE_ARG}` }]);
}

/** The message when BuildKit cannot resolve (pull) the chosen builder image. */
export function builderUnavailableMessage(treefile: string, choice: BuilderChoice, reason: string): string {
  return `${treefile}: cannot resolve the builder image ${choice.ref} (${choice.reason}): ${reason.trim().split('\n')[0]}. `
    + `The builder image runs dnf: make ${choice.ref} reachable, or ${USE_ARG}`;
}
