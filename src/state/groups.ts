import { parseBackoffPolicy } from './duration.ts';
import { StateError, isObject, own } from './json.ts';
import type {
  AutoRecovery,
  Group,
  GroupSpec,
  JsonObject,
  JsonValue,
  Platform,
  RecoveryPolicy,
  RestartPolicy,
  StatusGoal,
} from './types.ts';

/**
 * Content of REF's `defaults/groups.json` (spec §6.2). REF reads it from
 * `/etc/pantavisor/defaults/groups.json` at parse time; this port ships it as data so
 * validation does no I/O. It is still validated like state content.
 */
export const DEFAULT_GROUPS: readonly GroupSpec[] = Object.freeze([
  { name: 'data', status_goal: 'MOUNTED', restart_policy: 'system', timeout: 30 },
  { name: 'root', status_goal: 'STARTED', restart_policy: 'system', timeout: 30 },
  { name: 'platform', status_goal: 'STARTED', restart_policy: 'system', timeout: 30 },
  {
    name: 'app',
    status_goal: 'STARTED',
    restart_policy: 'container',
    timeout: 30,
    auto_recovery: {
      policy: 'on-failure',
      max_retries: 5,
      retry_delay: 5,
      backoff_factor: 2.0,
      stable_timeout: 30,
      backoff_policy: 'reboot',
    },
  },
]);

/**
 * Values for `auto_recovery` fields a document leaves out. The spec does not state
 * REF's; these follow the shipped `app` group so a bare `{"policy":"always"}` behaves
 * like the default recovering group, and a zero reset window means "never reset".
 */
const autoRecoveryDefaults: AutoRecovery = {
  policy: 'no',
  maxRetries: 5,
  retryDelay: 5,
  backoffFactor: 2,
  resetWindow: 0,
  stableTimeout: 30,
  backoffPolicy: { kind: 'reboot' },
};
export const AUTO_RECOVERY_DEFAULTS: Readonly<AutoRecovery> = Object.freeze(autoRecoveryDefaults);

const STATUS_GOALS: readonly StatusGoal[] = ['MOUNTED', 'STARTED', 'READY'];
const RESTART_POLICIES: readonly RestartPolicy[] = ['system', 'container'];
const RECOVERY_POLICIES: readonly RecoveryPolicy[] = ['no', 'always', 'on-failure', 'unless-stopped'];
/** REF stores the timeout in a C int. */
const MAX_TIMEOUT = 2_147_483_647;

export function parseStatusGoal(value: JsonValue | undefined, where: string): StatusGoal | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (STATUS_GOALS as readonly string[]).includes(value)) return value as StatusGoal;
  throw new StateError(`${where}: invalid status_goal ${JSON.stringify(value)}`);
}

export function parseRestartPolicy(value: JsonValue | undefined, where: string): RestartPolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (RESTART_POLICIES as readonly string[]).includes(value)) {
    return value as RestartPolicy;
  }
  throw new StateError(`${where}: invalid restart_policy ${JSON.stringify(value)}`);
}

/**
 * REF runs `strtol` on the raw token, so a non-numeric timeout silently becomes 0 and a
 * fraction is truncated. A goal timeout of 0 would fail every update, so this port
 * rejects anything but a non-negative integer (a digit-only string is kept for documents
 * that quote it).
 */
function parseTimeout(value: JsonValue | undefined, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  let n: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) n = value;
  else if (typeof value === 'string' && /^\d+$/.test(value)) n = Number(value);
  if (n === undefined) throw new StateError(`${where}: timeout ${JSON.stringify(value)} is not an integer`);
  if (n < 0) throw new StateError(`${where}: negative timeout ${n}`);
  if (n > MAX_TIMEOUT) throw new StateError(`${where}: timeout ${n} out of range`);
  return n;
}

function nonNegative(obj: JsonObject, key: string, fallback: number, where: string, integer: boolean): number {
  const value = own(obj, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || value < 0 || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'a non-negative integer' : 'a non-negative number';
    throw new StateError(`${where}: auto_recovery.${key} must be ${kind}`);
  }
  return value;
}

export function parseAutoRecovery(value: JsonValue | undefined, where: string): AutoRecovery | null {
  if (value === undefined) return null;
  if (!isObject(value)) throw new StateError(`${where}: auto_recovery is not an object`);
  const policy = own(value, 'policy');
  if (policy !== undefined && !(typeof policy === 'string' && (RECOVERY_POLICIES as readonly string[]).includes(policy))) {
    throw new StateError(`${where}: invalid auto_recovery.policy ${JSON.stringify(policy)}`);
  }
  const backoffText = own(value, 'backoff_policy');
  let backoffPolicy = AUTO_RECOVERY_DEFAULTS.backoffPolicy;
  if (backoffText !== undefined) {
    const parsed = typeof backoffText === 'string' ? parseBackoffPolicy(backoffText) : null;
    if (parsed === null) throw new StateError(`${where}: invalid auto_recovery.backoff_policy ${JSON.stringify(backoffText)}`);
    backoffPolicy = parsed;
  }
  const backoffFactor = nonNegative(value, 'backoff_factor', AUTO_RECOVERY_DEFAULTS.backoffFactor, where, false);
  if (backoffFactor === 0) throw new StateError(`${where}: auto_recovery.backoff_factor must be positive`);
  return {
    policy: (policy as RecoveryPolicy | undefined) ?? AUTO_RECOVERY_DEFAULTS.policy,
    maxRetries: nonNegative(value, 'max_retries', AUTO_RECOVERY_DEFAULTS.maxRetries, where, true),
    retryDelay: nonNegative(value, 'retry_delay', AUTO_RECOVERY_DEFAULTS.retryDelay, where, false),
    backoffFactor,
    resetWindow: nonNegative(value, 'reset_window', AUTO_RECOVERY_DEFAULTS.resetWindow, where, false),
    stableTimeout: nonNegative(value, 'stable_timeout', AUTO_RECOVERY_DEFAULTS.stableTimeout, where, false),
    backoffPolicy,
  };
}

/**
 * Parses a groups list (`groups.json`, `device.json` → `groups`, or the defaults).
 * `where` names the source in rejection reasons; entries are numbered from 1.
 */
export function parseGroups(value: JsonValue | readonly GroupSpec[] | undefined, where: string, goalsTimeout: number): Group[] {
  if (!Array.isArray(value)) throw new StateError(`${where}: groups must be an array`);
  if (value.length === 0) throw new StateError(`${where}: groups array is empty`);
  const groups: Group[] = [];
  const names = new Set<string>();
  (value as readonly unknown[]).forEach((raw, index) => {
    const at = `${where}: entry ${index + 1}`;
    const entry = raw as JsonValue;
    if (!isObject(entry)) throw new StateError(`${at} is not an object`);
    if (Object.keys(entry).length === 0) throw new StateError(`${at} is empty`);
    const statusGoal = parseStatusGoal(own(entry, 'status_goal'), at) ?? 'STARTED';
    const timeout = parseTimeout(own(entry, 'timeout'), goalsTimeout, at);
    const restartPolicy = parseRestartPolicy(own(entry, 'restart_policy'), at) ?? 'container';
    const name = own(entry, 'name');
    if (name === undefined) throw new StateError(`${at} has no "name"`);
    if (typeof name !== 'string' || name === '') throw new StateError(`${at} has an invalid "name"`);
    // REF would keep both and always resolve the first, leaving the second unreachable.
    if (names.has(name)) throw new StateError(`${at}: duplicate group name ${JSON.stringify(name)}`);
    names.add(name);
    const group: Group = {
      name,
      statusGoal,
      restartPolicy,
      timeout,
      autoRecovery: parseAutoRecovery(own(entry, 'auto_recovery'), `${at} (${name})`),
    };
    const description = own(entry, 'description');
    if (typeof description === 'string') group.description = description;
    groups.push(group);
  });
  return groups;
}

/**
 * The recovery policy a platform runs with: its own unless absent or `no`, in which
 * case the group's is copied wholesale when the platform starts (spec §6.2).
 */
export function effectiveAutoRecovery(platform: Platform, group: Group | undefined): AutoRecovery | null {
  if (platform.autoRecovery !== null && platform.autoRecovery.policy !== 'no') return platform.autoRecovery;
  return group?.autoRecovery ?? platform.autoRecovery;
}
