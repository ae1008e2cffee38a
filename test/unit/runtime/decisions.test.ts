/**
 * The runtime's and updater's decisions, pure: status table, keep-set of a revision switch,
 * recovery backoff and reset window, liveness, control requests, goal waits, commit or roll
 * back. A fake clock is a `now` argument; no root, no LXC.
 */
import t from 'tap';
import { parseState, type AutoRecovery, type ParseOptions, type State } from '../../../src/state/index.ts';
import {
  CONTAINER_FAILED,
  GOAL_NOT_REACHED,
  becomesRollbackPoint,
  goalWait,
  hasFailed,
  keptAcrossSwitch,
  liveness,
  livenessWatched,
  nextLivenessDue,
  nextRecovery,
  planControl,
  stabilityChange,
  testVerdict,
} from '../../../src/runtime/decisions.ts';
import { canChange, goalReached, isDown, isUp, type PlatformStatus } from '../../../src/runtime/status.ts';

const ALL: PlatformStatus[] = ['NONE', 'INSTALLED', 'MOUNTED', 'BLOCKED', 'STARTING', 'STARTED', 'READY', 'RECOVERING', 'STOPPING', 'STOPPED'];
const OPTIONS: ParseOptions = { initMode: 'appengine', goalsTimeout: 120, secureBootMode: 'disabled' };
const SHA = (digit: string): string => digit.repeat(64);

function state(json: Record<string, unknown>): State {
  const parsed = parseState(JSON.stringify({ '#spec': 'pantavisor-service-system@1', ...json }), OPTIONS);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.state;
}

const run = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  type: 'lxc',
  group: 'app',
  'root-volume': 'root.squashfs',
  ...extra,
});

t.test('status table: goals, up/down, transitions', async (t) => {
  t.same(ALL.filter((status) => goalReached(status, 'MOUNTED')), ['MOUNTED', 'STARTING', 'STARTED', 'READY']);
  t.same(ALL.filter((status) => goalReached(status, 'STARTED')), ['STARTED', 'READY']);
  t.same(ALL.filter((status) => goalReached(status, 'READY')), ['READY']);
  t.same(ALL.filter((status) => goalReached(status, undefined)), ['READY'], 'no goal counts as READY');
  t.same(ALL.filter((status) => goalReached(status, 'constructor')), ['READY'], 'an unknown goal too, prototype names included');
  t.same(ALL.filter(isUp), ['STARTING', 'STARTED', 'READY']);
  t.same(ALL.filter(isDown), ['RECOVERING', 'STOPPED']);
  for (const status of ALL.filter((each) => each !== 'NONE')) t.ok(canChange(status, 'READY'), `a ready signal is taken in ${status} (spec quirk 23)`);
  t.notOk(canChange('READY', 'STARTED'), 'a ready signal during a start is not undone');
  t.notOk(canChange('STOPPING', 'MOUNTED'), 'a stop finishes before anything mounts');
  t.ok(canChange('INSTALLED', 'STARTED'), 'adoption');
  t.ok(canChange('STOPPED', 'RECOVERING'));
  t.ok(canChange('RECOVERING', 'MOUNTED'));
});

t.test('keep-set: unchanged, same group, settled at MOUNTED or beyond', async (t) => {
  const previous = state({
    'a/run.json': run('a'),
    'a/root.squashfs': SHA('1'),
    'b/run.json': run('b'),
    'b/root.squashfs': SHA('2'),
    'c/run.json': run('c'),
    'c/root.squashfs': SHA('3'),
    'd/run.json': run('d'),
    'gone/run.json': run('gone'),
  });
  const next = state({
    'a/run.json': run('a'),
    'a/root.squashfs': SHA('1'),
    'b/run.json': run('b'),
    'b/root.squashfs': SHA('9'),
    'c/run.json': run('c', { group: 'platform' }),
    'c/root.squashfs': SHA('3'),
    'd/run.json': run('d'),
    'new/run.json': run('new'),
  });
  const running = (status: PlatformStatus) => (name: string): PlatformStatus | undefined => (name === 'new' ? undefined : status);
  t.same([...keptAcrossSwitch(previous, next, running('READY'))], ['a', 'd'], 'a changed object or group restarts; new ones start');
  for (const status of ['MOUNTED', 'STARTED', 'READY'] as const) t.ok(keptAcrossSwitch(previous, next, running(status)).has('a'), `${status} is kept`);
  for (const status of ['STARTING', 'STOPPING', 'STOPPED', 'RECOVERING', 'INSTALLED'] as const) {
    t.notOk(keptAcrossSwitch(previous, next, running(status)).has('a'), `${status} is restarted`);
  }
});

const RECOVERY: AutoRecovery = {
  policy: 'on-failure',
  maxRetries: 3,
  retryDelay: 2,
  backoffFactor: 3,
  resetWindow: 60,
  stableTimeout: 10,
  backoffPolicy: { kind: 'never' },
};

t.test('recovery: retry_delay × backoff_factor^retries, then the backoff policy', async (t) => {
  t.same(nextRecovery(RECOVERY, 0), { kind: 'retry', delaySeconds: 2, retries: 1, attempt: 1 });
  t.same(nextRecovery(RECOVERY, 1), { kind: 'retry', delaySeconds: 6, retries: 2, attempt: 2 });
  t.same(nextRecovery(RECOVERY, 2), { kind: 'retry', delaySeconds: 18, retries: 3, attempt: 3 });
  t.same(nextRecovery(RECOVERY, 3), { kind: 'exhausted', policy: 'never' });
  t.same(nextRecovery({ ...RECOVERY, backoffPolicy: { kind: 'reboot' } }, 3), { kind: 'exhausted', policy: 'reboot' });
  t.same(nextRecovery({ ...RECOVERY, backoffPolicy: { kind: 'delay', seconds: 300 } }, 3), { kind: 'retry', delaySeconds: 300, retries: 0, attempt: 4 }, 'a delay policy restarts the cycle');
  t.same(nextRecovery(null, 0), { kind: 'none' });
  t.same(nextRecovery({ ...RECOVERY, policy: 'no' }, 0), { kind: 'none' });
});

t.test('stability and the reset window follow the clock', async (t) => {
  const started = 1_000_000;
  const fresh = { isStable: false, currentRetries: 2 };
  t.same(stabilityChange(RECOVERY, started, started + 9_999, fresh), {}, 'not yet stable');
  t.same(stabilityChange(RECOVERY, started, started + 10_000, fresh), { isStable: true }, 'stable after stable_timeout');
  t.same(stabilityChange(RECOVERY, started, started + 60_000, fresh), { isStable: true, currentRetries: 0 }, 'retries reset after the reset window');
  t.same(stabilityChange(RECOVERY, started, started + 60_000, { isStable: true, currentRetries: 0 }), {}, 'nothing to change');
  t.same(stabilityChange({ ...RECOVERY, resetWindow: 0 }, started, started + 10_000_000, { isStable: true, currentRetries: 3 }), {}, 'a 0 window never resets');
  t.same(stabilityChange(null, started, started + 60_000, fresh), {}, 'no recovery, nothing tracked');
});

t.test('liveness: init and the opt-in alive deadline', async (t) => {
  const base = { initExists: true, aliveTimeoutSeconds: undefined, startedAt: 1000, lastAlive: undefined, now: 1_000_000 };
  t.equal(liveness(base), 'alive');
  t.equal(liveness({ ...base, initExists: false }), 'init-exited');
  const deadline = { ...base, aliveTimeoutSeconds: 5, startedAt: 0 };
  t.equal(liveness({ ...deadline, now: 5_000 }), 'alive', 'counted from the start until the first signal');
  t.equal(liveness({ ...deadline, now: 5_001 }), 'deadline-missed');
  t.equal(liveness({ ...deadline, lastAlive: 4_000, now: 9_000 }), 'alive', 'each signal restarts it');
  t.equal(liveness({ ...deadline, lastAlive: 4_000, now: 9_001 }), 'deadline-missed');
  t.equal(liveness({ ...deadline, initExists: false, now: 9_001 }), 'deadline-missed', 'a missed deadline is reported first');
  t.same(ALL.filter(livenessWatched), ['STARTED', 'READY'], 'a start in progress is not checked');
});

t.test('the one instant a running container needs a timer: a window or the alive deadline, else none', async (t) => {
  const started = 1_000_000;
  const base = { recovery: RECOVERY, startedAt: started, info: { isStable: false, currentRetries: 2 }, aliveTimeoutSeconds: undefined, lastAlive: undefined };
  t.equal(nextLivenessDue(base), started + 10_000, 'stable_timeout first');
  t.equal(nextLivenessDue({ ...base, info: { isStable: true, currentRetries: 2 } }), started + 60_000, 'then the reset window, while there are retries to reset');
  t.equal(nextLivenessDue({ ...base, info: { isStable: true, currentRetries: 0 } }), undefined, 'stable, nothing to reset: no timer at all');
  t.equal(nextLivenessDue({ ...base, recovery: null }), undefined, 'no auto-recovery, no alive deadline: no timer');
  const alive = { ...base, recovery: null, aliveTimeoutSeconds: 20 };
  t.equal(nextLivenessDue(alive), started + 20_001, 'the alive deadline, counted from the start');
  t.equal(nextLivenessDue({ ...alive, lastAlive: started + 15_000 }), started + 35_001, 'each alive signal moves it');
  // At the instant returned, the verdicts change (a fake clock: the timer fires then, not in a poll).
  const due = nextLivenessDue(base) ?? 0;
  t.same(stabilityChange(RECOVERY, started, due - 1, base.info), {}, 'not a millisecond early');
  t.same(stabilityChange(RECOVERY, started, due, base.info), { isStable: true }, 'stable at the instant due');
  const deadline = nextLivenessDue(alive) ?? 0;
  const check = { initExists: true, aliveTimeoutSeconds: 20, startedAt: started, lastAlive: undefined };
  t.equal(liveness({ ...check, now: deadline - 1 }), 'alive');
  t.equal(liveness({ ...check, now: deadline }), 'deadline-missed', 'missed at the instant due');
  // Following the timers from start to rest ends with nothing armed.
  let info = base.info;
  let now = started;
  const seen: number[] = [];
  for (let step = 0; step < 5; step++) {
    const next = nextLivenessDue({ ...base, info });
    if (next === undefined) break;
    seen.push(next - started);
    now = next;
    info = { ...info, ...stabilityChange(RECOVERY, started, now, info) };
  }
  t.same(seen, [10_000, 60_000], 'two timers, at the two instants, then none');
  t.same(info, { isStable: true, currentRetries: 0 });
});

t.test('control: the state machine of spec §7.2', async (t) => {
  const START_REFUSED = { kind: 'refuse', message: 'Container must be in STOPPED, STOPPING, or RECOVERING state to start' };
  const RESTART_REFUSED = { kind: 'refuse', message: 'Container state does not allow restart' };
  for (const status of ['NONE', 'INSTALLED', 'MOUNTED', 'BLOCKED'] as const) {
    t.same(planControl(status, 'start'), START_REFUSED, `start in ${status}`);
    t.same(planControl(status, 'restart'), RESTART_REFUSED, `restart in ${status}`);
    t.same(planControl(status, 'stop'), { kind: 'stop', then: 'nothing' }, `stop in ${status}`);
  }
  for (const status of ['STARTING', 'STARTED', 'READY'] as const) {
    t.same(planControl(status, 'start'), { kind: 'nothing' }, `start in ${status}: already running`);
    t.same(planControl(status, 'restart'), { kind: 'start' });
    t.same(planControl(status, 'stop'), { kind: 'stop', then: 'take-down' });
  }
  t.same(planControl('STOPPING', 'stop'), { kind: 'stop', then: 'take-down' });
  t.same(planControl('STOPPING', 'start'), { kind: 'start' });
  t.same(planControl('RECOVERING', 'stop'), { kind: 'stop', then: 'mark-stopped' });
  t.same(planControl('RECOVERING', 'start'), { kind: 'start' });
  t.same(planControl('STOPPED', 'stop'), { kind: 'stop', then: 'nothing' });
  t.same(planControl('STOPPED', 'restart'), { kind: 'start' });
});

t.test('goal wait: reached, waiting, timed out at the deadline', async (t) => {
  const members = [
    { name: 'a', status: 'READY' as const, goal: 'READY' },
    { name: 'b', status: 'STARTED' as const, goal: 'READY' },
    { name: 'c', status: 'MOUNTED' as const, goal: 'MOUNTED' },
  ];
  t.same(goalWait(members, 1000, 2000), { kind: 'wait' });
  t.same(goalWait(members, 2000, 2000), { kind: 'timed-out', names: ['b'] });
  t.same(goalWait(members.slice(0, 1), 5000, 2000), { kind: 'reached' }, 'reached wins over the deadline');
});

t.test('commit or roll back', async (t) => {
  t.same(testVerdict({ goalTimeouts: 1, failed: 0, now: 0, deadline: 10 }), { kind: 'roll-back', reason: GOAL_NOT_REACHED });
  t.same(testVerdict({ goalTimeouts: 0, failed: 1, now: 0, deadline: 10 }), { kind: 'roll-back', reason: CONTAINER_FAILED });
  t.same(testVerdict({ goalTimeouts: 0, failed: 1, now: 10, deadline: 10 }), { kind: 'roll-back', reason: CONTAINER_FAILED }, 'a failure at the deadline still fails');
  t.same(testVerdict({ goalTimeouts: 0, failed: 0, now: 9, deadline: 10 }), { kind: 'wait' });
  t.same(testVerdict({ goalTimeouts: 0, failed: 0, now: 10, deadline: 10 }), { kind: 'commit' });
  t.ok(hasFailed({ tracked: false, goalTimedOut: false, status: 'READY' }), 'gone');
  t.ok(hasFailed({ tracked: true, goalTimedOut: true, status: 'READY' }), 'goal timed out');
  t.ok(hasFailed({ tracked: true, goalTimedOut: false, status: 'RECOVERING' }));
  t.notOk(hasFailed({ tracked: true, goalTimedOut: false, status: 'STOPPING' }), 'a stop in progress is not yet a failure');
  t.ok(becomesRollbackPoint('commit', false));
  t.ok(becomesRollbackPoint('run', true));
  t.notOk(becomesRollbackPoint('run', false));
  t.notOk(becomesRollbackPoint('try', true));
});
