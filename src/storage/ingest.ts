/**
 * Streaming object ingest: hash and append an upload to a temp file as it
 * arrives, so `PUT /objects/{sha}` never re-reads the object to validate it.
 *
 * Two implementations with one contract: a JS one (Bun.CryptoHasher on the
 * loop thread + async fs writes) and a native one (hash + write on the thread
 * pool, see native/src/sha256_ingest.cpp). `openIngest` picks the one that
 * measured better on the development VM; docs/native-ingest.md has the numbers.
 */
import { close, closeSync, constants, fsync, openSync, read, unlink, write } from 'node:fs';
import { createFdIngest, createNativeIngest, nativeSha256File, type FdIngestOptions, type NativeIngestHandle } from '../native/index.ts';

export interface IngestResult {
  /** lower-case hex */
  sha256: string;
  size: number;
}

export interface ObjectIngest {
  /** Append bytes (in call order). Resolves when the ingest can take more; may resolve before bytes reach disk. Rejects (or the next call rejects) on write errors, with the Node-style errno code in `.code` (e.g. 'ENOSPC'). */
  write(chunk: Uint8Array): Promise<void>;
  /** Flush, fsync the file, close; returns digest and byte count. */
  finish(): Promise<IngestResult>;
  /** Close and unlink the temp file; safe to call at any time, idempotent. */
  abort(): Promise<void>;
}

export type IngestImplementation = 'native' | 'js';

/**
 * Which implementation `openIngest` and `sha256File` use. From bench/ingest.ts
 * on the development VM (docs/native-ingest.md): native ingest is at least as
 * fast end to end and takes half the loop-thread CPU (hashing moves off the
 * loop); native sha256File is ~1.4x the JS one.
 */
export const INGEST_IMPLEMENTATION: IngestImplementation = 'native';

/** O_CREAT|O_EXCL temp file, mode 0644 (before umask); throws EEXIST if the path exists. */
export function openIngest(tempPath: string): ObjectIngest {
  return INGEST_IMPLEMENTATION === 'native' ? openNativeIngest(tempPath) : openJsIngest(tempPath);
}

/** SHA-256 (lower-case hex) of an existing file, without blocking the loop for its whole length. */
export function sha256File(path: string): Promise<string> {
  return INGEST_IMPLEMENTATION === 'native' ? nativeSha256File(path) : sha256FileJs(path);
}

const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
const OBJECT_MODE = 0o644;
const RESOLVED: Promise<void> = Promise.resolve();

function closedError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_INGEST_CLOSED' });
}

function abortedError(): Error {
  return Object.assign(new Error('ingest: aborted'), { code: 'ECANCELED' });
}

function writeFully(fd: number, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number): void => {
      if (offset >= data.length) {
        resolve();
        return;
      }
      write(fd, data, offset, data.length - offset, null, (error, written) => {
        if (error) reject(error);
        else if (written === 0) reject(Object.assign(new Error('ingest: write returned 0'), { code: 'EIO' }));
        else step(offset + written);
      });
    };
    step(0);
  });
}

const fsyncAsync = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
const closeAsync = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
const unlinkIfPresent = (path: string): Promise<void> =>
  new Promise((resolve, reject) =>
    unlink(path, (error) => (!error || error.code === 'ENOENT' ? resolve() : reject(error))),
  );

/**
 * Coalesces chunks into two fixed buffers so the thread pool sees one write
 * per `batchBytes` instead of one per 64 KiB HTTP chunk. At most one write is
 * in flight (that keeps file order) while the caller fills the other buffer.
 * Hashing happens in write() itself, on the loop thread, in call order.
 */
class JsIngest implements ObjectIngest {
  private fd: number;
  private readonly hasher = new Bun.CryptoHasher('sha256');
  private size = 0;
  private readonly buffers: [Buffer, Buffer];
  private current: 0 | 1 = 0;
  private fillLength = 0;
  /** Chain of file writes; never rejects, failures land in `failure`. */
  private inflight: Promise<void> = RESOLVED;
  /** Set while a copy waits for a free buffer, so writes that were not awaited still queue in order. */
  private blocked: Promise<void> | undefined;
  private failure: unknown;
  private state: 'open' | 'finishing' | 'finished' | 'aborted' = 'open';
  private aborting: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    batchBytes: number,
  ) {
    this.fd = openSync(path, OPEN_FLAGS, OBJECT_MODE);
    this.buffers = [Buffer.allocUnsafe(batchBytes), Buffer.allocUnsafe(batchBytes)];
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.state === 'aborted') return Promise.reject(abortedError());
    if (this.state !== 'open') return Promise.reject(closedError('ingest.write: ingest is already finished'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.hasher.update(chunk);
    this.size += chunk.length;
    if (this.blocked !== undefined) return this.block(this.blocked.then(() => this.copyIn(chunk, 0)));
    return this.copyIn(chunk, 0);
  }

  private block(wait: Promise<void>): Promise<void> {
    this.blocked = wait;
    const clear = (): void => {
      if (this.blocked === wait) this.blocked = undefined;
    };
    wait.then(clear, clear);
    return wait;
  }

  private copyIn(chunk: Uint8Array, start: number): Promise<void> {
    if (this.state === 'aborted') return Promise.reject(abortedError());
    let offset = start;
    while (offset < chunk.length) {
      const fill = this.buffers[this.current];
      const take = Math.min(fill.length - this.fillLength, chunk.length - offset);
      fill.set(chunk.subarray(offset, offset + take), this.fillLength);
      this.fillLength += take;
      offset += take;
      if (this.fillLength === fill.length) {
        const free = this.flush();
        const rest = offset;
        return this.block(rest < chunk.length ? free.then(() => this.copyIn(chunk, rest)) : free);
      }
    }
    return RESOLVED;
  }

  /**
   * Queues the current buffer for writing and switches to the other one. The
   * other one was the data of the previous write, so the returned promise
   * resolves when that write is done and the new buffer may be filled.
   */
  private flush(): Promise<void> {
    const data = this.buffers[this.current].subarray(0, this.fillLength);
    const previous = this.inflight;
    this.inflight = previous
      .then(() => (this.failure === undefined && this.state !== 'aborted' ? writeFully(this.fd, data) : undefined))
      .catch((error: unknown) => {
        this.failure ??= error;
      });
    this.current = this.current === 0 ? 1 : 0;
    this.fillLength = 0;
    return previous.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  async finish(): Promise<IngestResult> {
    if (this.state === 'aborted') throw abortedError();
    if (this.state !== 'open') throw closedError('ingest.finish: called twice');
    this.state = 'finishing';
    await this.blocked?.catch(() => undefined);
    if (this.fillLength > 0 && this.failure === undefined) void this.flush().catch(() => undefined);
    await this.inflight;
    if (this.state !== 'finishing') throw abortedError();
    if (this.failure !== undefined) throw this.failure;
    // Take the fd before awaiting, so a concurrent abort() only unlinks: two
    // closes of one fd number could close a descriptor reused elsewhere.
    const fd = this.fd;
    this.fd = -1;
    try {
      await fsyncAsync(fd);
    } finally {
      await closeAsync(fd);
    }
    if (this.state !== 'finishing') throw abortedError();
    this.state = 'finished';
    return { sha256: this.hasher.digest('hex'), size: this.size };
  }

  abort(): Promise<void> {
    this.aborting ??= this.discard();
    return this.aborting;
  }

  private async discard(): Promise<void> {
    this.state = 'aborted';
    await this.inflight;
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      await closeAsync(fd).catch(() => undefined);
    }
    await unlinkIfPresent(this.path);
  }
}

/**
 * Bun.CryptoHasher + node:fs implementation. Batches of 64 KiB to 4 MiB ran
 * alike on the development VM; 256 KiB matches the native path's batch.
 */
export function openJsIngest(tempPath: string, batchBytes = 256 << 10): ObjectIngest {
  return new JsIngest(tempPath, batchBytes);
}

/** Thread-pool implementation from the native addon. */
export function openNativeIngest(tempPath: string): ObjectIngest {
  return adaptNative(createNativeIngest(tempPath));
}

function adaptNative(handle: NativeIngestHandle): ObjectIngest {
  return {
    write(chunk: Uint8Array): Promise<void> {
      try {
        return handle.write(chunk) ?? RESOLVED;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    finish: () => handle.finish(),
    abort: () => handle.abort(),
  };
}

/**
 * Ingest of a request body read straight from the connection fd by native threads (the upload
 * fast path, docs/native-ingest.md). Same temp-file contract as ObjectIngest: O_EXCL, 0644,
 * fsync'ed and closed when `run` resolves, removed by `abort`.
 */
export interface SocketIngest {
  /** `prefix` (body bytes already read by Bun), then exactly `length` bytes from `fd`. */
  run(fd: number, prefix: Uint8Array, length: number): Promise<IngestResult>;
  /** Stop reading and unlink the temp file; safe at any time, idempotent. */
  abort(): Promise<void>;
  /** Bytes taken in so far. */
  readonly received: number;
}

export function openSocketIngest(tempPath: string, options: FdIngestOptions = {}): SocketIngest {
  return createFdIngest(tempPath, options);
}

/** Loop-thread hashing of a file read in 1 MiB async slices. */
export async function sha256FileJs(path: string): Promise<string> {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const hasher = new Bun.CryptoHasher('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = await new Promise<number>((resolve, reject) =>
        read(fd, buffer, 0, buffer.length, null, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
      );
      if (n === 0) break;
      hasher.update(buffer.subarray(0, n));
    }
    return hasher.digest('hex');
  } finally {
    closeSync(fd);
  }
}
