/** The server's view of a request and a response, shared by the router and src/api handlers. */
import type { Caller } from './caller.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';

export interface RequestBody {
  /** Content-Length when sent; undefined for chunked bodies or none. */
  readonly declaredLength: number | undefined;
  readonly chunked: boolean;
  /** The reference treats a request with neither Content-Length nor chunked encoding as body-less. */
  readonly present: boolean;
  /** Whole body as bytes; a body longer than `limit` is a 507 (the reference's size-cap quirk). */
  bytes(limit: number): Promise<Buffer>;
  text(limit: number): Promise<string>;
  /** Stream the body; the next chunk arrives only after `consume` settles (socket-level backpressure). */
  pipe(consume: (chunk: Uint8Array) => void | Promise<void>): Promise<void>;
  /** Read and discard whatever is left. */
  drain(): Promise<void>;
  /**
   * Hand the unread rest of a Content-Length body over for a native read from the connection
   * (docs/native-ingest.md, "Upload fast path"); undefined when this body cannot be (then
   * nothing changed and `pipe` still works).
   */
  takeOver(): Promise<DirectBody | undefined>;
}

/** A request body whose remaining bytes are read natively from the connection fd. */
export interface DirectBody {
  /** Connection fd; its owner keeps it (the native reader works on a dup). */
  readonly fd: number;
  /** Body bytes already read from the connection, in order; they precede everything on the fd. */
  readonly prefix: Buffer;
  /** Body bytes still to read from the fd. */
  readonly remaining: number;
  /** Run `listener` once if the connection closes; returns the unsubscribe function. */
  onClose(listener: () => void): () => void;
  /** Throws if anyone else read from the connection since the hand-off (call after the native read). */
  assertUntouched(): void;
  /** The error to report when a native read failure means the client is gone, else undefined. */
  clientGone(error: unknown): Error | undefined;
}

export interface ApiRequest {
  readonly method: string;
  /** Request-target as sent (query string included, not percent-decoded). */
  readonly rawTarget: string;
  /** Percent-decoded path without the query string. */
  readonly path: string;
  /** Values of the `{}` segments of a pattern route, raw (not percent-decoded). */
  readonly params: readonly string[];
  readonly caller: Caller;
  readonly body: RequestBody;
  header(name: string): string | undefined;
}

export type ApiResponse =
  /** 200 (or `status`), application/json, empty body: the reference's "OK". */
  | { type: 'empty'; status?: 200 | 204 }
  | { type: 'json'; text: string }
  | { type: 'text'; contentType: string; text: string }
  | { type: 'file'; path: string; contentType: string }
  /** 200 and a body that lasts until `open`'s producer ends it or the client goes (GET /events). */
  | { type: 'stream'; contentType: string; open(channel: StreamChannel): void };

/** How a long-lived body delimits its bytes: the producer frames once per framing and shares the bytes. */
export interface BodyFraming {
  /** `chunked` (HTTP/1.1) or `none` (HTTP/1.0: the body ends with the connection). */
  readonly name: 'chunked' | 'none';
  frame(payload: Buffer): Buffer;
}

/**
 * The body of a long-lived response. `write` returning false means the connection's buffer is
 * full: the producer holds further bytes (bounded, its own) until `onDrain` fires.
 */
export interface StreamChannel {
  readonly framing: BodyFraming;
  /** Whole frames of `framing` (one or more), written to the connection as they are. */
  write(bytes: Buffer): boolean;
  /**
   * End the body after what was written. The connection then carries the next request, or,
   * with `closeConnection`, is closed once the last byte is flushed.
   */
  end(closeConnection?: boolean): void;
  /** Close the connection now. */
  destroy(): void;
  onDrain(listener: () => void): void;
  /** Runs once when the response is over: ended, destroyed, or the client went away. */
  onClose(listener: () => void): void;
}

/**
 * Writes the bodies of long-lived responses off the event loop (the daemon wires the native
 * writer, src/native/stream-writer.ts): handed a connection's fd once the head is out, it sends
 * what `write` queues from a thread of its own. The connection stays the listener's: Bun keeps
 * reading it, and a client that goes away is seen there as for any response.
 */
export interface BodyWriter {
  open(fd: number, highWaterBytes: number, events: BodyWriterEvents): BodyWriterStream;
}

export interface BodyWriterEvents {
  /** A stream whose `write` said full takes bytes again. */
  drained(): void;
  /** The peer went away or a send failed. */
  gone(): void;
  /** Everything written before `flush()` has left. */
  flushed(): void;
}

export interface BodyWriterStream {
  /** False when the queue is past its high-water mark (`drained` follows) or the stream is over. */
  write(bytes: Uint8Array): boolean;
  flush(): void;
  close(): void;
}

export const ok = (): ApiResponse => ({ type: 'empty' });
export const json = (text: string): ApiResponse => ({ type: 'json', text });

/** The route label of a request no route matched (the raw path is never a label: it is unbounded). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * One request, as the listener reports it to its observer once it is over (answered, or the
 * client went away first). The observer must not keep it.
 */
export interface FinishedRequest {
  readonly method: string;
  /** The pattern of the route the path matched (`/objects/{}`), or UNMATCHED_ROUTE. */
  readonly route: string;
  /** Request-target as sent (for logs only). */
  readonly target: string;
  /** Status sent; 0 when no answer was sent (the client went away, or the connection was dropped). */
  readonly status: number;
  /** From the request's arrival to its last byte handed to the connection. */
  readonly seconds: number;
  /** Undefined when the caller could not be identified. */
  readonly caller: Caller | undefined;
  /** The peer's pid from the kernel (also when the caller could not be identified). */
  readonly pid: number;
}

/** Called once per finished request; must not throw (a throw is logged and dropped). */
export type RequestObserver = (request: FinishedRequest) => void;
