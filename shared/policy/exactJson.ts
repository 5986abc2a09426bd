import { invalidInput, ok, type Result, refuse } from '../errors.js';

/**
 * JSON parsing that keeps every number as its source text, so "1234.50" or 0.1 reaches decimal.js exactly
 * as written and a float never touches money (JSON.parse would turn 12.345 into a binary approximation).
 */

/** A JSON number literal, kept as written. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonObject = { readonly [key: string]: JsonValue };
export type JsonValue = string | boolean | null | JsonNumber | readonly JsonValue[] | JsonObject;

const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

const LITERALS: readonly (readonly [string, boolean | null])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

class JsonSyntaxError extends Error {}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber)
  );
}

/** Parses one JSON document; numbers become JsonNumber with their exact text. */
export function parseJsonExact(text: string): Result<JsonValue> {
  let at = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${at}`);
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, at)) at += word.length;
    else fail('unexpected token');
  };
  const string = (): string => {
    const start = at;
    at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) fail('unterminated string');
    at++;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      at = start;
      return fail('invalid string');
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skip();
    const c = text[at];
    if (c === '{') {
      at++;
      const object: Record<string, JsonValue> = Object.create(null);
      skip();
      if (text[at] === '}') {
        at++;
        return object;
      }
      for (;;) {
        skip();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        if (Object.hasOwn(object, key)) fail(`duplicate key ${JSON.stringify(key)}`);
        skip();
        if (text[at] !== ':') fail('expected ":"');
        at++;
        object[key] = value(depth + 1);
        skip();
        if (text[at] === ',') at++;
        else if (text[at] === '}') {
          at++;
          return object;
        } else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const array: JsonValue[] = [];
      skip();
      if (text[at] === ']') {
        at++;
        return array;
      }
      for (;;) {
        array.push(value(depth + 1));
        skip();
        if (text[at] === ',') at++;
        else if (text[at] === ']') {
          at++;
          return array;
        } else fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [word, parsed] of LITERALS) {
      if (c === word[0]) {
        literal(word);
        return parsed;
      }
    }
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (match === null) return fail(c === undefined ? 'unexpected end of input' : 'unexpected token');
    at = NUMBER.lastIndex;
    return new JsonNumber(match[0]);
  };
  try {
    const result = value(0);
    skip();
    if (at < text.length) fail('unexpected text after the document');
    return ok(result);
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      return refuse(invalidInput('INVALID_JSON', '$', `invalid JSON: ${error.message}`));
    throw error;
  }
}
