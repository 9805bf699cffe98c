// Which kind of build file this is, decided from its content: our YAML spec (`rootfs:`), an rpm-ostree
// treefile, or a Containerfile/Dockerfile. Anything else gets an error that says why it matched none.
import { isMap, parseDocument } from 'yaml';
import { BuildFileError } from './errors.ts';
import { KEYS as TREEFILE_KEYS } from './treefile/keys.ts';

export type BuildFileKind = 'spec' | 'treefile' | 'containerfile';

const INSTRUCTIONS = new Set([
  'FROM', 'ARG', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME',
  'USER', 'WORKDIR', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);


export function detectKind(file: string, text: string): BuildFileKind {
  const first = firstContentLine(text);
  if (first && INSTRUCTIONS.has(first.text.split(/\s+/)[0].toUpperCase()) && !/^\s*[\w.-]+\s*:/.test(first.text)) return 'containerfile';
  const json = text.trimStart().startsWith('{');
  const doc = parseDocument(text, { prettyErrors: false });
  // Broken YAML still tells its kind by its top-level keys; the parser of that kind then names the error.
  const keys = !doc.errors.length && isMap(doc.contents)
    ? doc.contents.items.map((p) => String((p.key as { value?: unknown })?.value ?? p.key))
    : [...text.matchAll(/^"?([A-Za-z][\w-]*)"?\s*:/gm)].map((m) => m[1]);
  if (keys.includes('rootfs')) return 'spec';
  if (keys.some((k) => TREEFILE_KEYS.has(k) || /^packages-/.test(k))) return 'treefile';
  const why = !first ? 'it is empty (or only comments)'
    : doc.errors.length && !json ? `it is not YAML (${doc.errors[0].message.split('\n')[0]}) and line ${first.line} does not start with a Dockerfile instruction`
    : `line ${first.line} \`${first.text.slice(0, 80)}\` is neither a Dockerfile instruction nor a known key`;
  throw new BuildFileError(file,
    `cannot tell what kind of build file this is: ${why}. Build files are a compose spec (YAML with \`rootfs:\`), ` +
    'an rpm-ostree treefile (YAML or JSON with keys such as `packages`, `repos`, `include`), or a Containerfile (first instruction FROM or ARG)',
    first ? { range: { startLine: first.line, startCol: 1, endLine: first.line, endCol: first.text.length + 1 } } : {});
}

function firstContentLine(text: string): { line: number; text: string } | undefined {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#') || t === '---') continue;
    return { line: i + 1, text: t };
  }
  return undefined;
}
