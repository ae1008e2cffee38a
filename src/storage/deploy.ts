/**
 * Deploying a revision's trail (spec §5.2): turning `trails/<rev>/` into the tree a running
 * revision needs — `.pvr/json`, `.pvr/config`, a hard link to `objects/<sha>` for every
 * artifact, a copy for every `*.bind` artifact and a file for every inline JSON document.
 *
 * The tree is built in a staging directory next to the target and swapped in with renames, so
 * a revision is either in its previous shape or fully deployed; a crash mid-build leaves only
 * a temp directory that start-up sweeps away (durable.ts TEMP_PREFIX).
 *
 * Replacing an existing directory parks the old one first (swap.ts), so a crash between the
 * renames never loses the revision; `recoverInterruptedDeploys` puts it back.
 */
import { constants, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, unlinkSync, type Stats } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readFile, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errors.ts';
import { StateError, isSha256Name, readDocument, type Member } from '../state/json.ts';
import { TEMP_PREFIX, fsyncDirectory, fsyncDirectoryAsync, isRegularFile, tempPathFor, writeNewFileSynced } from './durable.ts';
import { sha256File } from './ingest.ts';
import type { StorageLayout } from './layout.ts';
import { isLocalRevision, isRemoteRevision } from './revisions.ts';
import { ASIDE_DIR, asideDirectory, recoverParkedRevisions, swapRevisionDirectory } from './swap.ts';
import { KeyedLock } from '../util/keyed-lock.ts';

/** Where a replaced revision directory waits between the two renames of a swap. */
export const DEPLOY_ASIDE_DIR = ASIDE_DIR;

/** Linux NAME_MAX, in bytes. */
const NAME_MAX = 255;
/** Link failures where copying still gives a correct trail (other fs, no hard links, link limit). */
const COPY_INSTEAD_OF_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

export interface ObjectRef {
  key: string;
  sha: string;
}

export interface CorruptObject extends ObjectRef {
  /** What the stored file actually hashes to. */
  actual: string;
}

export type DeployErrorCode =
  | 'bad-revision'
  | 'bad-state'
  | 'unsafe-key'
  | 'key-conflict'
  | 'bad-value'
  | 'missing-object'
  | 'corrupt-object';

/**
 * A deployment refused because of what was asked (bad name, state or objects), as opposed to
 * an I/O failure, which propagates as the fs error. Either way nothing was changed.
 */
export class DeployError extends Error {
  override readonly name = 'DeployError';

  constructor(
    readonly code: DeployErrorCode,
    message: string,
    /** The offending key, when one key is to blame. */
    readonly key?: string,
    /** Every object at fault for 'missing-object' / 'corrupt-object' (the first one is also in key/sha). */
    readonly objects: readonly ObjectRef[] = [],
  ) {
    super(message);
  }

  get sha(): string | undefined {
    return this.objects[0]?.sha;
  }
}

export interface DeployReport {
  revision: string;
  directory: string;
  /** Keys hard-linked to their object. */
  linked: string[];
  /** Keys copied from their object: `*.bind` files, and links the filesystem refused. */
  copied: string[];
  /** Keys written as inline JSON documents. */
  documents: string[];
  /** Whether an existing directory was replaced (its `.pv/` carried over). */
  replaced: boolean;
}

export interface DeployOptions {
  /** Hash every referenced object before deploying and refuse corrupt ones (costs a full read). */
  verifyDigests?: boolean;
}

export interface ObjectCheck {
  missing: ObjectRef[];
  corrupt: CorruptObject[];
}

type PlannedFile =
  | { kind: 'link'; key: string; sha: string }
  | { kind: 'copy'; key: string; sha: string }
  | { kind: 'document'; key: string; text: string };

/**
 * Why `key` cannot name a file inside a trail, or undefined when it can. Keys come from state
 * documents anyone with API access may upload, so this is the only thing standing between a
 * key and an arbitrary path on the device.
 */
export function trailKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'empty key';
  if (key.startsWith('/')) return 'absolute path';
  // Control characters are legal in Linux names but no artifact needs them, and a newline in
  // a path breaks every line-oriented tool that later looks at the trail.
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'control character in key';
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '') return 'empty path segment';
    if (segment === '.' || segment === '..') return `"${segment}" path segment`;
    if (Buffer.byteLength(segment) > NAME_MAX) return 'path segment too long';
  }
  // These hold the revision's own metadata; a key there would overwrite or shadow it.
  if (segments[0] === '.pvr' || segments[0] === '.pv') return `reserved directory ${segments[0]}`;
  return undefined;
}

/**
 * The state's top-level members in document order, each with its value's exact source text
 * (state/json.ts readDocument: duplicates refused, integer-like keys kept in place); a
 * refusal is a 'bad-state' DeployError.
 */
export function topLevelEntries(text: string): Member[] {
  try {
    return readDocument(text).members;
  } catch (error) {
    if (error instanceof StateError) throw new DeployError('bad-state', `state: ${error.message}`, error.key);
    throw error;
  }
}

/** Objects a state refers to (key → sha), `#spec` excluded. */
export function referencedObjects(stateText: string): ObjectRef[] {
  return planFiles(stateText).flatMap((file) => (file.kind === 'document' ? [] : [{ key: file.key, sha: file.sha }]));
}

function planFiles(stateText: string): PlannedFile[] {
  const files: PlannedFile[] = [];
  for (const { key, text } of topLevelEntries(stateText)) {
    if (key === '#spec') continue;
    const problem = trailKeyProblem(key);
    if (problem !== undefined) throw new DeployError('unsafe-key', `key ${JSON.stringify(key)} cannot be deployed: ${problem}`, key);
    const value: unknown = JSON.parse(text);
    if (typeof value === 'string' && isSha256Name(value)) {
      files.push({ kind: key.endsWith('.bind') ? 'copy' : 'link', key, sha: value });
    } else if ((typeof value === 'object' && value !== null) || key.endsWith('.json')) {
      files.push({ kind: 'document', key, text });
    } else {
      // An artifact given as anything but a sha has no content to put on disk.
      throw new DeployError('bad-value', `key ${JSON.stringify(key)} is neither a sha256 nor a JSON document`, key);
    }
  }
  const paths = new Set(files.map((file) => file.key));
  for (const file of files) {
    for (let slash = file.key.indexOf('/'); slash !== -1; slash = file.key.indexOf('/', slash + 1)) {
      const parent = file.key.slice(0, slash);
      if (paths.has(parent)) {
        throw new DeployError('key-conflict', `key ${JSON.stringify(parent)} is a file but ${JSON.stringify(file.key)} needs it as a directory`, parent);
      }
    }
  }
  return files;
}

/**
 * Which referenced objects are absent from the store and, with `hash`, which do not hash to
 * their name. Each distinct object is read once however many keys share it.
 */
export async function verifyRevisionObjects(
  layout: StorageLayout,
  stateText: string,
  options: { hash?: boolean } = {},
): Promise<ObjectCheck> {
  const result: ObjectCheck = { missing: [], corrupt: [] };
  const byObject = new Map<string, string[]>();
  for (const { key, sha } of referencedObjects(stateText)) {
    const keys = byObject.get(sha);
    if (keys === undefined) byObject.set(sha, [key]);
    else keys.push(key);
  }
  for (const [sha, keys] of byObject) {
    const path = join(layout.objects, sha);
    if (!(await isRegularFile(path))) {
      for (const key of keys) result.missing.push({ key, sha });
      continue;
    }
    if (options.hash !== true) continue;
    let actual: string;
    try {
      actual = await sha256File(path);
    } catch (error) {
      // GC may remove an unlinked object while it is being hashed.
      if (errnoCode(error) !== 'ENOENT') throw error;
      for (const key of keys) result.missing.push({ key, sha });
      continue;
    }
    if (actual !== sha) for (const key of keys) result.corrupt.push({ key, sha, actual });
  }
  return result;
}

/** Deploy a revision already installed on disk, from its own `.pvr/json`. */
export async function deployInstalledRevision(layout: StorageLayout, revision: string, options: DeployOptions = {}): Promise<DeployReport> {
  const directory = revisionDirectory(layout, revision);
  let stateText: string;
  try {
    stateText = await readFile(join(directory, '.pvr', 'json'), 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new DeployError('bad-revision', `revision ${revision} has no state JSON`);
    throw error;
  }
  return deployRevision(layout, revision, stateText, options);
}

/**
 * Make `trails/<revision>` the full trail of `stateText`. Idempotent: deploying the same state
 * again rebuilds the same tree. The revision's `.pv/` (progress, done, commit message, logs)
 * is kept; anything else in the old directory that the state does not name is dropped.
 *
 * Rejects with DeployError before touching anything when the revision name, a key or a value
 * is unusable, or when an object is missing (all missing objects are listed).
 */
export async function deployRevision(
  layout: StorageLayout,
  revision: string,
  stateText: string,
  options: DeployOptions = {},
): Promise<DeployReport> {
  const target = revisionDirectory(layout, revision);
  const files = planFiles(stateText);

  const check = await verifyRevisionObjects(layout, stateText, { hash: options.verifyDigests === true });
  if (check.missing.length > 0) throw missingObjects(check.missing);
  if (check.corrupt.length > 0) {
    const [first] = check.corrupt as [CorruptObject, ...CorruptObject[]];
    throw new DeployError(
      'corrupt-object',
      `object ${first.sha} (key ${JSON.stringify(first.key)}) hashes to ${first.actual}`,
      first.key,
      check.corrupt,
    );
  }

  return deploys.run(target, async () => {
    await recoverInterruptedDeploys(layout, revision);
    const report: DeployReport = { revision, directory: target, linked: [], copied: [], documents: [], replaced: false };
    const staging = tempPathFor(target);
    let carried = new Map<string, number>();
    try {
      await mkdir(staging, { mode: 0o755 });
      const directories = new DirectoryMaker(staging);
      await directories.ensure('.pvr');
      await writeNewFileSynced(join(staging, '.pvr', 'json'), stateText);
      await writeNewFileSynced(join(staging, '.pvr', 'config'), JSON.stringify({ ObjectsDir: layout.objects }));
      for (const file of files) {
        await directories.ensure(dirname(file.key));
        const path = join(staging, file.key);
        if (file.kind === 'document') {
          await writeNewFileSynced(path, file.text);
          report.documents.push(file.key);
        } else if (file.kind === 'copy' || !(await linkObject(layout, file, path))) {
          await copyObject(layout, file, path);
          report.copied.push(file.key);
        } else {
          report.linked.push(file.key);
        }
      }
      carried = await linkTree(join(target, '.pv'), join(staging, '.pv'), directories);
      await directories.syncAll();
      await fsyncDirectoryAsync(staging);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    report.replaced = await swapInto(layout, revision, staging, target, carried);
    return report;
  });
}

/**
 * Finish or undo swaps a crash interrupted: a parked directory whose revision is missing is
 * put back (the deploy never completed), one whose revision exists is the leftover of a
 * completed deploy and is removed. Call at start-up before anything reads `trails/`;
 * deployRevision calls it for its own revision.
 */
export async function recoverInterruptedDeploys(layout: StorageLayout, onlyRevision?: string): Promise<{ restored: string[]; removed: string[] }> {
  return recoverParkedRevisions(layout, onlyRevision);
}

function revisionDirectory(layout: StorageLayout, revision: string): string {
  // `current` is an alias the caller resolves; deploying through it would replace the symlink.
  if (!isRemoteRevision(revision) && !isLocalRevision(revision)) {
    throw new DeployError('bad-revision', `${JSON.stringify(revision)} is not a revision name`);
  }
  return join(layout.trails, revision);
}

function missingObjects(missing: ObjectRef[]): DeployError {
  const [first] = missing as [ObjectRef, ...ObjectRef[]];
  const more = missing.length > 1 ? ` and ${missing.length - 1} more` : '';
  return new DeployError('missing-object', `object ${first.sha} for key ${JSON.stringify(first.key)} is missing${more}`, first.key, missing);
}

/**
 * Put the staged tree in place (swap.ts), then carry over `.pv/` files the old directory
 * gained while the tree was being built, before the old one is dropped.
 *
 * The swap and the carry-over are synchronous on purpose: no other code of this process can
 * then run between them, so in-process writers (progress, commit messages) never find the
 * revision missing and never have a write overtaken by an older one.
 */
async function swapInto(
  layout: StorageLayout,
  revision: string,
  staging: string,
  target: string,
  carried: Map<string, number>,
): Promise<boolean> {
  const { parked } = swapRevisionDirectory(layout, revision, staging, target, 'deploy.swap');
  if (parked === undefined) return false;
  if (reconcileMetadata(join(parked, '.pv'), join(target, '.pv'), carried)) fsyncDirectory(join(target, '.pv'));
  await rm(parked, { recursive: true, force: true });
  await fsyncDirectoryAsync(asideDirectory(layout));
  return true;
}

/**
 * Writers replace `.pv/` files by rename (durable.ts), so a file whose inode differs from the
 * one linked into the staging tree was rewritten meanwhile, and a missing one was removed.
 * Returns whether anything was carried.
 */
function reconcileMetadata(oldPv: string, newPv: string, carried: Map<string, number>): boolean {
  const now = new Map<string, number>();
  collectFiles(oldPv, '', now);
  let changed = false;
  for (const [relative, ino] of now) {
    if (carried.get(relative) === ino) continue;
    const destination = join(newPv, relative);
    mkdirSync(dirname(destination), { recursive: true, mode: 0o755 });
    const temp = tempPathFor(destination);
    linkSync(join(oldPv, relative), temp);
    renameSync(temp, destination);
    changed = true;
  }
  for (const [relative, ino] of carried) {
    if (now.has(relative)) continue;
    const destination = join(newPv, relative);
    if (lstatOrUndefined(destination)?.ino === ino) {
      unlinkSync(destination);
      changed = true;
    }
  }
  return changed;
}

function collectFiles(root: string, relative: string, into: Map<string, number>): void {
  let names: string[];
  try {
    names = readdirSync(join(root, relative));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return;
    throw error;
  }
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) continue;
    const path = join(relative, name);
    const stats = lstatOrUndefined(join(root, path));
    if (stats?.isDirectory() === true) collectFiles(root, path, into);
    else if (stats?.isFile() === true) into.set(path, stats.ino);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Mirror `source` into `destination` with hard links (symlinks recreated) and return the inode
 * linked for each file. Hard links are snapshots here because writers replace files by rename.
 */
async function linkTree(source: string, destination: string, directories: DirectoryMaker): Promise<Map<string, number>> {
  const linked = new Map<string, number>();
  const walk = async (relative: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(source, relative));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return;
      throw error;
    }
    await directories.ensure(join('.pv', relative));
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      const path = join(relative, name);
      const from = join(source, path);
      const stats = await lstat(from).catch(() => undefined);
      if (stats === undefined) continue;
      if (stats.isDirectory()) {
        await walk(path);
      } else if (stats.isFile()) {
        const to = join(destination, path);
        try {
          await link(from, to);
        } catch (error) {
          // Removed since readdir: a deleted file is simply not carried over.
          if (errnoCode(error) === 'ENOENT') continue;
          throw error;
        }
        // The inode actually linked, read from our own link: the source may have been
        // replaced since lstat, and the replaced inode's number can be reused by a later write.
        linked.set(path, (await lstat(to)).ino);
      } else if (stats.isSymbolicLink()) {
        await symlink(await readlink(from), join(destination, path));
      }
    }
  };
  await walk('');
  return linked;
}

/** false when the filesystem will not link and a copy should be made instead. */
async function linkObject(layout: StorageLayout, file: { key: string; sha: string }, path: string): Promise<boolean> {
  try {
    await link(join(layout.objects, file.sha), path);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') throw missingObjects([{ key: file.key, sha: file.sha }]);
    if (code !== undefined && COPY_INSTEAD_OF_LINK.has(code)) return false;
    throw error;
  }
}

async function copyObject(layout: StorageLayout, file: { key: string; sha: string }, path: string): Promise<void> {
  try {
    await copyFile(join(layout.objects, file.sha), path, constants.COPYFILE_EXCL);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw missingObjects([{ key: file.key, sha: file.sha }]);
    throw error;
  }
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates directories inside the staging tree and remembers them so each is fsync'ed once. */
class DirectoryMaker {
  private readonly created = new Set<string>();

  constructor(private readonly root: string) {}

  async ensure(relative: string): Promise<void> {
    if (relative === '.' || relative === '') return;
    if (this.created.has(relative)) return;
    await this.ensure(dirname(relative));
    await mkdir(join(this.root, relative), { mode: 0o755 });
    this.created.add(relative);
  }

  /** Deepest first, so each directory's entries are durable before its parent's entry for it. */
  async syncAll(): Promise<void> {
    const ordered = [...this.created].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const relative of ordered) await fsyncDirectoryAsync(join(this.root, relative));
  }
}

/** Serialises deploys of one revision in this process; two swaps of one directory would interleave their renames. */
const deploys = new KeyedLock();
