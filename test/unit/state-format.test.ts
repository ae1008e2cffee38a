import t from 'tap';
import {
  canonicalJson,
  formatBackoffPolicy,
  formatDuration,
  parseBackoffPolicy,
  parseDuration,
  type JsonValue,
} from '../../src/state/index.ts';

t.test('parseDuration', async (t) => {
  const cases: Array<[string, number | null]> = [
    ['0s', 0],
    ['45s', 45],
    ['5min', 300],
    ['2h', 7200],
    ['90min', 5400],
    ['5m', null],
    ['5', null],
    ['s', null],
    ['-5s', null],
    ['1.5h', null],
    [' 5s', null],
    ['5S', null],
    ['5 min', null],
    ['99999999999999999999h', null],
  ];
  for (const [text, seconds] of cases) t.equal(parseDuration(text), seconds, JSON.stringify(text));
});

t.test('formatDuration uses the largest exact unit', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1s'],
    [59, '59s'],
    [60, '1min'],
    [90, '90s'],
    [600, '10min'],
    [3600, '1h'],
    [5400, '90min'],
    [7200, '2h'],
    [3601, '3601s'],
    [86400, '24h'],
  ];
  for (const [seconds, text] of cases) t.equal(formatDuration(seconds), text, String(seconds));
});

t.test('backoff policies', async (t) => {
  t.same(parseBackoffPolicy('reboot'), { kind: 'reboot' });
  t.same(parseBackoffPolicy('never'), { kind: 'never' });
  t.same(parseBackoffPolicy('120s'), { kind: 'delay', seconds: 120 });
  t.equal(parseBackoffPolicy('Reboot'), null);
  t.equal(parseBackoffPolicy('forever'), null);
  t.equal(formatBackoffPolicy({ kind: 'reboot' }), 'reboot');
  t.equal(formatBackoffPolicy({ kind: 'never' }), 'never');
  t.equal(formatBackoffPolicy({ kind: 'delay', seconds: 120 }), '2min', 'round trip picks the largest unit');
  t.equal(formatBackoffPolicy(parseBackoffPolicy('3600s') ?? { kind: 'never' }), '1h');
});

t.test('canonical JSON (pvr signing form)', async (t) => {
  const cases: Array<[JsonValue, string]> = [
    [{ b: 1, a: [true, false, null] }, '{"a":[true,false,null],"b":1}'],
    [{ nested: { z: 1, y: { x: 2 } } }, '{"nested":{"y":{"x":2},"z":1}}'],
    [2.0, '2'],
    [-0, '0'],
    [1e21, '1000000000000000000000'],
    [1.5, '1.5E0'],
    [-0.001, '-1.0E-3'],
    [123.456, '1.23456E2'],
    [1e-7, '1.0E-7'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\b\t\n\f\r', '"\\b\\t\\n\\f\\r"'],
    ['\u0001\u001f', '"\\u0001\\u001F"'],
    ['</script>&', '"</script>&"'],
    ['\u2028é€😀', '"\u2028é€😀"'],
    ['\ud800', '"\\uD800"'],
    [{ '\u{1F600}': 1, '\uffff': 2 }, '{"\uffff":2,"\u{1F600}":1}'],
  ];
  // Labels are ASCII-escaped: a raw U+2028 in a test name would break the TAP stream.
  const label = (text: string): string =>
    text.replace(/[^\x20-\x7e]/gu, (c) => `<U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase()}>`);
  for (const [value, text] of cases) t.equal(canonicalJson(value), text, label(text));
});
