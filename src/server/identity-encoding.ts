/**
 * `Transfer-Encoding: identity` is what pvcontrol (and curl users copying it) send with every
 * object upload, next to a Content-Length. The reference accepts it; Bun's parser either rejects
 * it or waits for the connection to close. We drop that one header line before the parser sees
 * it, tracking request framing so that body bytes are never touched.
 *
 * Because this hook sees every byte Bun reads from the connection, it is also the ledger the
 * upload fast path relies on (docs/native-ingest.md): how many body bytes of the current request
 * went to the parser, and, once the body is handed to native code, a stop for everything else.
 */
import type { Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');
/** Heads larger than this are left to the parser (which will refuse them itself). */
const MAX_HEAD = 64 * 1024;

/** The Content-Length body the byte stream is currently in. */
export interface BodyPosition {
  /** Declared Content-Length. */
  length: number;
  /** Body bytes already forwarded to the parser. */
  passed: number;
}

/** What a detached filter holds when the native reader takes over (see `detach`). */
export interface DetachedBody {
  /** Body bytes forwarded to the parser before the detach: the parser pushed them into the request. */
  passed: number;
  /** Body bytes that reached the filter after the detach, in order; the parser never saw them. */
  captured: Buffer[];
  capturedBytes: number;
  /** Body bytes still to come from the connection. */
  remaining: number;
  /** Bytes after the end of the body (a pipelined request): dropped, the connection will close. */
  excess: number;
}

export class IdentityEncodingFilter {
  private head: Buffer | undefined;
  private bodyLength = 0;
  private bodyRemaining = 0;
  /** Once framing cannot be followed (chunked bodies, oversize heads), stop touching the stream. */
  private passthrough = false;
  private seen = 0;
  private detached: DetachedBody | undefined;
  /** After `seal`, bytes here mean someone read the connection behind the native reader's back. */
  private sealed = false;
  private leakedBytes = 0;

  /** Raw bytes that went through the filter; equals the socket's `bytesRead` once Bun's buffer is empty. */
  get bytesSeen(): number {
    return this.seen;
  }

  /** The body being received, or undefined between requests, in chunked bodies and once detached. */
  get currentBody(): BodyPosition | undefined {
    if (this.passthrough || this.detached !== undefined || this.bodyRemaining === 0) return undefined;
    return { length: this.bodyLength, passed: this.bodyLength - this.bodyRemaining };
  }

  /** Bytes that arrived after `seal`. */
  get leaked(): number {
    return this.leakedBytes;
  }

  /**
   * Stop feeding the parser: from now on the rest of the current body is captured instead of
   * forwarded, so the bytes Bun still holds can be collected in order, and no later request can
   * ever reach the parser. Only valid while `currentBody` is defined.
   */
  detach(): DetachedBody {
    if (this.currentBody === undefined) throw new Error('identity-encoding filter: no body to detach');
    this.detached = { passed: this.bodyLength - this.bodyRemaining, captured: [], capturedBytes: 0, remaining: this.bodyRemaining, excess: 0 };
    return this.detached;
  }

  /** After the capture is collected: any further byte is counted as leaked and dropped. */
  seal(): void {
    this.sealed = true;
  }

  /** Transform one chunk of the byte stream into what the parser should see. */
  filter(chunk: Buffer): Buffer {
    this.seen += chunk.length;
    if (this.detached !== undefined) return this.capture(chunk);
    if (this.passthrough) return chunk;
    const out: Buffer[] = [];
    let rest = chunk;
    while (rest.length > 0 && !this.passthrough) {
      if (this.bodyRemaining > 0) {
        const take = Math.min(this.bodyRemaining, rest.length);
        out.push(rest.subarray(0, take));
        this.bodyRemaining -= take;
        rest = rest.subarray(take);
        continue;
      }
      const pending = this.head === undefined ? rest : Buffer.concat([this.head, rest]);
      const end = pending.indexOf(HEAD_END, leadingBlankLines(pending));
      if (end < 0) {
        if (pending.length > MAX_HEAD) {
          this.passthrough = true;
          this.head = undefined;
          out.push(pending);
        } else {
          this.head = pending;
        }
        return Buffer.concat(out);
      }
      this.head = undefined;
      const headText = pending.subarray(0, end + HEAD_END.length).toString('latin1');
      const { text, bodyLength, chunked } = rewriteHead(headText);
      out.push(Buffer.from(text, 'latin1'));
      if (chunked) this.passthrough = true;
      this.bodyLength = bodyLength;
      this.bodyRemaining = bodyLength;
      rest = pending.subarray(end + HEAD_END.length);
    }
    if (rest.length > 0) out.push(rest);
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  private capture(chunk: Buffer): Buffer {
    const detached = this.detached as DetachedBody;
    if (this.sealed) {
      this.leakedBytes += chunk.length;
      return EMPTY;
    }
    const take = Math.min(detached.remaining, chunk.length);
    if (take > 0) {
      // Copied: the chunk may be a view into a buffer Bun reuses for its next read.
      detached.captured.push(Buffer.from(chunk.subarray(0, take)));
      detached.capturedBytes += take;
      detached.remaining -= take;
      this.bodyRemaining -= take;
    }
    detached.excess += chunk.length - take;
    return EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);
const filters = new WeakMap<Socket, IdentityEncodingFilter>();

/** The filter installed on a connection, if any. */
export function framingOf(socket: Socket): IdentityEncodingFilter | undefined {
  return filters.get(socket);
}

function leadingBlankLines(buffer: Buffer): number {
  let index = 0;
  while (index + 1 < buffer.length && buffer[index] === 0x0d && buffer[index + 1] === 0x0a) index += 2;
  return index;
}

export function rewriteHead(head: string): { text: string; bodyLength: number; chunked: boolean } {
  const lines = head.split('\r\n');
  let bodyLength = 0;
  let chunked = false;
  const kept = lines.filter((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return true;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === 'transfer-encoding') {
      if (value === 'identity') return false;
      if (value.includes('chunked')) chunked = true;
    }
    if (name === 'content-length' && /^\d+$/.test(value)) bodyLength = Number(value);
    return true;
  });
  return { text: kept.join('\r\n'), bodyLength: chunked ? 0 : bodyLength, chunked };
}

/** Route a socket's incoming bytes through the filter before any 'data' listener sees them. */
export function installIdentityEncodingFilter(socket: Socket): IdentityEncodingFilter {
  const filter = new IdentityEncodingFilter();
  filters.set(socket, filter);
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'data' && Buffer.isBuffer(args[0])) {
      const filtered = filter.filter(args[0]);
      if (filtered.length === 0) return true;
      return emit('data', filtered);
    }
    return emit(event, ...args);
  }) as typeof socket.emit;
  return filter;
}
