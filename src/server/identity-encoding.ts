/**
 * The gate in front of Bun's HTTP parser. Every byte Bun reads from a connection passes through
 * here first, which makes it the place to:
 *
 * - drop `Transfer-Encoding: identity` (pvcontrol sends it with every object upload; Bun's
 *   parser would wait for the connection to close), tracking framing so body bytes are never
 *   touched;
 * - let one request into the parser at a time: the next pipelined request is held back until
 *   the previous answer is finished, so answers stay in order and nothing the parser later
 *   chokes on can swallow an earlier answer;
 * - refuse what is not HTTP we speak (spec §2.2) itself, after every earlier answer, then close;
 * - keep a connection whose client half-closed open until every request that fully arrived
 *   is answered (`nc -N`, pvcurl);
 * - mirror the request's HTTP version in the status line (Bun always writes `HTTP/1.1`).
 *
 * It is also the ledger the upload fast path relies on (docs/native-ingest.md): how many body
 * bytes of the current request went to the parser, and, once the body is handed to native
 * code, a stop for everything else.
 */
import type { Socket } from 'node:net';
import { ChunkedBodyTracker, inspectHead, type HttpVersion } from './request-head.ts';
import { unsupportedProtocolReply } from './respond.ts';

const HEAD_END = Buffer.from('\r\n\r\n');
/** A head larger than this is refused (400) rather than buffered. */
const MAX_HEAD = 64 * 1024;
const EMPTY = Buffer.alloc(0);

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

/** A request the gate refused: answered by the gate once every earlier request is answered. */
export interface Rejection {
  status: 400 | 501;
  version: HttpVersion;
  reason: string;
}

/** The request currently inside Bun's parser. */
interface ParserRequest {
  version: HttpVersion;
  /** Content-Length body bytes still to forward. */
  lengthRemaining: number;
  declaredLength: number;
  chunked: ChunkedBodyTracker | undefined;
  /** Head and body have been forwarded whole. */
  complete: boolean;
  answered: boolean;
  /** A status line (other than `100 Continue`) was written for it. */
  responseStarted: boolean;
}

export class IdentityEncodingFilter {
  /** Bytes of a head not complete yet. */
  private head: Buffer | undefined;
  /** Bytes that arrived while a complete request waits for its answer: not looked at yet. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private current: ParserRequest | undefined;
  private refused: Rejection | undefined;
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
    const current = this.current;
    if (current === undefined || this.detached !== undefined || current.chunked !== undefined || current.lengthRemaining === 0) return undefined;
    return { length: current.declaredLength, passed: current.declaredLength - current.lengthRemaining };
  }

  /** Bytes that arrived after `seal`. */
  get leaked(): number {
    return this.leakedBytes;
  }

  /** Bytes held back behind a request that waits for its answer. */
  get bytesHeld(): number {
    return this.heldBytes + (this.head?.length ?? 0);
  }

  /** The HTTP version of the request whose answer is being written. */
  get versionInParser(): HttpVersion | undefined {
    return this.current?.version;
  }

  /** True while a request that fully arrived waits for its answer: the connection is not idle. */
  get answerOwed(): boolean {
    return this.current !== undefined && this.current.complete && !this.current.answered;
  }

  /** Nothing in the parser and nothing half-received: the connection sits between requests. */
  get idle(): boolean {
    return this.current === undefined && this.head === undefined && this.heldBytes === 0;
  }

  /** A request in the parser whose body can no longer complete normally. */
  get bodyIncomplete(): boolean {
    return this.current !== undefined && !this.current.complete;
  }

  /**
   * The refusal to send now: once no earlier request is waiting for its answer, or at once when
   * the refused bytes are the body of the request in the parser and its answer has not started.
   */
  get dueRejection(): Rejection | undefined {
    if (this.refused === undefined || this.detached !== undefined) return undefined;
    if (this.current === undefined) return this.refused;
    if (!this.current.complete && !this.current.responseStarted) return this.refused;
    return undefined;
  }

  /** A refusal was decided (sent or still due): the connection ends after it. */
  get rejected(): Rejection | undefined {
    return this.refused;
  }

  /**
   * Stop feeding the parser: from now on the rest of the current body is captured instead of
   * forwarded, so the bytes Bun still holds can be collected in order, and no later request can
   * ever reach the parser. Only valid while `currentBody` is defined.
   */
  detach(): DetachedBody {
    const position = this.currentBody;
    if (position === undefined) throw new Error('identity-encoding filter: no body to detach');
    this.detached = { passed: position.passed, captured: [], capturedBytes: 0, remaining: position.length - position.passed, excess: 0 };
    return this.detached;
  }

  /** After the capture is collected: any further byte is counted as leaked and dropped. */
  seal(): void {
    this.sealed = true;
  }

  /** Transform one chunk of the byte stream into what the parser should see now. */
  filter(chunk: Buffer): Buffer {
    this.seen += chunk.length;
    if (this.detached !== undefined) return this.capture(chunk);
    if (this.refused !== undefined || chunk.length === 0) return EMPTY;
    if (this.current !== undefined && this.current.complete) {
      this.hold(chunk);
      return EMPTY;
    }
    return this.process(chunk);
  }

  /**
   * The response to the request in the parser was written. Returns what the parser should see
   * next: the following request when it was held back.
   */
  answered(): Buffer {
    const current = this.current;
    if (current === undefined) return EMPTY;
    current.answered = true;
    if (!current.complete) return EMPTY;
    this.current = undefined;
    if (this.heldBytes === 0 || this.refused !== undefined) return EMPTY;
    const held = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    return this.process(held);
  }

  /** A response head is being written for the request in the parser. */
  responseStarted(): void {
    if (this.current !== undefined) this.current.responseStarted = true;
  }

  /** The answer to the request in the parser has begun: later writes are its body. */
  get responseUnderway(): boolean {
    return this.current?.responseStarted ?? false;
  }

  private hold(chunk: Buffer): void {
    // Copied: the chunk may be a view into a buffer Bun reuses for its next read.
    this.held.push(Buffer.from(chunk));
    this.heldBytes += chunk.length;
  }

  private refuse(rejection: Rejection): void {
    this.refused = rejection;
    this.head = undefined;
    this.held = [];
    this.heldBytes = 0;
  }

  private process(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let rest = chunk;
    while (rest.length > 0 && this.refused === undefined) {
      const current = this.current;
      if (current !== undefined && current.complete) {
        this.hold(rest);
        break;
      }
      if (current !== undefined) {
        rest = this.forwardBody(current, rest, out);
        continue;
      }
      const pending = this.head === undefined ? rest : Buffer.concat([this.head, rest]);
      // Stray blank lines between requests are tolerated (pvtx sends one after its GETs).
      const start = leadingBlankLines(pending);
      const end = pending.indexOf(HEAD_END, start);
      if (end < 0) {
        if (pending.length - start > MAX_HEAD) this.refuse({ status: 400, version: '1.1', reason: 'request head too large' });
        else this.head = start === pending.length ? undefined : pending.subarray(start);
        break;
      }
      this.head = undefined;
      const headBytes = pending.subarray(start, end + HEAD_END.length);
      const headText = headBytes.toString('latin1');
      const verdict = inspectHead(headText);
      if (!verdict.ok) {
        this.refuse({ status: verdict.status, version: verdict.version, reason: verdict.reason });
        break;
      }
      // An unchanged head goes on as the bytes that came (forwarded now, like the body's views);
      // only a rewritten one (Transfer-Encoding: identity dropped) is encoded again.
      out.push(verdict.text === headText ? headBytes : Buffer.from(verdict.text, 'latin1'));
      const { framing } = verdict;
      const length = framing.kind === 'length' ? framing.length : 0;
      this.current = {
        version: verdict.version,
        lengthRemaining: length,
        declaredLength: length,
        chunked: framing.kind === 'chunked' ? new ChunkedBodyTracker() : undefined,
        complete: framing.kind === 'none',
        answered: false,
        responseStarted: false,
      };
      rest = pending.subarray(end + HEAD_END.length);
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** Forward the part of `rest` that is the current body; returns what follows it. */
  private forwardBody(current: ParserRequest, rest: Buffer, out: Buffer[]): Buffer {
    if (current.chunked !== undefined) {
      const taken = current.chunked.feed(rest);
      if (current.chunked.error !== undefined) {
        this.refuse({ status: 400, version: current.version, reason: current.chunked.error });
        return EMPTY;
      }
      out.push(rest.subarray(0, taken));
      if (current.chunked.done) this.completeBody(current);
      return rest.subarray(taken);
    }
    const take = Math.min(current.lengthRemaining, rest.length);
    out.push(rest.subarray(0, take));
    current.lengthRemaining -= take;
    if (current.lengthRemaining === 0) this.completeBody(current);
    return rest.subarray(take);
  }

  private completeBody(current: ParserRequest): void {
    current.complete = true;
    // Answered before its body was in (an early refusal): nothing more to wait for.
    if (current.answered) this.current = undefined;
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
    }
    detached.excess += chunk.length - take;
    return EMPTY;
  }
}

function leadingBlankLines(buffer: Buffer): number {
  let index = 0;
  while (index + 1 < buffer.length && buffer[index] === 0x0d && buffer[index + 1] === 0x0a) index += 2;
  return index;
}

const filters = new WeakMap<Socket, ConnectionGate>();

/** The filter installed on a connection, if any. */
export function framingOf(socket: Socket): IdentityEncodingFilter | undefined {
  return filters.get(socket)?.filter;
}

/** The gate installed on a connection, if any. */
export function gateOf(socket: Socket): ConnectionGate | undefined {
  return filters.get(socket);
}

export interface GateEvents {
  /** A request was refused by the gate (already answered when this runs). */
  onRejected(rejection: Rejection): void;
}

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;
type Write = (data: unknown, ...rest: unknown[]) => boolean;

/**
 * The filter wired to one socket: its incoming bytes, its half-close and its writes.
 * Requires a net server created with `allowHalfOpen: true`.
 */
export class ConnectionGate {
  readonly filter = new IdentityEncodingFilter();
  private clientEnded = false;
  private endForwarded = false;
  private closing = false;
  private readonly emitToListeners: Emit;

  constructor(
    private readonly socket: Socket,
    private readonly events: GateEvents,
  ) {
    this.emitToListeners = socket.emit.bind(socket) as Emit;
    socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
      if (event === 'data' && Buffer.isBuffer(args[0])) {
        this.forward(this.filter.filter(args[0]));
        this.settle();
        return true;
      }
      if (event === 'end') {
        this.clientEnded = true;
        this.settle();
        return true;
      }
      return this.emitToListeners(event, ...args);
    }) as typeof socket.emit;
    const write = socket.write.bind(socket) as Write;
    socket.write = ((data: unknown, ...rest: unknown[]): boolean => write(this.outgoing(data), ...rest)) as typeof socket.write;
  }

  /** The answer to the request in the parser is complete (its `finish`). */
  answered(): void {
    this.forward(this.filter.answered());
    this.settle();
  }

  private forward(bytes: Buffer): void {
    if (bytes.length > 0 && !this.socket.destroyed) this.emitToListeners('data', bytes);
  }

  /** Decide what the connection does next: refuse, finish a half-close, or wait. */
  private settle(): void {
    if (this.closing || this.socket.destroyed) return;
    const rejection = this.filter.dueRejection;
    if (rejection !== undefined) {
      this.closing = true;
      this.socket.end(unsupportedProtocolReply(rejection.status, rejection.version));
      this.events.onRejected(rejection);
      closeWhenFlushed(this.socket);
      return;
    }
    if (!this.clientEnded || this.filter.rejected !== undefined) return;
    if (this.filter.bodyIncomplete) {
      // The request in the parser can never complete: let the parser see the end and abort it.
      if (!this.endForwarded) {
        this.endForwarded = true;
        this.emitToListeners('end');
      }
      return;
    }
    if (this.filter.answerOwed) return;
    // Every request that fully arrived is answered; a partial head left over is dropped.
    this.closing = true;
    this.socket.end();
    closeWhenFlushed(this.socket);
  }

  /** Mirror an HTTP/1.0 request's version in the status line Bun writes as `HTTP/1.1`. */
  private outgoing(data: unknown): unknown {
    const version = this.filter.versionInParser;
    // Body bytes that happen to start like a status line are data: only the head is rewritten.
    if (version === undefined || this.filter.responseUnderway || !startsWithStatusLine(data)) return data;
    const isContinue = statusCodeOf(data) === '100';
    if (!isContinue) this.filter.responseStarted();
    if (version === '1.1') return data;
    if (typeof data === 'string') return `HTTP/1.0${data.slice(8)}`;
    const bytes = Buffer.from(data as Uint8Array);
    bytes.write('HTTP/1.0', 0, 'latin1');
    return bytes;
  }
}

const STATUS_LINE_PREFIX = 'HTTP/1.1 ';

function startsWithStatusLine(data: unknown): data is string | Uint8Array {
  if (typeof data === 'string') return data.startsWith(STATUS_LINE_PREFIX);
  if (data instanceof Uint8Array) {
    // Compared byte by byte: this runs for every write on every connection, and a decoded copy
    // of the prefix would be garbage each time.
    if (data.length < 12) return false;
    for (let index = 0; index < STATUS_LINE_PREFIX.length; index++) if (data[index] !== STATUS_LINE_PREFIX.charCodeAt(index)) return false;
    return true;
  }
  return false;
}

function statusCodeOf(data: string | Uint8Array): string {
  return typeof data === 'string' ? data.slice(9, 12) : Buffer.from(data.buffer, data.byteOffset + 9, 3).toString('latin1');
}

/** With half-open sockets `end` only closes our side: close the whole socket once flushed. */
function closeWhenFlushed(socket: Socket): void {
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}

/** Route a socket's incoming bytes through a gate before any 'data' listener sees them. */
export function installConnectionGate(socket: Socket, events: GateEvents): ConnectionGate {
  const gate = new ConnectionGate(socket, events);
  filters.set(socket, gate);
  return gate;
}
