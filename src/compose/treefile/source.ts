// Parses one treefile's bytes (YAML 1.2 core schema, or JSON) and keeps node positions so
// every later error can name the line of the offending key or element.

import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { TreefileError } from './errors.ts';

export type TreefileFormat = 'yaml' | 'json';

export type PathSegment = string | number;

export interface ParsedSource {
  file: string;
  format: TreefileFormat;
  value: unknown;
  /** 1-based line of the value at `path` (for a map entry: the line of its key); 0 if unknown. */
  lineOf(path: readonly PathSegment[]): number;
}

/** Upstream: basename ending in .yaml/.yml is YAML, anything else JSON. */
export function formatOf(file: string): TreefileFormat {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base.endsWith('.yaml') || base.endsWith('.yml') ? 'yaml' : 'json';
}

/** Render a key path as `a.b[2].c`. */
export function keyPath(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number' || /^\d+$/.test(seg)) s += `[${seg}]`;
    else s += s === '' ? seg : `.${seg}`;
  }
  return s;
}

export function parseSource(file: string, bytes: Uint8Array): ParsedSource {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TreefileError([{ file, line: 0, key: '', message: 'file is not valid UTF-8' }]);
  }
  if (file.endsWith('.ks')) {
    throw new TreefileError([{ file, line: 0, key: '', message: 'kickstart (.ks) treefiles are not supported; use YAML or JSON' }]);
  }
  const format = formatOf(file);
  const lc = new LineCounter();
  const lineAt = (offset: number) => lc.linePos(offset).line;

  let value: unknown;
  let doc: Document.Parsed | undefined;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const m = /\(line (\d+) column \d+\)/.exec(msg);
      const lineNo = m ? Number(m[1]) : 0;
      throw new TreefileError([{ file, line: lineNo, key: '', message: `invalid JSON: ${msg.replace(/ in JSON at position.*$/, '')}` }]);
    }
    // JSON is YAML 1.2: reparse only for positions and duplicate-key detection.
    doc = parseDocument(text, { schema: 'json', uniqueKeys: true, lineCounter: lc, prettyErrors: false });
    const dup = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
    if (dup) {
      throw new TreefileError([{ file, line: lineAt(dup.pos[0]), key: '', message: 'duplicate key in JSON object' }]);
    }
    if (doc.errors.length > 0) doc = undefined; // valid JSON the YAML parser dislikes: lines unknown
  } else {
    doc = parseDocument(text, {
      version: '1.2',
      schema: 'core',
      uniqueKeys: true,
      lineCounter: lc,
      prettyErrors: false,
      strict: true,
    });
    if (doc.errors.length > 0) {
      throw new TreefileError(
        doc.errors.map((e) => ({
          file,
          line: lineAt(e.pos[0]),
          key: '',
          message: `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        })),
      );
    }
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      throw new TreefileError([{ file, line: 0, key: '', message: `YAML: ${(e as Error).message}` }]);
    }
  }

  const lineOf = (path: readonly PathSegment[]): number => {
    if (!doc) return 0;
    let node: unknown = doc.contents;
    let line = node && (node as YamlNode).range ? lineAt((node as YamlNode).range![0]) : 1;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return line;
        const k = pair.key as YamlNode;
        if (k.range) line = lineAt(k.range[0]);
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (!item) return line;
        if ((item as YamlNode).range) line = lineAt((item as YamlNode).range![0]);
        node = item;
      } else {
        return line;
      }
    }
    return line;
  };

  return { file, format, value, lineOf };
}
