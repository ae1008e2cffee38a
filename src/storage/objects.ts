/**
 * The content-addressed object store (spec §7.5): `objects/<sha256>`. Uploads stream into a
 * temp file while hashing and are published (fsync → rename → fsync(dir)) only when the digest
 * matches the name, so a listed object always hashes to its name.
 */
import { readdirSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { PvError, badRequest, errnoCode, insufficientStorage, unprocessable } from '../errors.ts';
import { isSha256Name } from '../state/json.ts';
import { publishDurable, tempPathFor } from './durable.ts';
import { openIngest, openSocketIngest, sha256File } from './ingest.ts';

export const BAD_OBJECT_NAME = 'Request has bad object name';
export const BAD_CHECKSUM = 'Object has bad checksum';

export interface ObjectEntry {
  sha256: string;
  size: number;
}

export interface UploadSource {
  declaredLength: number | undefined;
  pipe(consume: (chunk: Uint8Array) => void | Promise<void>): Promise<void>;
  drain(): Promise<void>;
  /**
   * Hand the unread rest of the body over for a native read from the connection; undefined
   * when this body cannot be (then nothing changed and `pipe` still works).
   */
  takeOver?(): Promise<DirectBody | undefined>;
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

/** Content-Length from which uploads take the fast path; smaller bodies gain nothing from it. */
export const FAST_PATH_MIN_BYTES = 1024 * 1024;
/** `PVCTRL_UPLOAD_FASTPATH=0` keeps every upload on the JS path (benchmarks, diagnosis). */
export const FAST_PATH_ENV = 'PVCTRL_UPLOAD_FASTPATH';
/**
 * A client that sends no body byte for this long loses its upload: the native reader holds two
 * threads and a temp file, which a stalled client must not pin forever. Overridable through
 * `PVCTRL_UPLOAD_IDLE_TIMEOUT_MS` (tests).
 */
const FAST_PATH_IDLE_TIMEOUT_MS = 60_000;
export const FAST_PATH_IDLE_ENV = 'PVCTRL_UPLOAD_IDLE_TIMEOUT_MS';
/** How often a native upload reports progress to the JS side (GC hold-off, debug log). */
const FAST_PATH_PROGRESS_MS = 100;
/**
 * Each fast-path upload runs two threads of its own; beyond this many at once, further uploads
 * take the JS path instead of piling up threads (two already saturate the development VM).
 */
export const FAST_PATH_MAX_CONCURRENT = 8;

export function uploadFastPathEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[FAST_PATH_ENV] !== '0';
}

function fastPathIdleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env[FAST_PATH_IDLE_ENV]);
  return Number.isInteger(value) && value > 0 && value <= 2 ** 31 - 1 ? value : FAST_PATH_IDLE_TIMEOUT_MS;
}

export type UploadOutcome = 'stored' | 'already-present';

const PROGRESS_STEP = 1024 * 1024;
/** How often (in bytes) an upload re-reads the free space; between reads it counts down locally. */
const SPACE_RECHECK_BYTES = 8 * 1024 * 1024;

export class ObjectStore {
  /** Temp files of uploads under way: GC must never take them. */
  private readonly inFlight = new Set<string>();
  /** Last time an upload made progress; the automatic threshold GC holds off after it (spec §11.3). */
  lastUploadActivity = 0;
  private directUploads = 0;

  constructor(
    readonly directory: string,
    private readonly realFree: () => number,
  ) {}

  pathOf(sha: string): string {
    if (!isSha256Name(sha)) throw badRequest(BAD_OBJECT_NAME);
    return join(this.directory, sha);
  }

  /** Size of a stored object, or undefined when absent. */
  sizeOf(sha: string): number | undefined {
    try {
      const stats = statSync(this.pathOf(sha));
      return stats.isFile() ? stats.size : undefined;
    } catch (error) {
      if (error instanceof PvError) throw error;
      return undefined;
    }
  }

  list(): ObjectEntry[] {
    const entries: ObjectEntry[] = [];
    for (const name of readdirSync(this.directory).sort()) {
      if (!isSha256Name(name)) continue;
      try {
        const stats = statSync(join(this.directory, name));
        if (stats.isFile()) entries.push({ sha256: name, size: stats.size });
      } catch {
        // removed by GC while listing
      }
    }
    return entries;
  }

  /** `GET /objects` text: sizes as strings, as the reference prints them. */
  listingJson(): string {
    return JSON.stringify(this.list().map((entry) => ({ sha256: entry.sha256, size: String(entry.size) })));
  }

  isInFlight(fileName: string): boolean {
    return this.inFlight.has(join(this.directory, fileName));
  }

  /** @param onProgress called with the bytes received so far, about once per MiB */
  async upload(sha: string, source: UploadSource, onProgress: (received: number) => void = () => {}): Promise<UploadOutcome> {
    const target = this.pathOf(sha);
    if (this.sizeOf(sha) !== undefined && (await sha256File(target)) === sha) {
      await source.drain();
      return 'already-present';
    }
    if (source.declaredLength !== undefined && source.declaredLength > this.realFree()) throw insufficientStorage();

    const temp = tempPathFor(target);
    if (
      source.takeOver !== undefined &&
      uploadFastPathEnabled() &&
      (source.declaredLength ?? 0) >= FAST_PATH_MIN_BYTES &&
      this.directUploads < FAST_PATH_MAX_CONCURRENT
    ) {
      const direct = await source.takeOver();
      if (direct !== undefined) return this.uploadDirect(sha, target, temp, direct, onProgress);
    }
    const ingest = openIngest(temp);
    this.inFlight.add(temp);
    let budget = this.realFree();
    let sinceCheck = 0;
    let received = 0;
    let reported = 0;
    try {
      await source.pipe((chunk) => {
        this.lastUploadActivity = Date.now();
        received += chunk.byteLength;
        if (received - reported >= PROGRESS_STEP) {
          reported = received;
          onProgress(received);
        }
        sinceCheck += chunk.byteLength;
        if (sinceCheck >= SPACE_RECHECK_BYTES) {
          budget = this.realFree();
          sinceCheck = 0;
        }
        budget -= chunk.byteLength;
        if (budget < 0) throw insufficientStorage();
        return ingest.write(chunk);
      });
      const result = await ingest.finish();
      if (result.sha256 !== sha) throw unprocessable(BAD_CHECKSUM);
      publishDurable(temp, target, 'object.js');
      return 'stored';
    } catch (error) {
      await ingest.abort();
      if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') throw insufficientStorage();
      throw error;
    } finally {
      this.inFlight.delete(temp);
    }
  }

  /** The fast path: same checks and durability as `upload`, with the body read natively. */
  private async uploadDirect(sha: string, target: string, temp: string, body: DirectBody, onProgress: (received: number) => void): Promise<UploadOutcome> {
    const budget = this.realFree();
    // realFree() is statfs free minus the configured reserve; the native writer re-measures
    // statfs itself every 8 MiB, so it needs the reserve, not the free figure of this instant.
    const stats = statfsSync(this.directory);
    const reserve = Math.max(0, Number(stats.bfree) * Number(stats.bsize) - budget);
    const ingest = openSocketIngest(temp, { spaceBudget: budget, spaceReserve: reserve, idleTimeoutMs: fastPathIdleTimeoutMs() });
    this.inFlight.add(temp);
    this.directUploads++;
    this.lastUploadActivity = Date.now();
    let seen = 0;
    let reported = 0;
    const progress = setInterval(() => {
      const received = ingest.received;
      if (received === seen) return;
      seen = received;
      this.lastUploadActivity = Date.now();
      if (received - reported >= PROGRESS_STEP) {
        reported = received;
        onProgress(received);
      }
    }, FAST_PATH_PROGRESS_MS);
    // Also covers the server destroying the connection (shutdown): the read stops at once.
    const unsubscribe = body.onClose(() => void ingest.abort().catch(() => undefined));
    try {
      const result = await ingest.run(body.fd, body.prefix, body.remaining);
      // Small uploads finish between two polls: report the total once, like the JS path's last step.
      if (result.size > reported) onProgress(result.size);
      body.assertUntouched();
      if (result.sha256 !== sha) throw unprocessable(BAD_CHECKSUM);
      publishDurable(temp, target, 'object.native');
      return 'stored';
    } catch (error) {
      await ingest.abort().catch(() => undefined);
      if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') throw insufficientStorage();
      throw body.clientGone(error) ?? error;
    } finally {
      clearInterval(progress);
      unsubscribe();
      this.directUploads--;
      this.inFlight.delete(temp);
    }
  }
}
