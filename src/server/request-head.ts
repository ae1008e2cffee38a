/**
 * Pure decisions on one request head, made before Bun's parser sees it: is it HTTP we speak
 * (spec §2.2), how is its body framed, and what must the parser be shown instead.
 */

/** The methods libevent accepts at all; anything else is 501 (spec §2.2). */
export const ACCEPTED_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE']);

export type HttpVersion = '1.0' | '1.1';

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export type HeadVerdict =
  | { ok: true; method: string; version: HttpVersion; framing: BodyFraming; /** The head as the parser must see it. */ text: string }
  | { ok: false; status: 400 | 501; /** The request's version when the request line got that far. */ version: HttpVersion; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/(\d+)\.(\d+)$/;
/** Field values may carry visible characters, spaces, tabs and obs-text; never controls. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Larger Content-Length values cannot be held exactly in a double. */
const MAX_CONTENT_LENGTH_DIGITS = 15;

/**
 * Inspect a complete head (request line, header lines, the blank line). Leading blank lines
 * must already be stripped.
 */
export function inspectHead(head: string): HeadVerdict {
  const lines = head.split('\r\n');
  // The head ends with CRLF CRLF: the last two split parts are empty.
  if (lines.length < 3 || lines[lines.length - 1] !== '' || lines[lines.length - 2] !== '') {
    return refuse(400, '1.1', 'head does not end with an empty line');
  }
  const fields = lines.slice(1, -2);
  const requestLine = REQUEST_LINE.exec(lines[0] ?? '');
  if (requestLine === null) return refuse(400, '1.1', 'malformed request line');
  const [, method = '', target = '', major = '', minor = ''] = requestLine;
  if (major !== '1' || (minor !== '0' && minor !== '1')) return refuse(400, '1.1', `unsupported version HTTP/${major}.${minor}`);
  const version: HttpVersion = minor === '0' ? '1.0' : '1.1';
  if (!TOKEN.test(method) || !/^[\x21-\x7e]+$/.test(target)) return refuse(400, version, 'malformed request line');

  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  const kept: string[] = [lines[0] ?? ''];
  for (const line of fields) {
    const colon = line.indexOf(':');
    const name = colon <= 0 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) return refuse(400, version, 'malformed header line');
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return refuse(400, version, 'control character in a header value');
    // Only the two framing headers matter here: no lower-cased copy of every other name.
    const folded = name.length === 'content-length'.length || name.length === 'transfer-encoding'.length ? name.toLowerCase() : '';
    if (folded === 'content-length') {
      if (!/^\d+$/.test(value) || value.length > MAX_CONTENT_LENGTH_DIGITS) return refuse(400, version, 'illegal Content-Length');
      if (contentLength !== undefined && Number(contentLength) !== Number(value)) return refuse(400, version, 'conflicting Content-Length headers');
      contentLength = value;
    } else if (folded === 'transfer-encoding') {
      if (transferEncoding !== undefined) return refuse(400, version, 'repeated Transfer-Encoding');
      transferEncoding = value.toLowerCase();
      // pvcontrol sends `identity` with every object upload; Bun's parser would wait for the close.
      if (transferEncoding === 'identity') continue;
    }
    kept.push(line);
  }
  if (!ACCEPTED_METHODS.has(method)) return refuse(501, version, `unsupported method ${method.slice(0, 32)}`);

  let framing: BodyFraming = { kind: 'none' };
  if (transferEncoding === 'chunked') {
    // Both framings at once is how requests get smuggled: refuse rather than pick one.
    if (contentLength !== undefined) return refuse(400, version, 'both Content-Length and Transfer-Encoding');
    framing = { kind: 'chunked' };
  } else if (transferEncoding === 'identity') {
    // Without a length the body would run into the next request (and the parser would read it as one).
    if (contentLength === undefined) return refuse(400, version, 'Transfer-Encoding: identity without Content-Length');
  } else if (transferEncoding !== undefined) {
    return refuse(400, version, 'unsupported Transfer-Encoding');
  }
  if (framing.kind === 'none' && contentLength !== undefined && Number(contentLength) > 0) framing = { kind: 'length', length: Number(contentLength) };
  // Nothing dropped: the head itself, so the gate can forward the bytes it already has.
  return { ok: true, method, version, framing, text: kept.length === fields.length + 1 ? head : [...kept, '', ''].join('\r\n') };
}

function refuse(status: 400 | 501, version: HttpVersion, reason: string): HeadVerdict {
  return { ok: false, status, version, reason };
}

/** Where a chunked body stands; `feed` consumes bytes up to (and including) the body's end. */
export class ChunkedBodyTracker {
  private phase: 'size' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'size';
  private line = '';
  private dataRemaining = 0;
  private failure: string | undefined;

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Why the framing is broken, once it is. */
  get error(): string | undefined {
    return this.failure;
  }

  /** Bytes of `chunk` that belong to this body (all of them unless the body ends inside it). */
  feed(chunk: Buffer): number {
    let index = 0;
    while (index < chunk.length && this.phase !== 'done' && this.failure === undefined) {
      if (this.phase === 'data') {
        const take = Math.min(this.dataRemaining, chunk.length - index);
        index += take;
        this.dataRemaining -= take;
        if (this.dataRemaining === 0) this.phase = 'data-crlf';
        continue;
      }
      const byte = chunk[index++] as number;
      if (byte !== 0x0a) {
        this.line += String.fromCharCode(byte);
        if (this.line.length > MAX_CHUNK_LINE) this.failure = 'chunk line too long';
        continue;
      }
      if (!this.line.endsWith('\r')) {
        this.failure = 'bare LF in chunked framing';
        continue;
      }
      const line = this.line.slice(0, -1);
      this.line = '';
      this.endLine(line);
    }
    return index;
  }

  private endLine(line: string): void {
    if (this.phase === 'data-crlf') {
      if (line !== '') this.failure = 'chunk data longer than its size';
      else this.phase = 'size';
      return;
    }
    if (this.phase === 'trailer') {
      if (line === '') this.phase = 'done';
      return;
    }
    const size = /^([0-9A-Fa-f]{1,12})(?:[ \t]*;.*)?$/.exec(line);
    if (size === null) {
      this.failure = 'bad chunk size';
      return;
    }
    this.dataRemaining = Number.parseInt(size[1] as string, 16);
    this.phase = this.dataRemaining === 0 ? 'trailer' : 'data';
  }
}

const MAX_CHUNK_LINE = 4096;
