/**
 * Log formats of the real daemon (docs/operations.md "Logs"): JSON lines (`--log-format json`,
 * PV_LOG_FORMAT=json, the flag winning), journald priority prefixes when stderr is the
 * JOURNAL_STREAM, and the audit trail: one info line per state-changing request, failed ones
 * included with their status; reads only at debug.
 */
import t from 'tap';
import { rawRequest } from '../helpers/raw-http.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

interface JsonLine {
  time: string;
  level: string;
  component: string;
  message: string;
  caller?: { container: string | null; pid: number };
  method?: string;
  route?: string;
  target?: string;
  status?: number;
  duration_ms?: number;
}

function jsonLines(daemon: TestDaemon): JsonLine[] {
  return daemon
    .log()
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as JsonLine);
}

/** State changes and reads, some failing; returns what an audit trail must show. */
async function traffic(socket: string): Promise<{ method: string; target: string; status: number }[]> {
  const sent = [
    { method: 'PUT', target: '/user-meta/colour', body: 'blue' },
    { method: 'DELETE', target: '/user-meta/colour' },
    { method: 'DELETE', target: '/user-meta/never-set' },
    { method: 'PUT', target: '/device-meta/too-big', body: 'x'.repeat(70_000) },
    { method: 'POST', target: '/commands', body: '{"op":"NO_SUCH_OP","payload":""}' },
    { method: 'PUT', target: '/no/such/route', body: 'x' },
  ];
  const expected: { method: string; target: string; status: number }[] = [];
  for (const request of sent) {
    const response = await rawRequest(socket, request.method, request.target, request.body === undefined ? {} : { body: request.body });
    expected.push({ method: request.method, target: request.target, status: response.status });
  }
  for (const target of ['/containers', '/user-meta', '/nothing-here']) await rawRequest(socket, 'GET', target);
  return expected;
}

/** The log is written as requests finish; wait (bounded) until `count` lines satisfy `probe`. */
async function waitForLines(daemon: TestDaemon, probe: (text: string) => number, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (probe(daemon.log()) < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}

t.test('--log-format json: every line is one JSON object; one audit line per state change', async (t) => {
  // The flag wins over the environment.
  const daemon = await startTestDaemon({ args: ['--log-format', 'json'], env: { PV_LOG_FORMAT: 'text' } });
  t.teardown(() => daemon.dispose());
  const expected = await traffic(daemon.socket);
  t.same(
    expected.map((entry) => entry.status),
    [200, 200, 404, 507, 400, 400],
    'the requests succeeded and failed as intended',
  );
  await waitForLines(daemon, (text) => (text.match(/"component":"audit"/g) ?? []).length, expected.length);
  const lines = jsonLines(daemon);
  for (const line of lines) {
    t.match(line, { time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, level: /^(error|warn|info|debug)$/, component: String, message: String });
  }
  const audit = lines.filter((line) => line.component === 'audit');
  t.same(
    audit.map((line) => ({ method: line.method, target: line.target, status: line.status })),
    expected,
    'exactly one audit line per state-changing request, in order, with its status',
  );
  for (const line of audit) {
    t.equal(line.level, 'info');
    t.equal(line.caller?.container, '_pv_', 'caller named (also on an unmatched route)');
    t.ok(Number.isInteger(line.caller?.pid) && (line.caller?.pid ?? 0) > 0, 'caller pid');
    t.ok(typeof line.duration_ms === 'number' && line.duration_ms >= 0, 'duration');
    t.match(line.message, `${line.method} ${line.target} route=${line.route} status=${line.status} duration_ms=`);
  }
  t.same(
    audit.map((line) => line.route),
    ['/user-meta/{}', '/user-meta/{}', '/user-meta/{}', '/device-meta/{}', '/commands', 'unmatched'],
    'route patterns, not raw paths',
  );
  const reads = lines.filter((line) => line.component === 'request');
  t.same(
    // Only the test's own reads: the start-up self-check and pv-xconnect read too.
    reads.filter((line) => ['/containers', '/user-meta', '/nothing-here'].includes(line.target ?? '')).map((line) => [line.level, line.method, line.target, line.status]),
    [
      ['debug', 'GET', '/containers', 200],
      ['debug', 'GET', '/user-meta', 200],
      ['debug', 'GET', '/nothing-here', 400],
    ],
    'reads are logged at debug only',
  );
  t.notOk(lines.some((line) => line.component === 'audit' && line.method === 'GET'), 'no read in the audit trail');
});

t.test('PV_LOG_FORMAT=json without the flag', async (t) => {
  const daemon = await startTestDaemon({ env: { PV_LOG_FORMAT: 'json' } });
  t.teardown(() => daemon.dispose());
  await rawRequest(daemon.socket, 'PUT', '/user-meta/k', { body: 'v' });
  await waitForLines(daemon, (text) => (text.match(/"component":"audit"/g) ?? []).length, 1);
  const lines = jsonLines(daemon);
  t.ok(lines.length > 2, 'every line parsed as JSON');
  t.ok(lines.some((line) => line.message.startsWith('listening on')));
  t.equal(lines.filter((line) => line.component === 'audit').length, 1);
});

t.test('stderr is the JOURNAL_STREAM: syslog priority prefixes and no timestamps', async (t) => {
  const daemon = await startTestDaemon({ journalStream: true });
  t.teardown(() => daemon.dispose());
  await rawRequest(daemon.socket, 'PUT', '/user-meta/k', { body: 'v' });
  await rawRequest(daemon.socket, 'DELETE', '/user-meta/absent');
  await waitForLines(daemon, (text) => (text.match(/^<6>audit: /gm) ?? []).length, 2);
  const lines = daemon.log().split('\n').filter((line) => line.length > 0);
  // Helper output forwarded by the supervisor is pv-ctrl's own line too: every line is prefixed.
  for (const line of lines) t.match(line, /^<[3467]>\S/, `prefixed: ${line.slice(0, 60)}`);
  t.notOk(lines.some((line) => /\d{4}-\d\d-\d\dT\d\d:\d\d/.test(line.slice(0, 40))), 'no timestamp of its own');
  t.ok(lines.some((line) => line.startsWith('<6>listening on')), 'info is <6>');
  t.ok(lines.some((line) => line.startsWith('<7>')), 'debug is <7>');
  t.equal(lines.filter((line) => /^<6>audit: _pv_\(\d+\) PUT \/user-meta\/k route=\/user-meta\/\{\} status=200 /.test(line)).length, 1);
  t.equal(lines.filter((line) => /^<6>audit: _pv_\(\d+\) DELETE \/user-meta\/absent route=\/user-meta\/\{\} status=404 /.test(line)).length, 1);
});

t.test('default text format is unchanged when JOURNAL_STREAM names another file', async (t) => {
  const daemon = await startTestDaemon({ env: { JOURNAL_STREAM: '1:1' } });
  t.teardown(() => daemon.dispose());
  await rawRequest(daemon.socket, 'PUT', '/user-meta/k', { body: 'v' });
  await waitForLines(daemon, (text) => (text.match(/ INFO audit: /g) ?? []).length, 1);
  const lines = daemon.log().split('\n').filter((line) => line.length > 0);
  t.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[pv-ctrl\] INFO storage /);
  t.equal(lines.filter((line) => / \[pv-ctrl\] INFO audit: _pv_\(\d+\) PUT \/user-meta\/k route=\/user-meta\/\{\} status=200 duration_ms=[\d.]+$/.test(line)).length, 1);
});
