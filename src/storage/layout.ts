/**
 * The storage tree (spec §5.2) and the run dir (§5.3): where everything lives, and creating
 * it on first start with the factory revision.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_PREFIX, ensureDirectoryDurable, fsyncDirectory, writeFileDurable } from './durable.ts';
import { faultPoint } from './fault-points.ts';

export interface StorageLayout {
  readonly root: string;
  readonly trails: string;
  readonly locals: string;
  readonly objects: string;
  readonly logs: string;
  readonly disksRev: string;
  readonly disksPerm: string;
  readonly userMeta: string;
  readonly deviceMeta: string;
  readonly boot: string;
  readonly config: string;
  readonly runDir: string;
  readonly socket: string;
}

export function storageLayout(options: {
  storage: string;
  runDir: string;
  userMetaDir?: string;
  deviceMetaDir?: string;
  logDir?: string;
}): StorageLayout {
  const root = options.storage;
  const trails = join(root, 'trails');
  return {
    root,
    trails,
    locals: join(trails, 'locals'),
    objects: join(root, 'objects'),
    logs: options.logDir ?? join(root, 'logs'),
    disksRev: join(root, 'disks', 'rev'),
    disksPerm: join(root, 'disks', 'perm'),
    userMeta: options.userMetaDir ?? join(root, 'cache', 'meta'),
    deviceMeta: options.deviceMetaDir ?? join(root, 'cache', 'devmeta'),
    boot: join(root, 'boot'),
    config: join(root, 'config'),
    runDir: options.runDir,
    socket: join(options.runDir, 'pv-ctrl'),
  };
}

export const FACTORY_REVISION = '0';
export const FACTORY_STATE = '{"#spec":"pantavisor-service-system@1"}';
export const FACTORY_PROGRESS = '{"status":"DONE","status-msg":"Factory revision","progress":100,"retries":0}';

export interface InitReport {
  created: boolean;
  sweptTempFiles: number;
}

/**
 * Create whatever is missing. A fresh storage gets revision 0 (the empty appengine state),
 * marked DONE, and `trails/current` pointing at it. Temp files left by a crash are removed:
 * nothing half-written survives a restart.
 */
export function initStorage(layout: StorageLayout): InitReport {
  for (const directory of [
    layout.root,
    layout.trails,
    layout.locals,
    layout.objects,
    layout.logs,
    layout.disksRev,
    layout.disksPerm,
    layout.userMeta,
    layout.deviceMeta,
    layout.boot,
    layout.config,
  ]) {
    ensureDirectoryDurable(directory);
  }
  mkdirSync(layout.runDir, { recursive: true, mode: 0o755 });
  const created = !existsSync(join(layout.root, '.pvmounted'));
  if (created) writeFileDurable(join(layout.root, '.pvmounted'), '', undefined, 'init.file');

  const factory = join(layout.trails, FACTORY_REVISION);
  if (!existsSync(join(factory, '.pvr', 'json')) && readCurrentRevision(layout) === undefined) {
    ensureDirectoryDurable(join(factory, '.pvr'));
    ensureDirectoryDurable(join(factory, '.pv'));
    writeFileDurable(join(factory, '.pvr', 'json'), FACTORY_STATE, undefined, 'init.file');
    writeFileDurable(join(factory, '.pv', 'progress'), FACTORY_PROGRESS, undefined, 'init.file');
    writeFileDurable(join(factory, '.pv', 'done'), '', undefined, 'init.file');
    setCurrentRevision(layout, FACTORY_REVISION);
  }
  const sweptTempFiles = sweepTempFiles([
    layout.objects,
    layout.trails,
    layout.locals,
    layout.userMeta,
    layout.deviceMeta,
    layout.root,
    layout.boot,
    layout.config,
    // Per-revision files (progress, done, commit message) are written in place by temp + rename.
    ...revisionDirectories(layout).flatMap((directory) => [directory, join(directory, '.pv'), join(directory, '.pvr')]),
  ]);
  return { created, sweptTempFiles };
}

function sweepTempFiles(directories: string[]): number {
  let swept = 0;
  for (const directory of directories) {
    let sweptHere = 0;
    for (const entry of safeReaddir(directory)) {
      if (!entry.startsWith(TEMP_PREFIX)) continue;
      rmSync(join(directory, entry), { recursive: true, force: true });
      sweptHere++;
    }
    if (sweptHere > 0) fsyncDirectory(directory);
    swept += sweptHere;
  }
  return swept;
}

/** Every revision directory, top level and `locals/*` (temp and dot entries left out). */
function revisionDirectories(layout: StorageLayout): string[] {
  const named = (directory: string): string[] =>
    safeReaddir(directory)
      .filter((entry) => !entry.startsWith('.') && entry !== 'current' && entry !== 'locals')
      .map((entry) => join(directory, entry));
  return [...named(layout.trails), ...named(layout.locals)];
}

function safeReaddir(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

/** The running revision, read from the `trails/current` symlink. */
export function readCurrentRevision(layout: StorageLayout): string | undefined {
  const link = join(layout.trails, 'current');
  try {
    if (!lstatSync(link).isSymbolicLink()) return undefined;
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

/** Point `trails/current` at `revision` atomically (relative link, like the reference). */
export function setCurrentRevision(layout: StorageLayout, revision: string): void {
  const link = join(layout.trails, 'current');
  const temp = join(layout.trails, `${TEMP_PREFIX}current.${process.pid}`);
  rmSync(temp, { force: true });
  symlinkSync(revision, temp);
  faultPoint('current.link:staged');
  renameSync(temp, link);
  faultPoint('current.link:renamed');
  fsyncDirectory(layout.trails);
}
