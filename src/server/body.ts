/**
 * Request bodies with real backpressure. On Bun's node:http over a socket we handed in,
 * `req.pause()` does not reach the socket, so a slow consumer would let a whole upload pile up
 * in memory: we pause the socket itself while a chunk is being consumed.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { insufficientStorage } from '../errors.ts';
import type { RequestBody } from './types.ts';

/** The client went away before the body was complete. */
export class ClientGoneError extends Error {
  constructor() {
    super('client disconnected before the request body was complete');
    this.name = 'ClientGoneError';
  }
}

export class IncomingBody implements RequestBody {
  readonly declaredLength: number | undefined;
  readonly chunked: boolean;
  readonly present: boolean;
  private started = false;
  private finished = false;

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
