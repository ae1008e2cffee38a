/**
 * Named crash points of every durable step (docs/reliability.md "Crash points (storage)").
 *
 * `PVCTRL_CRASH_AT=<point>[:<n>][@boot]` makes the daemon SIGKILL itself at the n-th pass
 * (default 1) of that point, so a test can stop it between any two steps of a durable write
 * and check what a restart finds. Passes count from `armFaultPoints()` (the daemon calls it once
 * it serves, so start-up writes that vary from run to run do not shift the count), or from the
 * start of the process with `@boot` (to crash start-up recovery itself).
 * `PVCTRL_FAULT_TRACE=<file>` appends every pass to a file; the reliability test learns from it
 * which points each operation passes and how often, and fails when a listed point is never
 * passed. Without either variable a pass is one boolean test.
 */
import { appendFileSync } from 'node:fs';

/** Steps written as temp → fsync → rename → fsync(dir): `:staged` before the rename, `:renamed` before the directory fsync. */
export const FILE_STEPS = ['init.file', 'current.link', 'object.js', 'object.native', 'revision.file', 'metadata.set', 'bootenv.write'] as const;
/** Directory replacements (swap.ts): `:staged`, `:parked` (old copy parked, name empty), `:renamed` (new in place, old still parked). */
export const SWAP_STEPS = ['revision.install', 'revision.factory', 'deploy.swap'] as const;

export type FileStep = (typeof FILE_STEPS)[number];
export type SwapStep = (typeof SWAP_STEPS)[number];

const OTHER_POINTS = [
  // a revision renamed out of trails/, not yet deleted (GC)
  'gc.revision:moved',
  // an unreferenced object unlinked, directory not yet fsync'ed (GC)
  'gc.object:unlinked',
  // a metadata key unlinked, directory not yet fsync'ed
  'metadata.delete:unlinked',
  // updater: trail deployed, nothing switched yet
  'updater.deployed',
  // updater: the new revision passed its test, nothing committed yet
  'updater.commit',
  // updater: the new revision failed, nothing rolled back yet
  'updater.rollback',
  // start-up found a try in the boot environment, nothing rolled back yet
  'updater.recover',
] as const;

export const FAULT_POINTS = [
  ...FILE_STEPS.flatMap((step) => [`${step}:staged`, `${step}:renamed`] as const),
  ...SWAP_STEPS.flatMap((step) => [`${step}:staged`, `${step}:parked`, `${step}:renamed`] as const),
  ...OTHER_POINTS,
] as const;

export type FaultPoint = `${FileStep}:${'staged' | 'renamed'}` | `${SwapStep}:${'staged' | 'parked' | 'renamed'}` | (typeof OTHER_POINTS)[number];

export const CRASH_AT_ENV = 'PVCTRL_CRASH_AT';
export const FAULT_TRACE_ENV = 'PVCTRL_FAULT_TRACE';
/** Line the trace gets when the daemon arms its points; passes after it are the operation's. */
export const TRACE_ARMED_MARK = '#armed';

export interface CrashPlan {
  point: FaultPoint;
  pass: number;
  fromBoot: boolean;
}

/** Parse `<point>[:<n>][@boot]`; undefined when unset, an Error when malformed. */
export function parseCrashPlan(text: string | undefined): CrashPlan | undefined | Error {
  if (text === undefined || text === '') return undefined;
  const match = /^([a-z.]+(?::[a-z]+)?)(?::([1-9][0-9]*))?(@boot)?$/.exec(text);
  const point = match?.[1];
  if (match === null || point === undefined || !isFaultPoint(point)) {
    return new Error(`${CRASH_AT_ENV}=${text}: expected <point>[:<n>][@boot] with a point of ${FAULT_POINTS.join(', ')}`);
  }
  return { point, pass: match[2] === undefined ? 1 : Number(match[2]), fromBoot: match[3] !== undefined };
}

export function isFaultPoint(name: string): name is FaultPoint {
  return (FAULT_POINTS as readonly string[]).includes(name);
}

const parsed = parseCrashPlan(process.env[CRASH_AT_ENV]);
if (parsed instanceof Error) throw parsed;
const plan = parsed;
const traceFile = process.env[FAULT_TRACE_ENV] || undefined;
const active = plan !== undefined || traceFile !== undefined;
let armed = plan?.fromBoot ?? false;
let passes = 0;

/** Start counting passes (the daemon calls this once it serves requests). */
export function armFaultPoints(): void {
  if (!active || armed) return;
  armed = true;
  if (traceFile !== undefined) appendFileSync(traceFile, `${TRACE_ARMED_MARK}\n`);
}

/** Mark a step boundary of a durable write; kills the process here when asked to. */
export function faultPoint(point: FaultPoint): void {
  if (!active) return;
  if (traceFile !== undefined) appendFileSync(traceFile, `${point}\n`);
  if (plan === undefined || !armed || point !== plan.point) return;
  passes++;
  if (passes !== plan.pass) return;
  process.kill(process.pid, 'SIGKILL');
  // Delivery to ourselves is immediate on Linux; the bounded wait only makes sure no later step runs.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5_000);
}
