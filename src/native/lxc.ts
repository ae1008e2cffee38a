/**
 * Typed facade over the liblxc part of the pvctrl_native addon (native/src/lxc_container.cpp).
 *
 * Kept apart from ./index.ts so that loading LXC types never forces the rest of the addon's
 * facade to know about them; the addon itself is shared and loaded lazily through nativeAddon().
 * See docs/native-lxc.md for the config overrides a container runtime must apply.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { concernExports, nativeAddonPath } from './index.ts';

export const LXC_START_HELPER_FILE = 'pvctrl-lxc-start';
export const LXC_START_HELPER_ENV = 'PVCTRL_LXC_START_HELPER';

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

/**
 * The addon's LxcContainer instance, exactly as native/src/lxc_container.cpp defines it: the
 * facade's methods, except that start() takes the helper's path and states are plain strings.
 */
type NativeLxcContainer = Omit<LxcContainerHandle, 'start' | 'state' | 'wait'> & {
  /** helper: absolute path of pvctrl-lxc-start (see lxcStartHelper()). */
  start(helper: string, argv?: string[]): Promise<void>;
  state(): string;
  wait(state: string, timeoutSeconds: number): Promise<boolean>;
};

interface LxcAddon {
  LxcContainer: new (name: string, lxcPath: string) => NativeLxcContainer;
  lxcVersion(): string;
  lxcConfigItemSupported(key: string): boolean;
}

function lxcAddon(): LxcAddon {
  return concernExports<'lxc', LxcAddon>('lxc');
}

/**
 * The executable every start is spawned through (native/src/lxc_start_helper.cpp): `$PVCTRL_LXC_START_HELPER`,
 * else the file next to the loaded addon, where both builds put it (and where a compiled
 * single-file daemon must ship it, like the addon itself).
 */
export function lxcStartHelper(env: NodeJS.ProcessEnv = process.env): string {
  lxcAddon();
  const override = env[LXC_START_HELPER_ENV];
  const addonPath = nativeAddonPath();
  const helper =
    override !== undefined && override !== '' ? override : join(dirname(addonPath ?? '.'), LXC_START_HELPER_FILE);
  try {
    accessSync(helper, constants.X_OK);
  } catch (error) {
    throw new Error(`LXC start helper ${helper} is not executable (build it with: bash scripts/build-native.sh)`, {
      cause: error,
    });
  }
  return helper;
}

function isLxcState(value: string): value is LxcState {
  return (LXC_STATES as readonly string[]).includes(value);
}

function lxcError(message: string, code: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = code;
  return error;
}

class LxcContainer implements LxcContainerHandle {
  private starting = false;

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
    this.ensureContainerDir();
    this.native.saveConfig(path);
  }

  async start(argv?: string[]): Promise<void> {
    // The native side refuses a second start too, but only after the config
    // reads below, which would fail first with a less telling message.
    if (this.starting) throw lxcError(`lxc start "${this.name}": start() already in progress`, 'ERR_LXC_BUSY');
    this.starting = true;
    try {
      await this.startOnce(argv);
    } finally {
      this.starting = false;
    }
  }

  private async startOnce(argv: string[] | undefined): Promise<void> {
    // Without a log file a failed start can only say "failed"; the reason is
    // written by the monitor, a process we cannot otherwise hear from.
    const dir = this.ensureContainerDir();
    if (this.native.getConfigItem('lxc.log.file') === undefined) this.native.setConfigItem('lxc.log.file', join(dir, 'lxc.log'));
    const placement = this.cgroupPlacement();
    if (placement !== undefined && !this.native.isRunning()) {
      // With an explicit lxc.cgroup.dir.container liblxc never falls back to
      // another name, so a directory left by a crashed monitor makes start
      // fail with a bare "Numerical result out of range". Empty ones are
      // garbage; one that still holds processes is reported as the reason.
      const busy = removeCgroupDirs(placement.paths, placement.options);
      if (busy.length > 0) {
        throw lxcError(`lxc start "${this.name}": cgroup ${busy.join(', ')} still holds processes of an earlier run`, 'ERR_LXC_START');
      }
    }
    try {
      const helper = lxcStartHelper();
      await (argv === undefined ? this.native.start(helper) : this.native.start(helper, argv));
    } catch (error) {
      // A failed start leaks the monitor's cgroups: liblxc tries to remove
      // them while our start helper (its "transient" process) still sits in
      // them. The helper has exited by now, so they are empty.
      if (placement !== undefined && (error as NodeJS.ErrnoException).code === 'ERR_LXC_START') {
        await removeCgroupDirsSettled(placement.paths, placement.options);
      }
      throw error;
    }
  }

  /**
   * liblxc's save_config() (also how start() hands the config to the helper) creates
   * <lxcPath>/<name> with a plain mkdir, so it fails while <lxcPath> itself is missing.
   */
  private ensureContainerDir(): string {
    const dir = join(this.lxcPath, this.name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The explicit cgroup paths this container's config asks for, if any. */
  private cgroupPlacement(): { paths: string[]; options: LxcCgroupOptions } | undefined {
    const container = this.native.getConfigItem('lxc.cgroup.dir.container');
    const monitor = this.native.getConfigItem('lxc.cgroup.dir.monitor');
    if (container === undefined || monitor === undefined) return undefined;
    return { paths: [container, monitor], options: { relative: this.native.getConfigItem('lxc.cgroup.relative') === '1' } };
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

/** Relative cgroup paths of a container and its monitor, as lxcCgroupOverrides() places them. */
export function containerCgroupPaths(name: string): string[] {
  return [`${LXC_CGROUP_PARENT}/${name}`, `${LXC_MONITOR_CGROUP_PARENT}/${name}`];
}

function existingCgroupDirs(paths: readonly string[], options: LxcCgroupOptions): string[] {
  const found: string[] = [];
  for (const path of paths) for (const dir of cgroupDirs(path, options)) if (existsSync(dir)) found.push(dir);
  return found;
}

/**
 * Cgroup directories of the container (`lxc/<name>`) and of its monitor (`lxc.monitor/<name>`)
 * that currently exist, in every hierarchy. Empty after a clean stop; non-empty for a running
 * container or after a monitor crashed before cleaning up.
 */
export function findContainerCgroups(name: string, options: LxcCgroupOptions = {}): string[] {
  return existingCgroupDirs(containerCgroupPaths(name), options);
}

function removeTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  }
  rmdirSync(dir);
}

/** rmdir every existing directory of `paths` (children first); returns the ones still busy. */
function removeCgroupDirs(paths: readonly string[], options: LxcCgroupOptions): string[] {
  const busy: string[] = [];
  for (const dir of existingCgroupDirs(paths, options)) {
    try {
      removeTree(dir);
    } catch (error) {
      // rmdir of a cgroup fails with EBUSY while it holds a process: that is
      // what makes removing "stale" directories safe.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') busy.push(dir);
    }
  }
  return busy;
}

// The monitor of a failed start may need a moment to move itself out.
const SETTLE_TRIES = 25;
const SETTLE_DELAY_MS = 20;

async function removeCgroupDirsSettled(paths: readonly string[], options: LxcCgroupOptions): Promise<string[]> {
  let busy = removeCgroupDirs(paths, options);
  for (let attempt = 0; busy.length > 0 && attempt < SETTLE_TRIES; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_DELAY_MS));
    busy = removeCgroupDirs(paths, options);
  }
  return busy;
}

/**
 * Remove the cgroup directories of a container that is not running (left by a crashed monitor or
 * daemon). start() already does this for the paths in its config; this is for callers that use
 * lxcCgroupOverrides() and want to clean up without starting. A cgroup that still holds
 * processes cannot be removed (EBUSY); those paths are returned instead of throwing.
 */
export function removeStaleContainerCgroups(name: string, options: LxcCgroupOptions = {}): string[] {
  return removeCgroupDirs(containerCgroupPaths(name), options);
}
