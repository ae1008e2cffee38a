/**
 * The request half of an HTTP/1.1 exchange (see ./http.ts): writes the head and body with
 * write back-pressure, and stops at once when the server has answered (the rest would only be
 * discarded) or the connection is gone.
 */
import type { ProgressFn } from './download-writer.ts';
import { PvTransportError } from './transport-error.ts';

/** Request body, already normalised by the caller. */
export type WireBody =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'stream'; source: AsyncIterable<Uint8Array>; size: number | undefined };

/** The part of a socket the uploader writes to: returns bytes accepted, or < 0 when closed. */
export interface UploadTarget {
  write(data: Uint8Array, offset: number, length: number): number;
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export class Uploader {
  /** 'stopped': the server answered, the exchange ended, or the connection closed. */
  private state: 'sending' | 'stopped' = 'sending';
  private drainWaiter: (() => void) | undefined;

  constructor(
    private readonly target: UploadTarget,
    private readonly body: WireBody | undefined,
    /** Frame the stream body with chunked transfer coding (no size known). */
    private readonly chunked: boolean,
    private readonly onProgress: ProgressFn | undefined,
    private readonly trace: ((line: string) => void) | undefined,
  ) {}

  get stopped(): boolean {
    return this.state === 'stopped';
  }

  /** No more writes; a write waiting for the socket to drain gives up. */
  stop(): void {
    this.state = 'stopped';
    this.wake();
  }

  /** The socket can take more. */
  drained(): void {
    this.wake();
  }

  /**
   * Sends `head` and then the body. Resolves when done or stopped; rejects with
   * PvTransportError('source') when a sized source ends early (other source errors propagate).
   */
  async send(head: Uint8Array): Promise<void> {
    if (!(await this.writeAll(head))) return;
    const body = this.body;
    if (body === undefined) return;
    if (body.kind === 'bytes') {
      if (await this.writeAll(body.data)) this.onProgress?.(body.data.byteLength, body.data.byteLength);
      return;
    }
    const size = body.size;
    let sent = 0;
    this.onProgress?.(0, size);
    // Leaving the loop early runs the iterator's return(), which closes file streams.
    for await (const raw of body.source) {
      if (this.stopped) return;
      let piece = toBuffer(raw);
      if (size !== undefined && sent + piece.length > size) piece = piece.subarray(0, size - sent);
      if (piece.length === 0) continue;
      const framed = this.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, CRLF]) : piece;
      if (!(await this.writeAll(framed))) return;
      sent += piece.length;
      this.onProgress?.(sent, size);
      if (size !== undefined && sent >= size) break;
    }
    if (this.stopped) return;
    if (size !== undefined && sent < size) {
      throw new PvTransportError('source', `upload source ended after ${sent} of ${size} announced bytes`);
    }
    if (this.chunked) await this.writeAll(LAST_CHUNK);
    this.trace?.(`* sent ${sent} body bytes`);
  }

  /** False when stopped or the socket refused the bytes. */
  private async writeAll(data: Uint8Array): Promise<boolean> {
    let offset = 0;
    while (offset < data.byteLength) {
      if (this.stopped) return false;
      const written = this.target.write(data, offset, data.byteLength - offset);
      if (written < 0) return false;
      offset += written;
      if (offset < data.byteLength) {
        await new Promise<void>((done) => {
          this.drainWaiter = done;
        });
      }
    }
    return true;
  }

  private wake(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
  }
}
