/**
 * Where a response body goes (see ./http.ts): into memory, or, for a 200 with a DownloadSink,
 * into the sink, opened only once the status is known, so an error reply never touches the
 * destination. Holds read back-pressure: the socket is paused while the sink opens and
 * whenever the destination is slower than the connection.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { PvTransportError, describeError } from './transport-error.ts';
import type { ParsedHead } from './response-decoder.ts';

export type ProgressFn = (transferred: number, total: number | undefined) => void;

/** Where a successful (status 200) response body goes instead of memory. */
export interface DownloadSink {
  open(): Promise<Writable>;
  /** Called after the whole body was written; flushes and releases the destination. */
  close(): Promise<void>;
  /** Called when the transfer failed after open(); lets the sink discard partial output. */
  abort(): Promise<void>;
  onProgress: ProgressFn | undefined;
}

/** What the exchange does for the writer: read flow control, and failing the whole exchange. */
export interface DownloadFlow {
  pause(): void;
  resume(): void;
  /** Fails the exchange; it then calls abandon(). */
  fail(error: PvTransportError): void;
}

export interface DownloadedBody {
  /** The body when it was kept in memory; empty when it went to the sink. */
  body: Buffer;
  /** Body bytes received, wherever they went. */
  received: number;
  /** Bytes delivered to the sink (0 when the body was kept in memory). */
  sinkBytes: number;
  /** SHA-256 (hex) of what went to the sink; undefined when no sink was used. */
  sinkSha256: string | undefined;
}

type DownloadState =
  /** No head yet, or not a 200, or no sink: the body is collected in memory. */
  | { kind: 'memory'; chunks: Buffer[] }
  /** sink.open() is pending and the socket paused; bytes already received wait here. */
  | { kind: 'opening'; backlog: Buffer[] }
  | { kind: 'writing'; out: Writable }
  /** The sink was closed; the body is complete. */
  | { kind: 'closed' }
  /** The exchange failed: nothing more is written, the sink is (or will be) aborted. */
  | { kind: 'abandoned' };

export class DownloadWriter {
  private state: DownloadState = { kind: 'memory', chunks: [] };
  private opening: Promise<void> | undefined;
  private sinkBytes = 0;
  private total: number | undefined;
  private readonly hash: Hash = createHash('sha256');

  constructor(
    private readonly sink: DownloadSink | undefined,
    private readonly flow: DownloadFlow,
  ) {}

  /** The state's name, for tests and traces. */
  get stateName(): DownloadState['kind'] {
    return this.state.kind;
  }

  /** The final response head arrived: a 200 with a sink starts opening the destination. */
  start(head: ParsedHead): void {
    const sink = this.sink;
    if (head.status !== 200 || sink === undefined || this.state.kind !== 'memory') return;
    const length = head.headers['content-length'];
    this.total = length !== undefined && /^\d+$/.test(length.trim()) ? Number(length.trim()) : undefined;
    this.state = { kind: 'opening', backlog: [] };
    this.flow.pause();
    this.opening = sink.open().then(
      (out) => this.opened(sink, out),
      (error: unknown) => this.flow.fail(new PvTransportError('sink', `cannot open download destination: ${describeError(error)}`, error)),
    );
  }

  /** A piece of the body. Bun may reuse its receive buffer, so anything kept is copied. */
  write(chunk: Buffer): void {
    switch (this.state.kind) {
      case 'memory':
        this.state.chunks.push(Buffer.from(chunk));
        return;
      case 'opening':
        this.state.backlog.push(Buffer.from(chunk));
        return;
      case 'writing':
        this.writeOut(this.state.out, Buffer.from(chunk));
        return;
      case 'closed':
      case 'abandoned':
        return;
    }
  }

  /**
   * The body is complete: close the sink. Undefined when the download failed meanwhile (the
   * failure has gone to flow.fail()).
   */
  async finish(): Promise<DownloadedBody | undefined> {
    if (this.state.kind === 'memory') {
      const body = Buffer.concat(this.state.chunks);
      return { body, received: body.length, sinkBytes: 0, sinkSha256: undefined };
    }
    await this.opening;
    if (this.state.kind !== 'writing' || this.sink === undefined) return undefined;
    try {
      await this.sink.close();
    } catch (error) {
      this.flow.fail(new PvTransportError('sink', `writing the download failed: ${describeError(error)}`, error));
      return undefined;
    }
    if (this.state.kind !== 'writing') return undefined;
    this.state = { kind: 'closed' };
    return { body: Buffer.alloc(0), received: this.sinkBytes, sinkBytes: this.sinkBytes, sinkSha256: this.hash.digest('hex') };
  }

  /** The exchange failed: stop writing and let the sink discard partial output. */
  abandon(): Promise<void> {
    const previous = this.state;
    this.state = { kind: 'abandoned' };
    // A sink still opening is aborted by opened() once open() resolves.
    return previous.kind === 'writing' && this.sink !== undefined ? this.sink.abort() : Promise.resolve();
  }

  private opened(sink: DownloadSink, out: Writable): void {
    if (this.state.kind !== 'opening') {
      // The exchange failed while the destination was being opened.
      void sink.abort();
      return;
    }
    const backlog = this.state.backlog;
    this.state = { kind: 'writing', out };
    out.on('error', (error: unknown) => {
      this.flow.fail(new PvTransportError('sink', `writing the download failed: ${describeError(error)}`, error));
    });
    sink.onProgress?.(0, this.total);
    for (const chunk of backlog) this.writeOut(out, chunk);
    this.flow.resume();
  }

  private writeOut(out: Writable, chunk: Buffer): void {
    this.hash.update(chunk);
    this.sinkBytes += chunk.length;
    this.sink?.onProgress?.(this.sinkBytes, this.total);
    if (!out.write(chunk)) {
      // A slow destination (a pipe) must not make us buffer the object.
      this.flow.pause();
      out.once('drain', () => this.flow.resume());
    }
  }
}
