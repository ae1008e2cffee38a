/**
 * The runtime's and updater's decisions as pure functions of state, statuses and time (`now`,
 * epoch ms, is always an argument). The effects — LXC calls, mounts, timers, files — stay in
 * containers.ts and updater.ts, which ask these first. Unit-tested without root in
 * test/unit/runtime/decisions.test.ts.
 */
import type { AutoRecovery, State } from '../state/index.ts';
import { goalReached, isDown, isSettled, isUp, type PlatformStatus } from './status.ts';

// ---- revision switch ----------------------------------------------------------------------------

/**
 * Containers that keep running across a switch from `previous` to `next`: in both revisions, in
 * the same group, with every state entry of its folder unchanged, and settled at MOUNTED or
 * beyond (a container mid-start or mid-stop is taken down and started again).
 */
export function keptAcrossSwitch(previous: State, next: State, statusOf: (name: string) => PlatformStatus | undefined): Set<string> {
  const keep = new Set<string>();
  for (const platform of next.platforms) {
    const before = previous.platforms.find((candidate) => candidate.name === platform.name);
    const status = statusOf(platform.name) ?? 'NONE';
    const running = isSettled(status) && goalReached(status, 'MOUNTED');
    if (before !== undefined && running && before.group === platform.group && sameEntries(previous, next, platform.dir)) keep.add(platform.name);
  }
  return keep;
}

/** Whether every state entry of a container (`<dir>/...`) is the same in both revisions. */
function sameEntries(previous: State, next: State, dir: string): boolean {
  const prefix = `${dir}/`;
  const pick = (state: State): string =>
    JSON.stringify(Object.entries(state.json).filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return pick(previous) === pick(next);
}

// ---- auto-recovery ------------------------------------------------------------------------------

export type RecoveryStep =
  /** No auto-recovery configured (or policy `no`): the container stays stopped. */
  | { kind: 'none' }
  /** Start again after `delaySeconds`; `retries` is the new retry counter. */
  | { kind: 'retry'; delaySeconds: number; retries: number; attempt: number }
  /** max_retries used up and the backoff policy says stop (`never`) or reboot the device. */
  | { kind: 'exhausted'; policy: 'never' | 'reboot' };

/**
 * After a failure with `retries` retries so far: wait retry_delay × backoff_factor^retries up to
 * max_retries; afterwards a `delay` backoff policy restarts the cycle after its delay.
 */
export function nextRecovery(recovery: AutoRecovery | null, retries: number): RecoveryStep {
  if (recovery === null || recovery.policy === 'no') return { kind: 'none' };
  if (retries < recovery.maxRetries) {
    return { kind: 'retry', delaySeconds: recovery.retryDelay * recovery.backoffFactor ** retries, retries: retries + 1, attempt: retries + 1 };
  }
  if (recovery.backoffPolicy.kind === 'delay') return { kind: 'retry', delaySeconds: recovery.backoffPolicy.seconds, retries: 0, attempt: retries + 1 };
  return { kind: 'exhausted', policy: recovery.backoffPolicy.kind };
}

/**
 * A container that keeps running: after stable_timeout it counts as stable, and after the reset
 * window its retry counter starts from 0 again. Returns only what changes.
 */
export function stabilityChange(
  recovery: AutoRecovery | null,
  startedAt: number,
  now: number,
  info: { isStable: boolean; currentRetries: number },
): { isStable?: true; currentRetries?: 0 } {
  if (recovery === null) return {};
  const up = now - startedAt;
  const change: { isStable?: true; currentRetries?: 0 } = {};
  if (!info.isStable && up >= recovery.stableTimeout * 1000) change.isStable = true;
  if (recovery.resetWindow > 0 && up >= recovery.resetWindow * 1000 && info.currentRetries > 0) change.currentRetries = 0;
  return change;
}

// ---- liveness -----------------------------------------------------------------------------------

export type Liveness = 'alive' | 'init-exited' | 'deadline-missed';

/**
 * A running container is alive while its init exists and, when it opted into a liveness
 * deadline (run.json `alive.timeout`), it sent `alive` within that many seconds — counted from
 * its start until the first signal.
 */
export function liveness(input: {
  initExists: boolean;
  aliveTimeoutSeconds: number | undefined;
  startedAt: number;
  lastAlive: number | undefined;
  now: number;
}): Liveness {
  const { aliveTimeoutSeconds, startedAt, lastAlive, now } = input;
  const since = Math.max(lastAlive ?? 0, startedAt);
  if (aliveTimeoutSeconds !== undefined && now - since > aliveTimeoutSeconds * 1000) return 'deadline-missed';
  return input.initExists ? 'alive' : 'init-exited';
}

/** Only settled, up containers are checked: the others are owned by an action in progress. */
export const livenessWatched = (status: PlatformStatus): boolean => isUp(status) && isSettled(status);

/**
 * When a running container next needs a look that no kernel event will prompt (an exit is
 * reported by its pidfd): the instant its stability or reset window falls due, or its `alive`
 * deadline passes (`liveness` says missed only strictly after it, hence the +1 ms). Undefined
 * when nothing is pending, so an idle, stable container arms no timer at all. The same
 * arithmetic as stabilityChange and liveness: at the instant returned, they give their verdict.
 */
export function nextLivenessDue(input: {
  recovery: AutoRecovery | null;
  startedAt: number;
  info: { isStable: boolean; currentRetries: number };
  aliveTimeoutSeconds: number | undefined;
  lastAlive: number | undefined;
}): number | undefined {
  const { recovery, startedAt, info, aliveTimeoutSeconds, lastAlive } = input;
  const due: number[] = [];
  if (recovery !== null && !info.isStable) due.push(startedAt + recovery.stableTimeout * 1000);
  if (recovery !== null && recovery.resetWindow > 0 && info.currentRetries > 0) due.push(startedAt + recovery.resetWindow * 1000);
  if (aliveTimeoutSeconds !== undefined) due.push(Math.max(lastAlive ?? 0, startedAt) + aliveTimeoutSeconds * 1000 + 1);
  return due.length === 0 ? undefined : Math.min(...due);
}

// ---- PUT /containers/{name} ---------------------------------------------------------------------

export type ContainerAction = 'start' | 'stop' | 'restart';

export type ControlPlan =
  | { kind: 'refuse'; message: string }
  /** `start` of a container that already runs. */
  | { kind: 'nothing' }
  /** Mark user-stopped, then: take it down, or just record STOPPED (a recovery wait), or nothing. */
  | { kind: 'stop'; then: 'take-down' | 'mark-stopped' | 'nothing' }
  /** Clear user-stopped and the retry counter; take it down if alive, then bring it up again. */
  | { kind: 'start' };

/** The state machine of spec §7.2 for one request, from the container's current status. */
export function planControl(status: PlatformStatus, action: ContainerAction): ControlPlan {
  const up = isUp(status);
  const restartable = up || isDown(status) || status === 'STOPPING';
  if (action === 'start' && !restartable) return { kind: 'refuse', message: 'Container must be in STOPPED, STOPPING, or RECOVERING state to start' };
  if (action === 'restart' && !restartable) return { kind: 'refuse', message: 'Container state does not allow restart' };
  if (action === 'stop') {
    if (up || status === 'STOPPING') return { kind: 'stop', then: 'take-down' };
    return { kind: 'stop', then: status === 'RECOVERING' ? 'mark-stopped' : 'nothing' };
  }
  if (action === 'start' && up) return { kind: 'nothing' };
  return { kind: 'start' };
}

// ---- group goals --------------------------------------------------------------------------------

export type GoalWait = { kind: 'reached' } | { kind: 'wait' } | { kind: 'timed-out'; names: string[] };

/** Waiting for a group's goals: done when all are reached, timed out at the deadline. */
export function goalWait(members: ReadonlyArray<{ name: string; status: PlatformStatus; goal: string | undefined }>, now: number, deadline: number): GoalWait {
  const pending = members.filter((member) => !goalReached(member.status, member.goal)).map((member) => member.name);
  if (pending.length === 0) return { kind: 'reached' };
  return now >= deadline ? { kind: 'timed-out', names: pending } : { kind: 'wait' };
}

// ---- commit or roll back ------------------------------------------------------------------------

/** A container failed a revision under test: gone, its goal timed out, or stopped/recovering. */
export function hasFailed(container: { tracked: boolean; goalTimedOut: boolean; status: PlatformStatus | undefined }): boolean {
  return !container.tracked || container.goalTimedOut || isDown(container.status ?? 'NONE');
}

export const GOAL_NOT_REACHED = 'Status goal not reached';
export const CONTAINER_FAILED = 'A container could not be started';

export type TestVerdict = { kind: 'commit' } | { kind: 'wait' } | { kind: 'roll-back'; reason: string };

/**
 * The test phase of an update: a goal timeout fails at once; then any failed container fails it,
 * and it passes once the commit delay (ending at `deadline`) went by without a failure.
 */
export function testVerdict(input: { goalTimeouts: number; failed: number; now: number; deadline: number }): TestVerdict {
  if (input.goalTimeouts > 0) return { kind: 'roll-back', reason: GOAL_NOT_REACHED };
  if (input.failed > 0) return { kind: 'roll-back', reason: CONTAINER_FAILED };
  return input.now >= input.deadline ? { kind: 'commit' } : { kind: 'wait' };
}

/** A commit makes the revision the rollback point; so does a `run` that needed a reboot transition. */
export const becomesRollbackPoint = (mode: 'run' | 'commit' | 'try', rebootLike: boolean): boolean => mode === 'commit' || (mode === 'run' && rebootLike);
