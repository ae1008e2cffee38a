/**
 * pv-xconnect without containers: every process here shares our root, so `/proc/<pid>/root`
 * of our own pid (or of a `sleep` we start) is the host root and a "container path" is just a
 * temp path. Covers the graph client, in-root path resolution, the relay (half-close,
 * provider down, stale sockets), the reconciler (pid change, vanished links, unsupported
 * types) and the program itself against a fake pv-ctrl.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUN, REPO } from '../helpers/daemon.ts';
import { fetchGraph, parseGraph, parseGraphAnswer, type XconnectLink } from '../../src/xconnect/graph.ts';
import { resolveInRoot } from '../../src/xconnect/paths.ts';
import { Reconciler } from '../../src/xconnect/reconciler.ts';
import { UnixLink, type LinkLogger } from '../../src/xconnect/unix-link.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-xconnect-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function recorder(): LinkLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`info ${message}`),
    error: (message) => lines.push(`error ${message}`),
    debug: (message) => lines.push(`debug ${message}`),
  };
}

/** A provider like pv-example serve: greets, then answers what it got once the client half-closes. */
async function provider(path: string): Promise<Server> {
  mkdirSync(join(path, '..'), { recursive: true });
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.write('hello from provider\n');
    let got = '';
    socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
    socket.on('end', () => socket.end(`got ${JSON.stringify(got)}\n`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

/** Connect, optionally send and half-close, read to EOF. */
function exchange(path: string, send?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path, allowHalfOpen: true });
    let text = '';
    socket.on('connect', () => {
      if (send !== undefined) {
        socket.write(send);
        socket.end();
      }
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      // Like pv-example connect: read the greeting, then hang up.
      if (send === undefined && text.includes('\n')) socket.destroy();
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

const link = (overrides: Partial<XconnectLink> = {}): XconnectLink => ({
  consumer: 'consumer',
  consumer_pid: process.pid,
  provider: 'provider',
  provider_pid: process.pid,
  name: 'raw',
  type: 'unix',
  role: 'any',
  interface: 'unix',
  target: join(dir, 'consumer', 'raw.sock'),
  socket: join(dir, 'provider', 'raw.sock'),
  ...overrides,
});

/** A socket file nobody listens on, as a SIGKILLed pv-xconnect leaves behind. */
function staleSocket(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  spawnSync(BUN, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  if (!lstatSync(path).isSocket()) throw new Error('no stale socket made');
}

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
  const perl = spawnSync('perl', ['-MIO::Socket::UNIX', '-e', '1']);
  if (perl.status !== 0) {
    t.skip('perl with IO::Socket::UNIX is needed for an out-of-process one-shot provider');
    return;
  }
  const path = join(dir, 'oneshot', 'raw.sock');
  mkdirSync(join(dir, 'oneshot'));
  const script = '$p=shift; $s=IO::Socket::UNIX->new(Type=>SOCK_STREAM(), Local=>$p, Listen=>16) or die "$!"; $|=1; print "ready\n"; $n=0; while ($c=$s->accept) { $n++; print $c "hello $n\n"; close $c }';
  const server = spawn('perl', ['-MIO::Socket::UNIX', '-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void server.kill());
  await new Promise((resolve) => server.stdout?.once('data', resolve));
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

interface FakePvCtrl {
  server: Server;
  requests: string[];
  /** Send an `xconnect` event (NDJSON, chunked) to every open `GET /events`. */
  graphChanged(): void;
  /** End every open event stream, as a pv-ctrl that stops does. */
  endStreams(): void;
  /** Open event streams. */
  readonly streams: number;
}

/**
 * A fake pv-ctrl: answers GET /xconnect-graph with whatever `graph()` returns, HTTP/1.0 style,
 * and holds GET /events open as a chunked NDJSON stream that the test feeds.
 */
async function fakePvCtrl(path: string, graph: () => { status: number; body: string }): Promise<FakePvCtrl> {
  const requests: string[] = [];
  const streams = new Set<Socket>();
  let seq = 0;
  const chunk = (line: string): string => `${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`;
  const server = createServer((socket) => {
    let text = '';
    socket.on('data', (data: Buffer) => {
      text += data.toString();
      if (!text.includes('\r\n\r\n')) return;
      requests.push(text);
      if (text.startsWith('GET /events')) {
        streams.add(socket);
        socket.once('close', () => streams.delete(socket));
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n');
        socket.write(chunk(`${JSON.stringify({ seq: ++seq, time: Date.now(), type: 'epoch', epoch: { id: 'fake' } })}\n`));
        text = '';
        return;
      }
      const answer = graph();
      socket.end(`HTTP/1.0 ${answer.status} X\r\nContent-Length: ${Buffer.byteLength(answer.body)}\r\n\r\n${answer.body}`);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    server,
    requests,
    graphChanged: () => {
      const line = `${JSON.stringify({ seq: ++seq, time: Date.now(), type: 'xconnect', xconnect: { cause: 'test' } })}\n`;
      for (const socket of streams) socket.write(chunk(line));
    },
    endStreams: () => {
      for (const socket of streams) socket.end('0\r\n\r\n');
    },
    get streams() {
      return streams.size;
    },
  };
}

t.test('fetchGraph speaks HTTP/1.0 to the socket', async (t) => {
  const path = join(dir, 'fake1.sock');
  const fake = await fakePvCtrl(path, () => ({ status: 200, body: JSON.stringify([link()]) }));
  t.teardown(() => void fake.server.close());
  t.same(await fetchGraph(path), [link()]);
  t.match(fake.requests[0], /^GET \/xconnect-graph HTTP\/1\.0\r\nHost: localhost\r\n\r\n$/);
  await t.rejects(fetchGraph(join(dir, 'absent.sock')), /ENOENT|no such file|failed to connect/i);
});

t.test('the pv-xconnect program against a fake pv-ctrl', async (t) => {
  const server = await provider(join(dir, 'provider3', 'raw.sock'));
  t.teardown(() => void server.close());
  const target = join(dir, 'prog', 'sub', 'raw.sock');
  let answer = { status: 200, body: JSON.stringify([link({ target, socket: join(dir, 'provider3', 'raw.sock') })]) };
  const path = join(dir, 'fake2.sock');
  const fake = await fakePvCtrl(path, () => answer);
  t.teardown(() => void fake.server.close());
  const child = spawn(BUN, [join(REPO, 'src', 'xconnect', 'main.ts'), '--socket', path, '--retry', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  const until = async (what: string, test: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output}`);
      await sleep(25);
    }
  };
  await until('link up', () => existsSync(target));
  t.equal(await exchange(target), 'hello from provider\n', 'relayed by the program');
  t.match(output, /following .*fake2\.sock \(GET \/events\?types=xconnect\)/);
  t.match(output, /link raw: consumer:.*prog\/sub\/raw\.sock -> provider:.* up/);
  t.match(fake.requests.find((request) => request.startsWith('GET /events')), /^GET \/events\?types=xconnect HTTP\/1\.1\r\n/, 'subscribed to graph changes');
  const graphReads = (): number => fake.requests.filter((request) => request.startsWith('GET /xconnect-graph')).length;
  const readsAtRest = graphReads();

  answer = { status: 200, body: '[]' };
  // Nothing is read until pv-ctrl says the graph changed: no polling.
  await sleep(300);
  t.equal(graphReads(), readsAtRest, 'no graph read without an event');
  t.ok(existsSync(target), 'the link stays until the change is announced');
  fake.graphChanged();
  await until('link down', () => !existsSync(target));
  t.match(output, /down \(no longer in the graph/);

  answer = { status: 500, body: '{"Error":"State not loaded yet"}' };
  fake.graphChanged();
  await until('error logged', () => output.includes('State not loaded yet'));
  // A failed read is retried on its own (doubling delay) until it works.
  answer = { status: 200, body: JSON.stringify([link({ target, socket: join(dir, 'provider3', 'raw.sock') })]) };
  await until('link up again after the retry', () => existsSync(target));
  t.equal(output.split('State not loaded yet').length - 1, 1, 'the same error is said once');
  t.match(output, /graph available again/);
  t.equal(await exchange(target), 'hello from provider\n');

  // pv-ctrl restarts: the stream ends; pv-xconnect subscribes again, resuming after the last event.
  fake.endStreams();
  await until('subscribed again', () => fake.requests.filter((request) => request.startsWith('GET /events')).length === 2 && fake.streams === 1);
  t.match(fake.requests.filter((request) => request.startsWith('GET /events'))[1], /^GET \/events\?types=xconnect&since=\d+ HTTP\/1\.1/, 'resumes with since');
  t.ok(existsSync(target), 'links kept across the restart');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: clean exit');
  t.notOk(existsSync(target), 'its sockets removed on the way out');
  t.match(output, /SIGTERM: closing links/);
});
