/**
 * Mounting what containers run on: read-only squashfs volumes through loop devices, and a
 * writable overlay over them (spec §6.3 `storage` persistence). Every mount we make is recorded
 * so that stopping unmounts exactly what was mounted, and a restart finds leftovers.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { execChecked, exec } from './exec.ts';

export interface MountEntry {
  mountPoint: string;
  /** What is mounted: a device (`/dev/loop3`), `overlay`, ... */
  source: string;
}

const unescapeMountField = (text: string): string => text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** One line of /proc/<pid>/mountinfo, the fields the runtime reads (octal escapes decoded). */
export interface MountinfoLine {
  /** The path of the mounted filesystem's directory that is the mount's root (a cgroup path for cgroup mounts). */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Every line of a mountinfo text; the one parser of that format (mounts here, cgroup hierarchies in ./cgroups.ts). */
export function parseMountinfoLines(text: string): MountinfoLine[] {
  const lines: MountinfoLine[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const before = line.slice(0, dash).split(' ');
    const after = line.slice(dash + 3).split(' ');
    const [root, mountPoint] = [before[3], before[4]];
    const [fsType, source] = [after[0], after[1]];
    if (root === undefined || mountPoint === undefined || fsType === undefined || source === undefined) continue;
    lines.push({
      root: unescapeMountField(root),
      mountPoint: unescapeMountField(mountPoint),
      fsType,
      source: unescapeMountField(source),
      superOptions: (after[2] ?? '').split(','),
    });
  }
  return lines;
}

/** Mount points and their sources from a mountinfo text (octal escapes decoded). */
export function parseMountinfo(text: string): MountEntry[] {
  return parseMountinfoLines(text).map(({ mountPoint, source }) => ({ mountPoint, source }));
}

export function currentMounts(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Mount points currently mounted. */
export function mountedPaths(): Set<string> {
  return new Set(currentMounts().map((entry) => entry.mountPoint));
}

export const isBelow = (path: string, root: string): boolean => path === root || path.startsWith(`${root}/`);

/** Mount points at or below `root`, deepest first (the order they can be unmounted in). */
export function mountsBelow(entries: readonly MountEntry[], root: string): string[] {
  return [...new Set(entries.map((entry) => entry.mountPoint).filter((path) => isBelow(path, root)))].sort((a, b) => b.length - a.length);
}

export function isMounted(path: string): boolean {
  return mountedPaths().has(path);
}

export async function mountSquashfs(image: string, target: string): Promise<void> {
  mkdirSync(target, { recursive: true });
  if (isMounted(target)) return;
  await execChecked('mount', ['-t', 'squashfs', '-o', 'loop,ro,nodev', image, target], { timeoutMs: 30_000 });
}

export async function mountOverlay(lower: string, upper: string, work: string, target: string): Promise<void> {
  for (const directory of [upper, work, target]) mkdirSync(directory, { recursive: true });
  if (isMounted(target)) return;
  await execChecked('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, target], {
    timeoutMs: 30_000,
  });
}

/** Unmount if mounted; a busy mount is detached lazily so a stop never hangs on it. */
export async function unmount(target: string): Promise<void> {
  if (!isMounted(target)) return;
  const result = await exec('umount', [target], { timeoutMs: 30_000 });
  if (result.code !== 0 && isMounted(target)) await execChecked('umount', ['-l', target], { timeoutMs: 30_000 });
}

/** Unmount every mount at or below `root`, deepest first; returns what was mounted there. */
export async function unmountTree(root: string): Promise<string[]> {
  const below = mountsBelow(currentMounts(), root);
  for (const path of below) await unmount(path);
  return below;
}

export function resetDirectory(path: string): void {
  if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
}
