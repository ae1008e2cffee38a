/**
 * Typed facade over the liblxc part of the pvctrl_native addon (native/src/lxc_container.cpp).
 *
 * Kept apart from ./index.ts so that loading LXC types never forces the rest of the addon's
 * facade to know about them; the addon itself is shared and loaded lazily through nativeAddon().
 * See docs/native-lxc.md for the config overrides a container runtime must apply.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { nativeAddon } from './index.ts';

export type LxcState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'FROZEN' | 'THAWED';

export const LXC_STATES: readonly LxcState[] = [
  'STOPPED',
  'STARTING',
  'RUNNING',
  'STOPPING',
  'ABORTING',
  'FREEZING',
  'FROZEN',
  'THAWED',
];

export interface LxcContainerHandle {
  readonly name: string;
  readonly lxcPath: string;
  /** Load an LXC config file (lxc.container.conf style), then apply overrides with setConfigItem. */
  loadConfig(path: string): void;
  setConfigItem(key: string, value: string): void;
  clearConfigItem(key: string): void;
  /** undefined when the key has no value; throws for keys liblxc does not know. */
  getConfigItem(key: string): string | undefined;
  /** Save the effective config (for debugging / `lxc-info -P`). */
  saveConfig(path: string): void;
  /**
   * Start daemonized (the container keeps running if our process exits); argv overrides
   * lxc.init.cmd when given. Resolves when LXC reports RUNNING, or rejects with
   * `lxc start "<name>": <ERROR lines from lxc.log.file>` (code ERR_LXC_START). When
   * lxc.log.file is unset it is pointed at `<lxcPath>/<name>/lxc.log` first so a reason exists.
   */
  start(argv?: string[]): Promise<void>;
  /** Graceful: lxc.signal.halt (default SIGPWR) to init, wait up to timeoutSeconds; true if it stopped. */
  shutdown(timeoutSeconds: number): Promise<boolean>;
  /** Hard stop (SIGKILL through the monitor); resolves once STOPPED and cleaned up (default wait 30 s). */
  stop(timeoutSeconds?: number): Promise<void>;
  state(): LxcState;
  /** -1 when not running. */
  initPid(): number;
  isRunning(): boolean;
  wait(state: LxcState, timeoutSeconds: number): Promise<boolean>;
  /** Release the lxc_container reference (lxc_container_put); later calls throw ERR_LXC_RELEASED. */
  release(): void;
}

/** The addon's LxcContainer instance, exactly as native/src/lxc_container.cpp defines it. */
interface NativeLxcContainer {
  readonly name: string;
  readonly lxcPath: string;
  loadConfig(path: string): void;
  setConfigItem(key: string, value: string): void;
  clearConfigItem(key: string): void;
  getConfigItem(key: string): string | undefined;
  saveConfig(path: string): void;
  start(argv?: string[]): Promise<void>;
  shutdown(timeoutSeconds: number): Promise<boolean>;
  stop(timeoutSeconds?: number): Promise<void>;
  state(): string;
  initPid(): number;
  isRunning(): boolean;
  wait(state: string, timeoutSeconds: number): Promise<boolean>;
  release(): void;
}

interface LxcAddon {
  LxcContainer: new (name: string, lxcPath: string) => NativeLxcContainer;
  lxcVersion(): string;
  lxcConfigItemSupported(key: string): boolean;
}

export const LXC_EXPORTS = ['LxcContainer', 'lxcVersion', 'lxcConfigItemSupported'] as const;

function isLxcAddon(value: unknown): value is LxcAddon {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return LXC_EXPORTS.every((name) => typeof record[name] === 'function');
}

function lxcAddon(): LxcAddon {
  const addon: unknown = nativeAddon();
  if (!isLxcAddon(addon)) {
    throw new Error(`native addon lacks the LXC exports (${LXC_EXPORTS.join(', ')}); rebuild with: bash scripts/build-native.sh`);
  }
  return addon;
}

function isLxcState(value: string): value is LxcState {
  return (LXC_STATES as readonly string[]).includes(value);
}

class LxcContainer implements LxcContainerHandle {
  constructor(private readonly native: NativeLxcContainer) {}

  get name(): string {
    return this.native.name;
  }

  get lxcPath(): string {
    return this.native.lxcPath;
  }

  loadConfig(path: string): void {
    this.native.loadConfig(path);
  }

  setConfigItem(key: string, value: string): void {
    this.native.setConfigItem(key, value);
  }

  clearConfigItem(key: string): void {
    this.native.clearConfigItem(key);
  }

  getConfigItem(key: string): string | undefined {
    return this.native.getConfigItem(key);
  }

  saveConfig(path: string): void {
    this.native.saveConfig(path);
  }

  async start(argv?: string[]): Promise<void> {
    // Without a log file a failed start can only say "failed"; the reason is
    // written by the monitor, a process we cannot otherwise hear from.
    if (this.native.getConfigItem('lxc.log.file') === undefined) {
      const dir = join(this.lxcPath, this.name);
      mkdirSync(dir, { recursive: true });
      this.native.setConfigItem('lxc.log.file', join(dir, 'lxc.log'));
    }
    await (argv === undefined ? this.native.start() : this.native.start(argv));
  }

  shutdown(timeoutSeconds: number): Promise<boolean> {
    return this.native.shutdown(timeoutSeconds);
  }

  stop(timeoutSeconds?: number): Promise<void> {
    return timeoutSeconds === undefined ? this.native.stop() : this.native.stop(timeoutSeconds);
  }

  state(): LxcState {
    const state = this.native.state();
    // liblxc only ever reports these; anything else means a newer liblxc grew
    // a state the runtime does not handle, which must not pass silently.
    if (!isLxcState(state)) throw new Error(`lxc state "${this.name}": unknown state ${JSON.stringify(state)}`);
    return state;
  }

  initPid(): number {
    return this.native.initPid();
  }

  isRunning(): boolean {
    return this.native.isRunning();
  }

  wait(state: LxcState, timeoutSeconds: number): Promise<boolean> {
    return this.native.wait(state, timeoutSeconds);
  }

  release(): void {
    this.native.release();
  }
}

/**
 * Open (not create) a container: `<lxcPath>/<name>/config` is loaded when it exists, otherwise the
 * config starts empty. A running container started by an earlier daemon is adopted simply by
 * opening the same name and lxcPath: state(), initPid(), shutdown() and stop() talk to its monitor.
 */
export function openLxcContainer(name: string, lxcPath: string): LxcContainerHandle {
  const { LxcContainer: Native } = lxcAddon();
  return new LxcContainer(new Native(name, lxcPath));
}

export function lxcVersion(): string {
  return lxcAddon().lxcVersion();
}

/** Whether this liblxc understands a config key (prefix keys like lxc.cgroup2.* included). */
export function lxcConfigItemSupported(key: string): boolean {
  return lxcAddon().lxcConfigItemSupported(key);
}

// ---- cgroup placement -------------------------------------------------------------------------

/** Parent of every container's cgroup; the daemon identifies callers by `/lxc/<name>`. */
export const LXC_CGROUP_PARENT = 'lxc';
/** Parent of the monitors' cgroups; outside `lxc/` so a monitor never looks like a container. */
export const LXC_MONITOR_CGROUP_PARENT = 'lxc.monitor';

export interface LxcCgroupOptions {
  /**
   * lxc.cgroup.relative. false (LXC's default): cgroups are created below init's cgroup, i.e. at
   * the root of each hierarchy, whatever cgroup the daemon runs in, so a service manager that
   * kills the daemon's cgroup does not take the containers with it. true: below the daemon's own
   * cgroup (what the tests use so containers stay inside the session's cgroup).
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

interface CgroupMount {
  /** `''` for the unified hierarchy, else the comma-joined v1 controllers (`memory`, `name=systemd`). */
  controllers: string;
  mountPoint: string;
  /** Cgroup path mounted at mountPoint (not `/` inside a cgroup namespace). */
  root: string;
}

function cgroupMounts(mountinfo: string, subsystems: ReadonlySet<string>): CgroupMount[] {
  const unescape = (text: string): string =>
    text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const before = line.slice(0, dash).split(' ');
    const after = line.slice(dash + 3).split(' ');
    const root = before[3];
    const mountPoint = before[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (after[0] === 'cgroup2') {
      mounts.push({ controllers: '', mountPoint: unescape(mountPoint), root: unescape(root) });
    } else if (after[0] === 'cgroup') {
      // Super options mix controllers with flags (rw, clone_children, release_agent=...);
      // /proc/cgroups names the real subsystems, named hierarchies carry name=.
      const controllers = (after[2] ?? '')
        .split(',')
        .filter((option) => subsystems.has(option) || option.startsWith('name='));
      mounts.push({ controllers: controllers.sort().join(','), mountPoint: unescape(mountPoint), root: unescape(root) });
    }
  }
  return mounts;
}

function cgroupSubsystems(): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync('/proc/cgroups', 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    names.add(line.split('\t')[0] as string);
  }
  return names;
}

/** Absolute directory of `relPath` below the base cgroup LXC uses in each mounted hierarchy. */
function cgroupDirs(relPath: string, options: LxcCgroupOptions): string[] {
  // LXC's own choice: root spawns escape to init's cgroups unless lxc.cgroup.relative is set.
  const baseFile = options.relative === true ? '/proc/self/cgroup' : '/proc/1/cgroup';
  const bases = new Map<string, string>();
  for (const line of readFileSync(baseFile, 'utf8').split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    bases.set((match[1] as string).split(',').sort().join(','), match[2] as string);
  }
  const dirs: string[] = [];
  const seen = new Set<string>();
  for (const mount of cgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'), cgroupSubsystems())) {
    // Same hierarchy mounted twice (bind mounts) must be reported once.
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

/**
 * Cgroup directories of the container (`lxc/<name>`) and of its monitor (`lxc.monitor/<name>`)
 * that currently exist, in every hierarchy. Empty after a clean stop; non-empty for a running
 * container or after a monitor crashed before cleaning up.
 */
export function findContainerCgroups(name: string, options: LxcCgroupOptions = {}): string[] {
  const found: string[] = [];
  for (const parent of [LXC_CGROUP_PARENT, LXC_MONITOR_CGROUP_PARENT]) {
    for (const dir of cgroupDirs(join(parent, name), options)) if (existsSync(dir)) found.push(dir);
  }
  return found;
}

function removeTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  rmdirSync(dir);
}

/**
 * Remove cgroup directories a crashed monitor left behind. With explicit lxc.cgroup.dir.container
 * LXC refuses to start when `lxc/<name>` already exists (it does not fall back to `-1` suffixes),
 * so the runtime calls this before start() when the container is not running. A cgroup that
 * still holds processes cannot be removed (EBUSY); those paths are returned instead of throwing.
 */
export function removeStaleContainerCgroups(name: string, options: LxcCgroupOptions = {}): string[] {
  const busy: string[] = [];
  for (const dir of findContainerCgroups(name, options)) {
    try {
      removeTree(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      busy.push(dir);
    }
  }
  return busy;
}
