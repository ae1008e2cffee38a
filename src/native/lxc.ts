/**
 * Typed facade over the liblxc part of the pvctrl_native_lazy addon (native/src/lxc_container.cpp).
 *
 * Kept apart from ./index.ts so that loading LXC types never forces the rest of the addons'
 * facade to know about them; the lazy addon is loaded on the first call here (./index.ts).
 * A thin typed wrapper: where containers' cgroups go and how stale ones are cleaned is runtime
 * policy (src/runtime/cgroups.ts). See docs/native-lxc.md for the config overrides a container
 * runtime must apply.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
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
 * else the file next to the loaded lazy addon (the one carrying LXC), where both builds put it (and
 * where a compiled single-file daemon must ship it, like the addons themselves).
 */
export function lxcStartHelper(env: NodeJS.ProcessEnv = process.env): string {
  lxcAddon();
  const override = env[LXC_START_HELPER_ENV];
  const addonPath = nativeAddonPath('lazy');
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
    const helper = lxcStartHelper();
    await (argv === undefined ? this.native.start(helper) : this.native.start(helper, argv));
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
