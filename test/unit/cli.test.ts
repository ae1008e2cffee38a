/**
 * `bin/pvcontrol` as a real subprocess against a scripted server: request mapping of every
 * command, output split, exit codes, global options and usage handling.
 */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorResponse, jsonResponse, runCli, useFakeServer } from '../helpers/fake-server.ts';

const fixture = useFakeServer(t, 'pvcli-test-');
const work = fixture.work;


const cli = (args: string[], stdin?: string) => runCli(['-s', fixture.server().socketPath, ...args], stdin === undefined ? {} : { stdin });

interface Mapping {
  args: string[];
  method: string;
  path: string;
  /** Expected body; a JSON object is compared after parsing. */
  body?: string | Record<string, unknown>;
  contentType?: string;
}

const mappings: Mapping[] = [
  { args: ['ls'], method: 'GET', path: '/containers' },
  { args: ['list'], method: 'GET', path: '/containers' },
  { args: ['containers', 'ls'], method: 'GET', path: '/containers' },
  { args: ['containers', 'list'], method: 'GET', path: '/containers' },
  { args: ['container', 'ls'], method: 'GET', path: '/containers' },
  { args: ['containers', 'start', 'app'], method: 'PUT', path: '/containers/app', body: { action: 'start' }, contentType: 'application/json' },
  { args: ['containers', 'stop', 'app'], method: 'PUT', path: '/containers/app', body: { action: 'stop' } },
  { args: ['container', 'stop', 'pv-example-unix-client'], method: 'PUT', path: '/containers/pv-example-unix-client', body: { action: 'stop' } },
  { args: ['containers', 'restart', 'app'], method: 'PUT', path: '/containers/app', body: { action: 'restart' } },
  { args: ['groups', 'ls'], method: 'GET', path: '/groups' },
  { args: ['signal', 'ready'], method: 'POST', path: '/signal', body: { type: 'ready', payload: '' }, contentType: 'application/json' },
  { args: ['signal', 'alive'], method: 'POST', path: '/signal', body: { type: 'alive', payload: '' } },
  { args: ['cmd', 'run', 'locals/x'], method: 'POST', path: '/commands', body: { op: 'LOCAL_RUN', payload: 'locals/x' }, contentType: 'application/json' },
  { args: ['command', 'run-commit', '5'], method: 'POST', path: '/commands', body: { op: 'LOCAL_RUN_COMMIT', payload: '5' } },
  { args: ['commands', 'reboot'], method: 'POST', path: '/commands', body: { op: 'REBOOT_DEVICE', payload: '' } },
  { args: ['cmd', 'reboot', 'maintenance'], method: 'POST', path: '/commands', body: { op: 'REBOOT_DEVICE', payload: 'maintenance' } },
  { args: ['cmd', 'poweroff'], method: 'POST', path: '/commands', body: { op: 'POWEROFF_DEVICE', payload: '' } },
  { args: ['cmd', 'poweroff', 'test shutdown'], method: 'POST', path: '/commands', body: { op: 'POWEROFF_DEVICE', payload: 'test shutdown' } },
  { args: ['cmd', 'make-factory'], method: 'POST', path: '/commands', body: { op: 'MAKE_FACTORY', payload: '' } },
  { args: ['cmd', 'make-factory', 'locals/f'], method: 'POST', path: '/commands', body: { op: 'MAKE_FACTORY', payload: 'locals/f' } },
  { args: ['cmd', 'run-gc'], method: 'POST', path: '/commands', body: { op: 'RUN_GC', payload: '' } },
  { args: ['cmd', 'enable-ssh'], method: 'POST', path: '/commands', body: { op: 'ENABLE_SSH', payload: '' } },
  { args: ['cmd', 'disable-ssh'], method: 'POST', path: '/commands', body: { op: 'DISABLE_SSH', payload: '' } },
  { args: ['cmd', 'go-remote'], method: 'POST', path: '/commands', body: { op: 'GO_REMOTE', payload: '' } },
  { args: ['cmd', 'unclaim'], method: 'POST', path: '/commands', body: { op: 'UNCLAIM', payload: '' } },
  { args: ['cmd', 'defer-reboot', '300'], method: 'POST', path: '/commands', body: { op: 'DEFER_REBOOT', payload: '300' } },
  { args: ['devmeta', 'save', 'test-key', 'test-value-123'], method: 'PUT', path: '/device-meta/test-key', body: 'test-value-123' },
  { args: ['devmeta', 'upload', 'test-key', 'v'], method: 'PUT', path: '/device-meta/test-key', body: 'v' },
  { args: ['devmeta', 'save', 'empty-key'], method: 'PUT', path: '/device-meta/empty-key', body: '' },
  { args: ['devmeta', 'delete', 'test-key'], method: 'DELETE', path: '/device-meta/test-key' },
  { args: ['devmeta', 'ls'], method: 'GET', path: '/device-meta' },
  { args: ['devmeta', 'list'], method: 'GET', path: '/device-meta' },
  { args: ['usrmeta', 'save', 'my-key', 'my value'], method: 'PUT', path: '/user-meta/my-key', body: 'my value' },
  { args: ['usrmeta', 'delete', 'my-key'], method: 'DELETE', path: '/user-meta/my-key' },
  { args: ['usrmeta', 'ls'], method: 'GET', path: '/user-meta' },
  { args: ['buildinfo'], method: 'GET', path: '/buildinfo' },
  { args: ['storage', 'gc'], method: 'POST', path: '/storage/gc' },
  { args: ['objects', 'ls'], method: 'GET', path: '/objects' },
  { args: ['objects', 'list'], method: 'GET', path: '/objects' },
  { args: ['steps', 'ls'], method: 'GET', path: '/steps' },
  { args: ['steps', 'get', 'current'], method: 'GET', path: '/steps/current' },
  { args: ['steps', 'get', 'locals/test-rev'], method: 'GET', path: '/steps/locals/test-rev' },
  { args: ['steps', 'show-progress', '0'], method: 'GET', path: '/steps/0/progress' },
  { args: ['config', 'ls'], method: 'GET', path: '/config' },
  { args: ['conf', 'ls'], method: 'GET', path: '/config2' },
  { args: ['configuration', 'list'], method: 'GET', path: '/config2' },
  { args: ['graph', 'ls'], method: 'GET', path: '/xconnect-graph' },
  { args: ['daemons', 'ls'], method: 'GET', path: '/daemons' },
  { args: ['daemons', 'start', 'pv-xconnect'], method: 'PUT', path: '/daemons/pv-xconnect', body: { action: 'start' }, contentType: 'application/json' },
  { args: ['daemons', 'stop', 'pv-xconnect'], method: 'PUT', path: '/daemons/pv-xconnect', body: { action: 'stop' } },
];

t.test('each command sends the documented request and prints the body', async (t) => {
  fixture.server().fallback(() => ({ status: 200, body: '{"ok":true}' }));
  for (const m of mappings) {
    fixture.server().requests.length = 0;
    const label = m.args.join(' ');
    const run = await cli(m.args);
    t.equal(run.code, 0, `${label}: exit 0`);
    t.equal(run.out, '{"ok":true}\n', `${label}: body + newline on stdout`);
    t.equal(run.err, '', `${label}: nothing on stderr`);
    t.equal(fixture.server().requests.length, 1, `${label}: one request`);
    const req = fixture.server().requests[0];
    if (!req) continue;
    t.equal(req.method, m.method, `${label}: method`);
    t.equal(req.path, m.path, `${label}: path`);
    t.equal(req.headers.host, 'localhost', `${label}: Host: localhost`);
    if (m.body === undefined) t.equal(req.body.length, 0, `${label}: no body`);
    else if (typeof m.body === 'string') t.equal(req.body.toString(), m.body, `${label}: raw body`);
    else t.same(JSON.parse(req.body.toString()), m.body, `${label}: JSON body`);
    if (m.contentType) t.equal(req.headers['content-type'], m.contentType, `${label}: content type`);
  }
});

t.test('user strings are JSON-encoded and path parts percent-encoded', async (t) => {
  const quoted = 'say "hi" \\ {"x":1}';
  await cli(['cmd', 'reboot', quoted]);
  t.same(JSON.parse(fixture.server().requests[0]?.body.toString() ?? ''), { op: 'REBOOT_DEVICE', payload: quoted });
  fixture.server().reset();
  await cli(['devmeta', 'save', 'a b', 'v']);
  t.equal(fixture.server().requests[0]?.path, '/device-meta/a%20b');
  fixture.server().reset();
  await cli(['containers', 'stop', 'x/../y']);
  t.equal(fixture.server().requests[0]?.path, '/containers/x%2F..%2Fy');
  fixture.server().reset();
  await cli(['cmd', 'run', 'locals/my "rev"']);
  t.same(JSON.parse(fixture.server().requests[0]?.body.toString() ?? ''), { op: 'LOCAL_RUN', payload: 'locals/my "rev"' });
});

t.test('output: trailing newlines of the body collapse to one; empty body prints a newline', async (t) => {
  fixture.server().route('GET /buildinfo', { status: 200, body: 'manifest line\n\n', headers: { 'Content-Type': 'text/plain' } });
  const a = await cli(['buildinfo']);
  t.equal(a.out, 'manifest line\n');
  fixture.server().route('DELETE /user-meta/k', { status: 200 });
  const b = await cli(['usrmeta', 'delete', 'k']);
  t.equal(b.code, 0);
  t.equal(b.out, '\n');
});

interface ExitCase {
  name: string;
  response: { status: number; body?: string; headers?: Record<string, string> };
  code: number;
}

const exitCases: ExitCase[] = [
  { name: '204 (command already done) is a failure', response: { status: 204 }, code: 255 },
  { name: '400', response: errorResponse(400, 'Command has bad format'), code: 255 },
  { name: '403', response: errorResponse(403, 'Request not sent from a mgmt platform'), code: 255 },
  { name: '404', response: errorResponse(404, 'Daemon not found'), code: 255 },
  { name: '409', response: errorResponse(409, 'Cannot do this operation if device is already claimed'), code: 255 },
  { name: '422 bad checksum', response: errorResponse(422, 'Object has bad checksum'), code: 60 },
  { name: '422 parser rejection', response: errorResponse(422, 'Parser: State JSON has bad format'), code: 70 },
  { name: '422 signature rejection', response: errorResponse(422, 'Secureboot: Signature validation failed'), code: 70 },
  { name: '422 storage rejection', response: errorResponse(422, 'Storage: Cannot read state JSON'), code: 70 },
  { name: 'legacy state verification message', response: errorResponse(400, 'State verification has failed'), code: 70 },
  { name: '422 with another message', response: errorResponse(422, 'Something else'), code: 255 },
  { name: '500', response: errorResponse(500, 'Signal not expected from this platform'), code: 255 },
  { name: '501 libevent body with a space', response: { status: 501, body: '{"Error": "Unsupported protocol"}' }, code: 255 },
  { name: '503 busy', response: errorResponse(503, 'A command is already in progress. Try again', { 'Retry-After': '120' }), code: 75 },
  { name: '503 update ongoing', response: errorResponse(503, 'Cannot do this operation while update is ongoing', { 'Retry-After': '600' }), code: 75 },
  { name: '507', response: errorResponse(507, 'Not enough disk space available'), code: 48 },
  { name: '507 whatever the body', response: { status: 507, body: '{"error":{"code":"no_space","message":"disk full"}}' }, code: 48 },
  { name: 'no-space message parsed despite spacing', response: { status: 400, body: '{ "Error" : "Not enough disk space available" }' }, code: 48 },
  { name: 'checksum message parsed despite spacing', response: { status: 422, body: '{"Error": "Object has bad checksum"}' }, code: 60 },
];

t.test('exit codes follow status and parsed error message; error body goes to stderr', async (t) => {
  for (const c of exitCases) {
    fixture.server().route('POST /commands', c.response);
    const run = await cli(['cmd', 'run-gc']);
    t.equal(run.code, c.code, `${c.name}: exit ${c.code}`);
    t.equal(run.out, '', `${c.name}: stdout empty`);
    t.equal(run.err, `${c.response.body ?? ''}\n`, `${c.name}: body on stderr`);
  }
});

t.test('no response: message on stderr and exit 1', async (t) => {
  fixture.server().route('GET /containers', { status: 200, drop: true });
  const dropped = await cli(['ls']);
  t.equal(dropped.code, 1);
  t.equal(dropped.err, 'ERROR: got no response\n');
  t.equal(dropped.out, '');
  fixture.server().route('GET /groups', { status: 200, body: '[{"name":"root"}]', truncateAfter: 5 });
  const truncated = await cli(['groups', 'ls']);
  t.equal(truncated.code, 1);
  t.equal(truncated.err, 'ERROR: got no response\n');
});

t.test('-f writes standard output to a file', async (t) => {
  fixture.server().route('GET /steps/current', { status: 200, body: '{"#spec":"pantavisor-service-system@1"}' });
  const file = join(work, 'state.json');
  const run = await cli(['-f', file, 'steps', 'get', 'current']);
  t.equal(run.code, 0);
  t.equal(run.out, '');
  t.equal(readFileSync(file, 'utf8'), '{"#spec":"pantavisor-service-system@1"}\n');

  writeFileSync(file, 'stale');
  fixture.server().route('GET /steps/nope', errorResponse(404, 'Resource does not exist'));
  const failed = await cli(['-f', file, 'steps', 'get', 'nope']);
  t.equal(failed.code, 255);
  t.equal(failed.err, '{"Error":"Resource does not exist"}\n', 'errors still go to stderr');
  t.equal(readFileSync(file, 'utf8'), '', 'the file is truncated before the request, as with `exec >file`');

  const bad = await cli(['-f', join(work, 'no-such-dir', 'x'), 'ls']);
  t.equal(bad.code, 1);
  t.match(bad.err, /^ERROR: cannot write /);
});

t.test('socket selection: -s, $PVCTRL_SOCKET, discovery failure', async (t) => {
  const viaEnv = await runCli(['ls'], { env: { PVCTRL_SOCKET: fixture.server().socketPath } });
  t.equal(viaEnv.code, 0, '$PVCTRL_SOCKET is used');
  t.equal(fixture.server().requests.length, 1);

  const missing = join(work, 'missing.sock');
  const sWins = await runCli(['-s', missing, 'ls'], { env: { PVCTRL_SOCKET: fixture.server().socketPath } });
  t.equal(sWins.code, 1, '-s beats the environment');
  t.equal(sWins.out, `ERROR: ${missing} not found\n`, 'not-found message on stdout');
  t.equal(fixture.server().requests.length, 1, 'no request made');

  const envMissing = await runCli(['ls'], { env: { PVCTRL_SOCKET: missing } });
  t.equal(envMissing.code, 1, 'a configured socket is not replaced by probing');
  t.equal(envMissing.out, `ERROR: ${missing} not found\n`);

  const regular = join(work, 'not-a-socket');
  writeFileSync(regular, '');
  const notSocket = await runCli(['-s', regular, 'ls']);
  t.equal(notSocket.code, 1, 'a regular file is not a socket');
  t.equal(notSocket.out, `ERROR: ${regular} not found\n`);

  const probed = ['/run/pantavisor/pv/pv-ctrl', '/pv/pv-ctrl', '/pantavisor/pv-ctrl'];
  if (probed.some((p) => existsSync(p))) {
    t.skip('a real pv-ctrl socket exists on this machine');
  } else {
    const none = await runCli(['ls']);
    t.equal(none.code, 1);
    t.equal(none.out, 'ERROR: /pantavisor/pv-ctrl not found\n', 'falls back to the container path');
  }

  const help = await runCli(['-s', missing, 'steps', '--help']);
  t.equal(help.code, 0, 'help needs no socket');
});

t.test('-v traces the exchange on stderr, stdout unchanged', async (t) => {
  fixture.server().route('GET /daemons', jsonResponse(200, [{ name: 'hwrngd', pid: 0, respawn: true }]));
  const run = await cli(['-v', 'daemons', 'ls']);
  t.equal(run.code, 0);
  t.equal(run.out, '[{"name":"hwrngd","pid":0,"respawn":true}]\n');
  t.match(run.err, /^> GET \/daemons HTTP\/1\.1$/m);
  t.match(run.err, /^> Host: localhost$/m);
  t.match(run.err, /^< HTTP\/1\.1 200 OK$/m);
  t.match(run.err, /^< Content-Type: application\/json$/im);
});

t.test('options are only recognised before the command word', async (t) => {
  const run = await cli(['ls', '-v']);
  t.equal(run.code, 1, 'surplus argument to ls is a usage error');
  t.match(run.out, /^Usage: pvcontrol ls/);
  t.equal(fixture.server().requests.length, 0);
  const msg = await cli(['-m', 'first', '-v', '-m', 'second', 'objects', 'ls']);
  t.equal(msg.code, 0, 'options may repeat');
});

interface UsageCase {
  args: string[];
  code: number;
  head: RegExp;
}

const usageCases: UsageCase[] = [
  { args: [], code: 1, head: /^Usage: pvcontrol \[options\]/ },
  { args: ['-h'], code: 0, head: /^Usage: pvcontrol \[options\]/ },
  { args: ['-h', 'ls'], code: 0, head: /^Usage: pvcontrol \[options\]/ },
  { args: ['--help'], code: 0, head: /^Usage: pvcontrol \[options\]/ },
  { args: ['bogus'], code: 1, head: /^Usage: pvcontrol \[options\]/ },
  { args: ['-x', 'ls'], code: 1, head: /^Usage: pvcontrol \[options\]/ },
  { args: ['-s'], code: 1, head: /^Usage: pvcontrol \[options\]/ },
  { args: ['ls', '--help'], code: 0, head: /^Usage: pvcontrol ls/ },
  { args: ['buildinfo', 'x'], code: 1, head: /^Usage: pvcontrol buildinfo/ },
  { args: ['buildinfo', '--help'], code: 0, head: /^Usage: pvcontrol buildinfo/ },
  { args: ['containers'], code: 1, head: /^Usage: pvcontrol containers/ },
  { args: ['container', '--help'], code: 0, head: /^Usage: pvcontrol containers/ },
  { args: ['containers', 'stop'], code: 1, head: /^Usage: pvcontrol containers/ },
  { args: ['containers', 'kill', 'x'], code: 1, head: /^Usage: pvcontrol containers/ },
  { args: ['groups'], code: 1, head: /^Usage: pvcontrol groups/ },
  { args: ['groups', '--help'], code: 0, head: /^Usage: pvcontrol groups/ },
  { args: ['signal', 'dead'], code: 1, head: /^Usage: pvcontrol signal/ },
  { args: ['signal', '--help'], code: 0, head: /^Usage: pvcontrol signal/ },
  { args: ['cmd'], code: 1, head: /^Usage: pvcontrol cmd/ },
  { args: ['cmd', '--help'], code: 0, head: /^Usage: pvcontrol cmd/ },
  { args: ['cmd', 'run'], code: 1, head: /^Usage: pvcontrol cmd/ },
  { args: ['cmd', 'run', ''], code: 1, head: /^Usage: pvcontrol cmd/ },
  { args: ['cmd', 'run-commit'], code: 1, head: /^Usage: pvcontrol cmd/ },
  { args: ['cmd', 'defer-reboot'], code: 1, head: /^Usage: pvcontrol cmd/ },
  { args: ['cmd', 'TRY_ONCE'], code: 1, head: /^Usage: pvcontrol cmd/ },
  { args: ['devmeta'], code: 1, head: /^Usage: pvcontrol devmeta/ },
  { args: ['devmeta', 'save'], code: 1, head: /^Usage: pvcontrol devmeta/ },
  { args: ['devmeta', 'delete'], code: 1, head: /^Usage: pvcontrol devmeta/ },
  { args: ['devmeta', '--help'], code: 0, head: /^Usage: pvcontrol devmeta/ },
  { args: ['usrmeta', 'upload', 'k', 'v'], code: 1, head: /^Usage: pvcontrol usrmeta/ },
  { args: ['usrmeta', '--help'], code: 0, head: /^Usage: pvcontrol usrmeta/ },
  { args: ['storage'], code: 1, head: /^Usage: pvcontrol storage/ },
  { args: ['storage', '--help'], code: 0, head: /^Usage: pvcontrol storage/ },
  { args: ['objects'], code: 1, head: /^Usage: pvcontrol objects/ },
  { args: ['objects', 'put', 'file'], code: 1, head: /^Usage: pvcontrol objects/ },
  { args: ['objects', 'put', '-12x', 'a'], code: 1, head: /^Usage: pvcontrol objects/ },
  { args: ['objects', 'get'], code: 1, head: /^Usage: pvcontrol objects/ },
  { args: ['objects', '--help'], code: 0, head: /^Usage: pvcontrol objects/ },
  { args: ['steps'], code: 1, head: /^Usage: pvcontrol steps/ },
  { args: ['steps', 'put', 'file'], code: 1, head: /^Usage: pvcontrol steps/ },
  { args: ['steps', 'install'], code: 1, head: /^Usage: pvcontrol steps/ },
  { args: ['steps', 'get'], code: 1, head: /^Usage: pvcontrol steps/ },
  { args: ['steps', 'show-progress'], code: 1, head: /^Usage: pvcontrol steps/ },
  { args: ['steps', '--help'], code: 0, head: /^Usage: pvcontrol steps/ },
  { args: ['config'], code: 1, head: /^Usage: pvcontrol config/ },
  { args: ['config', '--help'], code: 0, head: /^Usage: pvcontrol config/ },
  { args: ['conf', 'get'], code: 1, head: /^Usage: pvcontrol conf/ },
  { args: ['configuration', '--help'], code: 0, head: /^Usage: pvcontrol conf/ },
  { args: ['graph'], code: 1, head: /^Usage: pvcontrol graph/ },
  { args: ['graph', '--help'], code: 0, head: /^Usage: pvcontrol graph/ },
  { args: ['daemons'], code: 1, head: /^Usage: pvcontrol daemons/ },
  { args: ['daemons', 'restart'], code: 1, head: /^Usage: pvcontrol daemons/ },
  { args: ['daemons', '--help'], code: 0, head: /^Usage: pvcontrol daemons/ },
];

t.test('usage: help exits 0, misuse exits 1, usage text on stdout, no request', async (t) => {
  for (const u of usageCases) {
    const run = await cli(u.args);
    const label = u.args.join(' ') || '(no arguments)';
    t.equal(run.code, u.code, `${label}: exit ${u.code}`);
    t.match(run.out, u.head, `${label}: usage text`);
    t.equal(run.err, '', `${label}: stderr empty`);
  }
  t.equal(fixture.server().requests.length, 0, 'no request was made');
});

t.test('surplus arguments are ignored where the shell tool ignored them', async (t) => {
  const run = await cli(['groups', 'ls', 'extra']);
  t.equal(run.code, 0);
  const meta = await cli(['devmeta', 'delete', 'k', 'extra']);
  t.equal(meta.code, 0);
  t.equal(fixture.server().requests[1]?.path, '/device-meta/k');
});

t.test('daemons restart: start only after a successful stop', async (t) => {
  fixture.server().route('PUT /daemons/pv-xconnect', { status: 200 }, { status: 200, body: '' });
  const ok = await cli(['daemons', 'restart', 'pv-xconnect']);
  t.equal(ok.code, 0);
  t.same(fixture.server().requests.map((r) => JSON.parse(r.body.toString()) as unknown), [{ action: 'stop' }, { action: 'start' }]);

  fixture.server().reset();
  fixture.server().route('PUT /daemons/nonexistent-daemon', errorResponse(404, 'Daemon not found'));
  const missing = await cli(['daemons', 'restart', 'nonexistent-daemon']);
  t.equal(missing.code, 255);
  t.equal(missing.err, '{"Error":"Daemon not found"}\n');
  t.equal(fixture.server().requests.length, 1, 'no start after a failed stop');

  fixture.server().reset();
  fixture.server().route('PUT /daemons/d', { status: 200 }, errorResponse(500, 'Internal error'));
  const startFails = await cli(['daemons', 'restart', 'd']);
  t.equal(startFails.code, 255, 'the start result decides the exit status');
  t.equal(startFails.err, '{"Error":"Internal error"}\n');
});

t.test('bin/pvcontrol works through a symlink in PATH', async (t) => {
  const binDir = join(work, 'bin');
  const { mkdirSync, symlinkSync } = await import('node:fs');
  mkdirSync(binDir, { recursive: true });
  const { PVCONTROL_BIN } = await import('../helpers/fake-server.ts');
  symlinkSync(PVCONTROL_BIN, join(binDir, 'pvcontrol'));
  const { spawnSync } = await import('node:child_process');
  const res = spawnSync('pvcontrol', ['-h'], { env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}` }, cwd: work, encoding: 'utf8' });
  t.equal(res.status, 0);
  t.match(res.stdout, /^Usage: pvcontrol/);
});

t.test('PVTEST_EXEC hands the invocation to another runner', async (t) => {
  const runner = join(work, 'runner.sh');
  writeFileSync(runner, '#!/bin/sh\necho "runner: $*"\n', { mode: 0o755 });
  const run = await runCli(['steps', 'ls'], { env: { PVTEST_EXEC: runner } });
  t.equal(run.code, 0);
  t.equal(run.out, 'runner: pvcontrol steps ls\n');
});
