/**
 * The container runtime: runs the containers of the running revision on LXC, group by group,
 * tracks each one's status against its goal, restarts failed ones per auto-recovery, and takes
 * `PUT /containers/{name}` actions (spec §6.2–6.3, §7.2).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest, notFound } from '../errors.ts';
import type { Logger } from '../log.ts';
import { effectiveAutoRecovery, type AutoRecovery, type Group, type Platform, type State } from '../state/index.ts';
import { writeFileDurable } from '../storage/durable.ts';
import type { StorageLayout } from '../storage/layout.ts';
import { lxcOverrides, type ContainerPaths } from './lxc-config.ts';
import { removeStaleContainerCgroups, type LxcContainerHandle } from '../native/lxc.ts';
import { mountOverlay, mountSquashfs, resetDirectory, unmountTree } from './mounts.ts';
import { aliveTimeout, type ContainerController, type PlatformStatus, type RunningSystem } from './running-system.ts';

/** What the runtime needs from an LXC container: a slice of the addon facade, so tests can fake it. */
export type LxcHandle = Pick<
  LxcContainerHandle,
  'loadConfig' | 'setConfigItem' | 'saveConfig' | 'start' | 'shutdown' | 'stop' | 'isRunning' | 'initPid' | 'release'
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
  onStatusChange?(name: string, status: PlatformStatus): void;
  /** Seconds between liveness checks of running containers. */
  monitorIntervalMs?: number;
  /** Grace before a stop turns into a kill. */
  stopGraceSeconds?: number;
}

interface Tracked {
  platform: Platform;
  group: Group | undefined;
  handle: LxcHandle | undefined;
  paths: ContainerPaths;
  recovery: AutoRecovery | null;
  startedAt: number;
  /** Set while an action owns the container (start, stop, recovery wait). */
  busy: Promise<void> | undefined;
  recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  goalTimedOut: boolean;
}

const GOAL_RANK: Record<string, number> = { MOUNTED: 1, STARTED: 2, READY: 3 };

export function goalReached(status: PlatformStatus, goal: string): boolean {
  const rank: Partial<Record<PlatformStatus, number>> = { MOUNTED: 1, STARTING: 1, STARTED: 2, READY: 3 };
  return (rank[status] ?? 0) >= (GOAL_RANK[goal] ?? 3);
}

export class ContainerRuntime implements ContainerController {
  private readonly tracked = new Map<string, Tracked>();
  private revision = '';
  private monitor: ReturnType<typeof setInterval> | undefined;
  private stopping = false;

  constructor(private readonly options: ContainerRuntimeOptions) {
    // Changes made outside the runtime (a `ready` signal) must survive a daemon crash too.
    options.system.onChange = (name) => {
      const entry = this.tracked.get(name);
      if (entry !== undefined) this.persist(entry);
    };
  }

  /**
   * Bring up a revision: each group in declaration order, waiting for the group's goal (or its
   * timeout) before the next. Containers still running from before a daemon crash are adopted.
   * Resolves with the names whose goal timed out.
   */
  async startRevision(revision: string, state: State, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    this.revision = revision;
    this.stopping = false;
    mkdirSync(this.options.lxcPath, { recursive: true });
    for (const platform of state.platforms) {
      const group = state.groups.find((candidate) => candidate.name === platform.group);
      const kept = keep.has(platform.name) ? this.tracked.get(platform.name) : undefined;
      if (kept !== undefined) {
        Object.assign(kept, { platform, group, recovery: effectiveAutoRecovery(platform, group) });
        continue;
      }
      this.tracked.set(platform.name, {
        platform,
        group,
        handle: undefined,
        paths: this.pathsOf(platform.name),
        recovery: effectiveAutoRecovery(platform, group),
        startedAt: 0,
        busy: undefined,
        recoveryTimer: undefined,
        goalTimedOut: false,
      });
    }
    this.monitor ??= setInterval(() => this.checkLiveness(), this.options.monitorIntervalMs ?? 1000);
    const timedOut: string[] = [];
    for (const group of state.groups) {
      const members = [...this.tracked.values()].filter((entry) => entry.platform.group === group.name);
      if (members.length === 0) continue;
      await Promise.all(members.filter((entry) => !keep.has(entry.platform.name)).map((entry) => this.bringUp(entry, true)));
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
    const keep = new Set<string>();
    for (const platform of state.platforms) {
      const before = previous.platforms.find((candidate) => candidate.name === platform.name);
      const status = this.options.system.info(platform.name)?.status;
      const running = status === 'STARTED' || status === 'READY' || status === 'MOUNTED';
      if (before !== undefined && running && sameEntries(previous, state, platform.dir, before.group === platform.group)) keep.add(platform.name);
    }
    const groups = previous.groups;
    for (const group of [...groups].reverse()) {
      const leaving = [...this.tracked.values()].filter((entry) => entry.platform.group === group.name && !keep.has(entry.platform.name));
      await Promise.all(leaving.map((entry) => this.serialise(entry, () => this.takeDown(entry))));
    }
    for (const [name, entry] of this.tracked) {
      if (keep.has(name)) continue;
      this.cancelRecovery(entry);
      entry.handle?.release();
      this.tracked.delete(name);
    }
    this.options.log.info(`switching to revision ${revision}; kept running: ${[...keep].join(', ') || 'none'}`);
    this.options.system.load(revision, state, keep);
    return this.startRevision(revision, state, keep);
  }

  /** A container failed since the given time (stopped, recovering or its goal timed out). */
  failedSince(names: readonly string[]): string[] {
    return names.filter((name) => {
      const entry = this.tracked.get(name);
      const status = this.options.system.info(name)?.status;
      return entry === undefined || entry.goalTimedOut || status === 'STOPPED' || status === 'RECOVERING';
    });
  }

  /** Stop every container, last group first, and unmount what we mounted. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = undefined;
    const groups = this.options.system.state?.groups ?? [];
    for (const group of [...groups].reverse()) {
      const members = [...this.tracked.values()].filter((entry) => entry.platform.group === group.name);
      await Promise.all(members.map((entry) => this.takeDown(entry)));
    }
    for (const entry of this.tracked.values()) {
      entry.handle?.release();
      entry.handle = undefined;
    }
  }

  /** `PUT /containers/{name}`: the state machine of spec §7.2; effects run in the background. */
  async control(name: string, action: 'start' | 'stop' | 'restart'): Promise<void> {
    const entry = this.tracked.get(name);
    if (entry === undefined) throw notFound('Container not found');
    const status = this.statusOf(entry);
    const running = status === 'STARTING' || status === 'STARTED' || status === 'READY';
    const stoppedLike = status === 'STOPPED' || status === 'RECOVERING';
    if (action === 'start' && !running && !stoppedLike && status !== 'STOPPING') {
      throw badRequest('Container must be in STOPPED, STOPPING, or RECOVERING state to start');
    }
    if (action === 'restart' && !running && !stoppedLike && status !== 'STOPPING') {
      throw badRequest('Container state does not allow restart');
    }
    this.options.log.info(`container ${name}: ${action} requested (status ${status})`);
    if (action === 'stop') {
      this.cancelRecovery(entry);
      this.setInfo(entry, { userStopped: true });
      if (running || status === 'STOPPING') void this.serialise(entry, () => this.takeDown(entry));
      else if (status === 'RECOVERING') this.setStatus(entry, 'STOPPED');
      return;
    }
    if (action === 'start' && running) return;
    this.cancelRecovery(entry);
    this.setInfo(entry, { userStopped: false, currentRetries: 0 });
    void this.serialise(entry, async () => {
      if (this.isAlive(entry)) await this.takeDown(entry);
      await this.bringUp(entry, false);
    });
  }

  private serialise(entry: Tracked, work: () => Promise<void>): Promise<void> {
    const previous = entry.busy ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(work)
      .catch((error: unknown) => this.options.log.error(`container ${entry.platform.name}: ${(error as Error).message}`))
      .finally(() => {
        if (entry.busy === next) entry.busy = undefined;
      });
    entry.busy = next;
    return next;
  }

  private pathsOf(name: string): ContainerPaths {
    const root = join(this.options.runtimeRoot, name);
    return { root, rootfs: join(root, 'rootfs'), volumes: join(root, 'volumes'), logDir: '' };
  }

  private statusOf(entry: Tracked): PlatformStatus {
    return this.options.system.info(entry.platform.name)?.status ?? 'NONE';
  }

  private setStatus(entry: Tracked, status: PlatformStatus): void {
    if (this.statusOf(entry) === status) return;
    this.options.system.update(entry.platform.name, { status });
    this.options.log.info(`container ${entry.platform.name}: ${status}`);
    this.options.onStatusChange?.(entry.platform.name, status);
  }

  private setInfo(entry: Tracked, change: Parameters<RunningSystem['update']>[1]): void {
    this.options.system.update(entry.platform.name, change);
  }

  /** Status survives a daemon crash so that adopted containers keep their state. */
  private persist(entry: Tracked): void {
    const info = this.options.system.info(entry.platform.name);
    if (info === undefined) return;
    try {
      mkdirSync(entry.paths.root, { recursive: true });
      writeFileDurable(
        join(entry.paths.root, 'status.json'),
        JSON.stringify({ revision: this.revision, status: info.status, userStopped: info.userStopped, currentRetries: info.currentRetries, startedAt: entry.startedAt }),
      );
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

  private isAlive(entry: Tracked): boolean {
    try {
      return entry.handle?.isRunning() ?? false;
    } catch {
      return false;
    }
  }

  /** Mount and (unless the goal is MOUNTED) start one container; `boot` allows adoption. */
  private async bringUp(entry: Tracked, boot: boolean): Promise<void> {
    const { platform } = entry;
    entry.paths.logDir = join(this.options.layout.logs, this.revision, platform.name, 'lxc');
    mkdirSync(entry.paths.logDir, { recursive: true });
    entry.handle ??= this.options.openContainer(platform.name, this.options.lxcPath);
    if (boot && this.isAlive(entry)) {
      const saved = this.readPersisted(entry);
      entry.startedAt = saved?.startedAt ?? Date.now();
      const status = saved?.status === 'READY' ? 'READY' : 'STARTED';
      this.setInfo(entry, { initPid: entry.handle.initPid(), userStopped: false, currentRetries: saved?.currentRetries ?? 0, startedAt: entry.startedAt });
      this.setStatus(entry, status);
      this.options.log.info(`container ${platform.name}: adopted running container (pid ${entry.handle.initPid()})`);
      return;
    }
    if (boot) await unmountTree(entry.paths.root);
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
    const busy = removeStaleContainerCgroups(platform.name);
    if (busy.length > 0) throw new Error(`stale cgroups still in use: ${busy.join(', ')}`);
    await handle.start();
    entry.startedAt = Date.now();
    this.setInfo(entry, { initPid: handle.initPid(), isStable: false, startedAt: entry.startedAt, lastAlive: undefined });
    this.setStatus(entry, 'STARTED');
  }

  /** Stop (graceful, then kill) and unmount; leaves status STOPPED. */
  private async takeDown(entry: Tracked): Promise<void> {
    this.cancelRecovery(entry);
    const handle = entry.handle;
    if (handle !== undefined && this.isAlive(entry)) {
      this.setStatus(entry, 'STOPPING');
      const graceful = await handle.shutdown(this.options.stopGraceSeconds ?? 5).catch(() => false);
      if (!graceful && this.isAlive(entry)) await handle.stop();
    }
    await unmountTree(entry.paths.root);
    this.setInfo(entry, { initPid: -1, isStable: false });
    if (this.statusOf(entry) !== 'NONE') this.setStatus(entry, 'STOPPED');
  }

  private async waitForGoals(members: Tracked[], timeoutSeconds: number): Promise<Tracked[]> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const pending = members.filter((entry) => !goalReached(this.statusOf(entry), entry.platform.statusGoal));
      if (pending.length === 0 || this.stopping) return [];
      if (Date.now() >= deadline) return pending;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Notice dead inits, mark containers stable, drive auto-recovery. */
  private checkLiveness(): void {
    if (this.stopping) return;
    for (const entry of this.tracked.values()) {
      if (entry.busy !== undefined) continue;
      const status = this.statusOf(entry);
      if (status !== 'STARTED' && status !== 'READY') continue;
      const missedDeadline = this.missedAliveDeadline(entry);
      if (this.isAlive(entry) && !missedDeadline) {
        this.markStable(entry);
        continue;
      }
      this.options.log.warn(`container ${entry.platform.name}: ${missedDeadline ? 'liveness deadline missed (no alive signal)' : 'init exited'}`);
      void this.serialise(entry, async () => {
        await this.takeDown(entry);
        if (this.options.system.info(entry.platform.name)?.userStopped) return;
        this.scheduleRecovery(entry);
      });
    }
  }

  private missedAliveDeadline(entry: Tracked): boolean {
    const timeout = aliveTimeout(entry.platform);
    if (timeout === undefined) return false;
    const info = this.options.system.info(entry.platform.name);
    const since = Math.max(info?.lastAlive ?? 0, entry.startedAt);
    return Date.now() - since > timeout * 1000;
  }

  private markStable(entry: Tracked): void {
    const recovery = entry.recovery;
    if (recovery === null) return;
    const upSeconds = (Date.now() - entry.startedAt) / 1000;
    const info = this.options.system.info(entry.platform.name);
    if (info !== undefined && !info.isStable && upSeconds >= recovery.stableTimeout) this.setInfo(entry, { isStable: true });
    if (recovery.resetWindow > 0 && upSeconds >= recovery.resetWindow && (info?.currentRetries ?? 0) > 0) this.setInfo(entry, { currentRetries: 0 });
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
    const recovery = entry.recovery;
    const name = entry.platform.name;
    if (this.stopping || recovery === null || recovery.policy === 'no') {
      this.options.log.error(`container ${name}: stopped and has no auto-recovery`);
      return;
    }
    const retries = this.options.system.info(name)?.currentRetries ?? 0;
    let delaySeconds: number;
    if (retries < recovery.maxRetries) {
      delaySeconds = recovery.retryDelay * recovery.backoffFactor ** retries;
      this.setInfo(entry, { currentRetries: retries + 1 });
    } else if (recovery.backoffPolicy.kind === 'delay') {
      delaySeconds = recovery.backoffPolicy.seconds;
      this.setInfo(entry, { currentRetries: 0 });
    } else {
      this.options.log.error(
        `container ${name}: ${recovery.maxRetries} retries exhausted; backoff policy ${recovery.backoffPolicy.kind}${recovery.backoffPolicy.kind === 'reboot' ? ' (device reboot required)' : ''}`,
      );
      return;
    }
    this.setStatus(entry, 'RECOVERING');
    this.options.log.info(`container ${name}: recovery ${retries + 1} in ${delaySeconds} s`);
    entry.recoveryTimer = setTimeout(() => {
      entry.recoveryTimer = undefined;
      if (this.stopping || this.statusOf(entry) !== 'RECOVERING') return;
      void this.serialise(entry, () => this.bringUp(entry, false));
    }, delaySeconds * 1000);
  }
}

/** Whether every state entry of a container (`<dir>/...`) is the same in both revisions. */
function sameEntries(previous: State, next: State, dir: string, sameGroup: boolean): boolean {
  if (!sameGroup) return false;
  const prefix = `${dir}/`;
  const pick = (state: State): string =>
    JSON.stringify(Object.entries(state.json).filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return pick(previous) === pick(next);
}
