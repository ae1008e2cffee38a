import type { JsonObject, JsonValue } from './types.ts';

/** A validation failure inside the state parser; becomes the Parser 422. */
export class StateError extends Error {
  constructor(
    reason: string,
    /** The top-level key to blame, when one is (a duplicate). */
    readonly key?: string,
  ) {
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

/**
 * Whether `name` is a SHA-256 as pantavisor writes it: 64 lower-case hex digits. The one
 * test for state values, `objects/<sha>` file names and API path parameters alike, so an
 * upper-case digest can never be stored under one name and looked up under another.
 */
export function isSha256Name(name: string): boolean {
  return /^[0-9a-f]{64}$/.test(name);
}

export const isSha256 = (value: JsonValue | undefined): value is string => typeof value === 'string' && isSha256Name(value);

/** One top-level member of a state document, with its value's exact source text. */
export interface Member {
  key: string;
  text: string;
}

export interface Document {
  json: JsonObject;
  /** Top-level members in document order, values parsed. */
  entries: Array<[string, JsonValue]>;
  /** The same members with each value's exact source text (what deploy writes and pvtx merges). */
  members: Member[];
}

/**
 * Parses the state text and recovers the top-level key order, duplicates and raw value text,
 * which `JSON.parse` hides: integer-like keys are reordered by JS objects, a repeated key
 * silently keeps its last value (a signature could then cover one copy while the parser
 * reads or deploy writes the other), and inline documents would lose their exact bytes.
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
  const members = topLevelMembers(text);
  const seen = new Set<string>();
  for (const { key } of members) {
    if (seen.has(key)) throw new StateError(`duplicate top-level key ${JSON.stringify(key)}`, key);
    seen.add(key);
  }
  return { json, entries: members.map(({ key }) => [key, json[key] as JsonValue]), members };
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Member scan of text already accepted by JSON.parse, so only well-formed input is seen. */
function topLevelMembers(text: string): Member[] {
  const members: Member[] = [];
  let i = 0;
  const skipWs = (): void => {
    while (i < text.length && isWs(text.charCodeAt(i))) i++;
  };
  const skipString = (): void => {
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = (): void => {
    const first = text[i];
    if (first === '"') return skipString();
    if (first === '{' || first === '[') {
      let depth = 0;
      for (;;) {
        const ch = text[i];
        if (ch === '"') {
          skipString();
          continue;
        }
        i++;
        if (ch === '{' || ch === '[') depth++;
        else if ((ch === '}' || ch === ']') && --depth === 0) return;
      }
    }
    // A scalar (number, true, false, null) at top level ends at a separator or the object's end.
    while (i < text.length && text[i] !== ',' && text[i] !== '}' && !isWs(text.charCodeAt(i))) i++;
  };
  skipWs();
  i++; // '{'
  skipWs();
  if (text[i] === '}') return members;
  for (;;) {
    skipWs();
    const keyStart = i;
    skipString();
    const key = JSON.parse(text.slice(keyStart, i)) as string;
    skipWs();
    i++; // ':'
    skipWs();
    const valueStart = i;
    skipValue();
    members.push({ key, text: text.slice(valueStart, i) });
    skipWs();
    if (text[i] !== ',') return members;
    i++;
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
