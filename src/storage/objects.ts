/**
 * The content-addressed object store (spec §7.5): `objects/<sha256>`. Uploads stream into a
 * temp file while hashing and are published (fsync → rename → fsync(dir)) only when the digest
 * matches the name, so a listed object always hashes to its name.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PvError, badRequest, errnoCode, insufficientStorage, unprocessable } from '../errors.ts';
import { publishDurable, tempPathFor } from './durable.ts';
import { openIngest, sha256File } from './ingest.ts';

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
}

export type UploadOutcome = 'stored' | 'already-present';

const PROGRESS_STEP = 1024 * 1024;
/** How often (in bytes) an upload re-reads the free space; between reads it counts down locally. */
const SPACE_RECHECK_BYTES = 8 * 1024 * 1024;

export function isObjectName(name: string): boolean {
  return /^[0-9a-f]{64}$/.test(name);
}

export class ObjectStore {
  /** Temp files of uploads under way: GC must never take them. */
  private readonly inFlight = new Set<string>();
  /** Last time an upload made progress; the automatic threshold GC holds off after it (spec §11.3). */
  lastUploadActivity = 0;

  constructor(
    readonly directory: string,
    private readonly realFree: () => number,
  ) {}

  pathOf(sha: string): string {
    if (!isObjectName(sha)) throw badRequest(BAD_OBJECT_NAME);
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
      if (!isObjectName(name)) continue;
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
      publishDurable(temp, target);
      return 'stored';
    } catch (error) {
      await ingest.abort();
      if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') throw insufficientStorage();
      throw error;
    } finally {
      this.inFlight.delete(temp);
    }
  }
}
