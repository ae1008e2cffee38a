/**
 * Value kinds of the configuration table and the text ⇄ value rules of spec §9.1.
 * Parsers return a `ParseResult` instead of throwing so that callers can turn a bad value
 * into a warning (the reference keeps the previous value and carries on).
 */

/** Enum kinds; the array order is the ordinal that GET /config prints. */
export const ENUMS = {
  bootloader: ['uboot', 'uboot-pvk', 'grub', 'rpiab', 'uboot-ab'],
  'init-mode': ['embedded', 'standalone', 'appengine'],
  'power-mode': ['disabled', 'locks', 'managed'],
  secureboot: ['disabled', 'audit', 'lenient', 'strict'],
  timer: ['relative', 'absolute'],
  wdt: ['disabled', 'shutdown', 'startup', 'always'],
} as const satisfies Record<string, readonly string[]>;

export type EnumKind = keyof typeof ENUMS;
export type ValueKind = 'string' | 'int' | 'bool' | 'duration' | 'log-outputs' | EnumKind;

/**
 * PV_LOG_SERVER_OUTPUTS bits. The only value the spec pins is the default: `filetree` plus the
 * implicit update bit must print as 132 = 128 + 4, so update is bit 7 and filetree bit 2. The
 * remaining bits follow the reference's own mask layout (nullsink 0, singlefile 1, stdout 3,
 * stdout.containers 4, stdout.pantavisor 5, stdout_direct 6) so that a mask read from a real
 * device's /config means the same outputs here.
 */
export const LOG_OUTPUT_BITS = {
  nullsink: 1 << 0,
  singlefile: 1 << 1,
  filetree: 1 << 2,
  stdout: 1 << 3,
  'stdout.containers': 1 << 4,
  'stdout.pantavisor': 1 << 5,
  stdout_direct: 1 << 6,
} as const satisfies Record<string, number>;

export type LogOutput = keyof typeof LOG_OUTPUT_BITS;

/** Always OR'ed into the mask; it tells the log server the value was (re)applied. */
export const LOG_OUTPUT_UPDATE_BIT = 1 << 7;

/**
 * In-memory form: strings (null = unset), booleans, and numbers for everything else
 * (int, seconds, enum ordinal, output mask).
 */
export type StoredValue = string | number | boolean | null;

export type ParseResult = { ok: true; value: StoredValue; notes: readonly string[] } | { ok: false; error: string };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

// The reference keeps ints in a C `int`; anything outside would wrap there, so refuse it here.
function parseInt32(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < INT32_MIN || value > INT32_MAX) return undefined;
  // Normalise "-0" so that it prints as "0".
  return value === 0 ? 0 : value;
}

const BOOL_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['yes', true],
  ['on', true],
  ['false', false],
  ['no', false],
  ['off', false],
]);

const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['s', 1],
  ['min', 60],
  ['h', 3600],
  ['d', 86400],
]);

function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+)([a-z]*)$/.exec(text);
  if (!match) return undefined;
  const [, digits = '', unit = ''] = match;
  const factor = DURATION_UNITS.get(unit);
  if (factor === undefined) return undefined;
  const seconds = Number(digits) * factor;
  // Zero is refused on purpose (§9.1): a duration can only be switched off by its default.
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > INT32_MAX) return undefined;
  return seconds;
}

function parseLogOutputs(text: string): { mask: number; unknown: string[] } {
  let mask = LOG_OUTPUT_UPDATE_BIT;
  const unknown: string[] = [];
  for (const raw of text.split(',')) {
    const token = raw.trim();
    // Empty items (",," or a trailing comma) carry no output and are not worth a warning.
    if (token === '') continue;
    const bit = (LOG_OUTPUT_BITS as Record<string, number | undefined>)[token];
    if (bit === undefined) unknown.push(token);
    else mask |= bit;
  }
  return { mask, unknown };
}

function isEnumKind(kind: ValueKind): kind is EnumKind {
  return Object.prototype.hasOwnProperty.call(ENUMS, kind);
}

/** Text → stored value for `kind`. `text` is expected to be trimmed already where the source trims. */
export function parseValue(kind: ValueKind, text: string): ParseResult {
  const fail = (what: string): ParseResult => ({ ok: false, error: `invalid ${what} value '${text}'` });
  switch (kind) {
    case 'string':
      return { ok: true, value: text, notes: [] };
    case 'int': {
      const value = parseInt32(text);
      return value === undefined ? fail('integer') : { ok: true, value, notes: [] };
    }
    case 'bool': {
      const word = BOOL_WORDS.get(text.toLowerCase());
      if (word !== undefined) return { ok: true, value: word, notes: [] };
      const number = parseInt32(text);
      return number === undefined ? fail('boolean') : { ok: true, value: number !== 0, notes: [] };
    }
    case 'duration': {
      const value = parseDuration(text);
      return value === undefined ? fail('duration') : { ok: true, value, notes: [] };
    }
    case 'log-outputs': {
      // Like the reference: unknown items are dropped with a warning, known ones still apply.
      const { mask, unknown } = parseLogOutputs(text);
      return { ok: true, value: mask, notes: unknown.map((token) => `unknown log server output '${token}' ignored`) };
    }
    default: {
      if (!isEnumKind(kind)) return fail(kind);
      const names: readonly string[] = ENUMS[kind];
      // Exact lower-case names only, as in the reference, so a file accepted here is accepted there.
      const ordinal = names.indexOf(text);
      return ordinal < 0 ? fail(kind) : { ok: true, value: ordinal, notes: [] };
    }
  }
}

/** Enum ordinal → name; `undefined` only if the stored value is not a valid ordinal. */
export function enumName(kind: EnumKind, ordinal: number): string | undefined {
  const names: readonly string[] = ENUMS[kind];
  return names[ordinal];
}

export function isEnum(kind: ValueKind): kind is EnumKind {
  return isEnumKind(kind);
}

/**
 * The /config2 text of a value: the reference formats every kind into a 256-byte buffer, so
 * unset strings read "(null)", bools "0"/"1", enums their name and masks their decimal value.
 */
export function formatValue(kind: ValueKind, value: StoredValue): string {
  if (value === null) return '(null)';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'string') return value;
  if (isEnumKind(kind)) return enumName(kind, value) ?? String(value);
  return String(value);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Cut `text` to at most `maxBytes` UTF-8 bytes. The reference cuts bytes (snprintf into a
 * 256-byte buffer); we cut at the last whole code point instead so the JSON stays valid UTF-8.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a sequence start.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}
