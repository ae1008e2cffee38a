/** Log line formats (text, journal, json) and how the format is chosen (src/log.ts). */
import t from 'tap';
import { chooseLogFormat, createLogger, formatLogLine } from '../../src/log.ts';

const NOW = new Date('2026-12-04T10:00:00.123Z');

t.test('text keeps the historical shape; a component other than pv-ctrl prefixes the message', async (t) => {
  t.equal(formatLogLine('text', 'info', 'listening on /x', undefined, NOW), '2026-12-04T10:00:00.123Z [pv-ctrl] INFO listening on /x\n');
  t.equal(formatLogLine('text', 'warn', 'm', { component: 'audit' }, NOW), '2026-12-04T10:00:00.123Z [pv-ctrl] WARN audit: m\n');
});

t.test('journal: syslog priority prefix, no timestamp, one line per event', async (t) => {
  t.equal(formatLogLine('journal', 'error', 'boom', undefined, NOW), '<3>boom\n');
  t.equal(formatLogLine('journal', 'warn', 'careful', undefined, NOW), '<4>careful\n');
  t.equal(formatLogLine('journal', 'info', 'fine', { component: 'audit' }, NOW), '<6>audit: fine\n');
  t.equal(formatLogLine('journal', 'debug', 'two\nlines', undefined, NOW), '<7>two\\nlines\n');
});

t.test('json: one object a line with time, level, component, message, caller and fields', async (t) => {
  const line = formatLogLine('json', 'info', 'PUT /x', { component: 'audit', caller: { container: 'app', pid: 12 }, fields: { status: 200 } }, NOW);
  t.equal(line.endsWith('\n'), true);
  t.equal(line.indexOf('\n'), line.length - 1, 'exactly one line');
  t.same(JSON.parse(line), { time: '2026-12-04T10:00:00.123Z', level: 'info', component: 'audit', message: 'PUT /x', caller: { container: 'app', pid: 12 }, status: 200 });
  t.same(JSON.parse(formatLogLine('json', 'error', 'a\nb "c"', undefined, NOW)), { time: '2026-12-04T10:00:00.123Z', level: 'error', component: 'pv-ctrl', message: 'a\nb "c"' });
  t.same(JSON.parse(formatLogLine('json', 'warn', 'w', { caller: { container: undefined, pid: 5 } }, NOW)).caller, { container: null, pid: 5 }, 'unidentified caller');
});

t.test('the level filter applies to every format', async (t) => {
  const lines: string[] = [];
  const log = createLogger('info', (line) => lines.push(line), 'json');
  log.debug('hidden');
  log.info('shown');
  t.equal(lines.length, 1);
  t.equal(JSON.parse(lines[0] as string).message, 'shown');
});

t.test('format choice: flag, then PV_LOG_FORMAT, then JOURNAL_STREAM naming stderr, else text', async (t) => {
  const stderr = (): { dev: bigint; ino: bigint } => ({ dev: 64769n, ino: 123456789012n });
  t.equal(chooseLogFormat(undefined, {}, stderr), 'text');
  t.equal(chooseLogFormat('json', { PV_LOG_FORMAT: 'text' }, stderr), 'json', 'flag wins');
  t.equal(chooseLogFormat('text', { PV_LOG_FORMAT: 'json' }, stderr), 'text', 'flag wins');
  t.equal(chooseLogFormat(undefined, { PV_LOG_FORMAT: 'json', JOURNAL_STREAM: '64769:123456789012' }, stderr), 'json');
  t.equal(chooseLogFormat(undefined, { JOURNAL_STREAM: '64769:123456789012' }, stderr), 'journal');
  t.equal(chooseLogFormat(undefined, { JOURNAL_STREAM: '64769:1' }, stderr), 'text', 'inherited variable, stderr elsewhere');
  t.equal(chooseLogFormat(undefined, { JOURNAL_STREAM: 'garbage' }, stderr), 'text');
  t.equal(chooseLogFormat(undefined, { JOURNAL_STREAM: '64769:123456789012' }, () => undefined), 'text', 'stderr closed');
  t.equal(chooseLogFormat('yaml', {}, stderr), undefined, 'unknown format');
  t.equal(chooseLogFormat(undefined, { PV_LOG_FORMAT: 'yaml' }, stderr), undefined);
});
