/**
 * The running revision as the API sees it: its parsed state, each container's status, and the
 * views built from them (`/containers`, `/groups`, `/xconnect-graph`). The container runtime
 * drives the statuses; until a container is started by it, it is INSTALLED.
 */
import type { State, Platform, Group, AutoRecovery } from '../state/index.ts';
import { effectiveAutoRecovery, formatBackoffPolicy } from '../state/index.ts';
import { goalReached, statusRank, type PlatformStatus } from './status.ts';
import { NO_EVENTS, type EventPublisher } from '../events/index.ts';

export type { PlatformStatus };

export interface PlatformRuntimeInfo {
  status: PlatformStatus;
  initPid: number;
  userStopped: boolean;
  currentRetries: number;
  isStable: boolean;
  /** Epoch ms of the last `alive` signal, for containers that opted into a liveness deadline. */
  lastAlive: number | undefined;
  /** Epoch ms when the container last started (the liveness deadline counts from here first). */
  startedAt: number | undefined;
}

/**
 * Opt-in liveness deadline: run.json `"alive": {"timeout": <seconds>}`. A container that opts in
 * must send `alive` at least that often once started, or it is treated as failed.
 */
export function aliveTimeout(platform: Platform): number | undefined {
  const alive = platform.raw.alive;
  if (typeof alive !== 'object' || alive === null || Array.isArray(alive)) return undefined;
  const timeout = (alive as Record<string, unknown>).timeout;
  return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : undefined;
}

/** What the container runtime offers the API: `PUT /containers/{name}` and `POST /signal`. */
export interface ContainerController {
  control(name: string, action: 'start' | 'stop' | 'restart'): Promise<void>;
  /** A container's `ready` signal: its status becomes READY (spec §7.3). */
  signalReady(name: string): void;
  /** A container's `alive` signal, for those with a liveness deadline. */
  signalAlive(name: string): void;
}

/** The one way to change containers' runtime info; the container runtime holds it. */
export interface RuntimeInfoWriter {
  update(name: string, change: Partial<PlatformRuntimeInfo>): void;
}

/** Satisfies the caller resolver's PlatformDirectory (src/server/caller.ts) by shape; src/daemon.ts hands it over. */
export class RunningSystem {
  revision: string | undefined;
  state: State | undefined;
  private attachedController: ContainerController | undefined;
  private readonly runtime = new Map<string, PlatformRuntimeInfo>();
  private writerTaken = false;

  /** `events` hears of a revision switch: the xconnect graph is built from the state. */
  constructor(private readonly events: EventPublisher = NO_EVENTS) {}

  /** The container runtime, once one runs (root, a revision with containers): the API's way to act on containers. */
  get controller(): ContainerController | undefined {
    return this.attachedController;
  }

  /** Called once, by whoever starts the container runtime; a second runtime would be a second owner. */
  attachController(controller: ContainerController): void {
    if (this.attachedController !== undefined) throw new Error('a container runtime is already attached');
    this.attachedController = controller;
  }

  /** Make `state` the running one; containers in `keep` carry their runtime info over (not restarted). */
  load(revision: string, state: State, keep: ReadonlySet<string> = new Set()): void {
    const switching = this.state !== undefined;
    this.revision = revision;
    this.state = state;
    const previous = new Map(this.runtime);
    this.runtime.clear();
    for (const platform of state.platforms) {
      const kept = keep.has(platform.name) ? previous.get(platform.name) : undefined;
      if (kept !== undefined) {
        this.runtime.set(platform.name, kept);
        continue;
      }
      this.runtime.set(platform.name, {
        status: 'INSTALLED',
        initPid: -1,
        userStopped: false,
        currentRetries: 0,
        isStable: false,
        lastAlive: undefined,
        startedAt: undefined,
      });
    }
    // Links come and go with the state (kept containers included), not only with a status change.
    if (switching) this.events.publish({ xconnect: { cause: 'revision' } });
  }

  findPlatform(name: string): { name: string; mgmt: boolean } | undefined {
    const platform = this.platform(name);
    return platform === undefined ? undefined : { name: platform.name, mgmt: platform.roles.mgmt };
  }

  platform(name: string): Platform | undefined {
    return this.state?.platforms.find((candidate) => candidate.name === name);
  }

  info(name: string): Readonly<PlatformRuntimeInfo> | undefined {
    return this.runtime.get(name);
  }

  /**
   * Statuses have one owner: the container runtime takes the writer once, when it is created;
   * everything else (the API included) reads, and asks the runtime for changes.
   */
  takeWriter(): RuntimeInfoWriter {
    if (this.writerTaken) throw new Error('the running system already has a writer');
    this.writerTaken = true;
    return {
      update: (name, change) => {
        const current = this.runtime.get(name);
        if (current !== undefined) Object.assign(current, change);
      },
    };
  }

  /** Aggregated status: the lowest status among members that have not reached their goal. */
  groupStatus(group: Group): PlatformStatus {
    let lowest: PlatformStatus = 'READY';
    for (const platform of this.state?.platforms ?? []) {
      if (platform.group !== group.name) continue;
      const status = this.runtime.get(platform.name)?.status ?? 'NONE';
      if (goalReached(status, platform.statusGoal)) continue;
      if (statusRank(status) < statusRank(lowest) || lowest === 'READY') lowest = status;
    }
    return lowest;
  }

  revisionStatus(): PlatformStatus {
    let lowest: PlatformStatus = 'READY';
    for (const group of this.state?.groups ?? []) {
      const status = this.groupStatus(group);
      if (status !== 'READY' && (lowest === 'READY' || statusRank(status) < statusRank(lowest))) lowest = status;
    }
    return lowest;
  }

  containersJson(): string {
    const items = (this.state?.platforms ?? []).map((platform) => {
      const info = this.runtime.get(platform.name);
      const item: Record<string, unknown> = {
        name: platform.name,
        group: platform.group ?? null,
        status: info?.status ?? 'NONE',
        status_goal: platform.statusGoal ?? 'NONE',
        restart_policy: platform.restartPolicy ?? 'unknown',
        roles: platform.roles.mgmt ? ['mgmt'] : [],
      };
      // The group's policy is copied into a container when it starts (spec §7.1), so it shows from then on.
      const group = this.state?.groups.find((candidate) => candidate.name === platform.group);
      const recovery = info?.startedAt !== undefined ? effectiveAutoRecovery(platform, group) : platform.autoRecovery;
      if (recovery !== null && recovery.policy !== 'no') item.auto_recovery = autoRecoveryView(recovery, info);
      if (platform.restartPolicy === 'container') item.user_stopped = String(info?.userStopped ?? false);
      const timeout = aliveTimeout(platform);
      if (timeout !== undefined) {
        const last = info?.lastAlive;
        item.alive = { timeout, last_signal_secs: last === undefined ? -1 : Math.floor((Date.now() - last) / 1000) };
      }
      return item;
    });
    return JSON.stringify(items);
  }

  groupsJson(): string {
    const items = (this.state?.groups ?? []).map((group) => {
      const item: Record<string, unknown> = {
        name: group.name,
        status_goal: group.statusGoal,
        restart_policy: group.restartPolicy,
        status: this.groupStatus(group),
      };
      if (group.autoRecovery !== null && group.autoRecovery.policy !== 'no') {
        item.auto_recovery = {
          max_retries: group.autoRecovery.maxRetries,
          stable_timeout: group.autoRecovery.stableTimeout,
          backoff_policy: formatBackoffPolicy(group.autoRecovery.backoffPolicy),
        };
      }
      return item;
    });
    return JSON.stringify(items);
  }

  /** Links from each consumer's requirements to every provider exporting that name (spec §7.12). */
  xconnectGraphJson(): string {
    const platforms = this.state?.platforms ?? [];
    const links: Record<string, unknown>[] = [];
    for (const consumer of platforms) {
      for (const requirement of [...consumer.services.required, ...consumer.services.optional]) {
        for (const provider of platforms) {
          for (const exported of provider.exports) {
            if (exported.name !== requirement.name) continue;
            links.push({
              consumer: consumer.name,
              consumer_pid: this.runtime.get(consumer.name)?.initPid ?? -1,
              provider: provider.name,
              provider_pid: this.runtime.get(provider.name)?.initPid ?? -1,
              name: requirement.name,
              type: exported.type,
              role: requirement.role ?? 'any',
              interface: requirement.interface ?? exported.type,
              target: requirement.target ?? null,
              socket: exported.socket ?? null,
            });
          }
        }
      }
    }
    return JSON.stringify(links);
  }
}

function autoRecoveryView(recovery: AutoRecovery, info: PlatformRuntimeInfo | undefined): Record<string, unknown> {
  return {
    policy: recovery.policy,
    max_retries: recovery.maxRetries,
    current_retries: info?.currentRetries ?? 0,
    stable_timeout: recovery.stableTimeout,
    is_stable: String(info?.isStable ?? false),
    backoff_policy: formatBackoffPolicy(recovery.backoffPolicy),
  };
}
