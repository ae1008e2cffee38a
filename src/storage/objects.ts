/**
 * The content-addressed object store (spec §7.5): `objects/<sha256>`. Uploads stream into a
 * temp file while hashing and are published (fsync → rename → fsync(dir)) only when the digest
 * matches the name, so a listed object always hashes to its name.
 */
import { readdirSync, rmSync, statSync, statfsSync } from 'node:fs';
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

/** An upload body delivered chunk by chunk; the next chunk comes once `consume` settles. */
export interface ChunkSource {
  declaredLength: number | undefined;
  pipe(consume: (chunk: Uint8Array) => void | Promise<void>): Promise<void>;
}

/** The rest of an upload body, read natively from a connection fd (docs/native-ingest.md). */
export interface FdSource {
  /** Connection fd; its owner keeps it (the native reader works on a dup). */
  readonly fd: number;
  /** Body bytes already read from the connection, in order; they precede everything on the fd. */
  readonly prefix: Buffer;
  /** Body bytes still to read from the fd. */
  readonly remaining: number;
  /** Run `listener` once if the connection closes; returns the unsubscribe function. */
  onClose(listener: () => void): () => void;
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

  /** Whether `sha` is stored and hashes to its name: an upload of it then only drains its body. */
  async holds(sha: string): Promise<boolean> {
    return this.sizeOf(sha) !== undefined && (await sha256File(this.pathOf(sha))) === sha;
  }

  /** 507 before reading a body that cannot fit (spec §11.1). */
  admit(declaredLength: number | undefined): void {
    if (declaredLength !== undefined && declaredLength > this.realFree()) throw insufficientStorage();
  }

  /** Whether an upload of this declared size should be read natively from its connection now. */
  prefersFdIngest(declaredLength: number | undefined): boolean {
    return uploadFastPathEnabled() && (declaredLength ?? 0) >= FAST_PATH_MIN_BYTES && this.directUploads < FAST_PATH_MAX_CONCURRENT;
  }

  /**
   * Stream a body into `objects/<sha>` through the JS hasher, counting the free space down.
   * @param onProgress called with the bytes received so far, about once per MiB
   */
  ingestChunks(sha: string, source: ChunkSource, onProgress: (received: number) => void = () => {}): Promise<void> {
    return this.publishVerified(sha, 'object.js', async (temp) => {
      const ingest = openIngest(temp);
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
        return await ingest.finish();
      } catch (error) {
        await ingest.abort();
        throw error;
      }
    });
  }

  /**
   * The fast path: the same checks and durability as `ingestChunks`, with the body read and
   * hashed natively. `vouch` runs after the read and before publishing: it throws when the
   * connection's byte ledger shows the body cannot be trusted.
   */
  async ingestFromFd(sha: string, body: FdSource, vouch: () => void, onProgress: (received: number) => void = () => {}): Promise<void> {
    this.directUploads++;
    try {
      await this.publishVerified(sha, 'object.native', async (temp) => {
        const budget = this.realFree();
        // realFree() is statfs free minus the configured reserve; the native writer re-measures
        // statfs itself every 8 MiB, so it needs the reserve, not the free figure of this instant.
        const stats = statfsSync(this.directory);
        const reserve = Math.max(0, Number(stats.bfree) * Number(stats.bsize) - budget);
        const ingest = openSocketIngest(temp, { spaceBudget: budget, spaceReserve: reserve, idleTimeoutMs: fastPathIdleTimeoutMs() });
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
          vouch();
          return result;
        } catch (error) {
          await ingest.abort().catch(() => undefined);
          throw error;
        } finally {
          clearInterval(progress);
          unsubscribe();
        }
      });
    } finally {
      this.directUploads--;
    }
  }

  /**
   * What both paths share: a temp file GC leaves alone while `write` fills it, the digest
   * checked against the name, then the durable publish; out of space is a 507.
   */
  private async publishVerified(sha: string, step: 'object.js' | 'object.native', write: (temp: string) => Promise<{ sha256: string }>): Promise<void> {
    const target = this.pathOf(sha);
    const temp = tempPathFor(target);
    this.inFlight.add(temp);
    try {
      const result = await write(temp);
      if (result.sha256 !== sha) {
        rmSync(temp, { force: true });
        throw unprocessable(BAD_CHECKSUM);
      }
      publishDurable(temp, target, step);
    } catch (error) {
      if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') throw insufficientStorage();
      throw error;
    } finally {
      this.inFlight.delete(temp);
    }
  }
}
