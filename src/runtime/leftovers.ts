/**
 * What a run of the container runtime can leave behind when it is cut short (SIGKILL, a crash,
 * a shutdown racing a start): processes in a container's cgroups, mounts under the containers
 * folder, loop devices backed by files of the storage. Finding them is read-only and split into
 * pure decisions; clearing them is the caller's choice (shutdown clears everything, start-up
 * adopts healthy containers first and clears the rest).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LXC_CGROUP_PARENT, findContainerCgroups, removeStaleContainerCgroups } from '../native/lxc.ts';
import { waitUntil } from './deadlines.ts';
import { exec } from './exec.ts';
import { currentMounts, isBelow, type MountEntry } from './mounts.ts';

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

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every pid in a cgroup directory and its children. */
function pidsIn(dir: string): number[] {
  const pids: number[] = [];
  const procs = readText(join(dir, 'cgroup.procs'));
  if (procs !== undefined) for (const line of procs.split('\n')) if (/^\d+$/.test(line)) pids.push(Number(line));
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) pids.push(...pidsIn(join(dir, entry.name)));
  } catch {
    // Removed meanwhile.
  }
  return pids;
}

/** Pids in the container's and its monitor's cgroups (`lxc/<name>`, `lxc.monitor/<name>`), every hierarchy. */
export function containerCgroupPids(name: string): number[] {
  return [...new Set(findContainerCgroups(name).flatMap((dir) => pidsIn(dir)))];
}

/** `NSpid:\t4711\t1` — a process's pid in each nested PID namespace, outermost first. */
export function isNamespaceInit(statusText: string): boolean {
  const line = statusText.split('\n').find((candidate) => candidate.startsWith('NSpid:'));
  const pids = line?.slice('NSpid:'.length).trim().split(/\s+/) ?? [];
  return pids.length > 1 && pids[pids.length - 1] === '1';
}

/**
 * The init of a running container, from the kernel alone: the process in `lxc/<name>` that is
 * pid 1 of its PID namespace. Never asks the LXC monitor, whose command socket has no timeout
 * (a stopped or hung monitor would block the caller, here the event loop, for good).
 */
export function containerInitPid(name: string): number | undefined {
  const own = `/${LXC_CGROUP_PARENT}/${name}`;
  for (const dir of findContainerCgroups(name).filter((candidate) => candidate.endsWith(own))) {
    for (const pid of pidsIn(dir)) if (isNamespaceInit(readText(`/proc/${pid}/status`) ?? '')) return pid;
  }
  return undefined;
}

/**
 * Whether a process in a container's cgroup belongs to this storage's containers, and not to a
 * same-named container of another storage or a host process parked there: it is either our LXC
 * monitor (`[lxc monitor] <lxcPath> <name>`) or it lives in another mount namespace whose mounts
 * come from our containers folder.
 */
export function ownedBy(pid: number, lxcPath: string, runtimeRoot: string): boolean {
  const cmdline = readText(`/proc/${pid}/cmdline`)?.replaceAll('\0', ' ') ?? '';
  if (cmdline.includes(`${lxcPath} `)) return true;
  let ownNamespace: boolean;
  try {
    ownNamespace = readlinkSync(`/proc/${pid}/ns/mnt`) === readlinkSync('/proc/self/ns/mnt');
  } catch {
    return false;
  }
  return !ownNamespace && (readText(`/proc/${pid}/mountinfo`) ?? '').includes(`${runtimeRoot}/`);
}

export interface KillOutcome {
  killed: number;
  /** Processes that are not ours (another storage's container of the same name): left alone. */
  foreign: number;
  /** Cgroup directories still present after the wait (processes stuck in the kernel). */
  busy: string[];
}

/**
 * SIGKILL every process of ours in a container's cgroups and remove the emptied cgroups.
 * Killing the init of a PID namespace takes all of it down. Bounded by `timeoutMs`.
 */
export async function killContainerCgroups(name: string, lxcPath: string, runtimeRoot: string, timeoutMs: number): Promise<KillOutcome> {
  const pids = containerCgroupPids(name);
  const ours = pids.filter((pid) => ownedBy(pid, lxcPath, runtimeRoot));
  const foreign = pids.length - ours.length;
  if (foreign > 0) return { killed: 0, foreign, busy: findContainerCgroups(name) };
  for (const dir of findContainerCgroups(name)) {
    // cgroup v2 (kernel >= 5.14) kills the whole tree atomically, so nothing forks away meanwhile.
    const kill = join(dir, 'cgroup.kill');
    if (existsSync(kill)) {
      try {
        writeFileSync(kill, '1');
      } catch {
        // Fall back to signalling each pid below.
      }
    }
  }
  for (const pid of ours) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  let busy: string[] = [];
  await waitUntil(() => (busy = removeStaleContainerCgroups(name)).length === 0, Date.now() + timeoutMs);
  return { killed: ours.length, foreign: 0, busy };
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
