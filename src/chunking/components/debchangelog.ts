// Dates of a Debian changelog (`usr/share/doc/<pkg>/changelog.Debian.gz`): every entry ends with a
// trailer line ` -- Name <mail>  Mon, 02 Jan 2023 13:06:21 +0100` (RFC 2822 date).

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

// Lenient on the forms found in real changelogs: doubled spaces, full month names, missing seconds.
const DATE = /(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-])(\d{2})(\d{2})/;

/** Unix seconds of an RFC 2822 date, or undefined when it cannot be read. */
export function parseChangelogDate(text: string): number | undefined {
  const m = DATE.exec(text);
  if (m === null) return undefined;
  const month = MONTHS[m[2].toLowerCase()];
  const day = Number(m[1]);
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? '0')];
  if (month === undefined || day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return undefined;
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 3600 + Number(m[9]) * 60);
  return Date.UTC(Number(m[3]), month, day, h, min, s) / 1000 - offset;
}

/** Dates of all entries with a readable trailer, in file order (newest first in a well-formed file). */
export function changelogDates(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(' -- ')) continue;
    const gt = line.lastIndexOf('>');
    const t = parseChangelogDate(gt < 0 ? line : line.slice(gt + 1));
    if (t !== undefined) out.push(t);
  }
  return out;
}

/** True when `text` starts like a Debian changelog (`pkg (version) dist; urgency=…`). */
export function looksLikeDebianChangelog(text: string): boolean {
  const first = text.split('\n', 1)[0];
  return /^[a-z0-9][a-z0-9+.-]* \([^ )]+\) [^;]*;/.test(first);
}
