/**
 * What systemd tells a service through its environment (sd_notify(3), sd_watchdog_enabled(3),
 * sd_listen_fds(3)), read as a pure decision: where to send notify messages, how often to ping
 * the watchdog, and whether to serve a passed socket instead of binding the path.
 */

/** The variables systemd sets for its service; none of them is meant for the service's children. */
export const SYSTEMD_VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'] as const;

/** sd_listen_fds(3): passed descriptors start here. */
export const SD_LISTEN_FDS_START = 3;

export type ListenDecision =
  /** Bind the socket path ourselves (no socket activation, or the variables are someone else's). */
  | { readonly kind: 'bind' }
  /** Serve the listening socket systemd passed as `fd`. */
  | { readonly kind: 'fd'; readonly fd: number; readonly name?: string }
  /** Socket activation we cannot honour; start-up must fail with this reason. */
  | { readonly kind: 'refuse'; readonly reason: string };

export interface SystemdEnvironment {
  /** `NOTIFY_SOCKET`: an absolute path or `@abstract`; absent when not run by systemd as Type=notify. */
  readonly notifySocket?: string;
  /** Half of `WATCHDOG_USEC` (the interval sd_watchdog_enabled(3) advises), when the watchdog is ours. */
  readonly watchdogIntervalMs?: number;
  readonly listen: ListenDecision;
  /** Variables that are set but unusable, worth a warning (the daemon runs without them). */
  readonly problems: readonly string[];
}

type Environment = Readonly<Record<string, string | undefined>>;

const DECIMAL = /^[0-9]+$/;

/** A decimal pid/count as systemd writes it; undefined for anything else. */
function decimal(text: string | undefined): number | undefined {
  if (text === undefined || !DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function readSystemdEnvironment(env: Environment, pid: number): SystemdEnvironment {
  const problems: string[] = [];
  const notifySocket = notifyAddress(env.NOTIFY_SOCKET, problems);
  const watchdogIntervalMs = notifySocket === undefined ? undefined : watchdogInterval(env, pid, problems);
  return {
    ...(notifySocket !== undefined ? { notifySocket } : {}),
    ...(watchdogIntervalMs !== undefined ? { watchdogIntervalMs } : {}),
    listen: listenDecision(env, pid),
    problems,
  };
}

function notifyAddress(value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined || value === '') return undefined;
  // systemd also offers vsock: addresses (to virtual machines); a device's pv-ctrl has no use for them.
  if ((value.startsWith('/') || (value.startsWith('@') && value.length > 1)) && value.length < 108) return value;
  problems.push(`NOTIFY_SOCKET=${value} is not a Unix socket path or @name; not notifying systemd`);
  return undefined;
}

function watchdogInterval(env: Environment, pid: number, problems: string[]): number | undefined {
  if (env.WATCHDOG_USEC === undefined || env.WATCHDOG_USEC === '') return undefined;
  const usec = decimal(env.WATCHDOG_USEC);
  if (usec === undefined || usec === 0) {
    problems.push(`WATCHDOG_USEC=${env.WATCHDOG_USEC} is not a positive number of microseconds; no watchdog pings`);
    return undefined;
  }
  // Set for another process (we were exec'ed by a wrapper that kept the environment): not ours.
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && decimal(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

function listenDecision(env: Environment, pid: number): ListenDecision {
  if (env.LISTEN_PID === undefined || decimal(env.LISTEN_PID) !== pid) return { kind: 'bind' };
  const count = decimal(env.LISTEN_FDS);
  if (count === undefined || count === 0) return { kind: 'bind' };
  if (count !== 1) {
    return { kind: 'refuse', reason: `socket activation passed ${count} sockets; pv-ctrl serves one (a single ListenStream= in pv-ctrl.socket)` };
  }
  const name = env.LISTEN_FDNAMES?.split(':')[0];
  return { kind: 'fd', fd: SD_LISTEN_FDS_START, ...(name !== undefined && name !== '' ? { name } : {}) };
}

/** A single line for `STATUS=`: a line break would end the assignment and start another. */
export function statusLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
