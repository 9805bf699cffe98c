// `automatic-version-prefix` (spec/treefile.md §2.6): the next version from the prefix and the
// previous build's version. `<date:FMT>` tags are rendered (UTC) from the given time instead of
// the wall clock, so the result is a function of the inputs.

export class VersionError extends Error {}

const PAD = (n: number, w = 2) => String(n).padStart(w, '0');

/** The GLib/strftime subset used in version prefixes. */
export function formatDate(fmt: string, t: Date): string {
  return fmt.replace(/%(.)/g, (m, c: string) => {
    switch (c) {
      case 'Y': return String(t.getUTCFullYear());
      case 'y': return PAD(t.getUTCFullYear() % 100);
      case 'm': return PAD(t.getUTCMonth() + 1);
      case 'd': return PAD(t.getUTCDate());
      case 'e': return String(t.getUTCDate()).padStart(2, ' ');
      case 'H': return PAD(t.getUTCHours());
      case 'M': return PAD(t.getUTCMinutes());
      case 'S': return PAD(t.getUTCSeconds());
      case 'j': {
        const start = Date.UTC(t.getUTCFullYear(), 0, 1);
        return PAD(Math.floor((t.getTime() - start) / 86_400_000) + 1, 3);
      }
      case '%': return '%';
      default: throw new VersionError(`automatic-version-prefix: unsupported date format ${m}`);
    }
  });
}

/**
 * prefix "10", previous "10" → "10.1"; "10.3" → "10.4"; other or none → "10". With a
 * `<date:…>` tag the counter always appears and restarts at 0 when the rendered prefix changes.
 */
export function nextVersion(prefix: string, suffix: string, previous: string | undefined, time: Date): string {
  const suf = suffix === '' ? '.' : suffix;
  let dated = false;
  const rendered = prefix.replace(/<date:([^>]*)>/g, (_m, fmt: string) => {
    dated = true;
    return formatDate(fmt, time);
  });
  const last = previous ?? '';
  let counter: number | undefined;
  if (last === rendered) counter = dated ? undefined : 0;
  else if (last.startsWith(rendered + suf)) {
    const digits = /^[0-9]*/.exec(last.slice(rendered.length + suf.length))![0];
    counter = digits === '' ? 0 : Number(digits);
  }
  if (counter === undefined) return dated ? `${rendered}${suf}0` : rendered;
  return `${rendered}${suf}${counter + 1}`;
}
