/**
 * Talks to systemd as a `Type=notify` service (sd_notify(3)): `STATUS=` for each start-up phase,
 * `READY=1` once the socket answers, `STOPPING=1` when a stop begins, and `WATCHDOG=1` pings.
 *
 * The pings come from a timer on the event loop, never from a thread: when the loop is blocked
 * (a hung native call, a busy loop) the timer cannot fire, the ping is missed, and systemd's
 * watchdog restarts the daemon. That is the point of the watchdog.
 */
import { statusLine } from './environment.ts';

/** Sends one datagram; throws (with an errno `code`) when it cannot. Never waits. */
export type NotifySend = (address: string, message: string) => void;

/** What start-up reports (src/daemon.ts); a no-op without systemd. */
export interface StartupReporter {
  status(text: string): void;
  /** The socket answers: systemd may start what depends on pv-ctrl. */
  ready(): void;
}

export interface NotifierOptions {
  /** `NOTIFY_SOCKET`; without it every method does nothing. */
  readonly address?: string;
  /** Ping interval (half of `WATCHDOG_USEC`); without it there are no pings. */
  readonly watchdogIntervalMs?: number;
  readonly send: NotifySend;
  /** Told about a failed send, once per distinct failure (a dead socket must not flood the log). */
  readonly onSendError?: (message: string) => void;
}

export class SystemdNotifier implements StartupReporter {
  private watchdogTimer: ReturnType<typeof setInterval> | undefined;
  private stoppingSent = false;
  private lastFailure: string | undefined;

  constructor(private readonly options: NotifierOptions) {}

  /** True when run by systemd with a notify socket. */
  get enabled(): boolean {
    return this.options.address !== undefined;
  }

  get watchdogIntervalMs(): number | undefined {
    return this.options.watchdogIntervalMs;
  }

  status(text: string): void {
    this.notify(`STATUS=${statusLine(text)}`);
  }

  ready(): void {
    // A stop that began during start-up wins: never tell systemd we are ready while stopping.
    if (!this.stoppingSent) this.notify('READY=1');
  }

  stopping(): void {
    if (this.stoppingSent) return;
    this.stoppingSent = true;
    this.notify('STOPPING=1');
  }

  /** Start the pings (idempotent). The timer does not keep the process alive on its own. */
  startWatchdog(): void {
    const interval = this.options.watchdogIntervalMs;
    if (!this.enabled || interval === undefined || this.watchdogTimer !== undefined) return;
    this.notify('WATCHDOG=1');
    this.watchdogTimer = setInterval(() => this.notify('WATCHDOG=1'), interval);
    this.watchdogTimer.unref();
  }

  stopWatchdog(): void {
    if (this.watchdogTimer !== undefined) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }

  private notify(message: string): void {
    const address = this.options.address;
    if (address === undefined) return;
    try {
      this.options.send(address, message);
      this.lastFailure = undefined;
    } catch (error) {
      const failure = `cannot notify systemd at ${address}: ${(error as Error).message}`;
      if (failure !== this.lastFailure) this.options.onSendError?.(failure);
      this.lastFailure = failure;
    }
  }
}
