import type { JsonObject, JsonValue } from './types.ts';

/** A validation failure inside the state parser; becomes the Parser 422. */
export class StateError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StateError';
  }
}

export const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Own-property lookup, so keys such as `__proto__` or `constructor` never hit the prototype. */
export function own(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export const SHA256_RE = /^[0-9a-f]{64}$/;
export const isSha256 = (value: JsonValue | undefined): value is string =>
  typeof value === 'string' && SHA256_RE.test(value);

export interface Document {
  json: JsonObject;
  entries: Array<[string, JsonValue]>;
}

/**
 * Parses the state text and recovers the top-level key order and duplicates, which
 * `JSON.parse` hides: integer-like keys are reordered by JS objects and a repeated key
 * silently keeps its last value (a signature could then cover one copy while the parser
 * reads the other).
 */
export function readDocument(text: string): Document {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StateError(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StateError('top level is not a JSON object');
  }
  const json = parsed as JsonObject;
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  const entries: Array<[string, JsonValue]> = [];
  for (const key of keys) {
    if (seen.has(key)) throw new StateError(`duplicate top-level key ${JSON.stringify(key)}`);
    seen.add(key);
    entries.push([key, json[key] as JsonValue]);
  }
  return { json, entries };
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Key scan of text already accepted by JSON.parse, so only well-formed input is seen. */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let i = 0;
  const skipWs = (): void => {
    while (i < text.length && isWs(text.charCodeAt(i))) i++;
  };
  const readString = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const skipValue = (): void => {
    const first = text[i];
    if (first === '"') {
      readString();
      return;
    }
    if (first === '{' || first === '[') {
      let depth = 0;
      for (;;) {
        const ch = text[i];
        if (ch === '"') {
          readString();
          continue;
        }
        i++;
        if (ch === '{' || ch === '[') depth++;
        else if ((ch === '}' || ch === ']') && --depth === 0) return;
      }
    }
    while (i < text.length && text[i] !== ',' && text[i] !== '}' && !isWs(text.charCodeAt(i))) i++;
  };
  skipWs();
  i++; // '{'
  skipWs();
  if (text[i] === '}') return keys;
  for (;;) {
    skipWs();
    keys.push(readString());
    skipWs();
    i++; // ':'
    skipWs();
    skipValue();
    skipWs();
    if (text[i] === ',') {
      i++;
      continue;
    }
    return keys;
  }
}

/**
 * Canonical JSON as produced by pvr when it signs (gibson042 canonical form): members
 * sorted by code point, no whitespace, minimal string escapes with upper-case `\u`
 * hex, integers as plain digits and other numbers in capital-E exponential notation.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return canonicalNumber(value);
  if (typeof value === 'string') return canonicalString(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort(compareCodePoints);
  return `{${keys.map((k) => `${canonicalString(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error('non-finite number has no JSON form');
  if (Number.isInteger(n)) return Object.is(n, -0) ? '0' : BigInt(n).toString();
  const [mantissa = '', exponent = ''] = n.toExponential().split('e');
  const digits = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${digits}E${exponent.startsWith('+') ? exponent.slice(1) : exponent}`;
}

const SHORT_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };

function canonicalString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      out += s[i] + (s[i + 1] ?? '');
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += `\\u${c.toString(16).toUpperCase()}`;
    else out += s[i];
  }
  return `${out}"`;
}

const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Code-point order; plain `<` compares UTF-16 units, which misorders astral characters. */
export function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}
