/**
 * The container runtime: runs the containers of the running revision on LXC, group by group,
 * tracks each one's status against its goal, restarts failed ones per auto-recovery, and takes
 * `PUT /containers/{name}` actions (spec §6.2–6.3, §7.2).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest, notFound, unavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { effectiveAutoRecovery, type AutoRecovery, type Group, type Platform, type State } from '../state/index.ts';
import { writeFileDurable } from '../storage/durable.ts';
import type { StorageLayout } from '../storage/layout.ts';
import { lxcOverrides, type ContainerPaths } from './lxc-config.ts';
import type { LxcContainerHandle } from '../native/lxc.ts';
import { containerCgroupPids, containerInitPid, killContainerCgroups, removeStaleContainerCgroups, startInCleanCgroups } from './cgroups.ts';
import { settledBy } from './deadlines.ts';
import { configuredContainerNames, describeLoops, detachLoopsUntilGone, detachStrayLoops } from './leftovers.ts';
import { mountOverlay, mountSquashfs, resetDirectory, unmountTree } from './mounts.ts';
import { aliveTimeout, type ContainerController, type RunningSystem, type RuntimeInfoWriter } from './running-system.ts';
import {
  goalWait,
  hasFailed,
  keptAcrossSwitch,
  liveness,
  livenessWatched,
  nextLivenessDue,
  nextRecovery,
  planControl,
  stabilityChange,
  type ContainerAction,
} from './decisions.ts';
import { canChange, type PlatformStatus } from './status.ts';
import { KeyedLock } from '../util/keyed-lock.ts';
import { createPidfdWatcher } from '../native/pidfd.ts';

/** How long a stop waits for the kernel to release this storage's loop devices after their unmount. */
const LOOP_RELEASE_WAIT_MS = 3_000;

/**
 * Tells the runtime when a process exits, from the kernel (the native pidfd watcher), so no
 * timer looks for dead inits. `onExit(token)` comes on the JS thread, at most once per token.
 */
export interface ExitWatcher {
  /** Returns a token for `pid`; throws when the process is already gone. */
  watch(pid: number): number;
  unwatch(token: number): void;
  close(): void;
}

/** What the runtime needs from an LXC container: a slice of the addon facade, so tests can fake it. */
export type LxcHandle = Pick<
  LxcContainerHandle,
  'loadConfig' | 'setConfigItem' | 'saveConfig' | 'start' | 'shutdown' | 'stop' | 'release'
>;

export interface ContainerRuntimeOptions {
  layout: StorageLayout;
  system: RunningSystem;
  log: Logger;
  /** Where mount points and per-container runtime files live (outside the run dir containers see). */
  runtimeRoot: string;
  lxcPath: string;
  lxcLogLevel: number;
  openContainer(name: string, lxcPath: string): LxcHandle;
  /** Loads a container's `required` and `optional` drivers before it starts (spec §7.10). */
  loadDrivers?(aliases: readonly string[]): Promise<boolean>;
  /** Called whenever a status changes (device meta `pantavisor.status`, events). */
  onStatusChange?(name: string, status: PlatformStatus, from: PlatformStatus): void;
  /** Opens the exit watcher (the native pidfd watcher by default; tests may fake it). */
  openExitWatcher?(onExit: (token: number) => void): ExitWatcher;
  /** Grace before a stop turns into a kill. */
  stopGraceSeconds?: number;
  /** Bound of the whole daemon-stop sequence (in-flight actions, stops, sweep). */
  shutdownTimeoutMs?: number;
}

const SHUTTING_DOWN = 'The device is shutting down';

interface Tracked {
  platform: Platform;
  group: Group | undefined;
  handle: LxcHandle | undefined;
  paths: ContainerPaths;
  recovery: AutoRecovery | null;
  startedAt: number;
  recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  goalTimedOut: boolean;
  /** The init whose exit the kernel will report, while the container is watched. */
  exitWatch: { token: number; pid: number } | undefined;
  /** Armed for the one instant a stability/reset window or an alive deadline falls due. */
  dueTimer: ReturnType<typeof setTimeout> | undefined;
  /** The status.json text last written: a change that does not alter it (an `alive` signal) writes nothing. */
  persisted: string | undefined;
}

/** What the runtime has armed at the moment; idle and stable, it is only exit watches. */
export interface PendingWork {
  /** Inits the kernel will report the exit of. */
  exitWatches: number;
  /** Timers for a stability/reset window or an alive deadline. */
  dueTimers: number;
  /** Timers for an auto-recovery start. */
  recoveryTimers: number;
  /** Waits for a status change (group goals, the commit delay). */
  statusWaits: number;
}
/** How long a kill waits for LXC to report STOPPED (liblxc's default is 30 s; a shutdown is bounded). */
const STOP_WAIT_SECONDS = 10;
/** Extra time an LXC call gets beyond its own timeout before the runtime stops waiting for it. */
const LXC_CALL_SLACK_SECONDS = 2;

export class ContainerRuntime implements ContainerController {
  private readonly tracked = new Map<string, Tracked>();
  private revision = '';
  private exitWatcher: ExitWatcher | undefined;
  /** Woken by every status change (and by the stop): goal waits and the updater's test. */
  private readonly statusWaiters = new Set<() => void>();
  /** Set once the daemon stops: nothing starts any more, and it is never reset. */
  private stopping = false;
  /** Leftovers of an earlier run are looked at once, on the first revision this runtime starts. */
  private leftoversChecked = false;

  /** The runtime is the only writer of containers' statuses and runtime info. */
  private readonly writer: RuntimeInfoWriter;
  /** An action (start, stop, restart) owns a container until it ends. */
  private readonly actions = new KeyedLock<Tracked>();

  constructor(private readonly options: ContainerRuntimeOptions) {
    this.writer = options.system.takeWriter();
  }

  /**
   * Bring up a revision: each group in declaration order, waiting for the group's goal (or its
   * timeout) before the next. Containers still running from before a daemon crash are adopted.
   * Resolves with the names whose goal timed out.
   */
  async startRevision(revision: string, state: State, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    this.revision = revision;
    mkdirSync(this.options.lxcPath, { recursive: true });
    if (!this.leftoversChecked) {
      this.leftoversChecked = true;
      await this.clearForeignLeftovers(state);
    }
    for (const platform of state.platforms) {
      const group = state.groups.find((candidate) => candidate.name === platform.group);
      const kept = keep.has(platform.name) ? this.tracked.get(platform.name) : undefined;
      if (kept !== undefined) {
        Object.assign(kept, { platform, group, recovery: effectiveAutoRecovery(platform, group) });
        // Its windows follow the new revision's auto-recovery.
        this.review(kept);
        continue;
      }
      this.tracked.set(platform.name, {
        platform,
        group,
        handle: undefined,
        paths: this.pathsOf(platform.name),
        recovery: effectiveAutoRecovery(platform, group),
        startedAt: 0,
        recoveryTimer: undefined,
        goalTimedOut: false,
        exitWatch: undefined,
        dueTimer: undefined,
        persisted: undefined,
      });
    }
    const timedOut: string[] = [];
    for (const group of state.groups) {
      const members = [...this.tracked.values()].filter((entry) => entry.platform.group === group.name);
      if (members.length === 0) continue;
      // Through serialise, so that a stop arriving meanwhile waits for (not races) these starts.
      await Promise.all(members.filter((entry) => !keep.has(entry.platform.name)).map((entry) => this.serialise(entry, () => this.bringUp(entry, true))));
      const late = await this.waitForGoals(members, group.timeout);
      for (const entry of late) {
        entry.goalTimedOut = true;
        this.options.log.error(
          `container ${entry.platform.name}: status goal ${entry.platform.statusGoal} not reached within ${group.timeout} s (status ${this.statusOf(entry)})`,
        );
      }
      timedOut.push(...late.map((entry) => entry.platform.name));
      if (this.stopping) break;
    }
    return timedOut;
  }

  /**
   * Switch to another revision: containers whose state entries did not change keep running,
   * the others are stopped (last group first) and the new revision's are started group by group.
   * Resolves with the containers whose goal timed out, like startRevision.
   */
  async switchRevision(revision: string, state: State, previous: State): Promise<string[]> {
    if (this.stopping) throw unavailable(SHUTTING_DOWN, 5);
    const keep = keptAcrossSwitch(previous, state, (name) => this.options.system.info(name)?.status);
    const groups = previous.groups;
    for (const group of [...groups].reverse()) {
      const leaving = [...this.tracked.values()].filter((entry) => entry.platform.group === group.name && !keep.has(entry.platform.name));
      await Promise.all(leaving.map((entry) => this.serialise(entry, () => this.takeDown(entry))));
    }
    for (const [name, entry] of this.tracked) {
      if (keep.has(name)) continue;
      this.cancelRecovery(entry);
      this.stopWatching(entry);
      entry.handle?.release();
      this.tracked.delete(name);
    }
    // The daemon began to stop while the old containers went down: start nothing of the new revision.
    if (this.stopping) throw unavailable(SHUTTING_DOWN, 5);
    this.options.log.info(`switching to revision ${revision}; kept running: ${[...keep].join(', ') || 'none'}`);
    this.options.system.load(revision, state, keep);
    return this.startRevision(revision, state, keep);
  }

  /**
   * A container failed since the given time (stopped, recovering or its goal timed out). Throws
   * once the daemon stops: containers going down then are no verdict on the revision under test,
   * so the updater ends without one (the next start treats the try as interrupted).
   */
  failedSince(names: readonly string[]): string[] {
    if (this.stopping) throw unavailable(SHUTTING_DOWN, 5);
    return names.filter((name) => {
      const entry = this.tracked.get(name);
      return hasFailed({ tracked: entry !== undefined, goalTimedOut: entry?.goalTimedOut ?? false, status: this.options.system.info(name)?.status });
    });
  }

  /** First step of a daemon stop: nothing starts from now on (recoveries, actions, revisions). */
  beginStop(): void {
    this.stopping = true;
    for (const entry of this.tracked.values()) {
      this.cancelRecovery(entry);
      this.stopWatching(entry);
    }
    // Joins the watcher's thread: it only ever sleeps in poll(), which close() wakes.
    this.exitWatcher?.close();
    this.exitWatcher = undefined;
    this.wakeStatusWaiters();
  }

  /** What is armed now (for tests and diagnostics): at idle, only one exit watch per running container. */
  pendingWork(): PendingWork {
    const entries = [...this.tracked.values()];
    return {
      exitWatches: entries.filter((entry) => entry.exitWatch !== undefined).length,
      dueTimers: entries.filter((entry) => entry.dueTimer !== undefined).length,
      recoveryTimers: entries.filter((entry) => entry.recoveryTimer !== undefined).length,
      statusWaits: this.statusWaiters.size,
    };
  }

  /**
   * Resolves at the next status change of any container, at `deadline` (epoch ms), or when the
   * daemon begins to stop, whichever comes first: a wait that sleeps until something happens.
   */
  nextStatusChange(deadline: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.statusWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      this.statusWaiters.add(done);
    });
  }

  private wakeStatusWaiters(): void {
    for (const wake of [...this.statusWaiters]) wake();
  }

  /**
   * Stop everything of this run, bounded by the shutdown timeout: let in-flight actions finish
   * (they notice the stop and start nothing new), stop every container last group first, then
   * sweep what is still there whatever its origin — a container of this lxcPath still running,
   * processes in its cgroups, mounts under the containers folder, loop devices of the storage.
   */
  async stopAll(): Promise<void> {
    this.beginStop();
    const deadline = Date.now() + (this.options.shutdownTimeoutMs ?? 30_000);
    if (!(await settledBy(this.actions.idle(), deadline))) this.options.log.warn('shutdown: container actions still in flight at the deadline');
    const groups = this.options.system.state?.groups ?? [];
    const order = [...groups].reverse().map((group) => [...this.tracked.values()].filter((entry) => entry.platform.group === group.name));
    // Containers of no declared group go last (the reverse of starting them first: never, but safe).
    order.push([...this.tracked.values()].filter((entry) => !groups.some((group) => group.name === entry.platform.group)));
    for (const members of order) {
      const stops = Promise.all(members.map((entry) => this.serialise(entry, () => this.takeDown(entry))));
      if (!(await settledBy(stops, deadline))) this.options.log.warn(`shutdown: stopping ${members.map((entry) => entry.platform.name).join(', ')} did not finish in time`);
    }
    for (const entry of this.tracked.values()) {
      entry.handle?.release();
      entry.handle = undefined;
    }
    await this.sweep(deadline);
  }

  /** Whatever of this run survived the orderly stop goes now; each find is logged. */
  private async sweep(deadline: number): Promise<void> {
    const { log, lxcPath, runtimeRoot } = this.options;
    const names = new Set([...this.tracked.keys(), ...configuredContainerNames(lxcPath)]);
    for (const name of names) {
      const remaining = Math.max(1000, deadline - Date.now());
      await this.stopStray(name, `shutdown: ${name} still running after its stop`, remaining);
    }
    const unmounted = await unmountTree(runtimeRoot);
    if (unmounted.length > 0) log.warn(`shutdown: unmounted leftovers ${unmounted.join(', ')}`);
    const loops = await detachLoopsUntilGone(this.options.layout.root, Date.now() + LOOP_RELEASE_WAIT_MS);
    if (loops.detached.length > 0) log.warn(`shutdown: detached loop devices ${describeLoops(loops.detached)}`);
    if (loops.lingering.length > 0) log.error(`shutdown: loop devices still attached after ${LOOP_RELEASE_WAIT_MS} ms: ${describeLoops(loops.lingering)}`);
  }

  /**
   * Stop a container of our lxcPath that runs outside the runtime's control: through LXC while it
   * has an init (bounded: a hung monitor never answers), then SIGKILL whatever of ours is left in
   * its cgroups (a monitor without a container, orphans without a monitor). Logs what it did
   * under `what`; returns whether anything was found.
   */
  private async stopStray(name: string, what: string, timeoutMs: number): Promise<boolean> {
    const { log, lxcPath } = this.options;
    if (containerCgroupPids(name).length === 0) {
      removeStaleContainerCgroups(name);
      return false;
    }
    const init = containerInitPid(name);
    if (init !== undefined) {
      log.warn(`${what}: stopping it (pid ${init})`);
      const handle = this.options.openContainer(name, lxcPath);
      // A monitor that does not answer leaves the stop pending on its thread: the kill below ends it.
      const stopped = await settledBy(handle.stop(Math.max(1, Math.floor(timeoutMs / 1000))), Date.now() + timeoutMs);
      if (!stopped) log.warn(`${what}: LXC did not stop it within ${timeoutMs} ms`);
      handle.release();
      if (containerCgroupPids(name).length === 0) {
        removeStaleContainerCgroups(name);
        return true;
      }
    }
    await this.killCgroups(name, what, timeoutMs);
    return true;
  }

  /** The last resort, from the kernel: SIGKILL what of ours is in the container's cgroups. */
  private async killCgroups(name: string, what: string, timeoutMs: number): Promise<void> {
    const { log, lxcPath, runtimeRoot } = this.options;
    const outcome = await killContainerCgroups(name, lxcPath, runtimeRoot, Math.min(timeoutMs, 5000));
    if (outcome.foreign > 0) log.warn(`${what}: cgroups of ${name} hold ${outcome.foreign} processes that are not of this storage; left alone`);
    else log.warn(`${what}: killed ${outcome.killed} processes left in its cgroups${outcome.busy.length > 0 ? `; still busy: ${outcome.busy.join(', ')}` : ''}`);
  }

  /**
   * At the first start: containers of this lxcPath that the running revision does not have
   * (left by an interrupted LOCAL_RUN, say) are stopped; what is left of the revision's own
   * containers is adopted or cleared per container in bringUp.
   */
  private async clearForeignLeftovers(state: State): Promise<void> {
    const wanted = new Set(state.platforms.map((platform) => platform.name));
    for (const name of configuredContainerNames(this.options.lxcPath)) {
      if (wanted.has(name)) continue;
      const stopped = await this.stopStray(name, `leftover from a previous run: container ${name} is not in revision ${this.revision}`, 10_000);
      const unmounted = await unmountTree(this.pathsOf(name).root);
      if (stopped || unmounted.length > 0) {
        this.options.log.warn(`leftover from a previous run: cleaned up container ${name}${unmounted.length > 0 ? `, unmounted ${unmounted.join(', ')}` : ''}`);
      }
    }
    // Nothing of ours mounts yet, so a loop device of the storage that no mount uses is a leftover.
    const loops = await detachStrayLoops(this.options.layout.root);
    if (loops.length > 0) this.options.log.warn(`leftover from a previous run: detached loop devices ${describeLoops(loops)}`);
  }

  /** `PUT /containers/{name}`: the state machine of spec §7.2; effects run in the background. */
  async control(name: string, action: ContainerAction): Promise<void> {
    const entry = this.tracked.get(name);
    if (entry === undefined) throw notFound('Container not found');
    if (this.stopping) throw unavailable(SHUTTING_DOWN, 5);
    const status = this.statusOf(entry);
    const plan = planControl(status, action);
    if (plan.kind === 'refuse') throw badRequest(plan.message);
    this.options.log.info(`container ${name}: ${action} requested (status ${status})`);
    if (plan.kind === 'stop') {
      this.cancelRecovery(entry);
      this.setInfo(entry, { userStopped: true });
      if (plan.then === 'take-down') void this.serialise(entry, () => this.takeDown(entry));
      else if (plan.then === 'mark-stopped') this.setStatus(entry, 'STOPPED');
      return;
    }
    if (plan.kind === 'nothing') return;
    this.cancelRecovery(entry);
    this.setInfo(entry, { userStopped: false, currentRetries: 0 });
    void this.serialise(entry, async () => {
      if (this.isAlive(entry)) await this.takeDown(entry);
      await this.bringUp(entry, false);
    });
  }

  /** `POST /signal` `ready`: READY whatever the current status, like the reference (spec §7.3). */
  signalReady(name: string): void {
    const entry = this.tracked.get(name);
    if (entry === undefined) throw notFound('Container not found');
    this.setStatus(entry, 'READY');
  }

  /** `POST /signal` `alive`: restarts the liveness deadline of a container that opted into one. */
  signalAlive(name: string): void {
    const entry = this.tracked.get(name);
    if (entry === undefined) throw notFound('Container not found');
    this.setInfo(entry, { lastAlive: Date.now() });
    // The deadline moves: the timer is re-armed for the new instant.
    this.review(entry);
  }

  /**
   * Actions on one container run one at a time; a failed one is logged, and never rejects.
   * When the last one ends, the container's liveness is reviewed: the action may have started it
   * (a new init to watch) or its init may have died meanwhile (no exit would be reported again).
   */
  private serialise(entry: Tracked, work: () => Promise<void>): Promise<void> {
    return this.actions
      .run(entry, work)
      .catch((error: unknown) => this.options.log.error(`container ${entry.platform.name}: ${(error as Error).message}`))
      .finally(() => {
        // After the lock let go of the entry (its clean-up runs a few microtasks later).
        setImmediate(() => this.review(entry));
      });
  }

  private pathsOf(name: string): ContainerPaths {
    const root = join(this.options.runtimeRoot, name);
    return { root, rootfs: join(root, 'rootfs'), volumes: join(root, 'volumes'), logDir: '' };
  }

  private statusOf(entry: Tracked): PlatformStatus {
    return this.options.system.info(entry.platform.name)?.status ?? 'NONE';
  }

  /** The one place a status changes: checked against the transition table, logged, persisted, published. */
  private setStatus(entry: Tracked, status: PlatformStatus): void {
    const current = this.statusOf(entry);
    if (current === status) return;
    if (!canChange(current, status)) {
      this.options.log.warn(`container ${entry.platform.name}: status ${current} cannot become ${status}; kept`);
      return;
    }
    this.setInfo(entry, { status });
    this.options.log.info(`container ${entry.platform.name}: ${status}`);
    this.options.onStatusChange?.(entry.platform.name, status, current);
    this.wakeStatusWaiters();
    // A `ready` signal can make a stopped container count as up, and an up one is watched.
    if (!this.actions.busy(entry)) this.review(entry);
  }

  /** Every change survives a daemon crash: adopted containers keep their status and counters. */
  private setInfo(entry: Tracked, change: Parameters<RuntimeInfoWriter['update']>[1]): void {
    this.writer.update(entry.platform.name, change);
    this.persist(entry);
  }

  private persist(entry: Tracked): void {
    const info = this.options.system.info(entry.platform.name);
    if (info === undefined) return;
    const text = JSON.stringify({ revision: this.revision, status: info.status, userStopped: info.userStopped, currentRetries: info.currentRetries, startedAt: entry.startedAt });
    if (text === entry.persisted) return;
    try {
      mkdirSync(entry.paths.root, { recursive: true });
      writeFileDurable(join(entry.paths.root, 'status.json'), text);
      entry.persisted = text;
    } catch (error) {
      this.options.log.warn(`container ${entry.platform.name}: cannot persist status: ${(error as Error).message}`);
    }
  }

  private readPersisted(entry: Tracked): { status: PlatformStatus; userStopped: boolean; currentRetries: number; startedAt: number } | undefined {
    try {
      const saved = JSON.parse(readFileSync(join(entry.paths.root, 'status.json'), 'utf8')) as {
        revision: string;
        status: PlatformStatus;
        userStopped: boolean;
        currentRetries: number;
        startedAt: number;
      };
      return saved.revision === this.revision ? saved : undefined;
    } catch {
      return undefined;
    }
  }

  /** From the kernel, not the LXC monitor: a hung monitor must not block the event loop. */
  private isAlive(entry: Tracked): boolean {
    return containerInitPid(entry.platform.name) !== undefined;
  }

  /** Mount and (unless the goal is MOUNTED) start one container; `boot` allows adoption. */
  private async bringUp(entry: Tracked, boot: boolean): Promise<void> {
    const { platform } = entry;
    if (this.stopping) return;
    entry.paths.logDir = join(this.options.layout.logs, this.revision, platform.name, 'lxc');
    mkdirSync(entry.paths.logDir, { recursive: true });
    entry.handle ??= this.options.openContainer(platform.name, this.options.lxcPath);
    const adoptable = boot ? containerInitPid(platform.name) : undefined;
    if (adoptable !== undefined) {
      const saved = this.readPersisted(entry);
      entry.startedAt = saved?.startedAt ?? Date.now();
      const status = saved?.status === 'READY' ? 'READY' : 'STARTED';
      this.setInfo(entry, { initPid: adoptable, userStopped: false, currentRetries: saved?.currentRetries ?? 0, startedAt: entry.startedAt });
      this.setStatus(entry, status);
      this.options.log.info(`leftover from a previous run: container ${platform.name}: adopted running container (pid ${adoptable})`);
      return;
    }
    if (boot) await this.clearOwnLeftovers(entry);
    const saved = boot ? this.readPersisted(entry) : undefined;
    if (saved?.userStopped) {
      this.setInfo(entry, { userStopped: true });
      this.setStatus(entry, 'STOPPED');
      return;
    }
    try {
      await this.mountVolumes(entry);
      this.setStatus(entry, 'MOUNTED');
      if (platform.statusGoal === 'MOUNTED') return;
      await this.loadDrivers(entry);
      // A stop that began while we mounted: the stop queued behind us takes the mounts down.
      if (this.stopping) return;
      await this.launch(entry);
    } catch (error) {
      this.options.log.error(`container ${platform.name}: cannot start: ${(error as Error).message}`);
      await this.takeDown(entry).catch(() => undefined);
      this.setStatus(entry, 'STOPPED');
      this.scheduleRecovery(entry);
    }
  }

  /** Required drivers must load or the container does not start; optional ones only warn. */
  private async loadDrivers(entry: Tracked): Promise<void> {
    const { required, optional } = entry.platform.drivers;
    const load = this.options.loadDrivers;
    if (load === undefined) return;
    if (required.length > 0 && !(await load(required))) throw new Error(`required drivers failed to load: ${required.join(', ')}`);
    if (optional.length > 0 && !(await load(optional))) this.options.log.warn(`container ${entry.platform.name}: optional drivers failed to load: ${optional.join(', ')}`);
  }

  private async mountVolumes(entry: Tracked): Promise<void> {
    const { platform, paths } = entry;
    const trail = join(this.options.layout.trails, this.revision);
    const rootVolume = platform.rootVolume;
    if (rootVolume === undefined) throw new Error('run.json has no root-volume');
    const lower = join(paths.volumes, rootVolume);
    await mountSquashfs(join(trail, platform.dir, rootVolume), lower);
    for (const volume of platform.volumes) await mountSquashfs(join(trail, platform.dir, volume), join(paths.volumes, volume));
    const overlay = this.overlayDirectory(entry);
    await mountOverlay(lower, join(overlay, 'upper'), join(overlay, 'work'), paths.rootfs);
  }

  /** Where the writable layer lives, by the persistence of run.json's `lxc-overlay` storage. */
  private overlayDirectory(entry: Tracked): string {
    const { platform } = entry;
    const persistence = platform.storage['lxc-overlay']?.persistence ?? 'boot';
    if (persistence === 'permanent') return join(this.options.layout.disksPerm, platform.name, 'lxc-overlay');
    if (persistence === 'revision') return join(this.options.layout.disksRev, this.revision, platform.name, 'lxc-overlay');
    const boot = join(entry.paths.root, 'boot-overlay');
    resetDirectory(boot);
    return boot;
  }

  private async launch(entry: Tracked): Promise<void> {
    const { platform, paths } = entry;
    // liblxc loads `<lxcpath>/<name>/config` when a handle opens, and loading a config adds to
    // what is there: start from an empty handle so mount entries never pile up across restarts.
    entry.handle?.release();
    rmSync(join(this.options.lxcPath, platform.name, 'config'), { force: true });
    const handle = this.options.openContainer(platform.name, this.options.lxcPath);
    entry.handle = handle;
    const trail = join(this.options.layout.trails, this.revision);
    const views = { runDir: this.options.layout.runDir, socket: this.options.layout.socket, logsRoot: this.options.layout.logs, revision: this.revision };
    mkdirSync(join(views.runDir, `user-meta.${platform.name}`), { recursive: true });
    mkdirSync(join(views.runDir, `device-meta.${platform.name}`), { recursive: true });
    mkdirSync(join(this.options.lxcPath, platform.name), { recursive: true });
    if (platform.config !== undefined) handle.loadConfig(join(trail, platform.dir, platform.config));
    for (const [key, value] of lxcOverrides(platform, paths, views, this.options.lxcLogLevel)) handle.setConfigItem(key, value);
    // The standard place, so `lxc-ls -P <lxcpath>` and `lxc-info` see the container even when stopped.
    handle.saveConfig(join(this.options.lxcPath, platform.name, 'config'));
    this.setStatus(entry, 'STARTING');
    // A monitor that died uncleanly leaves `lxc/<name>` behind, and LXC then refuses to start.
    await startInCleanCgroups(handle, platform.name);
    entry.startedAt = Date.now();
    this.setInfo(entry, { initPid: containerInitPid(platform.name) ?? -1, isStable: false, startedAt: entry.startedAt, lastAlive: undefined });
    // A `ready` signal can arrive before LXC reports RUNNING; it is not undone.
    if (this.statusOf(entry) === 'STARTING') this.setStatus(entry, 'STARTED');
  }

  /**
   * A container of the revision that is not running at boot: processes an earlier run left in
   * its cgroups without a monitor (LXC would refuse to start it: "stale cgroups"), and mounts
   * of its folder, go before it is mounted again.
   */
  private async clearOwnLeftovers(entry: Tracked): Promise<void> {
    const name = entry.platform.name;
    await this.stopStray(name, `leftover from a previous run: container ${name}`, 10_000);
    const unmounted = await unmountTree(entry.paths.root);
    if (unmounted.length > 0) this.options.log.warn(`leftover from a previous run: cleaned up mounts of ${name}: ${unmounted.join(', ')}`);
  }

  /** Stop (graceful, then kill) and unmount; leaves status STOPPED. */
  private async takeDown(entry: Tracked): Promise<void> {
    this.cancelRecovery(entry);
    const handle = entry.handle;
    const name = entry.platform.name;
    if (this.isAlive(entry)) {
      this.setStatus(entry, 'STOPPING');
      const grace = this.options.stopGraceSeconds ?? 5;
      // Each LXC call is bounded here too: one stuck on a hung monitor must not hold the container.
      let graceful = false;
      if (handle !== undefined) {
        const shutdown = handle.shutdown(grace).then((done) => (graceful = done));
        const answered = await settledBy(shutdown, Date.now() + (grace + LXC_CALL_SLACK_SECONDS) * 1000);
        // No answer at all means a monitor that does not answer: asking it to stop would hang too.
        if (answered && !graceful && this.isAlive(entry)) {
          await settledBy(handle.stop(STOP_WAIT_SECONDS), Date.now() + (STOP_WAIT_SECONDS + LXC_CALL_SLACK_SECONDS) * 1000);
        }
      }
      if (this.isAlive(entry)) await this.killCgroups(name, `container ${name}: LXC did not stop it`, STOP_WAIT_SECONDS * 1000);
    }
    await unmountTree(entry.paths.root);
    this.setInfo(entry, { initPid: -1, isStable: false });
    if (this.statusOf(entry) !== 'NONE') this.setStatus(entry, 'STOPPED');
  }

  /** Sleeps until a status changes or the group's timeout passes; never polls. */
  private async waitForGoals(members: Tracked[], timeoutSeconds: number): Promise<Tracked[]> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      if (this.stopping) return [];
      const goals = members.map((entry) => ({ name: entry.platform.name, status: this.statusOf(entry), goal: entry.platform.statusGoal }));
      const wait = goalWait(goals, Date.now(), deadline);
      if (wait.kind === 'reached') return [];
      if (wait.kind === 'timed-out') return members.filter((entry) => wait.names.includes(entry.platform.name));
      await this.nextStatusChange(deadline);
    }
  }

  /**
   * Look at one container when something happened to it — an action ended, its init exited (the
   * kernel said so), a timer of its fell due, a signal came: notice a dead init or a missed
   * alive deadline, mark it stable, and arm what the next look needs (an exit watch on its init,
   * one timer for the next instant something falls due). Nothing runs between those events.
   */
  private review(entry: Tracked, initExitReported = false): void {
    if (this.stopping || this.tracked.get(entry.platform.name) !== entry || this.actions.busy(entry)) return;
    this.clearDue(entry);
    if (!livenessWatched(this.statusOf(entry))) {
      this.unwatchExit(entry);
      return;
    }
    const name = entry.platform.name;
    const now = Date.now();
    // Once the kernel watches the init (a pidfd), it reports the exit: no need to look for the
    // init in the cgroups again at every alive signal or timer, which reads a few dozen files.
    const init = entry.exitWatch?.pid ?? containerInitPid(name);
    const watched = init !== undefined && this.watchExit(entry, init);
    const aliveTimeoutSeconds = aliveTimeout(entry.platform);
    const lastAlive = this.options.system.info(name)?.lastAlive;
    const verdict = liveness({ initExists: watched, aliveTimeoutSeconds, startedAt: entry.startedAt, lastAlive, now });
    if (verdict === 'alive') {
      const info = this.options.system.info(name);
      if (info === undefined) return;
      const change = stabilityChange(entry.recovery, entry.startedAt, now, info);
      if (Object.keys(change).length > 0) this.setInfo(entry, change);
      const due = nextLivenessDue({ recovery: entry.recovery, startedAt: entry.startedAt, info: { ...info, ...change }, aliveTimeoutSeconds, lastAlive });
      if (due !== undefined) {
        entry.dueTimer = setTimeout(() => {
          entry.dueTimer = undefined;
          this.review(entry);
        }, Math.max(0, due - now));
      }
      return;
    }
    this.unwatchExit(entry);
    const why = verdict === 'deadline-missed' ? 'liveness deadline missed (no alive signal)' : `init exited${initExitReported ? ' (reported by the kernel)' : ''}`;
    this.options.log.warn(`container ${name}: ${why}`);
    void this.serialise(entry, async () => {
      await this.takeDown(entry);
      if (this.options.system.info(name)?.userStopped) return;
      this.scheduleRecovery(entry);
    });
  }

  /**
   * Ask the kernel to report the exit of `init` (unless it already does); false when it is gone
   * already, or its pid no longer is the container's init (recycled between the two reads).
   */
  private watchExit(entry: Tracked, init: number): boolean {
    if (entry.exitWatch?.pid === init) return true;
    this.unwatchExit(entry);
    this.exitWatcher ??= (this.options.openExitWatcher ?? createPidfdWatcher)((token) => this.onInitExit(token));
    let token: number;
    try {
      token = this.exitWatcher.watch(init);
    } catch {
      return false;
    }
    entry.exitWatch = { token, pid: init };
    if (containerInitPid(entry.platform.name) === init) return true;
    this.unwatchExit(entry);
    return false;
  }

  private onInitExit(token: number): void {
    for (const entry of this.tracked.values()) {
      if (entry.exitWatch?.token !== token) continue;
      entry.exitWatch = undefined;
      this.review(entry, true);
      return;
    }
  }

  private unwatchExit(entry: Tracked): void {
    if (entry.exitWatch !== undefined) this.exitWatcher?.unwatch(entry.exitWatch.token);
    entry.exitWatch = undefined;
  }

  private clearDue(entry: Tracked): void {
    if (entry.dueTimer !== undefined) clearTimeout(entry.dueTimer);
    entry.dueTimer = undefined;
  }

  private stopWatching(entry: Tracked): void {
    this.unwatchExit(entry);
    this.clearDue(entry);
  }

  private cancelRecovery(entry: Tracked): void {
    if (entry.recoveryTimer !== undefined) clearTimeout(entry.recoveryTimer);
    entry.recoveryTimer = undefined;
  }

  /**
   * Auto-recovery after a failure: wait retry_delay × backoff_factor^retries, then start again,
   * up to max_retries; afterwards the backoff policy decides (a delay restarts the cycle, `never`
   * gives up, `reboot` is the device's call and is reported).
   */
  private scheduleRecovery(entry: Tracked): void {
    const name = entry.platform.name;
    const step = this.stopping ? ({ kind: 'none' } as const) : nextRecovery(entry.recovery, this.options.system.info(name)?.currentRetries ?? 0);
    if (step.kind === 'none') {
      this.options.log.error(`container ${name}: stopped and has no auto-recovery`);
      return;
    }
    if (step.kind === 'exhausted') {
      this.options.log.error(
        `container ${name}: ${entry.recovery?.maxRetries ?? 0} retries exhausted; backoff policy ${step.policy}${step.policy === 'reboot' ? ' (device reboot required)' : ''}`,
      );
      return;
    }
    const { delaySeconds } = step;
    this.setInfo(entry, { currentRetries: step.retries });
    this.setStatus(entry, 'RECOVERING');
    this.options.log.info(`container ${name}: recovery ${step.attempt} in ${delaySeconds} s`);
    entry.recoveryTimer = setTimeout(() => {
      entry.recoveryTimer = undefined;
      if (this.stopping || this.statusOf(entry) !== 'RECOVERING') return;
      void this.serialise(entry, () => this.bringUp(entry, false));
    }, delaySeconds * 1000);
  }
}
