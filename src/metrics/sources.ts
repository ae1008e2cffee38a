/**
 * The scrape-time sources of PvCtrlMetrics, read from the owners src/daemon.ts hands in. The
 * owners are named by the narrow shapes used here, so metrics depends on no layer's classes.
 */
import { readFileSync } from 'node:fs';
import type { MetricSources } from './pvctrl.ts';

export interface MetricOwners {
  readonly system: {
    readonly revision: string | undefined;
    readonly state: { readonly platforms: readonly { readonly name: string }[] } | undefined;
    info(name: string): { readonly status: string } | undefined;
  };
  /** The revision an update is running now, if any. */
  readonly updater: { readonly active: string | undefined };
  /** Path of a revision's progress file; throws when it has none. */
  readonly steps: { progressPath(revision: string): string };
  readonly objects: { list(): readonly { readonly size: number }[] };
  readonly daemons: { list(): readonly { readonly name: string; readonly pid: number }[] };
  readonly events: { readonly subscriberCount: number };
  openConnections(): number;
}

export function metricSourcesOf(owners: MetricOwners): MetricSources {
  return {
    runningRevision: () => owners.system.revision,
    updateProgress: () => {
      const revision = owners.updater.active ?? owners.system.revision;
      return revision === undefined ? undefined : readProgress(owners.steps, revision);
    },
    containers: function* () {
      for (const platform of owners.system.state?.platforms ?? []) {
        yield { name: platform.name, status: owners.system.info(platform.name)?.status ?? 'NONE' };
      }
    },
    objects: () => {
      let bytes = 0;
      const list = owners.objects.list();
      for (const entry of list) bytes += entry.size;
      return { count: list.length, bytes };
    },
    daemons: () => owners.daemons.list().map((daemon) => ({ name: daemon.name, running: daemon.pid > 0 })),
    openConnections: () => owners.openConnections(),
    eventSubscribers: () => owners.events.subscriberCount,
  };
}

/** A revision's progress file, as far as it is readable: a scrape reports what it finds, never fails on it. */
function readProgress(steps: MetricOwners['steps'], revision: string): { revision: string; status: string; percent: number } | undefined {
  try {
    const progress = JSON.parse(readFileSync(steps.progressPath(revision), 'utf8')) as { status?: unknown; progress?: unknown };
    const status = typeof progress.status === 'string' ? progress.status : 'UNKNOWN';
    const percent = typeof progress.progress === 'number' ? progress.progress : Number(progress.progress);
    return { revision, status, percent: Number.isFinite(percent) ? percent : Number.NaN };
  } catch {
    return undefined;
  }
}
