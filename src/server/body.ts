/**
 * Request bodies with real backpressure. On Bun's node:http over a socket we handed in,
 * `req.pause()` does not reach the socket, so a slow consumer would let a whole upload pile up
 * in memory: we pause the socket itself while a chunk is being consumed.
 *
 * Large Content-Length bodies can instead be taken away from Bun altogether (`takeOver`) and
 * read natively from the connection fd: see docs/native-ingest.md, "Upload fast path".
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { insufficientStorage, internal } from '../errors.ts';
import { framingOf } from './identity-encoding.ts';
import type { DirectBody, RequestBody } from './types.ts';

/** The client went away before the body was complete. */
export class ClientGoneError extends Error {
  constructor(message = 'client disconnected before the request body was complete') {
    super(message);
    this.name = 'ClientGoneError';
  }
}

/** The parts of Bun's native socket handle (`socket._handle`) the fast path relies on. */
interface BunSocketHandle {
  fd?: number;
  pause?: () => void;
  resume?: () => void;
}

/** The byte ledger does not balance: refuse the upload rather than store a body we cannot vouch for. */
function fastPathBroken(detail: string): Error {
  return internal('Object allocation error', new Error(`upload fast path: ${detail}`));
}

/** Error codes of a native body read that mean the connection, not the server, failed. */
const CONNECTION_FAILURES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECANCELED']);

export class IncomingBody implements RequestBody {
  readonly declaredLength: number | undefined;
  readonly chunked: boolean;
  readonly present: boolean;
  private started = false;
  private finished = false;
  private handedOff = false;

  /**
   * @param beforeFirstRead runs when a handler first asks for the body: the place to send
   *   `100 Continue`, so that a request refused before its body is read never gets one.
   */
  constructor(
    private readonly req: IncomingMessage,
    private readonly socket: Socket,
    private readonly beforeFirstRead: () => void = () => {},
  ) {
    const length = req.headers['content-length'];
    this.declaredLength = length === undefined ? undefined : Number(length);
    this.chunked = /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? '');
    this.present = this.chunked || (this.declaredLength !== undefined && this.declaredLength > 0);
  }

  get consumed(): boolean {
    return this.finished;
  }

  get reading(): boolean {
    return this.started;
  }

  /**
   * The body was taken away from Bun's parser, which still believes it owes body bytes: the
   * answer must carry `Connection: close` and the connection must close once it is flushed.
   */
  get detached(): boolean {
    return this.handedOff;
  }

  get connection(): Socket {
    return this.socket;
  }

  /**
   * Stop Bun from reading this connection and hand the rest of the body over to native code.
   * Undefined (and Bun reading again, nothing consumed) when this request is not eligible:
   * chunked, already being read, complete, or framing the identity-encoding filter cannot
   * vouch for.
   *
   * Why no byte is lost or duplicated: every byte Bun reads from the fd goes through
   * `socket.emit('data')`, i.e. through the filter, or still sits in the socket's readable
   * buffer. Once Bun's reads are stopped and the parser is idle, the body bytes the filter
   * forwarded are all in `req` (the parser pushes synchronously, in order) and are read back
   * from there; after the filter is detached it forwards nothing more, and whatever the socket
   * still buffers is pulled through it and captured. `socket.bytesRead === filter.bytesSeen`
   * proves nothing is in flight anywhere else, the counts are checked against each other, and
   * `assertUntouched` proves afterwards that Bun read nothing while the native reader owned
   * the fd. docs/native-ingest.md, "Hand-off from Bun", has the measurements behind this.
   */
  async takeOver(): Promise<DirectBody | undefined> {
    const { req } = this;
    const socket = this.socket as Socket & { _handle?: BunSocketHandle };
    const handle = socket._handle;
    const framing = framingOf(socket);
    if (this.started || this.chunked || this.declaredLength === undefined || req.complete || socket.destroyed) return undefined;
    if (framing?.currentBody === undefined) return undefined;
    if (handle === undefined || typeof handle.fd !== 'number' || handle.fd < 0) return undefined;
    if (typeof handle.pause !== 'function' || typeof handle.resume !== 'function') return undefined;
    const fd = handle.fd;
    const declared = this.declaredLength;
    this.started = true;

    // socket.pause() alone only stops the JS stream: Bun's handle keeps reading until its buffer
    // fills, and the stream machinery (maybeReadMore, req._read, resume on drain) calls
    // handle.resume() again within the tick. Shadow it for as long as we own the connection.
    const resumeReads = handle.resume.bind(handle);
    handle.resume = () => {};
    handle.pause();
    // The request event may run inside the parser's execute() of the chunk that carried the
    // head, before that chunk's body reached req: let the parser finish before taking stock.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (socket.destroyed) throw new ClientGoneError();
    const position = framing.currentBody;
    // With the parser idle, req holds exactly the body bytes the filter forwarded for the body
    // it is in, unless that body is not this request's (this one already complete).
    if (req.complete || position === undefined || position.length !== declared || req.readableLength !== position.passed) {
      delete handle.resume;
      resumeReads();
      this.started = false;
      return undefined;
    }

    this.handedOff = true;
    const detached = framing.detach();
    this.beforeFirstRead();
    // Bytes Bun read but the stream did not emit yet: pull them through the filter (captured).
    while (socket.readableLength > 0 && socket.read() !== null) {
      // read() emits 'data', which the filter captures
    }
    if (socket.bytesRead !== framing.bytesSeen) {
      throw fastPathBroken(`Bun read ${socket.bytesRead} bytes but ${framing.bytesSeen} reached the filter`);
    }
    const parts: Buffer[] = [];
    let fromParser = 0;
    for (let chunk: unknown = req.read(); chunk !== null; chunk = req.read()) {
      const bytes = chunk as Buffer;
      parts.push(bytes);
      fromParser += bytes.length;
    }
    if (fromParser !== detached.passed) {
      throw fastPathBroken(`the parser forwarded ${detached.passed} body bytes but the request holds ${fromParser}`);
    }
    parts.push(...detached.captured);
    detached.captured.length = 0;
    framing.seal();
    this.finished = true;
    const bytesReadAtHandOff = socket.bytesRead;
    if (detached.passed + detached.capturedBytes + detached.remaining !== declared) {
      throw fastPathBroken(`${detached.passed} + ${detached.capturedBytes} + ${detached.remaining} body bytes do not add up to ${declared}`);
    }
    return {
      fd,
      prefix: Buffer.concat(parts, detached.passed + detached.capturedBytes),
      remaining: detached.remaining,
      onClose(listener: () => void): () => void {
        if (socket.destroyed) {
          queueMicrotask(listener);
          return () => {};
        }
        socket.once('close', listener);
        return () => socket.off('close', listener);
      },
      assertUntouched(): void {
        if (socket.bytesRead !== bytesReadAtHandOff || framing.leaked !== 0) {
          throw fastPathBroken(`Bun read ${socket.bytesRead - bytesReadAtHandOff} bytes from the connection during the native read`);
        }
      },
      clientGone(error: unknown): ClientGoneError | undefined {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code !== 'string' || !CONNECTION_FAILURES.has(code)) return undefined;
        return new ClientGoneError(error instanceof Error ? error.message : undefined);
      },
    };
  }

  async bytes(limit: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let size = 0;
    let overflow = false;
    await this.pipe((chunk) => {
      size += chunk.byteLength;
      if (size > limit) overflow = true;
      if (!overflow) parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    if (overflow) throw insufficientStorage();
    return Buffer.concat(parts, size);
  }

  async text(limit: number): Promise<string> {
    return (await this.bytes(limit)).toString('utf8');
  }

  async drain(): Promise<void> {
    if (this.started) return;
    await this.pipe(() => {});
  }

  /**
   * Deliver chunks one at a time. If `consume` fails, the rest of the body is still read and
   * discarded (so the client gets the error answer rather than a broken pipe), then the failure
   * is rethrown.
   */
  pipe(consume: (chunk: Uint8Array) => void | Promise<void>): Promise<void> {
    if (this.started) return Promise.reject(new Error('request body already consumed'));
    this.started = true;
    this.beforeFirstRead();
    const { req, socket } = this;
    if (req.complete && req.readableEnded) {
      this.finished = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      let failure: unknown;
      /** Chunks that arrived while a previous one was still being consumed. */
      const backlog: Buffer[] = [];
      let busy = false;
      let ended = false;
      const settle = (): void => {
        if (!ended || busy) return;
        cleanup();
        this.finished = true;
        if (failure !== undefined) reject(failure);
        else resolve();
      };
      // Consume synchronously while the consumer keeps up (no promise round trip, no pause);
      // pause the socket only while a consumer promise is really pending.
      const pump = (): void => {
        while (backlog.length > 0 && failure === undefined) {
          const chunk = backlog.shift() as Buffer;
          let pending: void | Promise<void>;
          try {
            pending = consume(chunk);
          } catch (error) {
            failure = error;
            break;
          }
          if (pending === undefined) continue;
          const status = Bun.peek.status(pending);
          if (status === 'fulfilled') continue;
          if (status === 'rejected') {
            failure = Bun.peek(pending);
            pending.catch(() => undefined);
            break;
          }
          busy = true;
          socket.pause();
          pending.then(
            () => {
              busy = false;
              socket.resume();
              pump();
              settle();
            },
            (error: unknown) => {
              busy = false;
              failure ??= error;
              socket.resume();
              settle();
            },
          );
          return;
        }
        if (failure !== undefined) backlog.length = 0;
      };
      const onData = (chunk: Buffer): void => {
        if (failure !== undefined) return;
        backlog.push(chunk);
        if (!busy) pump();
      };
      const onEnd = (): void => {
        ended = true;
        settle();
      };
      const onGone = (): void => {
        if (ended) return;
        failure ??= new ClientGoneError();
        ended = true;
        backlog.length = 0;
        settle();
      };
      const cleanup = (): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('aborted', onGone);
        req.off('close', onGone);
        socket.off('close', onGone);
      };
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('aborted', onGone);
      req.once('close', onGone);
      socket.once('close', onGone);
    });
  }
}
