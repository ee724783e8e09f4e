/**
 * Generates the chart README's values table from values.yaml's comments, cert-manager style: the
 * comment block above each key is its documentation. `+docs:section=<title>` starts a new section and
 * `+docs:leaf` documents an object as one value (for Kubernetes pass-through blocks like resources).
 * Keys without a comment are an error, so every value stays documented.
 */
import { isMap, isScalar, isSeq, type Pair, parseDocument, type YAMLMap } from 'yaml';

export interface ValueDoc {
  key: string;
  type: string;
  default: string;
  description: string;
}

export interface ValuesSection {
  title: string;
  values: ValueDoc[];
}

const TAG = /^\+docs:(\w+)(?:=(.*))?$/;

interface CommentInfo {
  description: string;
  section?: string;
  leaf: boolean;
}

function readComment(raw: string | null | undefined): CommentInfo {
  const info: CommentInfo = { description: '', leaf: false };
  const prose: string[] = [];
  for (const line of (raw ?? '').split('\n')) {
    const text = line.replace(/^ ?/, '').trimEnd();
    const tag = TAG.exec(text.trim());
    if (tag?.[1] === 'section') info.section = (tag[2] ?? '').trim();
    else if (tag?.[1] === 'leaf') info.leaf = true;
    else if (tag) throw new Error(`unknown comment tag +docs:${tag[1]}`);
    else prose.push(text);
  }
  // The section tag may sit in its own comment block before the key's own comment; only the prose
  // after the last blank line belongs to the key.
  const lastBlank = prose.lastIndexOf('');
  info.description = prose
    .slice(lastBlank + 1)
    .join('\n')
    .trim();
  return info;
}

function typeOf(value: unknown): string {
  if (isMap(value)) return 'object';
  if (isSeq(value)) return 'array';
  if (isScalar(value)) {
    const v = value.value;
    if (v === null) return 'null';
    if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
    return typeof v;
  }
  return 'unknown';
}

function defaultOf(value: unknown): string {
  if (isScalar(value)) return JSON.stringify(value.value);
  if (isMap(value) || isSeq(value)) return JSON.stringify(value.toJSON());
  return '';
}

/** Reads the documented values, in file order, grouped by section. */
export function documentedValues(valuesYaml: string): ValuesSection[] {
  const doc = parseDocument(valuesYaml);
  if (!isMap(doc.contents)) throw new Error('values.yaml must be a map');
  const sections: ValuesSection[] = [];
  let current: ValuesSection = { title: 'Values', values: [] };
  sections.push(current);

  const visit = (map: YAMLMap, prefix: string, commentBefore: (p: Pair, i: number) => string | undefined) => {
    map.items.forEach((pair, i) => {
      const keyNode = pair.key;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const path = prefix ? `${prefix}.${key}` : key;
      const info = readComment(commentBefore(pair, i));
      if (info.section !== undefined) {
        current = { title: info.section, values: [] };
        sections.push(current);
      }
      const value = pair.value;
      if (isMap(value) && value.items.length > 0 && !info.leaf) {
        // The first nested key's comment is attached to the map itself.
        visit(value, path, (p, j) => {
          const own = isScalar(p.key) ? p.key.commentBefore : undefined;
          return j === 0 ? [value.commentBefore, own].filter(Boolean).join('\n') : (own ?? undefined);
        });
        return;
      }
      if (info.description === '') throw new Error(`values.yaml: ${path} has no comment documenting it`);
      current.values.push({
        key: path,
        type: typeOf(value),
        default: defaultOf(value),
        description: info.description,
      });
    });
  };
  // The first key's comment is attached to the document, not to the key.
  visit(doc.contents, '', (p, i) => {
    const own = isScalar(p.key) ? p.key.commentBefore : undefined;
    if (i === 0) return [doc.commentBefore, own].filter(Boolean).join('\n');
    return own ?? undefined;
  });
  return sections.filter((s) => s.values.length > 0);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

/** Prose lines become one paragraph; "For example:" blocks keep their lines. */
function descriptionCell(description: string): string {
  const [prose, example] = description.split(/\nFor example:\n/);
  const text = (prose ?? '').replace(/\s*\n\s*/g, ' ');
  if (example === undefined) return cell(text);
  const code = example
    .split('\n')
    .map((l) => l.replace(/^ {2}/, ''))
    .join('\n');
  return `${cell(text)}<br>For example:<pre>${cell(code.replace(/</g, '&lt;'))}</pre>`;
}

export function valuesTableMarkdown(sections: ValuesSection[]): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push(`### ${s.title}`, '', '| Key | Type | Default | Description |', '|---|---|---|---|');
    for (const v of s.values) {
      out.push(`| \`${v.key}\` | ${v.type} | \`${cell(v.default)}\` | ${descriptionCell(v.description)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

export const TABLE_BEGIN =
  '<!-- values-table:begin (generated by scripts/chart-generate.ts from values.yaml; do not edit) -->';
export const TABLE_END = '<!-- values-table:end -->';

/** Replaces the generated region of the README with the table for `valuesYaml`. */
export function readmeWithValuesTable(readme: string, valuesYaml: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`README.md must contain ${TABLE_BEGIN} ... ${TABLE_END}`);
  const table = valuesTableMarkdown(documentedValues(valuesYaml));
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n\n${table}\n${readme.slice(end)}`;
}
