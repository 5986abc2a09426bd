/**
 * Reads the subset of YAML that deploy/compose.yaml is written in, for compose.unit.spec.ts (the project
 * has no YAML library among its dependencies): block mappings and sequences by indentation, one-line flow
 * sequences of scalars, plain and quoted scalars (all kept as strings, as compose reads most of them), an
 * empty value as null, and `#` comments. Anything else (anchors, aliases, tags, block scalars, flow
 * mappings, flows over several lines, tabs, documents) throws: the test then fails instead of reading the
 * file wrong.
 */
export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  readonly indent: number;
  readonly text: string;
  readonly number: number;
}

const KEY = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/;

export function parseComposeYaml(source: string): YamlValue {
  const lines: Line[] = [];
  for (const [index, raw] of source.split('\n').entries()) {
    if (raw.includes('\t')) throw new Error(`line ${index + 1}: a tab`);
    const text = withoutComment(raw).trimEnd();
    if (text.trim() === '') continue;
    if (text.startsWith('---') || text.startsWith('...')) throw new Error(`line ${index + 1}: documents`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), number: index + 1 });
  }
  let at = 0;
  const fail = (line: Line | undefined, why: string): never => {
    throw new Error(`line ${line?.number ?? 'end'}: ${why}`);
  };
  const isItem = (text: string) => text === '-' || text.startsWith('- ');

  const block = (): YamlValue => {
    const first = lines[at] as Line;
    return isItem(first.text) ? sequence(first.indent) : mapping(first.indent);
  };
  // What follows `key:` or `-` with nothing after it: a deeper block, a sequence at the key's own
  // indentation (`key:` then `- item`), or nothing (null).
  const nested = (indent: number, sequenceAtSameIndent: boolean): YamlValue => {
    const next = lines[at];
    if (next === undefined) return null;
    if (next.indent > indent) return block();
    if (sequenceAtSameIndent && next.indent === indent && isItem(next.text)) return sequence(indent);
    return null;
  };
  const mapping = (indent: number): { [key: string]: YamlValue } => {
    const map: { [key: string]: YamlValue } = {};
    for (let line = lines[at]; line && line.indent === indent && !isItem(line.text); line = lines[at]) {
      const match = KEY.exec(line.text) ?? fail(line, `not a key: ${line.text}`);
      const key = match[1] as string;
      if (Object.hasOwn(map, key)) fail(line, `${key} twice`);
      at++;
      const rest = match[2] ?? '';
      map[key] = rest === '' ? nested(indent, true) : scalarOrFlow(rest, line);
    }
    const after = lines[at];
    if (after && after.indent > indent) fail(after, 'indented deeper than its mapping');
    return map;
  };
  const sequence = (indent: number): YamlValue[] => {
    const items: YamlValue[] = [];
    for (let line = lines[at]; line && line.indent === indent && isItem(line.text); line = lines[at]) {
      const afterDash = line.text.slice(1);
      const rest = afterDash.trim();
      if (rest === '') {
        at++;
        items.push(nested(indent, false));
      } else if (KEY.test(rest)) {
        // A mapping item: its first key on the dash's line, the others at that key's column.
        const column = line.indent + 1 + (afterDash.length - afterDash.trimStart().length);
        lines[at] = { indent: column, text: rest, number: line.number };
        items.push(mapping(column));
      } else {
        at++;
        items.push(scalarOrFlow(rest, line));
      }
    }
    return items;
  };
  const scalarOrFlow = (text: string, line: Line): YamlValue => {
    if (text.startsWith('[')) {
      if (!text.endsWith(']')) fail(line, 'a flow sequence must close on its line');
      return splitFlow(text.slice(1, -1), line).map((item) => scalar(item, line));
    }
    return scalar(text, line);
  };

  if (lines.length === 0) return null;
  const value = block();
  if (at < lines.length) fail(lines[at], 'left over');
  return value;
}

function scalar(text: string, line: Line): string {
  const fail = (why: string): never => {
    throw new Error(`line ${line.number}: ${why}`);
  };
  if (text.startsWith('"')) {
    if (text.length < 2 || !text.endsWith('"')) fail('an unclosed double-quoted scalar');
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'")) {
    if (text.length < 2 || !text.endsWith("'")) fail('an unclosed single-quoted scalar');
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (/^[{&*!|>%@`]/.test(text)) fail(`not in the subset this reader knows: ${text}`);
  return text;
}

/** The items of a one-line flow sequence, split at commas outside quotes; a trailing comma is allowed. */
function splitFlow(inner: string, line: Line): string[] {
  const items: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] as string;
    if (quote) {
      current += c;
      if (c === '\\' && quote === '"') current += inner[++i] ?? '';
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === ',') {
      items.push(current.trim());
      current = '';
    } else if (c === '[' || c === '{') {
      throw new Error(`line ${line.number}: nested flows`);
    } else current += c;
  }
  if (quote) throw new Error(`line ${line.number}: an unclosed quote`);
  if (current.trim() !== '') items.push(current.trim());
  if (items.some((item) => item === '')) throw new Error(`line ${line.number}: an empty flow item`);
  return items;
}

/** The line without its comment: `#` at the start or after a space, outside a quoted scalar. */
function withoutComment(raw: string): string {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[,]/.test(raw[i - 1] as string))) quote = c;
    else if (c === '#' && (i === 0 || raw[i - 1] === ' ')) return raw.slice(0, i);
  }
  return raw;
}
