/**
 * pv-xconnect without containers: every process here shares our root, so `/proc/<pid>/root`
 * of our own pid (or of a `sleep` we start) is the host root and a "container path" is just a
 * temp path. Covers the graph client, in-root path resolution, the relay (half-close,
 * provider down, stale sockets), the reconciler (pid change, vanished links, unsupported
 * types) and the program itself against a fake pv-ctrl.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUN, REPO } from '../helpers/daemon.ts';
import { exchange, fakePvCtrl, oneShotProvider, programScenario, provider, staleSocket, testLink } from '../helpers/xconnect.ts';
import { fetchGraph, parseGraph, parseGraphAnswer, type XconnectLink } from '../../src/xconnect/graph.ts';
import { resolveInRoot } from '../../src/xconnect/paths.ts';
import { nativeXconnect, xconnectDaemonSpec } from '../../src/xconnect/command.ts';
import { Reconciler } from '../../src/xconnect/reconciler.ts';
import { UnixLink, type LinkLogger } from '../../src/xconnect/unix-link.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-xconnect-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function recorder(): LinkLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`info ${message}`),
    error: (message) => lines.push(`error ${message}`),
    debug: (message) => lines.push(`debug ${message}`),
  };
}

const link = (overrides: Partial<XconnectLink> = {}): XconnectLink => testLink(dir, overrides);

t.test('graph answers', async (t) => {
  const body = JSON.stringify([link()]);
  t.same(parseGraphAnswer(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`), [link()]);
  t.throws(() => parseGraphAnswer('HTTP/1.1 500 Internal Server Error\r\n\r\n{"Error":"State not loaded yet"}'), /500 .*State not loaded yet/);
  t.throws(() => parseGraphAnswer('HTTP/1.0 200 OK\r\n'), /truncated/);
  t.throws(() => parseGraph('{}'), /not an array/);
  t.throws(() => parseGraph('[{"consumer":"a"}]'), /consumer_pid/);
  t.same(parseGraph('[{"consumer":"c","consumer_pid":-1,"provider":"p","provider_pid":3,"name":"n","type":"dbus"}]')[0], {
    consumer: 'c',
    consumer_pid: -1,
    provider: 'p',
    provider_pid: 3,
    name: 'n',
    type: 'dbus',
    role: 'any',
    interface: 'dbus',
    target: null,
    socket: null,
  }, 'defaults for the optional fields');
});

t.test('paths are resolved inside the container root, never through it', async (t) => {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'run', 'real'), { recursive: true });
  symlinkSync('/run/real', join(root, 'run', 'absolute'));
  symlinkSync('../../../../../../../etc', join(root, 'run', 'climb'));
  symlinkSync('loop', join(root, 'run', 'loop'));
  writeFileSync(join(root, 'run', 'file'), '');
  t.equal(resolveInRoot(root, '/run/real/x.sock'), `${root}/run/real/x.sock`);
  t.equal(resolveInRoot(root, '/run/absolute/x.sock'), `${root}/run/real/x.sock`, 'an absolute link stays in the root');
  t.throws(() => resolveInRoot(root, '/run/climb/x.sock'), /etc does not exist/, '.. stops at the root: no host /etc');
  t.equal(resolveInRoot(root, '/run/climb/x.sock', { createParents: true }), `${root}/etc/x.sock`, 'created inside the root');
  t.ok(existsSync(join(root, 'etc')));
  t.throws(() => resolveInRoot(root, '/run/loop/x'), /too many symbolic links/);
  t.throws(() => resolveInRoot(root, '/run/file/x'), /not a directory/);
  t.throws(() => resolveInRoot(root, 'relative'), /not an absolute path/);
  t.equal(resolveInRoot(root, '/new/deep/x.sock', { createParents: true }), `${root}/new/deep/x.sock`);
  t.ok(lstatSync(join(root, 'new', 'deep')).isDirectory(), 'parents created');
});

t.test('a unix link relays both ways, with half-close', async (t) => {
  const server = await provider(join(dir, 'provider', 'raw.sock'));
  t.teardown(() => void server.close());
  const log = recorder();
  staleSocket(link().target ?? '');
  const opened = await UnixLink.open(link(), log);
  t.ok(lstatSync(link().target ?? '').isSocket(), 'stale socket replaced by ours');
  t.equal(lstatSync(link().target ?? '').mode & 0o777, 0o666, 'anyone in the consumer may connect');
  t.ok(opened.healthy());
  t.equal(await exchange(link().target ?? ''), 'hello from provider\n', 'greeting through the link');
  t.equal(await exchange(link().target ?? '', 'request body'), 'hello from provider\ngot "request body"\n', 'request, half-close, answer');
  const big = 'x'.repeat(4 * 1024 * 1024);
  t.equal(await exchange(link().target ?? '', big), `hello from provider\ngot "${big}"\n`, '4 MiB with back-pressure');
  const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => exchange(link().target ?? '', `n${index}`)));
  t.ok(answers.every((answer, index) => answer.endsWith(`got "n${index}"\n`)), '20 concurrent connections kept apart');

  unlinkSync(link().target ?? '');
  t.notOk(opened.healthy(), 'a removed socket makes the link unhealthy');
  await opened.close('test');
  t.match(log.lines.join('\n'), /link raw: consumer:.* down \(test; 23 connections relayed\)/);
});

t.test('a provider that answers and hangs up at once (as pv-example serve does) is relayed every time', async (t) => {
  // In another process, so it can close between our connect and our first look at the
  // socket: the window in which Bun's own async Unix connect reports ECONNRESET.
  const path = join(dir, 'oneshot', 'raw.sock');
  if (!(await oneShotProvider(t, path))) {
    t.skip('perl with IO::Socket::UNIX is needed for an out-of-process one-shot provider');
    return;
  }
  const target = join(dir, 'oneshot-consumer', 'raw.sock');
  const opened = await UnixLink.open(link({ target, socket: path }), recorder());
  t.teardown(() => opened.close('test'));
  const answers: string[] = [];
  for (let index = 0; index < 40; index++) answers.push(await exchange(target));
  t.same(answers, answers.map((_, index) => `hello ${index + 1}\n`), '40 of 40 greetings arrive');
});

t.test('provider down: the consumer sees the connection end, the error is logged once', async (t) => {
  const target = join(dir, 'down', 'raw.sock');
  const log = recorder();
  const opened = await UnixLink.open(link({ target, socket: join(dir, 'nowhere', 'raw.sock') }), log);
  t.teardown(() => opened.close('test'));
  t.equal(await exchange(target), '', 'closed without data');
  t.equal(await exchange(target), '');
  t.equal(log.lines.filter((line) => line.startsWith('error')).length, 1, 'repeated failures summarised');
  t.match(log.lines.join('\n'), /provider socket: .*nowhere does not exist/);
});

t.test('a target that is not a socket is left alone', async (t) => {
  const target = join(dir, 'occupied', 'raw.sock');
  mkdirSync(join(dir, 'occupied'));
  writeFileSync(target, 'data');
  await t.rejects(UnixLink.open(link({ target }), recorder()), /exists and is not a socket/);
});

t.test('reconciler: opens, keeps, recreates on a pid change, closes vanished links, skips other types', async (t) => {
  const server = await provider(join(dir, 'provider2', 'raw.sock'));
  t.teardown(() => void server.close());
  const sleeper: ChildProcess = spawn('sleep', ['60']);
  t.teardown(() => void sleeper.kill());
  const log = recorder();
  const reconciler = new Reconciler(log);
  t.teardown(() => reconciler.closeAll('test'));
  const target = join(dir, 'rec', 'raw.sock');
  const base = link({ target, socket: join(dir, 'provider2', 'raw.sock') });
  const dbus = link({ type: 'dbus', name: 'bus', target: '/x', socket: '/y' });

  await reconciler.apply([base, dbus, link({ target, provider: 'other' })]);
  t.equal(reconciler.size, 1);
  t.equal(await exchange(target), 'hello from provider\n');
  const inode = lstatSync(target).ino;
  await reconciler.apply([base, dbus]);
  t.equal(lstatSync(target).ino, inode, 'same graph: same socket');
  t.equal(log.lines.filter((line) => line.includes('type dbus not supported yet')).length, 1, 'skipped type said once');
  t.match(log.lines.join('\n'), /already served by provider, skipped/);

  await reconciler.apply([{ ...base, consumer_pid: sleeper.pid ?? 0 }]);
  t.match(log.lines.join('\n'), /down \(a container restarted/);
  t.match(log.lines.join('\n'), new RegExp(`up \\(pids ${sleeper.pid} -> ${process.pid}`), 'recreated for the new pid');
  t.equal(await exchange(target), 'hello from provider\n', 'and working');

  unlinkSync(target);
  await reconciler.apply([{ ...base, consumer_pid: sleeper.pid ?? 0 }]);
  t.ok(lstatSync(target).isSocket(), 'repaired after its socket was removed');

  await reconciler.apply([{ ...base, provider_pid: -1 }]);
  t.equal(reconciler.size, 0, 'provider stopped: link down');
  t.notOk(existsSync(target), 'socket removed');
  await reconciler.apply([]);
  t.equal(reconciler.size, 0);
});

t.test('fetchGraph speaks HTTP/1.0 to the socket', async (t) => {
  const path = join(dir, 'fake1.sock');
  const fake = await fakePvCtrl(path, () => ({ status: 200, body: JSON.stringify([link()]) }));
  t.teardown(() => void fake.server.close());
  t.same(await fetchGraph(path), [link()]);
  t.match(fake.requests[0], /^GET \/xconnect-graph HTTP\/1\.0\r\nHost: localhost\r\n\r\n$/);
  await t.rejects(fetchGraph(join(dir, 'absent.sock')), /ENOENT|no such file|failed to connect/i);
});

t.test('the pv-xconnect program against a fake pv-ctrl', async (t) => {
  await programScenario(t, [BUN, join(REPO, 'src', 'xconnect', 'main.ts')], dir);
});

t.test('how the supervisor runs pv-xconnect: PV_XCONNECT_BIN, else the native one, else the TypeScript one', async (t) => {
  const socket = '/run/pv/pv-ctrl';
  const native = '/opt/pv/pvctrl-xconnect';
  t.match(xconnectDaemonSpec(socket, { PV_XCONNECT_BIN: '/usr/bin/other' }, native), { name: 'pv-xconnect', command: '/usr/bin/other', args: ['--socket', socket], requires: ['/usr/bin/other'] });
  t.match(xconnectDaemonSpec(socket, {}, native), { name: 'pv-xconnect', command: native, args: ['--socket', socket], env: { PV_CTRL_SOCKET: socket }, requires: [native] });
  const fallback = xconnectDaemonSpec(socket, {}, null);
  t.equal(fallback.command, process.execPath, 'from source without the native one: the Bun running pv-ctrl');
  t.same(fallback.args, [join(REPO, 'src', 'xconnect', 'main.ts'), '--socket', socket]);
  t.equal(nativeXconnect(), join(REPO, 'native', 'build', 'Release', 'pvctrl-xconnect'), 'found next to the addon of this checkout');
});
