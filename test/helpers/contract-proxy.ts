/**
 * A recording pass-through for the contract check: `bun contract-proxy.ts <daemon socket> <listen socket>`.
 * Bytes go both ways unchanged (half-closes too); when a connection is over, its requests and
 * answers are parsed and each answer is recorded (test/helpers/contract-recorder.ts). A separate
 * process because the plan's clients run under spawnSync, which blocks the test's event loop.
 * It runs in the test's cgroup, so the daemon still sees the host as the caller.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { recordExchange } from './contract-recorder.ts';

/** Enough to parse every answer the plan reads; a longer stream is parsed up to here. */
const KEEP_BYTES = 8 * 1024 * 1024;

interface Message {
  head: string[];
  headers: Record<string, string>;
  body: Buffer;
  /** The stream ended inside this message (a body cut short, or one that lasts until close). */
  cut: boolean;
}

/** Split one direction of a connection into HTTP messages; `bodyless` says which have no body. */
export function splitMessages(bytes: Buffer, kind: 'request' | 'response', bodyless: (index: number, head: string[]) => boolean): Message[] {
  const messages: Message[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', offset, 'latin1');
    if (end < 0) break;
    const lines = bytes.subarray(offset, end).toString('latin1').split('\r\n');
    const head = (lines[0] ?? '').split(' ');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let cursor = end + 4;
    if (kind === 'response' && (head[1] ?? '').startsWith('1')) {
      offset = cursor;
      continue;
    }
    let body: Buffer = Buffer.alloc(0);
    let cut = false;
    if (!bodyless(messages.length, head)) {
      if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
        const parts: Buffer[] = [];
        cut = true;
        while (cursor < bytes.length) {
          const lineEnd = bytes.indexOf('\r\n', cursor, 'latin1');
          if (lineEnd < 0) break;
          const size = parseInt(bytes.subarray(cursor, lineEnd).toString('latin1'), 16);
          if (!Number.isFinite(size)) break;
          if (size === 0) {
            const trailerEnd = bytes.indexOf('\r\n\r\n', lineEnd, 'latin1');
            cursor = trailerEnd < 0 ? bytes.length : trailerEnd + 4;
            cut = false;
            break;
          }
          parts.push(bytes.subarray(lineEnd + 2, Math.min(lineEnd + 2 + size, bytes.length)));
          cursor = lineEnd + 2 + size + 2;
        }
        body = Buffer.concat(parts);
      } else if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        body = bytes.subarray(cursor, cursor + length);
        cut = cursor + length > bytes.length;
        cursor += length;
      } else if (kind === 'response') {
        body = bytes.subarray(cursor);
        cut = true;
        cursor = bytes.length;
      }
    }
    messages.push({ head, headers, body, cut });
    if (cut) break;
    offset = cursor;
  }
  return messages;
}

function record(sent: Buffer, received: Buffer): void {
  const requests = splitMessages(sent, 'request', () => false);
  const answers = splitMessages(received, 'response', (index, head) => {
    const status = head[1] ?? '';
    return requests[index]?.head[0] === 'HEAD' || status === '204' || status === '304';
  });
  answers.forEach((answer, index) => {
    const request = requests[index];
    if (request === undefined) return;
    recordExchange({
      method: request.head[0] ?? '',
      target: request.head[1] ?? '',
      status: Number(answer.head[1]),
      contentType: answer.headers['content-type'] ?? '',
      body: answer.body,
    });
  });
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  add(chunk: Buffer): void {
    if (this.size >= KEEP_BYTES) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

if (import.meta.main) {
  const [upstreamPath, listenPath] = process.argv.slice(2) as [string, string];
  const open = new Set<() => void>();
  const server = createServer((client: Socket) => {
    const upstream = createConnection(upstreamPath);
    const sent = new Capture();
    const received = new Capture();
    let recorded = false;
    const finish = (): void => {
      if (recorded) return;
      recorded = true;
      open.delete(finish);
      record(sent.bytes(), received.bytes());
    };
    open.add(finish);
    client.on('data', (chunk: Buffer) => {
      sent.add(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      received.add(chunk);
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      upstream.destroy();
      finish();
    });
    upstream.on('close', () => {
      if (client.writableLength === 0) client.end();
    });
  });
  const stop = (): void => {
    for (const finish of [...open]) finish();
    rmSync(listenPath, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // An orphan (its test was killed) goes too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000);
  rmSync(listenPath, { force: true });
  server.listen(listenPath);
}
