/**
 * First-boot installation from a pvtx.d folder (spec §12): every `pvr export` tarball found
 * there is verified, its objects imported into the store, and its partial state merged into
 * the factory state, which is then validated and deployed as revision 0.
 *
 * What counts as "processed" (the `<storage>/.pvtx-done` marker is written):
 *  - no folder configured, a missing folder, or an empty one: like the reference, which runs
 *    pvtx exactly once per storage and globs an absent folder into nothing. Revision 0 stays
 *    the factory stub; it is not redeployed because there is nothing to add to it.
 *  - packages that are unreadable, truncated or carry bad objects: they are skipped and
 *    reported; retrying them on every boot could not make them valid.
 *  - a merged state the parser rejects, or one whose objects are missing: logged, revision 0
 *    left untouched, for the same reason.
 * I/O failures of our own (a full disk, a failing deploy rename) reject instead and leave the
 * marker absent, so the next boot tries again. Deleting the marker re-runs the installation.
 *
 * Must run before anything can collect garbage: imported objects have a link count of one
 * until the deploy links them into the trail.
 */
import { spawn } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readFile, readdir, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../log.ts';
import { errnoCode } from '../errors.ts';
import { globMatch, isSha256Name, parseState, type Member, type ParseOptions } from '../state/index.ts';
import {
  DeployError,
  deployRevision,
  recoverInterruptedDeploys,
  topLevelEntries,
  trailKeyProblem,
  type DeployReport,
} from './deploy.ts';
import { ensureDirectoryDurable, fsyncDirectory, isRegularFile, tempPathFor, writeFileDurable } from './durable.ts';
import { sha256File } from './ingest.ts';
import { FACTORY_PROGRESS, FACTORY_REVISION, FACTORY_STATE, readCurrentRevision, setCurrentRevision, type StorageLayout } from './layout.ts';
import { isLocalRevision, isRemoteRevision } from './revisions.ts';
import { KeyedLock } from '../util/keyed-lock.ts';

export const PVTX_DONE_MARKER = '.pvtx-done';

/** Names pvtx accepts as packages; `.pvrexport.tgz` is the usual one. */
const PACKAGE_NAME = /\.(tar|tar\.gz|tgz)$/;
/** A package's state is a handful of keys; anything this large is not one. */
const MAX_PACKAGE_JSON_BYTES = 16 * 1024 * 1024;
const STDERR_LIMIT = 4096;
const DEFAULT_TAR_TIMEOUT_MS = 10 * 60 * 1000;
/** tar messages that mean our disk, not the package, is at fault. */
const OUR_FAULT = /No space left on device|Disk quota exceeded|Read-only file system/;

export interface FirstBootOptions {
  /** How the merged state is validated (the same options `PUT /steps/locals` uses). */
  parseOptions: ParseOptions;
  logger: Logger;
  /** Revision to deploy, `0` unless PV_APPENGINE_INITIAL_REV names another one. */
  revision?: string;
  /** pvtx.extra.d: installed after pvtxDir, and only for a named initial revision (as the reference does). */
  extraDir?: string;
  /** tar executable; GNU tar and busybox tar both work. */
  tar?: string;
  /** A tar still running after this long is killed and its package skipped. */
  tarTimeoutMs?: number;
}

export type PackageStatus = 'installed' | 'skipped';

export interface PackageOutcome {
  file: string;
  status: PackageStatus;
  /** Why a package was skipped. */
  reason?: string;
  /** Keys the package brought (installed packages). */
  keys: string[];
  /** Keys of earlier packages (or the factory state) the package replaced. */
  replaced: string[];
  /** Objects copied into the store, and those already there. */
  imported: number;
  alreadyPresent: number;
}

export type FirstBootOutcome =
  /** The marker was there: nothing was done. */
  | 'already-done'
  /** No package to install (no folder, empty folder, or every package skipped). */
  | 'nothing-installed'
  /** The merged state was deployed. */
  | 'deployed'
  /** The merged state failed validation or referenced missing objects; revision 0 untouched. */
  | 'rejected';

export interface FirstBootReport {
  outcome: FirstBootOutcome;
  revision: string;
  packages: PackageOutcome[];
  /** The merged state text (when any package was installed). */
  state?: string;
  /** Why the merged state was rejected. */
  reason?: string;
  deploy?: DeployReport;
}

/** Package problem that skips the package (as opposed to a failure that aborts the run). */
class PackageRejected extends Error {}

/** Transaction state: key → raw value text, so documents keep their exact bytes. */
type TxState = Map<string, string>;

export async function firstBoot(layout: StorageLayout, pvtxDir: string | undefined, options: FirstBootOptions): Promise<FirstBootReport> {
  const revision = options.revision ?? FACTORY_REVISION;
  if (!isRemoteRevision(revision) && !isLocalRevision(revision)) throw new Error(`pvtx: ${JSON.stringify(revision)} is not a revision name`);
  const marker = join(layout.root, PVTX_DONE_MARKER);
  return firstBootRuns.run(layout.root, async () => {
    if (existsSync(marker)) return { outcome: 'already-done', revision, packages: [] };
    const { logger } = options;
    await recoverInterruptedDeploys(layout, revision);

    const files = [...(await listPackages(pvtxDir, logger))];
    if (revision !== FACTORY_REVISION && options.extraDir !== undefined) files.push(...(await listPackages(options.extraDir, logger)));

    const state: TxState = new Map(topLevelEntries(FACTORY_STATE).map((entry) => [entry.key, entry.text]));
    const packages: PackageOutcome[] = [];
    for (const file of files) {
      const outcome = await addPackage(layout, state, file, options);
      packages.push(outcome);
      if (outcome.status === 'skipped') logger.warn(`pvtx: skipping ${file}: ${outcome.reason ?? ''}`);
      else logger.info(`pvtx: added ${file} (${outcome.keys.length} keys, ${outcome.imported} objects imported)`);
    }

    const report: FirstBootReport = { outcome: 'nothing-installed', revision, packages };
    // A named initial revision does not exist yet, so it is deployed even when empty; revision
    // 0 already holds the factory state and is left alone.
    if (packages.some((p) => p.status === 'installed') || revision !== FACTORY_REVISION) {
      const text = serialize(state);
      report.state = text;
      const rejection = await install(layout, revision, text, options, report);
      if (rejection !== undefined) {
        report.outcome = 'rejected';
        report.reason = rejection;
        logger.error(`pvtx: merged state not installed, revision ${revision} left as it was: ${rejection}`);
      } else {
        report.outcome = 'deployed';
      }
    }
    writeFileDurable(marker, '', undefined, 'init.file');
    return report;
  });
}

/** Validate, deploy and mark the revision factory-DONE; returns why it was refused, if it was. */
async function install(
  layout: StorageLayout,
  revision: string,
  text: string,
  options: FirstBootOptions,
  report: FirstBootReport,
): Promise<string | undefined> {
  const parsed = parseState(text, options.parseOptions);
  if (!parsed.ok) return `${parsed.message} (${parsed.reason})`;
  try {
    report.deploy = await deployRevision(layout, revision, text);
  } catch (error) {
    if (error instanceof DeployError) return error.message;
    throw error;
  }
  const pv = join(layout.trails, revision, '.pv');
  ensureDirectoryDurable(pv);
  writeFileDurable(join(pv, 'progress'), FACTORY_PROGRESS, undefined, 'revision.file');
  writeFileDurable(join(pv, 'done'), '', undefined, 'revision.file');
  if (readCurrentRevision(layout) !== revision) setCurrentRevision(layout, revision);
  return undefined;
}

/** Regular files with a package name, in byte order (the reference's glob in the C locale). */
async function listPackages(directory: string | undefined, logger: Logger): Promise<string[]> {
  if (directory === undefined) return [];
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
      logger.info(`pvtx: ${directory} does not exist, nothing to install`);
      return [];
    }
    throw error;
  }
  const files: string[] = [];
  for (const name of names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    // Absolute, so tar can never read the name as an option or (GNU tar, a colon before any
    // slash) as a remote host:file.
    const path = resolve(directory, name);
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isFile() !== true) continue;
    if (!PACKAGE_NAME.test(name)) {
      logger.warn(`pvtx: ignoring ${path}: not a .tar, .tar.gz or .tgz file`);
      continue;
    }
    files.push(path);
  }
  return files;
}

/**
 * Add one package to the transaction: extract, check, import its objects, merge its keys.
 * Either all of that happens or the transaction state is unchanged and the outcome says why;
 * the extraction directory is always removed.
 */
async function addPackage(layout: StorageLayout, state: TxState, file: string, options: FirstBootOptions): Promise<PackageOutcome> {
  const outcome: PackageOutcome = { file, status: 'skipped', keys: [], replaced: [], imported: 0, alreadyPresent: 0 };
  // Under the storage root so objects can be linked into the store, and under a temp name so
  // a crash leaves nothing start-up does not sweep. Not named after the package: a long file
  // name would make mkdir fail with ENAMETOOLONG, which is not the package's fault.
  const work = tempPathFor(join(layout.root, 'pvtx'));
  try {
    await mkdir(work, { mode: 0o700 });
    await extract(file, work, options);
    const entries = await readPackageJson(work);
    const objects = await verifyPackageObjects(work, options.logger, file);

    for (const { key, text } of entries) {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'string' || !isSha256Name(value)) continue;
      if (!objects.has(value) && !(await isRegularFile(join(layout.objects, value)))) {
        throw new PackageRejected(`object ${value} for key ${JSON.stringify(key)} is neither in the package nor in storage`);
      }
    }

    for (const sha of objects) {
      if (await importObject(layout, join(work, 'objects', sha), sha)) outcome.imported++;
      else outcome.alreadyPresent++;
    }
    if (objects.size > 0) fsyncDirectory(layout.objects);

    outcome.replaced = merge(state, entries);
    outcome.keys = entries.map((entry) => entry.key);
    outcome.status = 'installed';
    return outcome;
  } catch (error) {
    if (!(error instanceof PackageRejected)) throw error;
    outcome.reason = error.message;
    return outcome;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Run tar off the event loop; any failure of tar is the package's fault unless the disk is. */
function extract(file: string, into: string, options: FirstBootOptions): Promise<void> {
  const tar = options.tar ?? 'tar';
  const timeoutMs = options.tarTimeoutMs ?? DEFAULT_TAR_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // -o: do not restore the archive's owners (we run as root); compression is auto-detected.
    const child = spawn(tar, ['-x', '-o', '-f', file, '-C', into], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.slice(0, STDERR_LIMIT - stderr.length);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`pvtx: cannot run ${tar}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const detail = stderr.trim().split('\n').slice(-3).join('; ');
      if (timedOut) reject(new PackageRejected(`tar did not finish within ${timeoutMs} ms`));
      else if (code === 0) resolve();
      else if (OUR_FAULT.test(stderr)) reject(new Error(`pvtx: extracting ${file} failed: ${detail}`));
      else reject(new PackageRejected(`cannot extract (tar ${code !== null ? `exit ${code}` : `signal ${signal ?? '?'}`}${detail ? `: ${detail}` : ''})`));
    });
  });
}

async function readPackageJson(work: string): Promise<Member[]> {
  const path = join(work, 'json');
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) throw new PackageRejected('no "json" member');
  // A symlink member could point anywhere on the device; only the archive's own bytes count.
  if (!stats.isFile()) throw new PackageRejected('"json" member is not a regular file');
  if (stats.size > MAX_PACKAGE_JSON_BYTES) throw new PackageRejected('"json" member is too large');
  let entries: Member[];
  try {
    entries = topLevelEntries(await readFile(path, 'utf8'));
  } catch (error) {
    if (error instanceof DeployError) throw new PackageRejected(`"json" member: ${error.message}`);
    throw error;
  }
  for (const { key } of entries) {
    if (key === '#spec') continue;
    const problem = trailKeyProblem(key);
    if (problem !== undefined) throw new PackageRejected(`key ${JSON.stringify(key)}: ${problem}`);
  }
  return entries;
}

/** Hash every `objects/<sha>` member; one mismatch rejects the whole package before anything is imported. */
async function verifyPackageObjects(work: string, logger: Logger, file: string): Promise<Set<string>> {
  const directory = join(work, 'objects');
  const verified = new Set<string>();
  const stats = await lstat(directory).catch(() => undefined);
  if (stats === undefined) return verified;
  if (!stats.isDirectory()) throw new PackageRejected('"objects" member is not a directory');
  for (const name of (await readdir(directory)).sort()) {
    if (!isSha256Name(name)) {
      logger.warn(`pvtx: ${file}: ignoring objects/${name}: not a sha256 name`);
      continue;
    }
    const path = join(directory, name);
    if (!(await lstat(path)).isFile()) throw new PackageRejected(`objects/${name} is not a regular file`);
    const actual = await sha256File(path);
    if (actual !== name) throw new PackageRejected(`objects/${name} has sha256 ${actual}`);
    verified.add(name);
  }
  return verified;
}

/**
 * Make the verified file `objects/<sha>`; false when the store already had it. A present
 * object is never replaced: trails link to its inode, and a new inode would leave the store's
 * copy with a single link for GC to take.
 */
async function importObject(layout: StorageLayout, source: string, sha: string): Promise<boolean> {
  const target = join(layout.objects, sha);
  if (await isRegularFile(target)) return false;
  // tar does not fsync; the data must be on disk before the name appears in the store.
  const handle = await open(source, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(source, target);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    if (errnoCode(error) !== 'EXDEV' && errnoCode(error) !== 'EPERM') throw error;
  }
  // objects/ on another filesystem than the storage root: copy through a temp name.
  const temp = tempPathFor(target);
  try {
    await copyFile(source, temp, constants.COPYFILE_EXCL);
    const copy = await open(temp, constants.O_RDONLY);
    try {
      await copy.sync();
    } finally {
      await copy.close();
    }
    await link(temp, target);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * The pvtx add rule (spec §12): before the package's keys go in, drop from the state
 *  - every key that starts with one of the package's keys (the reference's literal rule);
 *  - every key of a part the package brings, so a container package replaces the whole
 *    container: `<part>/…` for a top-level directory, `_config/<part>/…` for config overlays;
 *  - every key matched by an include glob of the `_sigs/<part>.json` the package brings, and
 *    of the one it replaces, so files a signed part no longer has do not linger.
 * Only include globs are honoured (the reference does the same); exclude globs and
 * signatures themselves are left to parseState's secure-boot check of the merged result.
 * Returns the removed keys that the package does not bring back.
 */
function merge(state: TxState, entries: Member[]): string[] {
  const keys = entries.map((entry) => entry.key);
  const prefixes = new Set<string>(keys);
  for (const key of keys) {
    const part = partPrefix(key);
    if (part !== undefined) prefixes.add(part);
  }
  const globs: string[] = [];
  for (const { key, text } of entries) {
    if (!key.startsWith('_sigs/')) continue;
    globs.push(...includeGlobs(text));
    const previous = state.get(key);
    if (previous !== undefined) globs.push(...includeGlobs(previous));
  }
  const removed: string[] = [];
  for (const existing of [...state.keys()]) {
    const prefixed = [...prefixes].some((prefix) => existing.startsWith(prefix));
    if (!prefixed && !globs.some((glob) => globMatch(glob, existing))) continue;
    state.delete(existing);
    if (!prefixes.has(existing)) removed.push(existing);
  }
  for (const { key, text } of entries) state.set(key, text);
  return removed;
}

/** The part a key belongs to, as a prefix ending in `/`; undefined for top-level files and signatures. */
function partPrefix(key: string): string | undefined {
  const segments = key.split('/');
  if (segments.length < 2 || segments[0] === '_sigs') return undefined;
  if (segments[0] === '_config') return segments.length >= 3 ? `_config/${segments[1]}/` : undefined;
  return `${segments[0]}/`;
}

/** `pvs.include` of a pvs@2 signature document's protected header; [] when unreadable. */
function includeGlobs(text: string): string[] {
  try {
    const signature: unknown = JSON.parse(text);
    if (typeof signature !== 'object' || signature === null || !('protected' in signature)) return [];
    const encoded = signature.protected;
    if (typeof encoded !== 'string') return [];
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    if (typeof header !== 'object' || header === null || !('pvs' in header)) return [];
    const pvs = header.pvs;
    if (typeof pvs !== 'object' || pvs === null || !('include' in pvs) || !Array.isArray(pvs.include)) return [];
    return pvs.include.filter((glob): glob is string => typeof glob === 'string');
  } catch {
    return [];
  }
}

/** Keys sorted bytewise (strcmp, as pvtx sorts), values as they came. */
function serialize(state: TxState): string {
  const keys = [...state.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${state.get(key) ?? 'null'}`).join(',')}}`;
}

/** Runs for one storage are serialised: a later call waits, then finds the marker the first one wrote. */
const firstBootRuns = new KeyedLock();
