/**
 * Revisions on disk ("steps", spec §5.2, §5.5, §7.6): listing, state JSON, progress, commit
 * messages, and installing a local revision so that it appears whole or not at all.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PvError, conflict, errnoCode, insufficientStorage, notFound, unprocessable } from '../errors.ts';
import { TEMP_PREFIX, ensureDirectoryDurable, fsyncDirectory, tempPathFor, writeFileDurable } from './durable.ts';
import { openIngest } from './ingest.ts';
import { readCurrentRevision, type StorageLayout } from './layout.ts';
import { isAddressableRevision, isLocalRevision } from './revisions.ts';
import type { StateVerdict } from '../state/index.ts';
import { faultPoint, type SwapStep } from './fault-points.ts';
import { dropParked, dropParkedCopies, swapRevisionDirectory } from './swap.ts';
import { NO_EVENTS, type EventPublisher } from '../events/index.ts';

export interface Progress {
  status: string;
  'status-msg': string;
  progress: number;
  retries: number;
  [extra: string]: unknown;
}

export const PROGRESS_NOT_INSTALLED: Progress = { status: 'NEW', 'status-msg': 'Update not yet installed', progress: 0, retries: 0 };
export const PROGRESS_READY: Progress = { status: 'NEW', 'status-msg': 'Update ready to be run', progress: 0, retries: 0 };

const RESOURCE_MISSING = 'Resource does not exist';
/** Read limits of the reference's listing, raised for progress (the reference's 512 B hid real progress). */
const LISTING_COMMITMSG_LIMIT = 512;
const LISTING_PROGRESS_LIMIT = 4096;
export const COMMITMSG_LIMIT = 256;

export type { StateVerdict };

export interface InstallSource {
  pipe(consume: (chunk: Uint8Array) => void | Promise<void>): Promise<void>;
  declaredLength: number | undefined;
}

export class StepStore {
  constructor(
    private readonly layout: StorageLayout,
    private readonly hasRoom: (bytes: number) => boolean,
    private readonly events: EventPublisher = NO_EVENTS,
  ) {}

  directory(revision: string): string {
    return join(this.layout.trails, revision);
  }

  currentRevision(): string | undefined {
    return readCurrentRevision(this.layout);
  }

  exists(revision: string): boolean {
    return isAddressableRevision(revision) && existsSync(this.directory(revision));
  }

  /** Path of the revision's state JSON for streaming; 404 when it is not there. */
  statePath(revision: string): string {
    return this.existingFile(revision, join('.pvr', 'json'));
  }

  progressPath(revision: string): string {
    return this.existingFile(revision, join('.pv', 'progress'));
  }

  readState(revision: string): string {
    return readFileSync(this.statePath(revision), 'utf8');
  }

  private existingFile(revision: string, relative: string): string {
    if (!isAddressableRevision(revision)) throw notFound(RESOURCE_MISSING);
    const path = join(this.directory(revision), relative);
    try {
      if (statSync(path).isFile()) return path;
    } catch {
      // fall through: any stat failure means the resource is not there
    }
    throw notFound(RESOURCE_MISSING);
  }

  /** Every revision name: top level first, then `locals/*`, each sorted bytewise (the reference's order). */
  revisions(): string[] {
    const top = safeReaddir(this.layout.trails).filter(
      (entry) => entry !== 'current' && entry !== 'locals' && !entry.startsWith(TEMP_PREFIX) && !entry.startsWith('.'),
    );
    const locals = safeReaddir(this.layout.locals)
      .filter((entry) => !entry.startsWith(TEMP_PREFIX))
      .map((entry) => `locals/${entry}`);
    const bytewise = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
    return [...top.sort(bytewise), ...locals.sort(bytewise)];
  }

  /** The exact text of `GET /steps` (spacing inside elements as the reference prints it). */
  listingJson(): string {
    const items = this.revisions().map((revision) => {
      const directory = this.directory(revision);
      let date = '';
      try {
        date = formatLocalTimeWithZ(statSync(directory).mtime);
      } catch {
        // a revision removed while listing still gets listed with an empty date
      }
      const commitmsg = readSmall(join(directory, '.pv', 'commitmsg'), LISTING_COMMITMSG_LIMIT) ?? '';
      const progress = readSmall(join(directory, '.pv', 'progress'), LISTING_PROGRESS_LIMIT);
      return `{"name":${JSON.stringify(revision)}, "date":"${date}", "commitmsg":"${escapeLikeReference(commitmsg)}", "progress":${embeddableObject(progress)}}`;
    });
    return `[${items.join(',')}]`;
  }

  writeProgress(revision: string, progress: Progress): void {
    const directory = join(this.directory(revision), '.pv');
    ensureDirectoryDurable(directory);
    writeFileDurable(join(directory, 'progress'), JSON.stringify(progress), undefined, 'revision.file');
    this.publishProgress(revision, progress);
  }

  /** Every progress a revision gets on disk is published once it is there (GET /events `revision`). */
  private publishProgress(revision: string, progress: Progress): void {
    const { status, 'status-msg': statusMsg, progress: percent, retries, ...extra } = progress;
    const rest = Object.keys(extra).length > 0 ? JSON.stringify(extra) : '';
    this.events.publish({ revision: { revision, progress: { status, statusMsg, progress: percent, retries, extra: rest } } });
  }

  /** MAKE_FACTORY: revision `target` becomes a fresh copy of `source`'s state JSON. */
  copyStateInto(source: string, target: string): void {
    const text = this.readState(source);
    const directory = this.directory(target);
    const staging = tempPathFor(directory);
    mkdirSync(join(staging, '.pvr'), { recursive: true, mode: 0o775 });
    mkdirSync(join(staging, '.pv'), { recursive: true, mode: 0o755 });
    try {
      writeFileDurable(join(staging, '.pvr', 'json'), text, undefined, 'revision.file');
      sealStaging(staging);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    this.replaceDirectory(target, staging, directory, 'revision.factory');
  }

  /** Mark a revision committed (`.pv/done`), as the reference does for its rollback point. */
  markDone(revision: string): void {
    const directory = join(this.directory(revision), '.pv');
    ensureDirectoryDurable(directory);
    writeFileDurable(join(directory, 'done'), '', undefined, 'revision.file');
  }

  writeCommitMessage(revision: string, message: string): void {
    if (!this.exists(revision)) throw notFound(RESOURCE_MISSING);
    const directory = join(this.directory(revision), '.pv');
    ensureDirectoryDurable(directory);
    writeFileDurable(join(directory, 'commitmsg'), message, undefined, 'revision.file');
  }

  /**
   * Install `locals/<name>`: the body goes to a staging directory, is validated, and only then
   * replaces the revision in one rename. A rejected or interrupted upload leaves nothing behind.
   */
  async installLocal(
    revision: string,
    source: InstallSource,
    validate: (stateText: string) => StateVerdict,
    maxBytes: number,
  ): Promise<void> {
    if (!isLocalRevision(revision)) throw new PvError('bad-request', 'Request has bas step name');
    if (this.currentRevision() === revision) throw conflict('Cannot overwrite the running revision');
    if (source.declaredLength !== undefined && (source.declaredLength > maxBytes || !this.hasRoom(source.declaredLength))) {
      throw insufficientStorage();
    }
    const target = this.directory(revision);
    const staging = tempPathFor(target);
    mkdirSync(join(staging, '.pvr'), { recursive: true, mode: 0o775 });
    mkdirSync(join(staging, '.pv'), { recursive: true, mode: 0o755 });
    try {
      const ingest = openIngest(join(staging, '.pvr', 'json'));
      let received = 0;
      try {
        await source.pipe((chunk) => {
          received += chunk.byteLength;
          if (received > maxBytes || !this.hasRoom(chunk.byteLength)) throw insufficientStorage();
          return ingest.write(chunk);
        });
        await ingest.finish();
      } catch (error) {
        await ingest.abort();
        if (errnoCode(error) === 'ENOSPC') throw insufficientStorage();
        throw error;
      }
      const verdict = validate(readFileSync(join(staging, '.pvr', 'json'), 'utf8'));
      if (verdict !== undefined) throw unprocessable(verdict.message);
      sealStaging(staging);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    this.replaceDirectory(revision, staging, target, 'revision.install');
  }

  /** Swap a complete staging tree in; the old copy stays reachable until the new one is (swap.ts). */
  private replaceDirectory(revision: string, staging: string, target: string, step: SwapStep): void {
    const { parked } = swapRevisionDirectory(this.layout, revision, staging, target, step);
    if (parked !== undefined) dropParked(this.layout, parked);
    this.publishProgress(revision, PROGRESS_READY);
  }

  /**
   * Remove a revision and what belongs to it (trail, logs, per-revision disks). The trail is
   * first renamed to a temp name, which listings skip and start-up sweeps: a crash mid-delete
   * never leaves a listed revision without its state (issue 8, defect 3).
   */
  removeRevision(revision: string): void {
    if (!isAddressableRevision(revision) || revision === 'current') return;
    const directory = this.directory(revision);
    // A parked copy would otherwise be restored at start-up, bringing the revision back.
    dropParkedCopies(this.layout, revision);
    let doomed: string | undefined;
    if (existsSync(directory)) {
      doomed = tempPathFor(directory);
      renameSync(directory, doomed);
      fsyncDirectory(join(directory, '..'));
      faultPoint('gc.revision:moved');
    }
    for (const path of [join(this.layout.logs, revision), join(this.layout.disksRev, revision)]) {
      rmSync(path, { recursive: true, force: true });
    }
    if (doomed !== undefined) rmSync(doomed, { recursive: true, force: true });
  }
}

/** A staging revision is complete: "ready to run" progress, and every entry durable before it is swapped in. */
function sealStaging(staging: string): void {
  writeFileDurable(join(staging, '.pv', 'progress'), JSON.stringify(PROGRESS_READY), undefined, 'revision.file');
  fsyncDirectory(join(staging, '.pvr'));
  fsyncDirectory(join(staging, '.pv'));
  fsyncDirectory(staging);
}

function safeReaddir(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

function readSmall(path: string, limit: number): string | undefined {
  try {
    const bytes = readFileSync(path);
    return bytes.length <= limit ? bytes.toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** Embed a progress file only if it is a JSON object; anything else becomes `{}` so the listing stays valid JSON. */
function embeddableObject(text: string | undefined): string {
  if (text === undefined || text.trim() === '') return '{}';
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? text.trim() : '{}';
  } catch {
    return '{}';
  }
}

/** The reference escapes `"`, `\` and control characters as \u00XX and leaves the rest as is. */
export function escapeLikeReference(text: string): string {
  return text.replace(/["\\\u0000-\u001f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The reference formats local time and appends a literal Z (quirk kept: clients parse this text). */
function formatLocalTimeWithZ(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}Z`;
}
