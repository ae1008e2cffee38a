/**
 * A streaming read of `GET /events` (docs/events.md) as NDJSON: one parsed event per line, as
 * they come. Written on node:net like nothing else in the client because the exchange in
 * http.ts buffers or sinks a body with an end; this body has none.
 */
import { createConnection, type Socket } from 'node:net';
import type { EventObject, EventType } from '../events/index.ts';
import { PvTransportError } from './transport-error.ts';

export type { EventObject, EventType };

export interface EventStreamOptions {
  socketPath: string;
  types?: readonly string[];
  container?: string;
  /** Resume after this sequence number. */
  since?: number;
  /** How long to wait for the response head. */
  connectTimeoutMs?: number;
}

export interface EventStream extends AsyncIterable<EventObject> {
  /** Stop reading and close the connection; the iteration ends. */
  close(): void;
}

/** A non-200 answer to the subscription (bad filter, not allowed). */
export class EventStreamRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`GET /events: ${status} ${body}`);
  }
}

export function eventsPath(options: Pick<EventStreamOptions, 'types' | 'container' | 'since'>): string {
  const query = new URLSearchParams();
  if (options.types !== undefined && options.types.length > 0) query.set('types', options.types.join(','));
  if (options.container !== undefined) query.set('container', options.container);
  if (options.since !== undefined) query.set('since', String(options.since));
  const text = query.toString();
  return text === '' ? '/events' : `/events?${text}`;
}

/** Splits a chunked body into lines; pure, so it is tested on byte boundaries. */
export class ChunkedLines {
  private pending: Buffer = Buffer.alloc(0);
  private chunkLeft = 0;
  /** Bytes of a line not complete yet (bytes, not text: a character may span two reads). */
  private line: Buffer = Buffer.alloc(0);
  ended = false;

  /** Feed body bytes (after the head); returns the complete lines they finished. */
  feed(bytes: Buffer): string[] {
    const lines: string[] = [];
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    while (this.pending.length > 0 && !this.ended) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, this.pending.length);
        this.collect(this.pending.subarray(0, take), lines);
        this.chunkLeft -= take;
        this.pending = this.pending.subarray(take);
        continue;
      }
      const end = this.pending.indexOf('\r\n');
      if (end < 0) break;
      const sizeText = this.pending.subarray(0, end).toString('latin1').split(';')[0]?.trim() ?? '';
      this.pending = this.pending.subarray(end + 2);
      if (sizeText === '') continue; // the CRLF after a chunk's data
      const size = Number.parseInt(sizeText, 16);
      if (!Number.isFinite(size)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
      if (size === 0) this.ended = true;
      this.chunkLeft = size;
    }
    return lines;
  }

  private collect(bytes: Buffer, lines: string[]): void {
    let data = this.line.length === 0 ? bytes : Buffer.concat([this.line, bytes]);
    for (let end = data.indexOf(0x0a); end >= 0; end = data.indexOf(0x0a)) {
      if (end > 0) lines.push(data.subarray(0, end).toString('utf8'));
      data = data.subarray(end + 1);
    }
    this.line = Buffer.from(data);
  }
}

/** Subscribe; resolves once the daemon answered 200 (else rejects with EventStreamRefused). */
export async function openEventStream(options: EventStreamOptions): Promise<EventStream> {
  const socket = createConnection(options.socketPath);
  const queue: EventObject[] = [];
  let failure: Error | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const head = await new Promise<{ status: number; rest: Buffer }>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PvTransportError('timeout', `no answer from ${options.socketPath} to GET /events`));
    }, options.connectTimeoutMs ?? 10_000);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      const status = Number(received.subarray(0, end).toString('latin1').split(' ')[1]);
      resolve({ status, rest: received.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new PvTransportError('connect', `${options.socketPath}: ${error.message}`));
    });
    socket.write(`GET ${eventsPath(options)} HTTP/1.1\r\nHost: localhost\r\nAccept: application/x-ndjson\r\n\r\n`);
  });
  if (head.status !== 200) {
    const body = await readRest(socket, head.rest);
    throw new EventStreamRefused(head.status, body);
  }
  const lines = new ChunkedLines();
  const take = (bytes: Buffer): void => {
    try {
      for (const line of lines.feed(bytes)) queue.push(JSON.parse(line) as EventObject);
    } catch (error) {
      failure = error as Error;
      socket.destroy();
    }
    if (lines.ended) finished = true;
    notify();
  };
  take(head.rest);
  socket.on('data', take);
  socket.on('error', (error) => {
    failure ??= error;
    notify();
  });
  socket.on('close', () => {
    finished = true;
    notify();
  });
  socket.resume();
  return {
    close: () => {
      finished = true;
      socket.destroy();
      notify();
    },
    async *[Symbol.asyncIterator]() {
      while (true) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (finished) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

function readRest(socket: Socket, already: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const parts = [already];
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    const done = (): void => resolve(Buffer.concat(parts).toString('utf8'));
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
    setTimeout(() => {
      socket.destroy();
      done();
    }, 2000).unref();
  });
}
