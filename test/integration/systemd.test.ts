/**
 * systemd without systemd (docs/operations.md "systemd"): the test plays the service manager.
 * socat is the NOTIFY_SOCKET (what the daemon sends, in order: start-up phases, READY=1 once the
 * socket answers, WATCHDOG=1 pings from the event loop, STOPPING=1 on SIGTERM); a blocked loop and
 * a stopped process miss their pings. systemd-socket-activate (Debian's systemd package, which
 * needs no running systemd) binds the socket and passes it as fd 3 with LISTEN_FDS/LISTEN_PID.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PV_CTRL, startTestDaemon } from '../helpers/daemon.ts';
import { startNotifyReceiver } from '../helpers/notify-socket.ts';

const SYSTEMD_VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'];
/** 400 ms: a ping every 200 ms. */
const WATCHDOG_USEC = '400000';
/** Long enough for several pings to be due. */
const MISSED_WINDOW_MS = 1_000;
/** Long enough for a datagram sent just before a block to have reached the receiver. */
const SETTLE_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The process state letter of /proc/<pid>/stat (R, S, T for stopped, ...). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Names of systemd's variables in a process's environment (/proc/<pid>/environ: what it was started with). */
function systemdVariablesOf(pid: number): string[] {
  const names = readFileSync(`/proc/${pid}/environ`, 'latin1')
    .split('\0')
    .map((entry) => entry.split('=', 1)[0] ?? '');
  return SYSTEMD_VARIABLES.filter((name) => names.includes(name));
}

function xconnectPid(log: string): number {
  const match = /daemon pv-xconnect: started \(pid (\d+)\)/.exec(log);
  if (match === null) throw new Error(`pv-xconnect did not start:\n${log}`);
  return Number(match[1]);
}

const isPing = (message: string): boolean => message === 'WATCHDOG=1';

t.test('Type=notify: start-up phases, READY=1, watchdog pings from the loop, STOPPING=1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-systemd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = await startNotifyReceiver(join(dir, 'notify'));
  t.teardown(() => receiver.close());
  const release = join(dir, 'unblock');
  const daemon = await startTestDaemon({ env: { NOTIFY_SOCKET: receiver.address, WATCHDOG_USEC, PVCTRL_TEST_BLOCK_LOOP: release } });
  t.teardown(() => daemon.dispose());
  const pid = daemon.process.pid as number;

  await t.test('phases in order, READY=1 once the socket answers, then the running revision', async (t) => {
    const ready = await receiver.waitFor((message) => message === 'READY=1', 20_000);
    await receiver.waitFor((message) => message.startsWith('STATUS=revision '), 20_000, ready);
    const messages = receiver.messages();
    t.same(
      messages.filter((message) => !isPing(message)),
      [
        `STATUS=storage: opening ${daemon.storage}`,
        'STATUS=runtime: loading revision 0',
        `STATUS=listening on ${daemon.socket}`,
        'READY=1',
        'STATUS=revision 0 running (no containers started)',
      ],
      'STATUS lines and READY=1 in start-up order',
    );
    t.ok(messages.slice(0, ready).some(isPing), 'pings start before READY=1: a start-up that hangs the loop is caught too');
  });

  await t.test('children get none of the variables systemd set for the daemon', async (t) => {
    await until(() => /daemon pv-xconnect: started/.test(daemon.log()), 10_000, 'pv-xconnect');
    t.same(systemdVariablesOf(xconnectPid(daemon.log())), [], 'pv-xconnect environment');
  });

  await t.test('pings go on while the loop runs', async (t) => {
    const before = receiver.messages().length;
    await receiver.waitFor(isPing, 5_000, before);
    const next = receiver.messages().length;
    await receiver.waitFor(isPing, 5_000, next);
    t.pass('two more pings');
  });

  await t.test('a blocked event loop misses its pings (the process and its threads live on)', async (t) => {
    process.kill(pid, 'SIGUSR2');
    await until(() => existsSync(`${release}.blocked`), 5_000, 'the daemon to block its loop');
    await sleep(SETTLE_MS);
    const blockedAt = receiver.messages().length;
    await sleep(MISSED_WINDOW_MS);
    t.equal(processState(pid) === 'T', false, 'the daemon was not stopped, only its loop blocked');
    t.same(receiver.messages().slice(blockedAt), [], `no ping during ${MISSED_WINDOW_MS} ms of a blocked loop (one due every 200 ms)`);
    writeFileSync(release, '');
    await receiver.waitFor(isPing, 10_000, blockedAt);
    t.pass('pings resume once the loop runs again');
  });

  await t.test('a stopped process misses its pings (SIGSTOP as a hung daemon)', async (t) => {
    process.kill(pid, 'SIGSTOP');
    try {
      await until(() => processState(pid) === 'T', 5_000, 'the daemon to stop');
      await sleep(SETTLE_MS);
      const stoppedAt = receiver.messages().length;
      await sleep(MISSED_WINDOW_MS);
      t.same(receiver.messages().slice(stoppedAt), [], `no ping during ${MISSED_WINDOW_MS} ms stopped`);
      process.kill(pid, 'SIGCONT');
      await receiver.waitFor(isPing, 10_000, stoppedAt);
      t.pass('pings resume after SIGCONT');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  await t.test('SIGTERM: STOPPING=1 first, then a clean exit', async (t) => {
    const sentBefore = receiver.messages().length;
    t.equal(await daemon.stop(), 0, 'exit code');
    const stopping = await receiver.waitFor((message) => message === 'STOPPING=1', 5_000, sentBefore);
    t.same(
      receiver.messages().slice(stopping).filter((message) => !isPing(message)),
      ['STOPPING=1', 'STATUS=SIGTERM: stopping'],
      'STOPPING=1, then why',
    );
    t.notOk(receiver.messages().slice(stopping).includes('READY=1'), 'never READY again');
  });
});

interface ActivatedDaemon {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  log(): string;
}

/** systemd-socket-activate binds `socket` and runs the daemon (exec, same pid) at the first connection. */
function socketActivated(dir: string, socket: string): ActivatedDaemon {
  const logFile = join(dir, 'pv-ctrl.log');
  const logFd = openSync(logFile, 'a');
  const args = ['-l', socket, PV_CTRL, '--storage', join(dir, 'storage'), '--rundir', join(dir, 'run'), '--log-level', 'debug'];
  const child = spawn('systemd-socket-activate', args, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') };
}

/** GET /buildinfo with curl (a process of its own, so its pid is the caller the daemon must see). */
function curlBuildinfo(socket: string): { pid: number; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn('curl', ['-sS', '--max-time', '30', '--unix-socket', socket, 'http://localhost/buildinfo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.once('exit', (code) => resolve({ code, out })));
  return { pid: child.pid as number, done };
}

t.test('socket activation: the passed socket is served, callers identified per connection, never unlinked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-activation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'run', 'pv-ctrl');
  mkdirSync(join(dir, 'run'));
  const daemon = socketActivated(dir, socket);
  t.teardown(() => {
    if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  });
  await until(() => existsSync(socket), 10_000, 'systemd-socket-activate to bind the socket');
  const boundInode = statSync(socket).ino;

  // The first connection makes systemd-socket-activate start the daemon; it waits in the backlog.
  const first = curlBuildinfo(socket);
  const firstAnswer = await first.done;
  t.equal(firstAnswer.code, 0, 'curl exit code');
  t.match(firstAnswer.out, /^pv-ctrl /, 'answered by pv-ctrl');
  // The socket answers a moment before start-up logs it (device facts are written in between).
  await until(() => /listening on \S+\/run\/pv-ctrl \(passed by systemd,/.test(daemon.log()), 10_000, 'the daemon to say it serves the passed socket');
  const second = curlBuildinfo(socket);
  t.equal((await second.done).code, 0, 'second caller answered');
  const log = daemon.log();
  t.match(log, new RegExp(`_pv_\\(${first.pid}\\) GET /buildinfo`), 'first caller identified by its own pid');
  t.match(log, new RegExp(`_pv_\\(${second.pid}\\) GET /buildinfo`), 'second caller identified by its own pid');
  t.equal(statSync(socket).ino, boundInode, 'the socket systemd bound, not a new one');

  await until(() => /daemon pv-xconnect: started/.test(daemon.log()), 10_000, 'pv-xconnect');
  t.same(systemdVariablesOf(xconnectPid(daemon.log())), [], 'pv-xconnect does not inherit LISTEN_FDS/LISTEN_PID');

  daemon.child.kill('SIGTERM');
  t.equal(await daemon.exited, 0, 'SIGTERM: exit 0');
  t.ok(existsSync(socket), 'the socket file is left to its owner (not unlinked on stop)');
  t.equal(statSync(socket).ino, boundInode, 'still the same socket');
});

/** Run the daemon with LISTEN_* set for its own pid and `fd3` as descriptor 3; resolves with exit code and output. */
function runWithPassedFd(dir: string, listenFds: string, fd3: number): Promise<{ code: number | null; output: string }> {
  const args = ['-c', `LISTEN_PID=$$ LISTEN_FDS=${listenFds} exec "$0" "$@"`, PV_CTRL, '--storage', join(dir, 'storage'), '--rundir', join(dir, 'run')];
  const child = spawn('sh', args, { stdio: ['ignore', 'pipe', 'pipe', fd3] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    }),
  );
}

t.test('socket activation it cannot honour ends start-up with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-activation-bad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notASocket = openSync(join(dir, 'plain-file'), 'w');
  t.teardown(() => closeSync(notASocket));

  const two = await runWithPassedFd(dir, '2', notASocket);
  t.equal(two.code, 2, 'two sockets: usage error');
  t.match(two.output, /socket activation passed 2 sockets; pv-ctrl serves one/);

  const file = await runWithPassedFd(dir, '1', notASocket);
  t.equal(file.code, 1, 'fd 3 is not a socket: start-up fails');
  t.match(file.output, /pv-ctrl: socket activation: listenSocketPath: getsockname failed: Socket operation on non-socket/);
  t.notOk(existsSync(join(dir, 'storage')), 'storage not touched');
  t.notOk(existsSync(join(dir, 'run', 'pv-ctrl')), 'no socket bound in its place');
});
