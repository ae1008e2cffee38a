/**
 * What a run of the container runtime can leave behind when it is cut short (SIGKILL, a crash,
 * a shutdown racing a start): processes in a container's cgroups, mounts under the containers
 * folder, loop devices backed by files of the storage. Finding them is read-only and split into
 * pure decisions; clearing them is the caller's choice (shutdown clears everything, start-up
 * adopts healthy containers first and clears the rest). What runs in containers' cgroups, and
 * killing it, is ./cgroups.ts's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from './exec.ts';
import { currentMounts, isBelow, type MountEntry } from './mounts.ts';
import { sleep } from './deadlines.ts';

export interface LoopDevice {
  /** `/dev/loopN` */
  device: string;
  backingFile: string;
}

/**
 * Loop devices whose backing file lies under `root` and that no visible mount uses: nothing of
 * ours needs them any more. A device still mounted (an adopted container's volume) is kept.
 */
export function strayLoopDevices(loops: readonly LoopDevice[], root: string, mounts: readonly MountEntry[]): LoopDevice[] {
  const inUse = new Set(mounts.map((entry) => entry.source));
  // The kernel appends " (deleted)" once the backing file is gone; the device is still ours.
  return loops.filter((loop) => isBelow(loop.backingFile.replace(/ \(deleted\)$/, ''), root) && !inUse.has(loop.device));
}

/** For the log: `/dev/loop3 (/storage/trails/.../root.squashfs), ...` */
export const describeLoops = (loops: readonly LoopDevice[]): string => loops.map((loop) => `${loop.device} (${loop.backingFile})`).join(', ');

/** Attached loop devices, from sysfs (no tool needed, nothing blocks). */
export function loopDevices(): LoopDevice[] {
  const devices: LoopDevice[] = [];
  let names: string[];
  try {
    names = readdirSync('/sys/block').filter((name) => /^loop\d+$/.test(name));
  } catch {
    return devices;
  }
  for (const name of names) {
    try {
      const backingFile = readFileSync(join('/sys/block', name, 'loop', 'backing_file'), 'utf8').trim();
      if (backingFile !== '') devices.push({ device: `/dev/${name}`, backingFile });
    } catch {
      // Not attached: sysfs has no loop/ folder for it.
    }
  }
  return devices;
}

/** Detach loop devices backed by files under `storageRoot` that nothing mounts; returns them. */
export async function detachStrayLoops(storageRoot: string): Promise<LoopDevice[]> {
  const stray = strayLoopDevices(loopDevices(), storageRoot, currentMounts());
  const detached: LoopDevice[] = [];
  for (const loop of stray) {
    const result = await exec('losetup', ['-d', loop.device], { timeoutMs: 10_000 });
    if (result.code === 0) detached.push(loop);
  }
  return detached;
}

/**
 * Detach this storage's unused loop devices until none is left or `deadline` (epoch ms) passes.
 * The kernel releases an auto-clear loop device asynchronously after its last unmount (and a
 * lazily unmounted one only once its last user goes), so one pass can miss a device that is
 * still on its way out. Returns what was detached and what is still attached at the deadline.
 */
export async function detachLoopsUntilGone(storageRoot: string, deadline: number): Promise<{ detached: LoopDevice[]; lingering: LoopDevice[] }> {
  const detached: LoopDevice[] = [];
  for (;;) {
    detached.push(...(await detachStrayLoops(storageRoot)));
    const lingering = loopDevices().filter((loop) => isBelow(loop.backingFile.replace(/ \(deleted\)$/, ''), storageRoot));
    if (lingering.length === 0 || Date.now() >= deadline) return { detached, lingering };
    await sleep(50);
  }
}

/** Names of the containers this lxcPath has configured (`<lxcPath>/<name>/`), from any run. */
export function configuredContainerNames(lxcPath: string): string[] {
  try {
    return readdirSync(lxcPath, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}
