/**
 * Containers' cgroups, in one place: where they go (`lxc/<name>`, monitors at
 * `lxc.monitor/<name>` — caller identity, a security decision, relies on this placement), how
 * to find them (mountinfo and /proc/<pid>/cgroup, parsed purely), what runs in them (init,
 * owned processes), and how stale ones are cleaned. Reads the kernel only; never asks the LXC
 * monitor, whose sync queries hang when it hangs.
 *
 * Imports only node: and the runtime's own leaves (./deadlines.ts, ./mounts.ts), so that the
 * server may import its placement constants.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, waitUntil } from './deadlines.ts';
import { parseMountinfoLines } from './mounts.ts';

// ---- placement ----------------------------------------------------------------------------------

/** Parent of every container's cgroup; the daemon identifies callers by `/lxc/<name>`. */
export const LXC_CGROUP_PARENT = 'lxc';
/** Parent of the monitors' cgroups; outside `lxc/` so a monitor never looks like a container. */
export const LXC_MONITOR_CGROUP_PARENT = 'lxc.monitor';

export interface LxcCgroupOptions {
  /**
   * lxc.cgroup.relative. false (LXC's default): cgroups are created below init's cgroup, i.e. at
   * the root of each hierarchy, whatever cgroup the daemon runs in, so a service manager that
   * kills the daemon's cgroup does not take the containers with it. true: below the daemon's own
   * cgroup (what the native tests use so containers stay inside the session's cgroup).
   */
  relative?: boolean;
}

/**
 * The config overrides that put a container at `lxc/<name>` (not LXC 5's `lxc.payload.<name>`)
 * and its monitor at `lxc.monitor/<name>`, in every hierarchy LXC uses (unified and v1).
 */
export function lxcCgroupOverrides(name: string, options: LxcCgroupOptions = {}): Array<[string, string]> {
  return [
    ['lxc.cgroup.relative', options.relative === true ? '1' : '0'],
    ['lxc.cgroup.dir.container', `${LXC_CGROUP_PARENT}/${name}`],
    ['lxc.cgroup.dir.monitor', `${LXC_MONITOR_CGROUP_PARENT}/${name}`],
    // Where the monitor parks itself before deleting its own cgroup; the default is a top-level
    // `lxc.pivot`, this keeps LXC's leftovers under lxc.monitor/.
    ['lxc.cgroup.dir.monitor.pivot', LXC_MONITOR_CGROUP_PARENT],
  ];
}

/** Relative cgroup paths of a container and its monitor, as lxcCgroupOverrides() places them. */
export function containerCgroupPaths(name: string): string[] {
  return [`${LXC_CGROUP_PARENT}/${name}`, `${LXC_MONITOR_CGROUP_PARENT}/${name}`];
}

// ---- parsing (pure) -----------------------------------------------------------------------------

export interface CgroupMount {
  /** `''` for the unified hierarchy, else the sorted, comma-joined v1 controllers (`memory`, `name=systemd`). */
  controllers: string;
  mountPoint: string;
  /** Cgroup path mounted at mountPoint (not `/` inside a cgroup namespace). */
  root: string;
}

/** Cgroup hierarchies mounted, from a mountinfo text; `subsystems` tells controllers from mount flags. */
export function parseCgroupMounts(mountinfo: string, subsystems: ReadonlySet<string>): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const { root, mountPoint, fsType, superOptions } of parseMountinfoLines(mountinfo)) {
    if (fsType === 'cgroup2') {
      mounts.push({ controllers: '', mountPoint, root });
    } else if (fsType === 'cgroup') {
      // Super options mix controllers with flags (rw, clone_children, release_agent=...);
      // /proc/cgroups names the real subsystems, named hierarchies carry name=.
      const controllers = superOptions.filter((option) => subsystems.has(option) || option.startsWith('name='));
      mounts.push({ controllers: controllers.sort().join(','), mountPoint, root });
    }
  }
  return mounts;
}

/** `/proc/<pid>/cgroup`: the cgroup path of each hierarchy, keyed like CgroupMount.controllers. */
export function parseProcCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    paths.set((match[1] as string).split(',').sort().join(','), match[2] as string);
  }
  return paths;
}

/** The names of the cgroup subsystems the kernel has, from a /proc/cgroups text. */
export function parseSubsystems(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    names.add(line.split('\t')[0] as string);
  }
  return names;
}

/**
 * Absolute directories of `relPath` below `bases` (a process's cgroups) in each mounted
 * hierarchy; a hierarchy mounted twice (bind mounts) counts once.
 */
export function cgroupDirsIn(mounts: readonly CgroupMount[], bases: ReadonlyMap<string, string>, relPath: string): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  for (const mount of mounts) {
    if (seen.has(mount.controllers)) continue;
    const base = bases.get(mount.controllers);
    if (base === undefined) continue;
    seen.add(mount.controllers);
    const inside = mount.root === '/' ? base : base.startsWith(mount.root) ? base.slice(mount.root.length) : undefined;
    if (inside === undefined) continue;
    dirs.push(join(mount.mountPoint, inside, relPath));
  }
  return dirs;
}

/** `NSpid:\t4711\t1` — a process's pid in each nested PID namespace, outermost first. */
export function isNamespaceInit(statusText: string): boolean {
  const line = statusText.split('\n').find((candidate) => candidate.startsWith('NSpid:'));
  const pids = line?.slice('NSpid:'.length).trim().split(/\s+/) ?? [];
  return pids.length > 1 && pids[pids.length - 1] === '1';
}

// ---- finding ------------------------------------------------------------------------------------

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Where `relPath` lives in every hierarchy, placed the way LXC places it (see LxcCgroupOptions). */
function cgroupDirs(relPath: string, options: LxcCgroupOptions): string[] {
  // LXC's own choice: root spawns escape to init's cgroups unless lxc.cgroup.relative is set.
  const bases = parseProcCgroup(readFileSync(options.relative === true ? '/proc/self/cgroup' : '/proc/1/cgroup', 'utf8'));
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'), parseSubsystems(readFileSync('/proc/cgroups', 'utf8')));
  return cgroupDirsIn(mounts, bases, relPath);
}

function existingCgroupDirs(paths: readonly string[], options: LxcCgroupOptions): string[] {
  return paths.flatMap((path) => cgroupDirs(path, options)).filter((dir) => existsSync(dir));
}

/**
 * Cgroup directories of the container (`lxc/<name>`) and of its monitor (`lxc.monitor/<name>`)
 * that currently exist, in every hierarchy. Empty after a clean stop; non-empty for a running
 * container or after a monitor crashed before cleaning up.
 */
export function findContainerCgroups(name: string, options: LxcCgroupOptions = {}): string[] {
  return existingCgroupDirs(containerCgroupPaths(name), options);
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

// ---- cleaning -----------------------------------------------------------------------------------

function removeTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  rmdirSync(dir);
}

/**
 * Remove the cgroup directories of a container that is not running (left by a crashed monitor or
 * daemon): with an explicit lxc.cgroup.dir.container liblxc never falls back to another name, so
 * a leftover makes its start fail with a bare "Numerical result out of range". rmdir of a cgroup
 * fails (EBUSY) while it holds a process, which is what makes this safe: those directories are
 * returned instead.
 */
export function removeStaleContainerCgroups(name: string, options: LxcCgroupOptions = {}): string[] {
  const busy: string[] = [];
  for (const dir of existingCgroupDirs(containerCgroupPaths(name), options)) {
    try {
      removeTree(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') busy.push(dir);
    }
  }
  return busy;
}

// The monitor of a failed start may need a moment to move itself out.
const SETTLE_TRIES = 25;
const SETTLE_DELAY_MS = 20;

/** What a start needs from an LXC handle (a slice of the addon facade). */
export interface Startable {
  start(argv?: string[]): Promise<void>;
}

/**
 * Start a container in its cgroups: stale directories go first (busy ones refuse the start with
 * the reason), and a failed start's leaked monitor cgroups go after it — liblxc tries to remove
 * them while our start helper (its "transient" process) still sits in them.
 */
export async function startInCleanCgroups(handle: Startable, name: string, options: LxcCgroupOptions = {}, argv?: string[]): Promise<void> {
  const busy = removeStaleContainerCgroups(name, options);
  if (busy.length > 0) {
    const error: NodeJS.ErrnoException = new Error(`lxc start "${name}": stale cgroups still in use: ${busy.join(', ')} (processes of an earlier run)`);
    error.code = 'ERR_LXC_START';
    throw error;
  }
  try {
    await handle.start(argv);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_LXC_START') {
      for (let attempt = 0; removeStaleContainerCgroups(name, options).length > 0 && attempt < SETTLE_TRIES; attempt++) await sleep(SETTLE_DELAY_MS);
    }
    throw error;
  }
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
