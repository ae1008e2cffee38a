import t from 'tap';
import { ENUMS, LOG_OUTPUT_BITS, LOG_OUTPUT_UPDATE_BIT } from '../../src/config/index.ts';
import { formatValue, parseValue, truncateUtf8, type ParseResult, type ValueKind } from '../../src/config/values.ts';

function value(kind: ValueKind, text: string): unknown {
  const parsed: ParseResult = parseValue(kind, text);
  return parsed.ok ? parsed.value : 'REFUSED';
}

t.test('bool: words in any case, or an integer', async (t) => {
  for (const word of ['true', 'TRUE', 'Yes', 'on', '1', '42', '-1', '+3']) t.equal(value('bool', word), true, word);
  for (const word of ['false', 'No', 'OFF', '0', '-0', '000']) t.equal(value('bool', word), false, word);
  for (const word of ['', 'y', 'n', 'enabled', '1.0', '0x1', ' 1', '1 ']) t.equal(value('bool', word), 'REFUSED', JSON.stringify(word));
});

t.test('int: whole decimal, C int range', async (t) => {
  t.equal(value('int', '0'), 0);
  t.equal(value('int', '-1'), -1);
  t.equal(value('int', '+17'), 17);
  t.equal(value('int', '007'), 7);
  t.equal(value('int', '2147483647'), 2147483647);
  t.equal(value('int', '-2147483648'), -2147483648);
  t.equal(Object.is(value('int', '-0'), 0), true, '-0 normalised');
  for (const text of ['', ' ', '1.5', '1e3', '0x10', '12abc', '2147483648', '-2147483649', '--1', 'NaN', 'Infinity']) {
    t.equal(value('int', text), 'REFUSED', JSON.stringify(text));
  }
});

t.test('duration: bare seconds or one unit; zero and negatives refused', async (t) => {
  t.equal(value('duration', '90'), 90);
  t.equal(value('duration', '30s'), 30);
  t.equal(value('duration', '10min'), 600);
  t.equal(value('duration', '1h'), 3600);
  t.equal(value('duration', '1d'), 86400);
  t.equal(value('duration', '24856d'), 'REFUSED', 'beyond a C int of seconds');
  for (const text of ['0', '0s', '0min', '-1', '-1h', '', 'h', '1m', '1H', '1 h', '1.5h', '1h30min', '10sec']) {
    t.equal(value('duration', text), 'REFUSED', JSON.stringify(text));
  }
});

t.test('enums: exact lower-case names, stored as ordinals', async (t) => {
  t.same(ENUMS.bootloader, ['uboot', 'uboot-pvk', 'grub', 'rpiab', 'uboot-ab']);
  t.same(ENUMS['init-mode'], ['embedded', 'standalone', 'appengine']);
  t.same(ENUMS['power-mode'], ['disabled', 'locks', 'managed']);
  t.same(ENUMS.secureboot, ['disabled', 'audit', 'lenient', 'strict']);
  t.same(ENUMS.timer, ['relative', 'absolute']);
  t.same(ENUMS.wdt, ['disabled', 'shutdown', 'startup', 'always']);
  t.equal(value('bootloader', 'uboot-ab'), 4);
  t.equal(value('init-mode', 'appengine'), 2);
  t.equal(value('secureboot', 'strict'), 3);
  t.equal(value('wdt', 'always'), 3);
  t.equal(value('timer', 'absolute'), 1);
  t.equal(value('power-mode', 'managed'), 2);
  for (const text of ['Appengine', 'APPENGINE', '2', '', 'app engine']) t.equal(value('init-mode', text), 'REFUSED', text);
  t.equal(formatValue('wdt', 0), 'disabled');
  t.equal(formatValue('power-mode', 1), 'locks');
});

t.test('log server outputs: bits, implicit update bit, unknown items dropped with a note', async (t) => {
  t.equal(LOG_OUTPUT_UPDATE_BIT, 128);
  t.equal(LOG_OUTPUT_BITS.filetree + LOG_OUTPUT_UPDATE_BIT, 132, 'the default prints as 132');
  const bits = Object.values(LOG_OUTPUT_BITS);
  t.equal(new Set(bits).size, bits.length, 'distinct bits');
  t.ok(bits.every((bit) => (bit & LOG_OUTPUT_UPDATE_BIT) === 0), 'none collides with the update bit');
  t.equal(value('log-outputs', 'filetree'), 132);
  t.equal(value('log-outputs', 'singlefile,filetree'), 134);
  t.equal(value('log-outputs', 'nullsink'), 129);
  t.equal(value('log-outputs', 'stdout'), 136);
  t.equal(value('log-outputs', 'stdout.containers, stdout.pantavisor'), 128 + 16 + 32);
  t.equal(value('log-outputs', 'stdout_direct'), 192);
  t.equal(value('log-outputs', ''), 128, 'nothing but the update bit');
  const parsed = parseValue('log-outputs', 'filetree,bogus,,FILETREE');
  t.ok(parsed.ok);
  if (parsed.ok) {
    t.equal(parsed.value, 132);
    t.equal(parsed.notes.length, 2, 'bogus and FILETREE are unknown (names are case-sensitive)');
  }
  t.equal(formatValue('log-outputs', 134), '134');
});

t.test('strings are taken as they are; formatting for /config2', async (t) => {
  t.equal(value('string', ''), '');
  t.equal(value('string', ' a = b # c '), ' a = b # c ');
  t.equal(formatValue('string', null), '(null)');
  t.equal(formatValue('bool', true), '1');
  t.equal(formatValue('bool', false), '0');
  t.equal(formatValue('int', -1), '-1');
  t.equal(formatValue('duration', 3600), '3600');
});

t.test('UTF-8 truncation keeps whole code points', async (t) => {
  t.equal(truncateUtf8('abc', 255), 'abc');
  t.equal(truncateUtf8('abcdef', 3), 'abc');
  t.equal(truncateUtf8('aé', 2), 'a', 'two-byte é does not fit');
  t.equal(truncateUtf8('aé', 3), 'aé');
  t.equal(truncateUtf8('a😀', 4), 'a', 'four-byte emoji does not fit');
  t.equal(truncateUtf8('a😀b', 5), 'a😀');
});
