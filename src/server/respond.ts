/**
 * The one place where outcomes become HTTP: status lines, headers and the reference's
 * `{"Error":"..."}` envelope (always valid JSON: the message is escaped).
 */
import { createReadStream, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { ErrorKind, PvError } from '../errors.ts';
import type { ApiResponse, BodyFraming, BodyWriter, BodyWriterStream, StreamChannel } from './types.ts';

const STATUS_OF: Record<ErrorKind, number> = {
  'bad-request': 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unprocessable: 422,
  internal: 500,
  unavailable: 503,
  'insufficient-storage': 507,
};

/** Reason phrases as the reference sends them (422 uses RFC 9110's wording). */
const REASON: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export function errorBody(message: string): string {
  return JSON.stringify({ Error: message });
}

export function sendError(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  sendBody(res, status, 'application/json', errorBody(message), extra);
}

export function sendPvError(res: ServerResponse, error: PvError): void {
  const extra: Record<string, string> = error.retryAfter === undefined ? {} : { 'Retry-After': String(error.retryAfter) };
  sendError(res, STATUS_OF[error.kind], error.message, extra);
}

export function sendBody(res: ServerResponse, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const bytes = Buffer.from(body);
  const headers: Record<string, string> = { ...extra, 'Content-Type': contentType };
  if (status !== 204) headers['Content-Length'] = String(bytes.length);
  res.writeHead(status, REASON[status] ?? '', headers);
  res.end(status === 204 ? undefined : bytes);
}

const UNSUPPORTED_PROTOCOL_BODY = '{"Error": "Unsupported protocol"}';

/**
 * The libevent-style answer to something that is not HTTP we speak (kept byte for byte), written
 * straight to the connection: the parser never saw the request it answers.
 */
export function unsupportedProtocolReply(status: 400 | 501, version: '1.0' | '1.1'): Buffer {
  return rawReply(version, status, 'text/html', UNSUPPORTED_PROTOCOL_BODY);
}

/** The answer to a connection beyond the configured limit, before any request was read. */
export function tooManyConnectionsReply(): Buffer {
  return rawReply('1.1', 503, 'application/json', errorBody('Too many connections'));
}

function rawReply(version: '1.0' | '1.1', status: number, contentType: string, body: string): Buffer {
  const bytes = Buffer.from(body);
  const head = `HTTP/${version} ${status} ${REASON[status] ?? ''}\r\nContent-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
}

/** `writer`: where long-lived bodies are written (the daemon's native writer); without it, the socket. */
export async function sendApiResponse(res: ServerResponse, response: ApiResponse, writer?: BodyWriter): Promise<void> {
  switch (response.type) {
    case 'empty':
      sendBody(res, response.status ?? 200, 'application/json', '');
      return;
    case 'json':
      sendBody(res, 200, 'application/json', response.text);
      return;
    case 'text':
      sendBody(res, 200, response.contentType, response.text);
      return;
    case 'file':
      await streamFile(res, response.path, response.contentType);
      return;
    case 'stream':
      await streamBody(res, response.contentType, response.open, writer);
      return;
  }
}

/** HTTP/1.1 chunked framing of one payload: `<hex length>\r\n<payload>\r\n`. */
export const CHUNKED: BodyFraming = {
  name: 'chunked',
  frame: (payload) => {
    const head = `${payload.length.toString(16)}\r\n`;
    const framed = Buffer.allocUnsafe(head.length + payload.length + 2);
    framed.write(head, 0, 'latin1');
    payload.copy(framed, head.length);
    framed.write('\r\n', head.length + payload.length, 'latin1');
    return framed;
  },
};

/** HTTP/1.0 has no chunked encoding: the body is the bytes as they are, ended by the close. */
export const UNFRAMED_BODY: BodyFraming = { name: 'none', frame: (payload) => payload };

/**
 * Bytes a stream may have waiting in the body writer before `write` reports it full: the producer
 * then holds further bytes in its own bounded buffer (the event bus: 256 KiB a subscriber).
 */
export const BODY_WRITER_HIGH_WATER_BYTES = 64 * 1024;

interface SocketWithHandle {
  _handle?: { fd?: number } | null;
}

/**
 * A response without an end known in advance. The head goes through `res` (status, headers,
 * HTTP/1.0 or chunked); the body's bytes, already framed by the producer (once for all its
 * subscribers), go to the connection as they are: through the body writer's thread when the
 * daemon has one (no write syscall on the event loop), else straight to the socket. `res.end()`
 * then writes the last chunk (HTTP/1.1), or closes the connection (HTTP/1.0), once the writer's
 * bytes have left. Bytes the connection cannot take yet are the producer's to hold: `write`
 * reports a full buffer instead of letting it grow.
 */
async function streamBody(res: ServerResponse, contentType: string, open: (channel: StreamChannel) => void, writer: BodyWriter | undefined): Promise<void> {
  res.writeHead(200, 'OK', { 'Content-Type': contentType, 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  const socket = res.socket;
  // Bun's head for an HTTP/1.0 request has no Transfer-Encoding and says Connection: close.
  const framing = res.req.httpVersion === '1.0' ? UNFRAMED_BODY : CHUNKED;
  await new Promise<void>((resolve) => {
    const closeListeners: (() => void)[] = [];
    const drainListeners: (() => void)[] = [];
    const onDrain = (): void => {
      for (const listener of drainListeners) listener();
    };
    let over = false;
    let ending = false;
    let direct: BodyWriterStream | undefined;
    let afterFlushed: (() => void) | undefined;
    const finish = (): void => {
      if (over) return;
      over = true;
      socket?.off('drain', onDrain);
      direct?.close();
      for (const listener of closeListeners.splice(0)) listener();
      resolve();
    };
    res.once('finish', finish);
    res.once('close', finish);
    const fd = (socket as SocketWithHandle | null)?._handle?.fd;
    // The writer's first bytes must follow the head: Bun sends it within flushHeaders on a
    // connection with nothing waiting, so only then is the body handed over.
    if (writer !== undefined && socket !== null && typeof fd === 'number' && fd >= 0 && socket.writableLength === 0) {
      try {
        direct = writer.open(fd, BODY_WRITER_HIGH_WATER_BYTES, {
          drained: onDrain,
          gone: () => {
            res.destroy();
            finish();
          },
          flushed: () => afterFlushed?.(),
        });
      } catch {
        // No descriptor to spare for the writer's dup (EMFILE): this stream goes through the socket.
        direct = undefined;
      }
    }
    if (direct === undefined) socket?.on('drain', onDrain);
    const endResponse = (closeConnection: boolean): void => {
      if (over || res.writableEnded) return;
      if (closeConnection) res.once('finish', () => socket?.end());
      res.end();
    };
    const channel: StreamChannel = {
      framing,
      write: (bytes) => {
        if (over || ending) return false;
        if (direct !== undefined) return direct.write(bytes);
        return socket !== null && !socket.destroyed && socket.write(bytes);
      },
      end: (closeConnection = false) => {
        if (over || ending || res.writableEnded) return;
        ending = true;
        if (direct === undefined) {
          endResponse(closeConnection);
          return;
        }
        // The last chunk goes through Bun, so only after everything the writer holds has left.
        afterFlushed = () => {
          direct?.close();
          direct = undefined;
          endResponse(closeConnection);
        };
        direct.flush();
      },
      destroy: () => {
        res.destroy();
        finish();
      },
      onDrain: (listener) => drainListeners.push(listener),
      onClose: (listener) => {
        if (over) listener();
        else closeListeners.push(listener);
      },
    };
    open(channel);
  });
}

async function streamFile(res: ServerResponse, path: string, contentType: string): Promise<void> {
  const size = statSync(path).size;
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  await new Promise<void>((resolve) => {
    stream.once('open', () => {
      res.writeHead(200, 'OK', { 'Content-Type': contentType, 'Content-Length': String(size) });
      stream.pipe(res);
    });
    stream.once('error', () => {
      // The object vanished between stat and open (GC): nothing sent yet, so answer cleanly.
      if (!res.headersSent) sendError(res, 500, 'Object allocation error');
      else res.destroy();
      resolve();
    });
    res.once('finish', () => resolve());
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
  });
}
