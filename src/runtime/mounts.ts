/**
 * Mounting what containers run on: read-only squashfs volumes through loop devices, and a
 * writable overlay over them (spec §6.3 `storage` persistence). Every mount we make is recorded
 * so that stopping unmounts exactly what was mounted, and a restart finds leftovers.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { execChecked, exec } from './exec.ts';

/** Mount points currently mounted, from /proc/self/mountinfo (octal escapes decoded). */
export function mountedPaths(): Set<string> {
  const mounted = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) mounted.add(field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return mounted;
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

/** Unmount every mount at or below `root`, deepest first. */
export async function unmountTree(root: string): Promise<void> {
  const below = [...mountedPaths()].filter((path) => path === root || path.startsWith(`${root}/`));
  below.sort((a, b) => b.length - a.length);
  for (const path of below) await unmount(path);
}

export function resetDirectory(path: string): void {
  if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
}
