/**
 * Path globs of pvs signature headers (`include` / `exclude`).
 *
 * pvr selects the signed keys with doublestar semantics, so the verifier must select
 * exactly the same keys or the payload differs: `*` and `?` stay within one path
 * segment, a `**` segment spans any number of segments (zero included), `[...]`
 * classes and `{a,b}` alternatives work inside a segment. REF uses fnmatch with a
 * special case for a trailing `/**`; the two agree on what pvr writes by default
 * (`<part>/**`, `_config/<part>/**`, `<part>/src.json`) but REF's `**` alone matches
 * nothing and its `**` in mid-pattern only spans one segment — bugs not reproduced.
 */

const cache = new Map<string, RegExp | null>();

/** Whether `path` matches `pattern`; a malformed pattern matches nothing. */
export function globMatch(pattern: string, path: string): boolean {
  let re = cache.get(pattern);
  if (re === undefined) {
    re = compile(pattern);
    cache.set(pattern, re);
  }
  return re !== null && re.test(path);
}

function compile(pattern: string): RegExp | null {
  const segments = pattern.split('/');
  let source = '';
  let needSeparator = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const first = i === 0;
    const last = i === segments.length - 1;
    if (segment === '**') {
      if (first && last) source += '.*';
      else if (first) source += '(?:.*/)?';
      else if (last) source += '(?:/.*)?';
      else source += '/(?:.*/)?';
      needSeparator = false;
      continue;
    }
    if (needSeparator) source += '/';
    const translated = translateSegment(segment);
    if (translated === null) return null;
    source += translated;
    needSeparator = true;
  }
  try {
    return new RegExp(`^${source}$`, 's');
  } catch {
    return null;
  }
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/;

function translateSegment(segment: string): string | null {
  let out = '';
  let braceDepth = 0;
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] ?? '';
    if (ch === '\\') {
      const next = segment[i + 1];
      if (next === undefined) return null;
      out += escapeChar(next);
      i++;
    } else if (ch === '*') {
      out += '[^/]*';
      while (segment[i + 1] === '*') i++;
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end === -1) return null;
      let body = segment.slice(i + 1, end);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      const escaped = body.replace(/[\\\]^]/g, (c) => `\\${c}`);
      out += negate ? `[^/${escaped}]` : `(?!/)[${escaped}]`;
      i = end;
    } else if (ch === '{') {
      braceDepth++;
      out += '(?:';
    } else if (ch === '}' && braceDepth > 0) {
      braceDepth--;
      out += ')';
    } else if (ch === ',' && braceDepth > 0) {
      out += '|';
    } else {
      out += escapeChar(ch);
    }
  }
  return braceDepth === 0 ? out : null;
}

const escapeChar = (ch: string): string => (REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch);
