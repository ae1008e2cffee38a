/**
 * Container status: the one table of what each status means and which changes are allowed
 * (spec §7.1–7.3). Pure; the container runtime is the only code that changes a status, and it
 * asks this table first — like `pv_platform_set_status` in the C original.
 */

export type PlatformStatus =
  | 'NONE'
  | 'INSTALLED'
  | 'MOUNTED'
  | 'BLOCKED'
  | 'STARTING'
  | 'STARTED'
  | 'READY'
  | 'RECOVERING'
  | 'STOPPING'
  | 'STOPPED';

export type StatusGoal = 'MOUNTED' | 'STARTED' | 'READY';

interface StatusTraits {
  /** Order used to aggregate group and revision status: the lowest unreached status wins. */
  rank: number;
  /** How far towards a goal this status counts (0 = not at all): see goalReached. */
  progress: number;
  /** The container has, or is getting, an init process (spec §7.2 "STARTING / STARTED / READY"). */
  up: boolean;
  /** Stopped or waiting for an auto-recovery start: nothing runs and nothing is mounted. */
  down: boolean;
  /** Mid-change: an action of the runtime is moving the container to another status. */
  transient: boolean;
  /**
   * Statuses the runtime may set from this one. READY is reachable from every status: the
   * reference takes a `ready` signal whatever the current status (spec §7.3, quirk 23).
   */
  next: readonly PlatformStatus[];
}

const STATUS: Readonly<Record<PlatformStatus, StatusTraits>> = {
  NONE: { rank: 0, progress: 0, up: false, down: false, transient: false, next: [] },
  // Adoption after a daemon crash goes straight to STARTED or READY.
  INSTALLED: { rank: 1, progress: 0, up: false, down: false, transient: false, next: ['MOUNTED', 'STARTED', 'READY', 'STOPPED'] },
  MOUNTED: { rank: 2, progress: 1, up: false, down: false, transient: false, next: ['STARTING', 'READY', 'STOPPING', 'STOPPED'] },
  BLOCKED: { rank: 3, progress: 0, up: false, down: false, transient: false, next: ['MOUNTED', 'READY', 'STOPPING', 'STOPPED'] },
  STARTING: { rank: 4, progress: 1, up: true, down: false, transient: true, next: ['STARTED', 'READY', 'STOPPING', 'STOPPED'] },
  STARTED: { rank: 5, progress: 2, up: true, down: false, transient: false, next: ['READY', 'STOPPING', 'STOPPED'] },
  READY: { rank: 6, progress: 3, up: true, down: false, transient: false, next: ['STOPPING', 'STOPPED'] },
  RECOVERING: { rank: 1, progress: 0, up: false, down: true, transient: true, next: ['MOUNTED', 'READY', 'STOPPING', 'STOPPED'] },
  STOPPING: { rank: 1, progress: 0, up: false, down: false, transient: true, next: ['STOPPED', 'READY'] },
  STOPPED: { rank: 1, progress: 0, up: false, down: true, transient: false, next: ['MOUNTED', 'RECOVERING', 'READY', 'STOPPING'] },
};

/** Every status, in the table's order (e.g. one metrics gauge per container and status). */
export const PLATFORM_STATUSES = Object.keys(STATUS) as readonly PlatformStatus[];

const GOAL_PROGRESS: Readonly<Record<StatusGoal, number>> = { MOUNTED: 1, STARTED: 2, READY: 3 };

/** Whether the runtime may move a container from `from` to `to` (a no-op change is always fine). */
export function canChange(from: PlatformStatus, to: PlatformStatus): boolean {
  return from === to || STATUS[from].next.includes(to);
}

/** STARTING, STARTED or READY: the container has, or is getting, an init process. */
export const isUp = (status: PlatformStatus): boolean => STATUS[status].up;

/** STOPPED or RECOVERING: a failed (or user-stopped) container, not running. */
export const isDown = (status: PlatformStatus): boolean => STATUS[status].down;

/** Not in the middle of a change (STARTING, STOPPING, RECOVERING are). */
export const isSettled = (status: PlatformStatus): boolean => !STATUS[status].transient;

export const statusRank = (status: PlatformStatus): number => STATUS[status].rank;

/**
 * Whether `status` satisfies a container's status goal. MOUNTED is reached by any status that
 * has its volumes mounted (STARTING included); an unknown or missing goal counts as READY.
 */
export function goalReached(status: PlatformStatus, goal: string | undefined): boolean {
  const wanted = goal !== undefined && Object.hasOwn(GOAL_PROGRESS, goal) ? GOAL_PROGRESS[goal as StatusGoal] : GOAL_PROGRESS.READY;
  return STATUS[status].progress >= wanted;
}
