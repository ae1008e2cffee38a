/**
 * The native body writer (native/src/stream_writer.cpp through src/native/stream-writer.ts)
 * against real Unix socket connections: the peer is socat writing what it reads to a file, so
 * "the peer stops reading" is socat stopped with SIGSTOP, and "the peer goes away" is socat killed.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionStreamWriter, type WrittenStreamEvents } from '../../src/native/stream-writer.ts';

interface Connection {
  /** Our side, as the listener has it. */
  socket: Socket;
  fd: number;
  /** The peer: socat copying the connection to `output`. */
  peer: ChildProcess;
  output: string;
}

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-stream-writer-'));
let server: Server;
const accepted: Socket[] = [];
let connections = 0;

t.before(async () => {
  server = createServer({ allowHalfOpen: true }, (socket) => {
    // Our side never reads in these tests; Bun must not either (the peer sends nothing anyway).
    accepted.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(join(dir, 'listen.sock'), resolve));
});

t.teardown(() => {
  for (const socket of accepted) socket.destroy();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(t: Tap.Test): Promise<Connection> {
  const output = join(dir, `peer-${++connections}.out`);
  const before = accepted.length;
  const peer = spawn('socat', ['-u', `UNIX-CONNECT:${join(dir, 'listen.sock')}`, `CREATE:${output}`], { stdio: 'ignore' });
  t.teardown(() => {
    if (peer.exitCode === null && peer.signalCode === null) {
      peer.kill('SIGCONT');
      peer.kill('SIGKILL');
    }
  });
  await until(() => accepted.length > before, 'the peer connects');
  const socket = accepted[accepted.length - 1] as Socket;
  const fd = (socket as Socket & { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number') throw new Error('accepted socket has no fd');
  return { socket, fd, peer, output };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(10);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function recorder(): WrittenStreamEvents & { seen: string[] } {
  const seen: string[] = [];
  return { seen, drained: () => seen.push('drained'), gone: () => seen.push('gone'), flushed: () => seen.push('flushed') };
}

/** Bytes 0..255 repeated: a cut or reordering shows in the comparison. */
function pattern(length: number, offset = 0): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let index = 0; index < length; index++) bytes[index] = (index + offset) & 0xff;
  return bytes;
}

t.test('bytes follow what the connection already sent, in order, and flush reports when they left', async (t) => {
  const writer = new ConnectionStreamWriter();
  t.teardown(() => writer.shutdown());
  const connection = await connect(t);
  await new Promise<void>((resolve) => connection.socket.write('head:', () => resolve()));
  const events = recorder();
  const stream = writer.open(connection.fd, 64 * 1024, events);
  const parts = [pattern(10), pattern(1000, 10), pattern(60_000, 1010)];
  for (const part of parts) stream.write(part);
  stream.flush();
  await until(() => events.seen.includes('flushed'), 'flushed');
  stream.close();
  connection.socket.end();
  await until(() => connection.peer.exitCode !== null, 'socat ends at the close');
  t.same(readFileSync(connection.output), Buffer.concat([Buffer.from('head:'), ...parts]), 'everything, once, in order');
  t.same(events.seen, ['flushed'], 'nothing else was reported');
  t.equal(writer.size, 0, 'closed streams are forgotten');
});

t.test('a peer that stops reading: write says so past the high-water mark, and drained follows once it reads', async (t) => {
  const writer = new ConnectionStreamWriter();
  t.teardown(() => writer.shutdown());
  const connection = await connect(t);
  const events = recorder();
  // A high-water mark of many chunks: one send then spans several of the kernel's buffers, so
  // the socket cuts it short inside a chunk.
  const stream = writer.open(connection.fd, 512 * 1024, events);
  connection.peer.kill('SIGSTOP');
  // Every chunk different, and of an odd size, so a send the socket cuts short ends inside one:
  // what is resent from there, and the chunks' order, are both checked.
  const sent: Buffer[] = [];
  const nextChunk = (): Buffer => {
    const index = sent.length;
    const chunk = Buffer.alloc(8191);
    for (let offset = 0; offset < chunk.length; offset++) chunk[offset] = (index * 7 + offset) % 251;
    sent.push(chunk);
    return chunk;
  };
  let written = 0;
  let full = false;
  // A "full" on this side's estimate, while the kernel's buffers still take bytes, is followed at
  // once by `drained`; once the peer's buffers are full too, no `drained` comes. Bounded.
  for (let attempt = 0; attempt < 2000 && !full; attempt++) {
    events.seen.length = 0;
    let accepted = true;
    while (accepted) {
      const chunk = nextChunk();
      accepted = stream.write(chunk);
      written += chunk.length;
    }
    await Bun.sleep(100);
    full = !events.seen.includes('drained');
  }
  t.ok(full, `write reported a full queue that stays full after ${written} bytes`);
  t.same(events.seen, [], 'no drained while the peer is stopped');
  connection.peer.kill('SIGCONT');
  await until(() => events.seen.includes('drained'), 'drained');
  await until(() => sizeOf(connection.output) === written, 'the peer has every byte');
  t.ok(readFileSync(connection.output).equals(Buffer.concat(sent)), `intact and in order (${sent.length} chunks)`);
  t.ok(stream.write(nextChunk()), 'takes bytes again');
  stream.close();
});

t.test('a peer that goes away is reported once, while idle too; later writes are refused', async (t) => {
  const writer = new ConnectionStreamWriter();
  t.teardown(() => writer.shutdown());
  const connection = await connect(t);
  const events = recorder();
  const stream = writer.open(connection.fd, 64 * 1024, events);
  t.ok(stream.write(Buffer.from('one')), 'written');
  await until(() => sizeOf(connection.output) === 3, 'the peer read it');
  connection.peer.kill('SIGKILL');
  await until(() => events.seen.includes('gone'), 'gone, with nothing being written');
  t.notOk(stream.write(Buffer.from('two')), 'a write after gone is refused');
  await Bun.sleep(100);
  t.same(events.seen, ['gone'], 'reported once');
  stream.close();
});

t.test('close: no more events, and the connection stays the caller\'s', async (t) => {
  const writer = new ConnectionStreamWriter();
  t.teardown(() => writer.shutdown());
  const connection = await connect(t);
  const events = recorder();
  const stream = writer.open(connection.fd, 64 * 1024, events);
  stream.write(Buffer.from('native;'));
  stream.flush();
  await until(() => events.seen.includes('flushed'), 'flushed');
  stream.close();
  t.notOk(stream.write(Buffer.from('late')), 'a closed stream takes nothing');
  await new Promise<void>((resolve) => connection.socket.end('caller', () => resolve()));
  await until(() => connection.peer.exitCode !== null, 'socat ends at the close');
  t.equal(readFileSync(connection.output, 'latin1'), 'native;caller', 'the caller writes on after the stream closed its copy');
  t.same(events.seen, ['flushed']);
});

t.test('the thread sleeps while nothing is queued, and shutdown ends it', async (t) => {
  const writer = new ConnectionStreamWriter();
  const connection = await connect(t);
  const stream = writer.open(connection.fd, 64 * 1024, recorder());
  await until(() => writerThread() !== undefined, 'the thread has its name');
  const thread = writerThread() as string;
  const switches = (): number => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/self/task/${thread}/status`, 'utf8'))?.[1]);
  const before = switches();
  await Bun.sleep(1000);
  t.equal(switches(), before, 'not scheduled once in a second with an open, idle stream');
  stream.close();
  writer.shutdown();
  // The join returns once the thread is done; the kernel lists it a moment longer.
  await until(() => writerThread() === undefined, 'no thread after shutdown');
  t.pass('no thread after shutdown');
  connection.socket.destroy();
});

t.test('many streams written in bursts, as the event bus does: no wake-up is lost, every byte arrives', async (t) => {
  const writer = new ConnectionStreamWriter();
  t.teardown(() => writer.shutdown());
  const connections: Connection[] = [];
  // One at a time: connect() takes the newest accepted socket as the peer's.
  for (let index = 0; index < 12; index++) connections.push(await connect(t));
  const flushed = new Set<number>();
  const streams = connections.map((connection, index) =>
    writer.open(connection.fd, 1024 * 1024, { drained: () => undefined, gone: () => t.fail(`stream ${index} gone`), flushed: () => flushed.add(index) }),
  );
  const rounds = 400;
  for (let round = 0; round < rounds; round++) {
    // One synchronous burst to every stream, then a turn: the writer's thread is busy with the
    // previous burst while the next is queued.
    for (const stream of streams) stream.write(pattern(100, round));
    if (round % 3 === 0) await Promise.resolve();
    else await new Promise((resolve) => setImmediate(resolve));
  }
  streams.forEach((stream) => stream.flush());
  await until(() => flushed.size === streams.length, 'every stream flushed');
  await until(() => connections.every((connection) => sizeOf(connection.output) === rounds * 100), 'every peer has every byte');
  const expected = Buffer.concat(Array.from({ length: rounds }, (_, round) => pattern(100, round)));
  t.ok(connections.every((connection) => readFileSync(connection.output).equals(expected)), 'in order, intact');
  for (const stream of streams) stream.close();
});

t.test('arguments are checked before the addon', async (t) => {
  const writer = new ConnectionStreamWriter();
  t.teardown(() => writer.shutdown());
  t.throws(() => writer.open(-1, 10, recorder()), /fd must be a non-negative integer/);
  t.throws(() => writer.open(1.5, 10, recorder()), /fd must be a non-negative integer/);
  t.throws(() => writer.open(0, -1, recorder()), /highWaterBytes must be a non-negative integer/);
  t.throws(() => writer.open(987_654, 10, recorder()), { code: 'EBADF' }, 'an fd that is not open');
});

function writerThread(): string | undefined {
  return readdirSync('/proc/self/task').find((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'pvctrl-streams';
    } catch {
      return false;
    }
  });
}
