/**
 * The response half of an HTTP/1.1 exchange (see ./http.ts): status line and headers, then a
 * Content-Length, chunked or close-delimited body, decoded incrementally as bytes arrive.
 */
import { PvTransportError } from './transport-error.ts';

/** Lower-cased header names; repeated headers are joined with ", ". */
export type HeaderMap = Record<string, string>;

const CRLF = Buffer.from('\r\n');
/** Bound on status line + headers; a peer sending more is not an HTTP server. */
const MAX_HEAD_BYTES = 64 * 1024;

export interface ParsedHead {
  httpVersion: string;
  status: number;
  reason: string;
  rawHeaders: string[];
  headers: HeaderMap;
}

function parseHead(text: string): ParsedHead | undefined {
  const lines = text.split(/\r?\n/);
  const statusLine = /^HTTP\/(\d+\.\d+) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!statusLine) return undefined;
  const rawHeaders: string[] = [];
  const headers: HeaderMap = {};
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push(name, value);
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return {
    httpVersion: statusLine[1] as string,
    status: Number(statusLine[2]),
    reason: statusLine[3] ?? '',
    rawHeaders,
    headers,
  };
}

/** Incremental response decoder: head, then a Content-Length, chunked or close-delimited body. */
export class ResponseDecoder {
  head: ParsedHead | undefined;
  complete = false;
  private pending: Buffer = Buffer.alloc(0);
  private mode: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'eof' = 'head';
  private remaining = 0;

  constructor(
    private readonly method: string,
    private readonly onHead: (head: ParsedHead) => void,
    private readonly onBody: (chunk: Buffer) => void,
  ) {}

  /** Throws PvTransportError('reset') on a malformed response. */
  push(data: Buffer): void {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    while (!this.complete && this.pending.length > 0) {
      if (!this.step()) break;
    }
  }

  /** The peer closed: a close-delimited body ends here; anything else is truncated. */
  finishAtEof(): boolean {
    if (this.mode === 'eof' && this.head !== undefined) this.complete = true;
    return this.complete;
  }

  private take(count: number): Buffer {
    const out = this.pending.subarray(0, count);
    this.pending = this.pending.subarray(count);
    return out;
  }

  private line(): string | undefined {
    const end = this.pending.indexOf(CRLF);
    if (end < 0) return undefined;
    const text = this.pending.subarray(0, end).toString('latin1');
    this.pending = this.pending.subarray(end + 2);
    return text;
  }

  private step(): boolean {
    switch (this.mode) {
      case 'head': {
        const end = this.pending.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.pending.length > MAX_HEAD_BYTES) throw new PvTransportError('reset', 'response head too large');
          return false;
        }
        const head = parseHead(this.take(end + 4).subarray(0, end).toString('latin1'));
        if (!head) throw new PvTransportError('reset', 'malformed response head');
        // Interim responses (100 Continue and friends) precede the real one.
        if (head.status >= 100 && head.status < 200 && head.status !== 101) return true;
        this.head = head;
        this.onHead(head);
        const te = head.headers['transfer-encoding']?.toLowerCase() ?? '';
        const length = head.headers['content-length'];
        if (this.method === 'HEAD' || head.status === 204 || head.status === 304) {
          this.complete = true;
        } else if (te.split(',').some((coding) => coding.trim() === 'chunked')) {
          this.mode = 'chunk-size';
        } else if (length !== undefined) {
          if (!/^\d+$/.test(length.trim())) throw new PvTransportError('reset', `bad Content-Length: ${length}`);
          this.remaining = Number(length.trim());
          this.mode = 'length';
          if (this.remaining === 0) this.complete = true;
        } else {
          this.mode = 'eof';
        }
        return true;
      }
      case 'length': {
        const piece = this.take(Math.min(this.remaining, this.pending.length));
        this.remaining -= piece.length;
        this.onBody(piece);
        if (this.remaining === 0) this.complete = true;
        return true;
      }
      case 'eof':
        this.onBody(this.take(this.pending.length));
        return true;
      case 'chunk-size': {
        const text = this.line();
        if (text === undefined) return false;
        const size = /^([0-9a-fA-F]+)/.exec(text.trim());
        if (!size) throw new PvTransportError('reset', `bad chunk size line: ${text}`);
        this.remaining = parseInt(size[1] as string, 16);
        this.mode = this.remaining === 0 ? 'trailers' : 'chunk-data';
        return true;
      }
      case 'chunk-data': {
        const piece = this.take(Math.min(this.remaining, this.pending.length));
        this.remaining -= piece.length;
        this.onBody(piece);
        if (this.remaining === 0) this.mode = 'chunk-crlf';
        return true;
      }
      case 'chunk-crlf': {
        if (this.pending.length < 2) return false;
        this.take(2);
        this.mode = 'chunk-size';
        return true;
      }
      case 'trailers': {
        const text = this.line();
        if (text === undefined) return false;
        if (text === '') this.complete = true;
        return true;
      }
    }
  }
}
