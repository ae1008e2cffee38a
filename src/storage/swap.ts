/**
 * Replacing a revision directory that already exists (install over a revision, MAKE_FACTORY,
 * deploy). rename(2) cannot replace a non-empty directory, so it takes two renames: the old
 * directory is parked in `<storage>/.pvctrl-deploy-aside/`, then the new one renamed in.
 *
 * The parked copy is never under a temp name: start-up sweeps temp names, and a crash between
 * the two renames would then delete the only good copy (issue 8, defect 2). Instead start-up
 * (`recoverParkedRevisions`) puts a parked directory back when its revision is missing and
 * removes it when the revision is there, so after any crash the name holds the old or the new.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errors.ts';
import { ensureDirectoryDurable, fsyncDirectory } from './durable.ts';
import { faultPoint, type SwapStep } from './fault-points.ts';
import type { StorageLayout } from './layout.ts';
import { isLocalRevision, isRemoteRevision } from './revisions.ts';

/** Where a replaced revision directory waits between the two renames of a swap. */
export const ASIDE_DIR = '.pvctrl-deploy-aside';
/** Separates the revision from the unique suffix in a parked name (never part of a revision name). */
const PARKED_SUFFIX = '~';

export function asideDirectory(layout: StorageLayout): string {
  return join(layout.root, ASIDE_DIR);
}

/** The revision a parked entry belongs to, or undefined for a name no swap made. */
export function parkedRevision(name: string): string | undefined {
  const cut = name.lastIndexOf(PARKED_SUFFIX);
  try {
    const revision = decodeURIComponent(cut === -1 ? name : name.slice(0, cut));
    return isRemoteRevision(revision) || isLocalRevision(revision) ? revision : undefined;
  } catch {
    return undefined;
  }
}

export interface SwapResult {
  /** The replaced directory, still parked: the caller carries what it needs over, then removes it. */
  parked: string | undefined;
}

/**
 * Put the fully written and fsync'ed `staging` tree at `target` (the directory of `revision`).
 * Synchronous on purpose: no other code of this process runs between the renames, so no
 * request ever sees the name empty. The caller removes `parked` (a crash before that is
 * cleaned up by `recoverParkedRevisions`).
 */
export function swapRevisionDirectory(layout: StorageLayout, revision: string, staging: string, target: string, step: SwapStep): SwapResult {
  faultPoint(`${step}:staged`);
  const parent = dirname(target);
  if (!existsSync(target)) {
    try {
      renameSync(staging, target);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    faultPoint(`${step}:renamed`);
    fsyncDirectory(parent);
    return { parked: undefined };
  }
  const aside = asideDirectory(layout);
  ensureDirectoryDurable(aside);
  const parked = join(aside, `${encodeURIComponent(revision)}${PARKED_SUFFIX}${randomBytes(4).toString('hex')}`);
  try {
    renameSync(target, parked);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  // The parked entry is durable before the name is reused, so no power cut finds neither.
  fsyncDirectory(aside);
  faultPoint(`${step}:parked`);
  try {
    renameSync(staging, target);
  } catch (error) {
    renameSync(parked, target);
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  faultPoint(`${step}:renamed`);
  fsyncDirectory(parent);
  return { parked };
}

/** Remove a parked directory once the new one is durable in place, and make that durable. */
export function dropParked(layout: StorageLayout, parked: string): void {
  rmSync(parked, { recursive: true, force: true });
  fsyncDirectory(asideDirectory(layout));
}

/** Remove every parked copy of `revision` (GC: a removed revision must not come back). */
export function dropParkedCopies(layout: StorageLayout, revision: string): void {
  let removed = false;
  for (const name of safeReaddir(asideDirectory(layout))) {
    if (parkedRevision(name) !== revision) continue;
    rmSync(join(asideDirectory(layout), name), { recursive: true, force: true });
    removed = true;
  }
  if (removed) fsyncDirectory(asideDirectory(layout));
}

/**
 * Finish or undo swaps a crash interrupted: a parked directory whose revision is missing is
 * put back (the swap never completed), one whose revision exists is the leftover of a
 * completed swap and is removed. Call at start-up before anything reads `trails/`.
 */
export function recoverParkedRevisions(layout: StorageLayout, onlyRevision?: string): { restored: string[]; removed: string[] } {
  const aside = asideDirectory(layout);
  const outcome = { restored: [] as string[], removed: [] as string[] };
  for (const name of safeReaddir(aside).sort()) {
    const revision = parkedRevision(name);
    if (onlyRevision !== undefined && revision !== onlyRevision) continue;
    const parked = join(aside, name);
    if (revision === undefined) {
      rmSync(parked, { recursive: true, force: true });
      continue;
    }
    const target = join(layout.trails, revision);
    if (existsSync(target)) {
      rmSync(parked, { recursive: true, force: true });
      outcome.removed.push(revision);
    } else {
      ensureDirectoryDurable(dirname(target));
      renameSync(parked, target);
      fsyncDirectory(dirname(target));
      outcome.restored.push(revision);
    }
  }
  if (outcome.restored.length > 0 || outcome.removed.length > 0) fsyncDirectory(aside);
  return outcome;
}

function safeReaddir(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}
