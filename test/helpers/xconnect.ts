/**
 * pv-xconnect without containers, shared by the tests of both implementations (the TypeScript
 * src/xconnect/main.ts and the native native/src/xconnect_relay.cpp): every process here
 * shares our root, so `/proc/<our pid>/root` is the host root and a "container path" is just a
 * temp path. A provider, a client exchange, a fake pv-ctrl, and the program scenario itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
type Test = Tap.Test;
import { BUN } from './daemon.ts';
import type { XconnectLink } from '../../src/xconnect/graph.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A provider like pv-example serve: greets, then answers what it got once the client half-closes. */
export async function provider(path: string): Promise<Server> {
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
export function exchange(path: string, send?: string): Promise<string> {
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

/**
 * A provider in another process that greets (`hello <n>`) and closes at once, as pv-example serve
 * does: it can close between a relay's connect and its first look at the socket. False (nothing
 * started) where perl with IO::Socket::UNIX is missing.
 */
export async function oneShotProvider(t: Test, path: string): Promise<boolean> {
  if (spawnSync('perl', ['-MIO::Socket::UNIX', '-e', '1']).status !== 0) return false;
  mkdirSync(join(path, '..'), { recursive: true });
  const script = '$p=shift; $s=IO::Socket::UNIX->new(Type=>SOCK_STREAM(), Local=>$p, Listen=>16) or die "$!"; $|=1; print "ready\n"; $n=0; while ($c=$s->accept) { $n++; print $c "hello $n\n"; close $c }';
  const server = spawn('perl', ['-MIO::Socket::UNIX', '-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void server.kill());
  await new Promise((resolve) => server.stdout?.once('data', resolve));
  return true;
}

/** A link between two "containers" that are this process (root `/`), with paths under `dir`. */
export function testLink(dir: string, overrides: Partial<XconnectLink> = {}): XconnectLink {
  return {
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
  };
}

/** A socket file nobody listens on, as a SIGKILLed pv-xconnect leaves behind. */
export function staleSocket(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  spawnSync(BUN, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  if (!lstatSync(path).isSocket()) throw new Error('no stale socket made');
}

export interface FakePvCtrl {
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
export async function fakePvCtrl(path: string, graph: () => { status: number; body: string }): Promise<FakePvCtrl> {
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

export interface RunningXconnect {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Wait (bounded, 10 s) until `test` holds; the error carries the program's output. */
  until(what: string, test: () => boolean): Promise<void>;
}

/** Start a pv-xconnect program (`command` = argv before the flags) on a fake pv-ctrl's socket. */
export function startXconnect(t: Test, command: readonly string[], socket: string, extra: readonly string[] = []): RunningXconnect {
  const [program, ...prefix] = command;
  const child = spawn(program ?? '', [...prefix, '--socket', socket, '--retry', '100', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  return {
    child,
    output: () => output,
    exited,
    until: async (what, test) => {
      const deadline = Date.now() + 10_000;
      while (!test()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output}`);
        await sleep(25);
      }
    },
  };
}

/**
 * The program against a fake pv-ctrl: subscribes, reads the graph only when told, sets links up
 * and down, retries a failed read on its own, says an error once, resubscribes with `since`
 * after pv-ctrl's stream ends, and removes its sockets on SIGTERM.
 */
export async function programScenario(t: Test, command: readonly string[], dir: string): Promise<void> {
  const server = await provider(join(dir, 'provider3', 'raw.sock'));
  t.teardown(() => void server.close());
  const target = join(dir, 'prog', 'sub', 'raw.sock');
  const wanted = JSON.stringify([testLink(dir, { target, socket: join(dir, 'provider3', 'raw.sock') })]);
  let answer = { status: 200, body: wanted };
  const path = join(dir, 'fake2.sock');
  const fake = await fakePvCtrl(path, () => answer);
  t.teardown(() => void fake.server.close());
  const program = startXconnect(t, command, path);
  const { until, output } = program;
  await until('link up', () => existsSync(target));
  t.equal(await exchange(target), 'hello from provider\n', 'relayed by the program');
  t.match(output(), /following .*fake2\.sock \(GET \/events\?types=xconnect\)/);
  t.match(output(), /link raw: consumer:.*prog\/sub\/raw\.sock -> provider:.* up/);
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
  t.match(output(), /down \(no longer in the graph/);

  answer = { status: 500, body: '{"Error":"State not loaded yet"}' };
  fake.graphChanged();
  await until('error logged', () => output().includes('State not loaded yet'));
  // A failed read is retried on its own (doubling delay) until it works.
  answer = { status: 200, body: wanted };
  await until('link up again after the retry', () => existsSync(target));
  t.equal(output().split('State not loaded yet').length - 1, 1, 'the same error is said once');
  t.match(output(), /graph available again/);
  t.equal(await exchange(target), 'hello from provider\n');

  // pv-ctrl restarts: the stream ends; pv-xconnect subscribes again, resuming after the last event.
  fake.endStreams();
  await until('subscribed again', () => fake.requests.filter((request) => request.startsWith('GET /events')).length === 2 && fake.streams === 1);
  t.match(fake.requests.filter((request) => request.startsWith('GET /events'))[1], /^GET \/events\?types=xconnect&since=\d+ HTTP\/1\.1/, 'resumes with since');
  t.ok(existsSync(target), 'links kept across the restart');
  program.child.kill('SIGTERM');
  t.equal(await program.exited, 0, 'SIGTERM: clean exit');
  t.notOk(existsSync(target), 'its sockets removed on the way out');
  t.match(output(), /SIGTERM: closing links/);
}
