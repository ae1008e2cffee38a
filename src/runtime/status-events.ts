/**
 * Status changes as events (GET /events): a container's change (from, to, reason), the group
 * statuses it changed, and an xconnect graph change when the container's process appeared or
 * went. The runtime's single status setter reports each change here (via onStatusChange).
 */
import type { EventPublisher } from '../events/index.ts';
import type { PlatformRuntimeInfo, RunningSystem } from './running-system.ts';
import type { PlatformStatus } from './status.ts';

/** Why a status changed, as far as the runtime info tells: a pure decision. */
export function statusReason(from: PlatformStatus, to: PlatformStatus, info: Readonly<Pick<PlatformRuntimeInfo, 'userStopped'>> | undefined): string {
  if (to === 'RECOVERING') return 'auto-recovery';
  if (to === 'READY') return 'ready signal';
  if ((to === 'STOPPING' || to === 'STOPPED') && info?.userStopped === true) return 'user request';
  if (to === 'STOPPED' && (from === 'STARTED' || from === 'READY')) return 'exited';
  return '';
}

/** Statuses whose change means the xconnect graph (which needs a running init pid) changed. */
const GRAPH_STATUSES: ReadonlySet<PlatformStatus> = new Set<PlatformStatus>(['STARTED', 'READY', 'STOPPED']);

export class StatusEvents {
  private readonly groups = new Map<string, PlatformStatus>();

  constructor(
    private readonly system: RunningSystem,
    private readonly events: EventPublisher,
  ) {
    for (const group of system.state?.groups ?? []) this.groups.set(group.name, system.groupStatus(group));
  }

  containerChanged(name: string, to: PlatformStatus, from: PlatformStatus): void {
    this.events.publish({ container: { name, from, to, reason: statusReason(from, to, this.system.info(name)) } });
    for (const group of this.system.state?.groups ?? []) {
      const now = this.system.groupStatus(group);
      const before = this.groups.get(group.name);
      if (before === now) continue;
      this.groups.set(group.name, now);
      this.events.publish({ group: { name: group.name, from: before ?? '', to: now } });
    }
    if (GRAPH_STATUSES.has(to)) this.events.publish({ xconnect: { cause: name } });
  }
}
