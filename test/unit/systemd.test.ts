/**
 * src/systemd's decisions (what the environment means, what the notifier sends) with a fake send,
 * and the native part (native/src/sd_notify.cpp) against real sockets: socat receives what
 * sdNotify sends, to a path and to an abstract name.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSystemdEnvironment, statusLine } from '../../src/systemd/environment.ts';
import { SystemdNotifier } from '../../src/systemd/notifier.ts';
import { listenSocketPath, sdNotify } from '../../src/native/systemd.ts';
import { BUN, REPO } from '../helpers/daemon.ts';
import { startNotifyReceiver } from '../helpers/notify-socket.ts';

const PID = 4242;

t.test('environment: notify socket and watchdog', async (t) => {
  t.same(readSystemdEnvironment({}, PID), { listen: { kind: 'bind' }, problems: [] }, 'nothing set: nothing to do');
  t.same(readSystemdEnvironment({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' }, PID), {
    notifySocket: '/run/systemd/notify',
    watchdogIntervalMs: 15_000,
    listen: { kind: 'bind' },
    problems: [],
  }, 'a ping every half of WATCHDOG_USEC');
  t.equal(readSystemdEnvironment({ NOTIFY_SOCKET: '@sd-notify', WATCHDOG_USEC: '1000000', WATCHDOG_PID: String(PID) }, PID).watchdogIntervalMs, 500, 'abstract address, WATCHDOG_PID ours');
  t.equal(readSystemdEnvironment({ NOTIFY_SOCKET: '@sd-notify' }, PID).notifySocket, '@sd-notify');
  t.equal(readSystemdEnvironment({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }, PID).watchdogIntervalMs, undefined, 'WATCHDOG_PID of another process: not our watchdog');
  t.equal(readSystemdEnvironment({ WATCHDOG_USEC: '1000000' }, PID).watchdogIntervalMs, undefined, 'no notify socket: nowhere to ping');
  for (const bad of ['0', '-5', '1e6', 'soon']) {
    const read = readSystemdEnvironment({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: bad }, PID);
    t.equal(read.watchdogIntervalMs, undefined, `WATCHDOG_USEC=${bad}: no pings`);
    t.equal(read.problems.length, 1, `WATCHDOG_USEC=${bad}: reported`);
  }
  for (const bad of ['relative/path', 'vsock:2:1234', '@']) {
    const read = readSystemdEnvironment({ NOTIFY_SOCKET: bad }, PID);
    t.equal(read.notifySocket, undefined, `NOTIFY_SOCKET=${bad} unused`);
    t.match(read.problems, [/not a Unix socket path/], `NOTIFY_SOCKET=${bad} reported`);
  }
});

t.test('environment: socket activation', async (t) => {
  t.same(readSystemdEnvironment({ LISTEN_PID: String(PID), LISTEN_FDS: '1' }, PID).listen, { kind: 'fd', fd: 3 });
  t.same(readSystemdEnvironment({ LISTEN_PID: String(PID), LISTEN_FDS: '1', LISTEN_FDNAMES: 'pv-ctrl.socket' }, PID).listen, { kind: 'fd', fd: 3, name: 'pv-ctrl.socket' });
  t.same(readSystemdEnvironment({ LISTEN_PID: '1', LISTEN_FDS: '1' }, PID).listen, { kind: 'bind' }, 'for another pid: bind our own');
  t.same(readSystemdEnvironment({ LISTEN_FDS: '1' }, PID).listen, { kind: 'bind' }, 'no LISTEN_PID: bind our own');
  t.same(readSystemdEnvironment({ LISTEN_PID: String(PID), LISTEN_FDS: '0' }, PID).listen, { kind: 'bind' });
  t.same(readSystemdEnvironment({ LISTEN_PID: String(PID), LISTEN_FDS: 'x' }, PID).listen, { kind: 'bind' });
  t.match(readSystemdEnvironment({ LISTEN_PID: String(PID), LISTEN_FDS: '2' }, PID).listen, { kind: 'refuse', reason: /passed 2 sockets/ });
  t.equal(statusLine('two\nlines\r\nhere'), 'two lines here', 'STATUS stays one assignment');
});

function fakeNotifier(options: { address?: string; watchdogIntervalMs?: number; failWith?: string } = {}) {
  const sent: string[] = [];
  const failures: string[] = [];
  const notifier = new SystemdNotifier({
    ...(options.address !== undefined ? { address: options.address } : {}),
    ...(options.watchdogIntervalMs !== undefined ? { watchdogIntervalMs: options.watchdogIntervalMs } : {}),
    send: (address, message) => {
      if (options.failWith !== undefined) throw Object.assign(new Error(options.failWith), { code: 'ECONNREFUSED' });
      sent.push(`${address} ${message}`);
    },
    onSendError: (message) => failures.push(message),
  });
  return { notifier, sent, failures };
}

t.test('notifier: messages, READY suppressed once stopping, failures reported once', async (t) => {
  const silent = fakeNotifier();
  silent.notifier.status('x');
  silent.notifier.ready();
  silent.notifier.startWatchdog();
  t.same(silent.sent, [], 'without NOTIFY_SOCKET nothing is sent');
  t.equal(silent.notifier.enabled, false);

  const { notifier, sent } = fakeNotifier({ address: '/n' });
  notifier.status('storage');
  notifier.ready();
  notifier.stopping();
  notifier.stopping();
  notifier.ready();
  t.same(sent, ['/n STATUS=storage', '/n READY=1', '/n STOPPING=1'], 'STOPPING=1 once; no READY=1 after it');

  const early = fakeNotifier({ address: '/n' });
  early.notifier.stopping();
  early.notifier.ready();
  t.same(early.sent, ['/n STOPPING=1'], 'a stop during start-up: never READY');

  const broken = fakeNotifier({ address: '/gone', failWith: 'connect refused' });
  broken.notifier.status('a');
  broken.notifier.status('b');
  t.equal(broken.failures.length, 1, 'the same failure is reported once');
  t.match(broken.failures[0], /cannot notify systemd at \/gone: connect refused/);
});

t.test('notifier: watchdog pings from a timer, only with an interval', async (t) => {
  const none = fakeNotifier({ address: '/n' });
  none.notifier.startWatchdog();
  t.same(none.sent, [], 'no WATCHDOG_USEC: no pings');

  const { notifier, sent } = fakeNotifier({ address: '/n', watchdogIntervalMs: 5 });
  notifier.startWatchdog();
  notifier.startWatchdog();
  t.same(sent, ['/n WATCHDOG=1'], 'one ping at once, one timer');
  const deadline = Date.now() + 5_000;
  while (sent.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  notifier.stopWatchdog();
  t.ok(sent.length >= 3 && sent.every((line) => line === '/n WATCHDOG=1'), 'more pings follow from the timer');
});

t.test('native sdNotify reaches a datagram socket by path and by abstract name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-sdnotify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const address of [join(dir, 'notify'), `@pvctrl-test-${process.pid}`]) {
    const receiver = await startNotifyReceiver(address);
    try {
      sdNotify(address, 'READY=1');
      sdNotify(address, 'STATUS=listening on /run/pantavisor/pv/pv-ctrl');
      await receiver.waitFor((message) => message.startsWith('STATUS='), 5_000);
      t.same(receiver.messages(), ['READY=1', 'STATUS=listening on /run/pantavisor/pv/pv-ctrl'], `${address}: one message a datagram`);
    } finally {
      receiver.close();
    }
  }
  t.throws(() => sdNotify(join(dir, 'nobody'), 'READY=1'), { code: 'ENOENT', syscall: 'sendto' }, 'no receiver: an errno error, at once');
  t.throws(() => sdNotify('relative', 'READY=1'), TypeError);
  t.throws(() => sdNotify('/n', ''), TypeError);
  t.throws(() => sdNotify(`/${'x'.repeat(200)}`, 'READY=1'), { code: 'ENAMETOOLONG' });
});

function listening(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
}

t.test('native listenSocketPath accepts only a listening Unix stream socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-listenfd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = createServer();
  const path = join(dir, 'api');
  await listening(server, path);
  t.teardown(() => void server.close());
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number') throw new Error('no listening fd under this runtime');
  t.equal(listenSocketPath(fd), path, 'its bound path');
  const file = openSync(join(dir, 'plain'), 'w');
  t.teardown(() => closeSync(file));
  t.throws(() => listenSocketPath(file), { code: 'ENOTSOCK' }, 'a file');
  t.throws(() => listenSocketPath(-1), TypeError);
});

t.test('unsetEnvironment clears the C environment that posix_spawn children inherit', async (t) => {
  // In a process of its own: the variable must be gone for getenv(3), not only from process.env.
  const probe = `
    const { unsetEnvironment } = await import(${JSON.stringify(join(REPO, 'src', 'native', 'systemd.ts'))});
    const { dlopen, FFIType } = await import('bun:ffi');
    const libc = dlopen('libc.so.6', { getenv: { args: [FFIType.cstring], returns: FFIType.cstring } });
    const before = String(libc.symbols.getenv(Buffer.from('NOTIFY_SOCKET\\0')));
    unsetEnvironment('NOTIFY_SOCKET');
    console.log(JSON.stringify({ before, after: libc.symbols.getenv(Buffer.from('NOTIFY_SOCKET\\0')), js: process.env.NOTIFY_SOCKET ?? null }));
  `;
  const run = spawnSync(BUN, ['-e', probe], { encoding: 'utf8', env: { ...process.env, NOTIFY_SOCKET: '/run/systemd/notify' }, timeout: 30_000 });
  t.equal(run.status, 0, run.stderr);
  t.same(JSON.parse(run.stdout.trim()), { before: '/run/systemd/notify', after: null, js: null });
});
