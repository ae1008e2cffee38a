/**
 * Typed facade over the pidfd part of the pvctrl_native (core) addon (native/src/pidfd_watch.cpp): the
 * kernel says when a watched process exits (its pidfd becomes readable), on a thread of the
 * addon's own, so nothing looks at /proc on a timer (issue 9).
 *
 * Kept apart from ./index.ts like ./lxc.ts, so a build without it only fails for the code that
 * watches processes.
 */
import { concernExports } from './index.ts';

/** The addon's PidfdWatcher instance. */
export interface PidfdWatcherHandle {
  /** Watch `pid`; returns a token the exit is reported with. Throws (code ESRCH) if it is gone. */
  watch(pid: number): number;
  /** Forget a token; its exit is not reported afterwards. Unknown tokens are ignored. */
  unwatch(token: number): void;
  /** Stop and join the watcher's thread and close every pidfd; idempotent. */
  close(): void;
  readonly size: number;
}

interface PidfdExports {
  PidfdWatcher: new (onExit: (token: number) => void) => PidfdWatcherHandle;
}

/** A watcher that calls `onExit(token)` on the JS thread once each watched process exited. */
export function createPidfdWatcher(onExit: (token: number) => void): PidfdWatcherHandle {
  const { PidfdWatcher } = concernExports<'pidfd', PidfdExports>('pidfd');
  return new PidfdWatcher(onExit);
}
