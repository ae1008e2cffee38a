/**
 * systemd integration of the daemon (docs/operations.md "systemd"): read what systemd passed,
 * take it out of the environment children inherit, and hand back the notifier and the listen
 * decision. Without systemd's variables this loads nothing native and changes nothing.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { listenSocketPath, sdNotify, unsetEnvironment } from '../native/systemd.ts';
import { readSystemdEnvironment, SYSTEMD_VARIABLES, type ListenDecision } from './environment.ts';
import { SystemdNotifier } from './notifier.ts';

export { SystemdNotifier, type StartupReporter } from './notifier.ts';
export type { ListenDecision } from './environment.ts';

export interface SystemdSession {
  readonly notifier: SystemdNotifier;
  readonly listen: ListenDecision;
  readonly problems: readonly string[];
}

/**
 * Like sd_notify/sd_listen_fds with unset_environment: the variables describe this process only,
 * so they are removed before any child (pv-xconnect, the LXC start helper, dropbear) is spawned.
 */
export function adoptSystemdEnvironment(onSendError?: (message: string) => void, env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): SystemdSession {
  const read = readSystemdEnvironment(env, pid);
  for (const name of SYSTEMD_VARIABLES) if (env[name] !== undefined) unsetEnvironment(name);
  const notifier = new SystemdNotifier({
    ...(read.notifySocket !== undefined ? { address: read.notifySocket } : {}),
    ...(read.watchdogIntervalMs !== undefined ? { watchdogIntervalMs: read.watchdogIntervalMs } : {}),
    send: sdNotify,
    ...(onSendError !== undefined ? { onSendError } : {}),
  });
  return { notifier, listen: read.listen, problems: read.problems };
}

/**
 * The passed socket, checked (a listening Unix stream socket, close-on-exec from now on) and
 * located: its path is where the start-up self-check connects. Throws with the reason otherwise.
 */
export function activatedSocketPath(fd: number): string {
  const path = listenSocketPath(fd);
  // node:net connects to paths only; an abstract or unnamed socket is also out of reach of
  // pvcontrol and of containers, which find the API by its path in the run dir.
  if (!path.startsWith('/')) throw new Error(`the passed socket must be bound to a path (ListenStream=/run/pantavisor/pv/pv-ctrl), not '${path}'`);
  return path;
}

/**
 * Test hook: with `PVCTRL_TEST_BLOCK_LOOP=<file>` in its environment, SIGUSR2 blocks the daemon's
 * event loop (its threads run on) until `<file>` exists, at most 30 s: a hung handler on demand.
 * It writes `<file>.blocked` once blocked and removes both when done. The watchdog test uses it
 * to show that pings come from the loop and stop with it. Without the variable: nothing.
 */
export const BLOCK_LOOP_ENV = 'PVCTRL_TEST_BLOCK_LOOP';
const BLOCK_LOOP_LIMIT_MS = 30_000;

export function armLoopBlockHook(env: Readonly<Record<string, string | undefined>> = process.env): void {
  const release = env[BLOCK_LOOP_ENV];
  if (release === undefined || release === '') return;
  process.on('SIGUSR2', () => {
    writeFileSync(`${release}.blocked`, '');
    const deadline = Date.now() + BLOCK_LOOP_LIMIT_MS;
    while (!existsSync(release) && Date.now() < deadline) Bun.sleepSync(10);
    rmSync(`${release}.blocked`, { force: true });
    rmSync(release, { force: true });
  });
}
