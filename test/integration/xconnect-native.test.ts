/**
 * The native pv-xconnect (native/src/xconnect_relay.cpp, issue 10) without containers: the
 * program scenario the TypeScript pv-xconnect passes, the relay's edge cases through the
 * program, its idle cost (no wakeups, a few MiB), and the daemon running it as `pv-xconnect`.
 * Containers are `/proc/<our pid>/root`, the host root (test/helpers/xconnect.ts).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startTestDaemon } from '../helpers/daemon.ts';
import { exchange, fakePvCtrl, oneShotProvider, programScenario, provider, sleep, staleSocket, startXconnect, testLink } from '../helpers/xconnect.ts';
import { rawRequest } from '../helpers/raw-http.ts';

// PVCTRL_TEST_XCONNECT_HELPER: another build of it (a sanitizer build, say) for the tests without the daemon.
const HELPER = process.env.PVCTRL_TEST_XCONNECT_HELPER ?? join(REPO, 'native', 'build', 'Release', 'pvctrl-xconnect');
const dir = mkdtempSync(join(tmpdir(), 'pvctrl-xconnect-native-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const statusField = (pid: number, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
/** Bun's floor is about 15 MiB for an empty program and 29 MiB for the TypeScript pv-xconnect. */
const NATIVE_RSS_LIMIT_KIB = 8 * 1024;

/** A fake pv-ctrl serving `links`, and the native program following it. */
async function relayFor(t: Tap.Test, name: string, links: () => unknown[]): Promise<ReturnType<typeof startXconnect> & { fake: Awaited<ReturnType<typeof fakePvCtrl>> }> {
  const fake = await fakePvCtrl(join(dir, `${name}.sock`), () => ({ status: 200, body: JSON.stringify(links()) }));
  t.teardown(() => void fake.server.close());
  return { ...startXconnect(t, [HELPER], join(dir, `${name}.sock`)), fake };
}

t.test('built next to the addon', async (t) => {
  t.doesNotThrow(() => accessSync(HELPER, constants.X_OK), `${HELPER} (bash scripts/build-native.sh)`);
  const help = spawnSync(HELPER, ['--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /^Usage: pv-xconnect \[--socket PATH\] \[--retry MS\] \[--verbose\]/);
  const bad = spawnSync(HELPER, ['--retry', '5'], { encoding: 'utf8' });
  t.equal(bad.status, 2, 'a bad retry delay is refused');
  t.match(bad.stdout, /bad retry delay 5/);
});

t.test('the program against a fake pv-ctrl', async (t) => {
  await programScenario(t, [HELPER], dir);
});

t.test('relaying: stale socket replaced, mode 0666, half-close, 4 MiB with back-pressure, 20 at once', async (t) => {
  const socket = join(dir, 'p1', 'raw.sock');
  const server = await provider(socket);
  t.teardown(() => void server.close());
  const target = join(dir, 'c1', 'raw.sock');
  staleSocket(target);
  await t.rejects(exchange(target), /ECONNREFUSED|refused/i, 'a stale socket nobody listens on');
  const relay = await relayFor(t, 'fake-relay', () => [testLink(dir, { target, socket })]);
  await relay.until('link up', () => / up \(pids /.test(relay.output()));
  t.ok(lstatSync(target).isSocket(), 'replaced by ours (the greeting below arrives)');
  t.equal(lstatSync(target).mode & 0o777, 0o666, 'anyone in the consumer may connect');
  t.equal(await exchange(target), 'hello from provider\n', 'greeting through the link');
  t.equal(await exchange(target, 'request body'), 'hello from provider\ngot "request body"\n', 'request, half-close, answer');
  const big = 'x'.repeat(4 * 1024 * 1024);
  t.equal(await exchange(target, big), `hello from provider\ngot "${big}"\n`, '4 MiB with back-pressure');
  const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => exchange(target, `n${index}`)));
  t.ok(answers.every((answer, index) => answer.endsWith(`got "n${index}"\n`)), '20 concurrent connections kept apart');

  // Someone removes our socket: the next pass repairs it.
  unlinkSync(target);
  relay.fake.graphChanged();
  await relay.until('repaired', () => existsSync(target));
  t.match(relay.output(), /down \(its socket went away; 23 connections relayed\)/);
  t.equal(await exchange(target), 'hello from provider\n', 'working again');
});

t.test('a provider that answers and hangs up at once (as pv-example serve does) is relayed every time', async (t) => {
  const socket = join(dir, 'oneshot', 'raw.sock');
  if (!(await oneShotProvider(t, socket))) {
    t.skip('perl with IO::Socket::UNIX is needed for an out-of-process one-shot provider');
    return;
  }
  const target = join(dir, 'oneshot-consumer', 'raw.sock');
  const relay = await relayFor(t, 'fake-oneshot', () => [testLink(dir, { target, socket })]);
  await relay.until('link up', () => existsSync(target));
  const answers: string[] = [];
  for (let index = 0; index < 40; index++) answers.push(await exchange(target));
  t.same(answers, answers.map((_, index) => `hello ${index + 1}\n`), '40 of 40 greetings arrive');
});

t.test('provider down, a target that is not a socket, unsupported types: said once, nothing touched', async (t) => {
  const down = join(dir, 'down', 'raw.sock');
  const occupied = join(dir, 'occupied', 'raw.sock');
  mkdirSync(join(dir, 'occupied'));
  writeFileSync(occupied, 'data');
  const relay = await relayFor(t, 'fake-errors', () => [
    testLink(dir, { target: down, socket: join(dir, 'nowhere', 'raw.sock') }),
    testLink(dir, { name: 'taken', target: occupied }),
    testLink(dir, { name: 'bus', type: 'dbus', target: '/x', socket: '/y' }),
  ]);
  await relay.until('link up', () => existsSync(down) && relay.output().includes('is not a socket'));
  // Closed at once: Bun's own Unix connect may report that as ECONNRESET (src/xconnect/connect-unix.ts).
  const closedAtOnce = (): Promise<string> => exchange(down).catch((error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? '' : Promise.reject(error)));
  t.equal(await closedAtOnce(), '', 'closed without data');
  t.equal(await closedAtOnce(), '');
  await relay.until('failure said', () => relay.output().includes('provider socket'));
  t.match(relay.output(), /error: link raw: .*: provider socket: .*nowhere.* does not exist/);
  t.equal(relay.output().split('provider socket').length - 1, 1, 'repeated failures summarised');
  t.match(relay.output(), /error: link taken: .*cannot set up: .*occupied\/raw\.sock exists and is not a socket/);
  t.equal(readFileSync(occupied, 'utf8'), 'data', 'the file is left alone');
  t.match(relay.output(), /link bus: .*type dbus not supported yet, skipped/);
});

t.test('a link torn down while connections stream through it ends them, and the program goes on', async (t) => {
  const socket = join(dir, 'p-stream', 'raw.sock');
  mkdirSync(join(dir, 'p-stream'), { recursive: true });
  // A provider that streams until the other side goes away.
  const server = createServer((peer) => {
    const timer = setInterval(() => peer.write('x'.repeat(16 * 1024)), 1);
    peer.on('close', () => clearInterval(timer));
    peer.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.teardown(() => void server.close());
  const target = join(dir, 'c-stream', 'raw.sock');
  let links = [testLink(dir, { target, socket })];
  const relay = await relayFor(t, 'fake-stream', () => links);
  await relay.until('link up', () => existsSync(target));
  const clients = await Promise.all(
    Array.from({ length: 8 }, () =>
      new Promise<{ received: () => number; ended: Promise<void> }>((resolve, reject) => {
        const client = createConnection(target);
        let bytes = 0;
        const ended = new Promise<void>((done) => client.once('close', () => done()));
        client.on('data', (chunk: Buffer) => (bytes += chunk.length));
        client.on('error', () => undefined);
        client.once('connect', () => resolve({ received: () => bytes, ended }));
        client.once('error', reject);
      }),
    ),
  );
  await relay.until('data flowing', () => clients.every((client) => client.received() > 0));
  links = [];
  relay.fake.graphChanged();
  await relay.until('link down', () => !existsSync(target));
  await Promise.all(clients.map((client) => client.ended));
  t.pass('every relayed connection ended with its link');
  t.match(relay.output(), /down \(no longer in the graph or a container stopped; 8 connections relayed\)/);
  links = [testLink(dir, { target, socket: join(dir, 'provider-again', 'raw.sock') })];
  const again = await provider(join(dir, 'provider-again', 'raw.sock'));
  t.teardown(() => void again.close());
  relay.fake.graphChanged();
  await relay.until('link up again', () => existsSync(target));
  t.equal(await exchange(target), 'hello from provider\n', 'the program still relays');
});

t.test('out of file descriptors: the connections beyond are refused, and the program does not spin', async (t) => {
  const socket = join(dir, 'p-fds', 'raw.sock');
  const server = await provider(socket);
  t.teardown(() => void server.close());
  const target = join(dir, 'c-fds', 'raw.sock');
  const fake = await fakePvCtrl(join(dir, 'fake-fds.sock'), () => ({ status: 200, body: JSON.stringify([testLink(dir, { target, socket })]) }));
  t.teardown(() => void fake.server.close());
  // 24 descriptors, hard limit too: room for a handful of relayed connections (two each).
  const relay = startXconnect(t, ['prlimit', '--nofile=24:24', HELPER], join(dir, 'fake-fds.sock'));
  await relay.until('link up', () => existsSync(target));
  const held = await Promise.all(
    Array.from({ length: 16 }, () =>
      new Promise<Socket>((resolve) => {
        const client = createConnection(target, () => resolve(client));
        client.on('error', () => undefined);
      }),
    ),
  );
  t.teardown(() => held.forEach((client) => client.destroy()));
  await relay.until('descriptors ran out', () => relay.output().includes('EMFILE') || relay.output().includes('out of file descriptors'));
  const pid = relay.child.pid ?? 0;
  const switches = (): number => statusField(pid, 'voluntary_ctxt_switches') + statusField(pid, 'nonvoluntary_ctxt_switches');
  await sleep(300);
  const before = switches();
  await sleep(1000);
  t.equal(switches(), before, 'asleep while the connections it could not take are gone and the rest idle');
  held.forEach((client) => client.destroy());
  await relay.until('descriptors back', () => statusField(pid, 'FDSize') > 0);
  let answer = '';
  for (let attempt = 0; attempt < 100 && answer === ''; attempt++) {
    answer = await exchange(target).catch(() => '');
    if (answer === '') await sleep(20);
  }
  t.equal(answer, 'hello from provider\n', 'relays again once connections closed');
});

t.test('idle: no wakeups while nothing happens, a few MiB', async (t) => {
  const socket = join(dir, 'p-idle', 'raw.sock');
  const server = await provider(socket);
  t.teardown(() => void server.close());
  const target = join(dir, 'c-idle', 'raw.sock');
  const relay = await relayFor(t, 'fake-idle', () => [testLink(dir, { target, socket })]);
  await relay.until('link up', () => existsSync(target));
  t.equal(await exchange(target), 'hello from provider\n');
  const pid = relay.child.pid ?? 0;
  const switches = (): number => statusField(pid, 'voluntary_ctxt_switches') + statusField(pid, 'nonvoluntary_ctxt_switches');
  await sleep(200);
  const before = switches();
  await sleep(1000);
  t.equal(switches(), before, 'not scheduled once in a second of idle (no timers)');
  const rss = statusField(pid, 'VmRSS');
  t.ok(rss < NATIVE_RSS_LIMIT_KIB, `RSS ${rss} KiB < ${NATIVE_RSS_LIMIT_KIB} KiB`);
});

t.test('the daemon runs the native pv-xconnect as its supervised pv-xconnect', async (t) => {
  const daemon = await startTestDaemon();
  t.teardown(() => daemon.dispose());
  // Its first line: by then the process is the helper (a pid is listed from the fork on).
  const followed = Date.now() + 10_000;
  while (!daemon.log().includes('pv-xconnect-out: following') && Date.now() < followed) await sleep(50);
  t.match(daemon.log(), /pv-xconnect-out: following .*pv-ctrl \(GET \/events\?types=xconnect\)/, 'follows the event stream, output tagged in the daemon log');
  let entry: { name: string; pid: number; respawn: boolean } | undefined;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const answer = await rawRequest(daemon.socket, 'GET', '/daemons');
    entry = (JSON.parse(answer.body) as { name: string; pid: number; respawn: boolean }[]).find((item) => item.name === 'pv-xconnect');
    if (entry !== undefined && entry.pid > 0) break;
    await sleep(50);
  }
  t.ok(entry !== undefined && entry.pid > 0 && entry.respawn, `listed and supervised: ${JSON.stringify(entry)}`);
  const pid = entry?.pid ?? 0;
  t.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], HELPER, 'the native helper next to the addon, not a second Bun');
  const rss = statusField(pid, 'VmRSS');
  t.ok(rss < NATIVE_RSS_LIMIT_KIB, `RSS ${rss} KiB < ${NATIVE_RSS_LIMIT_KIB} KiB`);
  await daemon.stop();
  t.match(daemon.log(), new RegExp(`pv-xconnect-out: SIGTERM: closing links[\\s\\S]*daemon pv-xconnect \\(pid ${pid}\\) exited with 0`), 'stopped cleanly with the daemon');
});
