/**
 * Supervisor of the daemon's helper processes (spec §7.11). The table is filled by whoever owns
 * a helper (pv-xconnect, the SSH server); an empty table is a valid device.
 */
import { notFound } from '../errors.ts';
import type { DaemonControl, DaemonView } from '../api/services.ts';

export interface ManagedDaemon {
  readonly name: string;
  view(): DaemonView;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class DaemonSupervisor implements DaemonControl {
  private readonly daemons = new Map<string, ManagedDaemon>();

  register(daemon: ManagedDaemon): void {
    this.daemons.set(daemon.name, daemon);
  }

  list(): DaemonView[] {
    return [...this.daemons.values()].map((daemon) => daemon.view());
  }

  has(name: string): boolean {
    return this.daemons.has(name);
  }

  async control(name: string, action: 'start' | 'stop' | 'restart'): Promise<void> {
    const daemon = this.daemons.get(name);
    if (daemon === undefined) throw notFound('Daemon not found');
    if (action !== 'start') await daemon.stop();
    if (action !== 'stop') await daemon.start();
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.daemons.values()].map((daemon) => daemon.stop()));
  }
}
