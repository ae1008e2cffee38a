/**
 * Typed client for the pv-ctrl API over its Unix socket. Shared by the `pvcontrol` CLI and
 * the integration/acceptance tests, so every call hands back the raw exchange
 * (status, lower-cased headers, body bytes) and never interprets or throws on an HTTP status:
 * only a missing/incomplete response raises (`PvTransportError`).
 */
import { createReadStream, createWriteStream, statSync, unlinkSync, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { exchange, PvTransportError, type DownloadSink, type ProgressFn, type PvResponse, type WireBody } from './http.ts';

export { PvTransportError, type HeaderMap, type ProgressFn, type PvResponse, type TransportErrorCode } from './http.ts';
import { jsonBody } from './error-body.ts';
export { errorMessage, jsonBody } from './error-body.ts';

/** Candidates probed, in order, when no socket is configured (pvcontrol/pvtx order). */
export const DEFAULT_SOCKET_CANDIDATES: readonly string[] = ['/run/pantavisor/pv/pv-ctrl', '/pv/pv-ctrl'];
/** Path used when no candidate exists: the location inside a container. */
export const CONTAINER_SOCKET = '/pantavisor/pv-ctrl';

/** Bytes from a file path, an in-memory buffer, a web stream or any async byte iterable. */
export type ByteSource = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Same as ByteSource, except that a string is the body text itself (not a path). */
export type RawBody = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface PvClientOptions {
  socketPath: string;
  /** Deadline for ordinary calls (pvcontrol used curl --max-time 240). */
  timeoutMs?: number;
  /** Deadline for object uploads/downloads (pvcontrol used --max-time 14400). */
  transferTimeoutMs?: number;
  /** Receives request/response trace lines (`> `, `< `, `* ` prefixed, curl -v style). */
  trace?: (line: string) => void;
}

export interface RawRequestOptions {
  /** Merged over the defaults; may replace `Host` (e.g. to test the Host check). */
  headers?: Record<string, string>;
  body?: RawBody;
  /** Content-Length for stream bodies; omitted ⇒ chunked transfer encoding. */
  bodySize?: number;
  timeoutMs?: number;
  onUploadProgress?: ProgressFn;
}

export interface UploadOptions {
  /**
   * Exact number of bytes to send (Content-Length). Required to avoid chunked encoding for
   * stream sources; for a path it defaults to the file size. A source yielding fewer bytes
   * fails with PvTransportError('source'); bytes beyond it are left unread.
   */
  size?: number;
  onProgress?: ProgressFn;
  timeoutMs?: number;
}

export interface DownloadOptions {
  onProgress?: ProgressFn;
  timeoutMs?: number;
}

export interface ObjectDownload extends PvResponse {
  /** Bytes written to the destination (0 unless status is 200). */
  bytes: number;
  /** SHA-256 of the bytes written, for integrity checks; undefined unless status is 200. */
  sha256: string | undefined;
}

export type ContainerAction = 'start' | 'stop' | 'restart';
export type DaemonAction = 'start' | 'stop';
export type SignalType = 'ready' | 'alive';
export type CommandOp =
  | 'UPDATE_METADATA'
  | 'REBOOT_DEVICE'
  | 'POWEROFF_DEVICE'
  | 'TRY_ONCE'
  | 'LOCAL_RUN'
  | 'MAKE_FACTORY'
  | 'RUN_GC'
  | 'ENABLE_SSH'
  | 'DISABLE_SSH'
  | 'GO_REMOTE'
  | 'DEFER_REBOOT'
  | 'LOCAL_RUN_COMMIT'
  | 'LOCAL_APPLY'
  | 'XCONNECT_GRAPH'
  | 'UNCLAIM';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One element of `GET /objects` (size is a decimal string on the wire). */
export interface ObjectEntry {
  sha256: string;
  size: string;
}

/** One element of `GET /steps`. */
export interface StepEntry {
  name: string;
  date: string;
  commitmsg: string;
  progress: unknown;
}

/** Percent-encodes one path segment (keys, names, shas). */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value);
}

/** Percent-encodes a revision name segment by segment, so `locals/x` keeps its slash. */
export function encodeRevision(rev: string): string {
  return rev.split('/').map(encodeURIComponent).join('/');
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as ReadableStream<Uint8Array>).getReader === 'function';
}

async function* iterateWebStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function streamBody(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, size: number | undefined): WireBody {
  return { kind: 'stream', source: isWebStream(source) ? iterateWebStream(source) : source, size };
}

function textBytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** A file opened only on a 200 reply, and removed again if the transfer breaks. */
function fileSink(path: string, onProgress: ProgressFn | undefined): DownloadSink {
  let stream: WriteStream | undefined;
  return {
    onProgress,
    open: () =>
      new Promise<Writable>((resolve, reject) => {
        const out = createWriteStream(path);
        stream = out;
        out.once('open', () => resolve(out));
        out.once('error', reject);
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!stream) return resolve();
        stream.once('error', reject);
        stream.end(() => resolve());
      }),
    abort: async () => {
      stream?.destroy();
      try {
        // Only a regular file we wrote may be removed (never e.g. /dev/stdout).
        if (statSync(path).isFile()) unlinkSync(path);
      } catch {
        // Already gone or not ours: nothing to clean up.
      }
    },
  };
}

/** An already-open stream (e.g. stdout) that the client must not end. */
function writableSink(out: Writable, onProgress: ProgressFn | undefined): DownloadSink {
  return {
    onProgress,
    open: async () => out,
    close: () =>
      new Promise<void>((resolve) => {
        if (!out.writableNeedDrain) return resolve();
        out.once('drain', () => resolve());
      }),
    abort: async () => undefined,
  };
}

export class PvClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;
  private readonly transferTimeoutMs: number;
  private readonly trace: ((line: string) => void) | undefined;

  constructor(options: PvClientOptions) {
    this.socketPath = options.socketPath;
    this.timeoutMs = options.timeoutMs ?? 240_000;
    this.transferTimeoutMs = options.transferTimeoutMs ?? 14_400_000;
    this.trace = options.trace;
  }

  /** Escape hatch: any method and raw path (not encoded), any headers and body. */
  async rawRequest(method: string, path: string, options: RawRequestOptions = {}): Promise<PvResponse> {
    let body: WireBody | undefined;
    const source = options.body;
    if (typeof source === 'string') body = { kind: 'bytes', data: textBytes(source) };
    else if (source instanceof Uint8Array) body = { kind: 'bytes', data: source };
    else if (source !== undefined) body = streamBody(source, options.bodySize);
    const result = await exchange({
      socketPath: this.socketPath,
      method,
      path,
      headers: { Host: 'localhost', ...options.headers },
      body,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      onUploadProgress: options.onUploadProgress,
      sink: undefined,
      trace: this.trace,
    });
    return { status: result.status, headers: result.headers, body: result.body };
  }

  private get(path: string): Promise<PvResponse> {
    return this.rawRequest('GET', path);
  }

  private sendJson(method: string, path: string, value: JsonValue): Promise<PvResponse> {
    return this.rawRequest(method, path, {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(value),
    });
  }

  private sendText(method: string, path: string, text: string | Uint8Array): Promise<PvResponse> {
    return this.rawRequest(method, path, { headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: text });
  }

  // --- containers, groups, signal -------------------------------------------------------

  listContainers(): Promise<PvResponse> {
    return this.get('/containers');
  }

  containerAction(name: string, action: ContainerAction): Promise<PvResponse> {
    return this.sendJson('PUT', `/containers/${encodeSegment(name)}`, { action });
  }

  listGroups(): Promise<PvResponse> {
    return this.get('/groups');
  }

  signal(type: SignalType | string, payload = ''): Promise<PvResponse> {
    return this.sendJson('POST', '/signal', { type, payload });
  }

  // --- objects ---------------------------------------------------------------------------

  listObjects(): Promise<PvResponse> {
    return this.get('/objects');
  }

  /** Streams a path, buffer, web stream or async iterable as the object's bytes. */
  async putObject(sha: string, source: ByteSource, options: UploadOptions = {}): Promise<PvResponse> {
    let body: WireBody;
    if (typeof source === 'string') {
      let size: number;
      try {
        size = options.size ?? statSync(source).size;
      } catch (error) {
        throw new PvTransportError('source', `cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      const file = createReadStream(source, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>;
      body = { kind: 'stream', source: file, size };
    } else if (source instanceof Uint8Array) {
      body = options.size === undefined ? { kind: 'bytes', data: source } : { kind: 'bytes', data: source.subarray(0, options.size) };
    } else {
      body = streamBody(source, options.size);
    }
    const result = await exchange({
      socketPath: this.socketPath,
      method: 'PUT',
      path: `/objects/${encodeSegment(sha)}`,
      headers: { Host: 'localhost', 'Content-Type': 'application/octet-stream' },
      body,
      timeoutMs: options.timeoutMs ?? this.transferTimeoutMs,
      onUploadProgress: options.onProgress,
      sink: undefined,
      trace: this.trace,
    });
    return { status: result.status, headers: result.headers, body: result.body };
  }

  /**
   * Streams the object into a file path or an open Writable. The destination is only
   * opened on status 200; otherwise the error body is returned in `body` and nothing is
   * written. A file left half-written by a broken transfer is removed.
   */
  async getObject(sha: string, destination: string | Writable, options: DownloadOptions = {}): Promise<ObjectDownload> {
    const sink = typeof destination === 'string' ? fileSink(destination, options.onProgress) : writableSink(destination, options.onProgress);
    const result = await exchange({
      socketPath: this.socketPath,
      method: 'GET',
      path: `/objects/${encodeSegment(sha)}`,
      headers: { Host: 'localhost' },
      body: undefined,
      timeoutMs: options.timeoutMs ?? this.transferTimeoutMs,
      onUploadProgress: undefined,
      sink,
      trace: this.trace,
    });
    return { status: result.status, headers: result.headers, body: result.body, bytes: result.sinkBytes, sha256: result.sinkSha256 };
  }

  // --- steps -----------------------------------------------------------------------------

  listSteps(): Promise<PvResponse> {
    return this.get('/steps');
  }

  getStep(rev: string): Promise<PvResponse> {
    return this.get(`/steps/${encodeRevision(rev)}`);
  }

  /** Installs a state JSON held in memory (text, bytes, or a value to serialise). */
  putStep(rev: string, state: string | Uint8Array | { [key: string]: JsonValue }): Promise<PvResponse> {
    const body = typeof state === 'string' || state instanceof Uint8Array ? state : JSON.stringify(state);
    return this.rawRequest('PUT', `/steps/${encodeRevision(rev)}`, { headers: { 'Content-Type': 'application/json' }, body });
  }

  /** Installs a state JSON streamed from a file (sent with its size as Content-Length). */
  async putStepFile(rev: string, path: string, options: UploadOptions = {}): Promise<PvResponse> {
    let size: number;
    try {
      size = options.size ?? statSync(path).size;
    } catch (error) {
      throw new PvTransportError('source', `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    return this.putStepStream(rev, createReadStream(path) as AsyncIterable<Uint8Array>, { ...options, size });
  }

  /** Installs a state JSON from a stream; without `size` the body is sent chunked. */
  putStepStream(rev: string, source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, options: UploadOptions = {}): Promise<PvResponse> {
    const request: RawRequestOptions = { headers: { 'Content-Type': 'application/json' }, body: source };
    if (options.size !== undefined) request.bodySize = options.size;
    if (options.onProgress !== undefined) request.onUploadProgress = options.onProgress;
    if (options.timeoutMs !== undefined) request.timeoutMs = options.timeoutMs;
    return this.rawRequest('PUT', `/steps/${encodeRevision(rev)}`, request);
  }

  stepProgress(rev: string): Promise<PvResponse> {
    return this.get(`/steps/${encodeRevision(rev)}/progress`);
  }

  putCommitMessage(rev: string, message: string): Promise<PvResponse> {
    return this.sendText('PUT', `/steps/${encodeRevision(rev)}/commitmsg`, message);
  }

  // --- metadata --------------------------------------------------------------------------

  listUserMeta(): Promise<PvResponse> {
    return this.get('/user-meta');
  }

  putUserMeta(key: string, value: string | Uint8Array): Promise<PvResponse> {
    return this.sendText('PUT', `/user-meta/${encodeSegment(key)}`, value);
  }

  deleteUserMeta(key: string): Promise<PvResponse> {
    return this.rawRequest('DELETE', `/user-meta/${encodeSegment(key)}`);
  }

  listDeviceMeta(): Promise<PvResponse> {
    return this.get('/device-meta');
  }

  putDeviceMeta(key: string, value: string | Uint8Array): Promise<PvResponse> {
    return this.sendText('PUT', `/device-meta/${encodeSegment(key)}`, value);
  }

  deleteDeviceMeta(key: string): Promise<PvResponse> {
    return this.rawRequest('DELETE', `/device-meta/${encodeSegment(key)}`);
  }

  // --- system ----------------------------------------------------------------------------

  buildinfo(): Promise<PvResponse> {
    return this.get('/buildinfo');
  }

  listDrivers(): Promise<PvResponse> {
    return this.get('/drivers');
  }

  /** Loads every manual driver of the caller's platform, or only the alias `name`. */
  loadDrivers(name?: string): Promise<PvResponse> {
    return this.rawRequest('PUT', name === undefined ? '/drivers/load' : `/drivers/${encodeSegment(name)}/load`);
  }

  unloadDrivers(name?: string): Promise<PvResponse> {
    return this.rawRequest('PUT', name === undefined ? '/drivers/unload' : `/drivers/${encodeSegment(name)}/unload`);
  }

  /** Queues a state-machine command. `payload` is sent as a JSON string unless given as a value. */
  command(op: CommandOp | string, payload: JsonValue = ''): Promise<PvResponse> {
    return this.sendJson('POST', '/commands', { op, payload });
  }

  config(): Promise<PvResponse> {
    return this.get('/config');
  }

  config2(): Promise<PvResponse> {
    return this.get('/config2');
  }

  xconnectGraph(): Promise<PvResponse> {
    return this.get('/xconnect-graph');
  }

  listDaemons(): Promise<PvResponse> {
    return this.get('/daemons');
  }

  daemonAction(name: string, action: DaemonAction): Promise<PvResponse> {
    return this.sendJson('PUT', `/daemons/${encodeSegment(name)}`, { action });
  }

  storageGc(): Promise<PvResponse> {
    return this.rawRequest('POST', '/storage/gc');
  }

  wakelocks(): Promise<PvResponse> {
    return this.get('/wakelocks');
  }
}

/** Validates a `GET /objects` body; undefined when it is not the expected array. */
export function parseObjectList(body: Uint8Array | string): ObjectEntry[] | undefined {
  const value = jsonBody(body);
  if (!Array.isArray(value)) return undefined;
  const out: ObjectEntry[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null || typeof (item as Record<string, unknown>).sha256 !== 'string') return undefined;
    const record = item as Record<string, unknown>;
    out.push({ sha256: record.sha256 as string, size: String(record.size ?? '') });
  }
  return out;
}

/** Validates a `GET /steps` body; undefined when it is not the expected array. */
export function parseStepList(body: Uint8Array | string): StepEntry[] | undefined {
  const value = jsonBody(body);
  if (!Array.isArray(value)) return undefined;
  const out: StepEntry[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null || typeof (item as Record<string, unknown>).name !== 'string') return undefined;
    const record = item as Record<string, unknown>;
    out.push({
      name: record.name as string,
      date: typeof record.date === 'string' ? record.date : '',
      commitmsg: typeof record.commitmsg === 'string' ? record.commitmsg : '',
      progress: record.progress,
    });
  }
  return out;
}
