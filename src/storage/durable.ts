/**
 * Crash-safe file publication: every write that must survive a power cut goes
 * temp file (same directory) → write → fsync(file) → rename → fsync(directory).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync, constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { faultPoint, type FileStep } from './fault-points.ts';

/** Prefix of every temp file we create; start-up sweeps remove leftovers with it. */
export const TEMP_PREFIX = '.pvctrl-tmp-';

export function tempPathFor(target: string): string {
  return join(dirname(target), `${TEMP_PREFIX}${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}`);
}

export function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write `data` to `target` atomically and durably (mode 0644 unless told otherwise). Storage
 * writes name their `step` (fault-points.ts); only files outside the storage (run dir, container
 * status) leave it out.
 */
export function writeFileDurable(target: string, data: string | Uint8Array, mode = 0o644, step?: FileStep): void {
  const temp = tempPathFor(target);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  publishDurable(temp, target, step);
}

/**
 * Write `data` to `target` atomically for its readers (temp file in the same directory, then
 * rename), without fsync: for files that do not outlive a boot (the run dir is tmpfs on a
 * device), which a power cut loses anyway, so an fsync would only cost time.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): void {
  const temp = tempPathFor(target);
  try {
    writeFileSync(temp, data, { mode, flag: 'wx' });
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Rename an already fsync'ed temp file into place and make the rename itself durable. */
export function publishDurable(temp: string, target: string, step?: FileStep): void {
  if (step !== undefined) faultPoint(`${step}:staged`);
  try {
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  if (step !== undefined) faultPoint(`${step}:renamed`);
  fsyncDirectory(dirname(target));
}

/** mkdir -p, then fsync the parent of every directory created so the entries survive. */
export function ensureDirectoryDurable(directory: string, mode = 0o755): void {
  const created = mkdirSync(directory, { recursive: true, mode });
  if (created === undefined) return;
  let current = directory;
  while (current.length >= created.length) {
    fsyncDirectory(dirname(current));
    if (current === created) break;
    current = dirname(current);
  }
}

/** fsync a directory off the event loop (bulk work such as a deploy's staging tree). */
export async function fsyncDirectoryAsync(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Create `path` (it must not exist: staging trees only) with `text`, fsync'ed before it is closed. */
export async function writeNewFileSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether `path` names a regular file (following links); false for anything missing or unreadable. */
export async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
