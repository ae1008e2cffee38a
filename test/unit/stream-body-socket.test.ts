/**
 * A long-lived body written through the socket (src/server/respond.ts `streamBody` without a body
 * writer): what a stream falls back to when the native writer cannot take it (no descriptor to
 * spare for its dup, or Bun had not sent the whole head). The daemon's tests all go through the
 * writer, so this path is checked here on a real HTTP server and real connections: framing for
 * HTTP/1.1 and 1.0, the end, a reader that stops (write says so and the producer waits, `onDrain`
 * resumes it, every byte arrives in order), and a client that goes away.
 */
import t from 'tap';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendApiResponse } from '../../src/server/respond.ts';
import type { StreamChannel } from '../../src/server/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-stream-body-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/**
 * An HTTP server wired as the daemon's listener is (a node:net server handing each connection to
 * node:http with `emit('connection')`), whose every request is answered by `produce` through the
 * socket path.
 */
async function streamServer(t: Tap.Test, produce: (channel: StreamChannel) => void): Promise<string> {
  const path = join(dir, `s${Math.random().toString(16).slice(2)}.sock`);
  const http = createHttpServer((_req, res) => {
    void sendApiResponse(res, { type: 'stream', contentType: 'application/x-ndjson', open: produce }, undefined);
  });
  const sockets = new Set<Socket>();
  const listener: NetServer = createNetServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    http.emit('connection', socket);
  });
  await new Promise<void>((resolve) => listener.listen(path, resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    listener.close();
  });
  return path;
}

/** A raw client: sends `request`, collects every byte until the server closes or `until` holds. */
function rawClient(path: string, request: string): { socket: Socket; received: () => Buffer; closed: Promise<void> } {
  const socket = connect(path);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(request);
  return { socket, received: () => Buffer.concat(chunks), closed };
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The payload of a chunked body (throws on bad framing); `done` once the last chunk came. */
function dechunk(body: Buffer): { payload: Buffer; done: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) return { payload: Buffer.concat(parts), done: false };
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error(`bad chunk size at ${at}`);
    if (size === 0) return { payload: Buffer.concat(parts), done: body.subarray(lineEnd, lineEnd + 4).toString('latin1') === '\r\n\r\n' };
    if (body.length < lineEnd + 2 + size + 2) return { payload: Buffer.concat(parts), done: false };
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

function split(response: Buffer): { head: string; body: Buffer } {
  const end = response.indexOf('\r\n\r\n');
  return end < 0 ? { head: response.toString('latin1'), body: Buffer.alloc(0) } : { head: response.subarray(0, end).toString('latin1'), body: response.subarray(end + 4) };
}

t.test('HTTP/1.1: chunked frames, in order, then the last chunk; the connection stays open', async (t) => {
  const path = await streamServer(t, (channel) => {
    for (const line of ['{"a":1}\n', '{"b":2}\n', '{"c":3}\n']) t.ok(channel.write(channel.framing.frame(Buffer.from(line))), 'taken');
    setTimeout(() => channel.end(), 50);
  });
  const client = rawClient(path, 'GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await until('the last chunk', () => dechunk(split(client.received()).body).done);
  const { head, body } = split(client.received());
  t.match(head, /^HTTP\/1\.1 200/, 'status');
  t.match(head, /transfer-encoding: chunked/i, 'chunked');
  t.match(head, /content-type: application\/x-ndjson/i, 'content type');
  t.equal(dechunk(body).payload.toString(), '{"a":1}\n{"b":2}\n{"c":3}\n', 'every frame, once, in order');
  t.notOk(client.socket.destroyed, 'keep-alive: the connection carries the next request');
  client.socket.destroy();
});

t.test('HTTP/1.0: the bytes as they are, ended by closing the connection', async (t) => {
  const path = await streamServer(t, (channel) => {
    t.equal(channel.framing.name, 'none', 'no framing for HTTP/1.0');
    channel.write(channel.framing.frame(Buffer.from('one\n')));
    channel.write(channel.framing.frame(Buffer.from('two\n')));
    setTimeout(() => channel.end(true), 50);
  });
  const client = rawClient(path, 'GET /events HTTP/1.0\r\nHost: localhost\r\n\r\n');
  await client.closed;
  const { head, body } = split(client.received());
  t.match(head, /^HTTP\/1\.[01] 200/, 'status');
  t.notMatch(head, /transfer-encoding/i, 'not chunked');
  t.equal(body.toString(), 'one\ntwo\n', 'the body, then the close');
});

t.test('a reader that stops: write says so and the producer waits; onDrain resumes it; every byte arrives in order', async (t) => {
  const MAX_FRAMES = 4096; // 32 MiB: far more than the kernel's buffers hold
  const frames: Buffer[] = [];
  let refusals = 0;
  let lastDrainAt = Date.now();
  const path = await streamServer(t, (channel) => {
    // Write until the connection says it is full; write again on each drain; end after MAX_FRAMES.
    const pump = (): void => {
      while (frames.length < MAX_FRAMES) {
        const frame = channel.framing.frame(Buffer.alloc(8191, frames.length % 251));
        frames.push(frame);
        if (!channel.write(frame)) {
          refusals++;
          return;
        }
      }
      channel.end();
    };
    channel.onDrain(() => {
      lastDrainAt = Date.now();
      pump();
    });
    pump();
  });
  const client = rawClient(path, 'GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
  client.socket.pause();
  // The kernel's buffers take some bytes after the first refusal; then nothing drains any more.
  await until('the producer to be held (no drain for 300 ms)', () => refusals > 0 && Date.now() - lastDrainAt > 300);
  const held = frames.length;
  t.ok(held < MAX_FRAMES, `the producer is held after ${held} frames of 8 KiB (${refusals} refusals) while the reader is stopped`);
  client.socket.resume();
  await until('the last chunk', () => dechunk(split(client.received()).body).done, 30_000);
  t.equal(frames.length, MAX_FRAMES, 'drains resumed the producer until its end');
  const expected = Buffer.concat(frames.map((frame) => dechunk(Buffer.concat([frame, Buffer.from('0\r\n\r\n')])).payload));
  t.ok(dechunk(split(client.received()).body).payload.equals(expected), `all ${frames.length} frames intact and in order`);
  client.socket.destroy();
});

t.test('a client that goes away: onClose runs, later writes are refused', async (t) => {
  let channelSeen: StreamChannel | undefined;
  let closedRuns = 0;
  const path = await streamServer(t, (channel) => {
    channelSeen = channel;
    channel.onClose(() => closedRuns++);
    channel.write(channel.framing.frame(Buffer.from('hello\n')));
  });
  const client = rawClient(path, 'GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await until('the first frame', () => client.received().includes('hello'));
  client.socket.destroy();
  await until('onClose', () => closedRuns > 0);
  t.equal(closedRuns, 1, 'onClose ran once');
  t.equal(channelSeen?.write(Buffer.from('late')), false, 'a write after the close is refused');
  let lateListener = 0;
  channelSeen?.onClose(() => lateListener++);
  t.equal(lateListener, 1, 'an onClose listener added after the close runs at once');
});
