// Checks on the merged treefile that a per-file schema cannot express (spec §8.2), with
// upstream's messages. Each diagnostic points at the file and line the value came from.

import type { Diagnostic, Origin } from './errors.ts';
import { normalizeDiagnostics } from './errors.ts';
import { KEYS } from './keys.ts';
import type { KeyOrigins, LoadedTreefile } from './types.ts';

/** Same rule as upstream's add_files_path_is_valid (before the /etc -> /usr/etc move). */
export function addFilesDestIsValid(dest: string): boolean {
  const p = dest.replace(/^\/+/, '');
  return (
    (p.startsWith('usr/') && !p.startsWith('usr/local/')) ||
    ['etc/', 'bin/', 'sbin/', 'lib/', 'lib64/'].some((prefix) => p.startsWith(prefix))
  );
}

function firstOrigin(o: KeyOrigins | undefined): Origin | undefined {
  if (o === undefined) return undefined;
  if (Array.isArray(o)) return o[0];
  if (typeof o.file === 'string' && typeof o.line === 'number') return o as Origin;
  return Object.values(o as Record<string, Origin>)[0];
}

export function semanticDiagnostics(loaded: LoadedTreefile): { errors: Diagnostic[]; warnings: Diagnostic[] } {
  const { treefile: tf, origins, externals } = loaded;
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const scalarOrigin = (key: string): Origin => (origins[key] as Origin | undefined) ?? { file: loaded.files[0] ?? '', line: 0 };
  const elemOrigin = (key: string, i: number): Origin =>
    (origins[key] as Origin[] | undefined)?.[i] ?? scalarOrigin(key);
  const err = (o: Origin, key: string, message: string) => errors.push({ file: o.file, line: o.line, key, message });

  (tf['add-files'] ?? []).forEach(([src, dest], i) => {
    const o = elemOrigin('add-files', i);
    if (!addFilesDestIsValid(dest)) err(o, 'add-files', `Unsupported path in add-files: ${dest}`);
    if (!externals.addFiles.some((f) => f.name === src)) {
      err(o, 'add-files', `source "${src}" has no file: it was declared in an inline conditional-include object`);
    }
  });

  const suffix = tf['automatic-version-suffix'];
  if (suffix !== undefined && !(Buffer.byteLength(suffix) === 1 && suffix.charCodeAt(0) < 0x80)) {
    err(scalarOrigin('automatic-version-suffix'), 'automatic-version-suffix', `Invalid automatic-version-suffix, must be exactly one ASCII character: ${suffix}`);
  }

  const slv = tf['selinux-label-version'];
  if (slv !== undefined && slv !== 0 && slv !== 1) {
    err(scalarOrigin('selinux-label-version'), 'selinux-label-version', `Invalid selinux-label-version: ${slv}`);
  }

  for (const [key, info] of KEYS) {
    if (!info.derivation || !(key in tf)) continue;
    err(firstOrigin(origins[key]) ?? scalarOrigin(key), key, `the following derivation fields are not supported: ${key} (client-side origin key, not valid for a compose)`);
  }

  if (tf['postprocess-script'] !== undefined) {
    const script = externals.postprocessScript;
    if (!script) {
      warnings.push({ ...scalarOrigin('postprocess-script'), key: 'postprocess-script', message: 'ignored: set only by an inline conditional-include object, which has no file' });
    } else if ((script.mode & 0o111) === 0) {
      err(script.origin, 'postprocess-script', 'postprocess-script must be executable');
    }
  }

  if (tf['machineid-compat'] === false && (tf.units ?? []).length > 0) {
    err(elemOrigin('units', 0), 'units', `'units' directive is incompatible with machineid-compat = false`);
  }

  if (tf['preserve-passwd'] ?? true) {
    const pw = tf['check-passwd']?.type === 'file';
    const gr = tf['check-groups']?.type === 'file';
    if (pw && !gr) err(scalarOrigin('check-passwd'), 'check-passwd', 'configured to migrate passwd data from JSON, and group data from commit');
    if (!pw && gr) err(scalarOrigin('check-groups'), 'check-groups', 'configured to migrate passwd data from commit, and group data from JSON');
  }
  for (const [key, slot] of [['check-passwd', 'passwd'], ['check-groups', 'group']] as const) {
    if (tf[key]?.type === 'file' && !externals[slot]) {
      err(scalarOrigin(key), key, 'type: file has no file: it was declared in an inline conditional-include object');
    }
  }

  (tf['remove-from-packages'] ?? []).forEach((entry, i) => {
    for (const re of entry.slice(1)) {
      try {
        new RegExp(re);
      } catch (e) {
        err(elemOrigin('remove-from-packages', i), `remove-from-packages[${i}]`, `invalid regular expression ${JSON.stringify(re)}: ${(e as Error).message}`);
      }
    }
  });

  (tf['remove-files'] ?? []).forEach((p, i) => {
    if (p.startsWith('/')) err(elemOrigin('remove-files', i), 'remove-files', `Invalid absolute path: ${p}`);
    else if (p.includes('..')) err(elemOrigin('remove-files', i), 'remove-files', `Invalid '..' in path: ${p}`);
  });

  return { errors: normalizeDiagnostics(errors), warnings };
}
