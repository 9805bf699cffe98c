// YAML parsing that keeps source positions, so every error can name file:line and the key path.
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { BuildFileError, type SourceRange } from './errors.ts';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function parseYaml(file: string, text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const [start, end] = err.pos;
    throw new BuildFileError(file, `invalid YAML: ${err.message.split('\n')[0]}`, { range: rangeOf(lines, start, end) });
  }
  return { file, doc, lines };
}

export function rangeOf(lines: LineCounter, start: number, end: number): SourceRange {
  const a = lines.linePos(start);
  const b = lines.linePos(Math.max(start, end - 1));
  return { startLine: a.line, startCol: a.col, endLine: b.line, endCol: b.col };
}

/** Range of the node at `path`; with `key`, of the map key itself. Falls back to the nearest parent. */
export function rangeAt(src: YamlSource, path: (string | number)[], key = false): SourceRange | undefined {
  let node: unknown = src.doc.contents;
  let best: Node | undefined = isNodeLike(node) ? node : undefined;
  for (let i = 0; i < path.length; i++) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const items = (node as { items: { key?: unknown; value?: unknown }[] }).items;
    const seg = path[i];
    let next: unknown;
    if (isMap(node)) {
      const pair = items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (key && i === path.length - 1 && isNodeLike(pair.key)) return nodeRange(src, pair.key);
      next = pair.value;
    } else {
      next = items[Number(seg)];
    }
    if (!isNodeLike(next)) break;
    node = next;
    best = next;
  }
  return best ? nodeRange(src, best) : undefined;
}

function isNodeLike(n: unknown): n is Node {
  return !!n && typeof n === 'object' && 'range' in n && Array.isArray((n as Node).range);
}

function nodeRange(src: YamlSource, n: Node): SourceRange | undefined {
  return n.range ? rangeOf(src.lines, n.range[0], n.range[1]) : undefined;
}

export function keyPath(path: (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
}
