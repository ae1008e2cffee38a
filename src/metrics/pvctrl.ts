/**
 * pv-ctrl's metrics (GET /metrics, docs/operations.md "Metrics"). What happens (requests,
 * uploads, restarts) is counted here as it happens; what is (containers, objects, revision,
 * helpers, connections, subscribers) is read from its owner at scrape time, never copied.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { notFound } from '../errors.ts';
import { PLATFORM_STATUSES } from '../runtime/status.ts';
import type { FinishedRequest } from '../server/types.ts';
import { Registry, type CounterChild, type HistogramChild, type Sample } from './registry.ts';
import { switchedOn } from '../util/env-switch.ts';

/** The upload paths of docs/native-ingest.md: read natively from the connection, or through JS. */
export type IngestPath = 'native' | 'js';

/** Where scrape-time values come from; src/daemon.ts hands in the owners. */
export interface MetricSources {
  /** The running revision, undefined before one is loaded. */
  runningRevision(): string | undefined;
  /** Progress of the update under way, else of the running revision; undefined when there is none. */
  updateProgress(): { revision: string; status: string; percent: number } | undefined;
  containers(): Iterable<{ name: string; status: string }>;
  objects(): { count: number; bytes: number };
  daemons(): Iterable<{ name: string; running: boolean }>;
  openConnections(): number;
  eventSubscribers(): number;
}

/** Per route and method: pre-resolved children, so a finished request only adds numbers. */
class RouteSeries {
  readonly byStatus = new Map<number, CounterChild>();
  constructor(readonly duration: HistogramChild) {}
}

export class PvCtrlMetrics {
  private readonly registry = new Registry();
  private readonly requests = this.registry.counter('pvctrl_http_requests_total', 'HTTP requests answered, by route pattern, method and status (0: no answer, the client went away).', ['route', 'method', 'status']);
  private readonly requestDuration = this.registry.histogram('pvctrl_http_request_duration_seconds', 'Time from a request\'s arrival to its last byte handed to the connection, by route pattern and method.', ['route', 'method']);
  private readonly series = new Map<string, Map<string, RouteSeries>>();
  private readonly ingestBytes = this.registry.counter('pvctrl_object_ingest_bytes_total', 'Bytes of objects stored by uploads, by ingest path (native fast path or JS).', ['path']);
  private readonly ingestDuration = this.registry.histogram('pvctrl_object_ingest_duration_seconds', 'Duration of object uploads that stored an object, by ingest path.', ['path'], [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]);
  private readonly ingest: Record<IngestPath, { bytes: CounterChild; duration: HistogramChild }>;
  private readonly containerRestarts = this.registry.counter('pvctrl_container_restarts_total', 'Starts of a container after its first start by this daemon (auto-recovery or a restart request).', ['container']);
  private readonly containersStarted = new Set<string>();
  private readonly daemonRestarts = this.registry.counter('pvctrl_daemon_restarts_total', 'Spawns of a helper daemon after its first one (respawn after an exit, or a restart request).', ['daemon']);
  private readonly daemonsSpawned = new Set<string>();

  constructor(
    sources: MetricSources,
    /** PV_METRICS=0: nothing is counted and GET /metrics is a 404 (bench/http.ts measures the cost). */
    readonly enabled = true,
  ) {
    this.ingest = {
      native: { bytes: this.ingestBytes.labels('native'), duration: this.ingestDuration.labels('native') },
      js: { bytes: this.ingestBytes.labels('js'), duration: this.ingestDuration.labels('js') },
    };
    const gauge = (name: string, help: string, labelNames: readonly string[], read: () => Iterable<Sample>): void =>
      this.registry.collect(name, help, 'gauge', labelNames, read);
    gauge('pvctrl_revision_info', 'The running revision (value 1).', ['revision'], () => {
      const revision = sources.runningRevision();
      return revision === undefined ? [] : [{ labels: [revision], value: 1 }];
    });
    gauge('pvctrl_update_progress_percent', 'Progress of the update under way, else of the running revision.', ['revision'], () => {
      const progress = sources.updateProgress();
      return progress === undefined ? [] : [{ labels: [progress.revision], value: progress.percent }];
    });
    gauge('pvctrl_update_status', 'Status of the update under way, else of the running revision (value 1).', ['revision', 'status'], () => {
      const progress = sources.updateProgress();
      return progress === undefined ? [] : [{ labels: [progress.revision, progress.status], value: 1 }];
    });
    gauge('pvctrl_container_status', 'Container status: 1 for the current status of each container, 0 for the others.', ['container', 'status'], function* () {
      for (const container of sources.containers()) {
        for (const status of PLATFORM_STATUSES) yield { labels: [container.name, status], value: status === container.status ? 1 : 0 };
      }
    });
    gauge('pvctrl_objects', 'Objects in the object store.', [], () => [{ labels: [], value: sources.objects().count }]);
    gauge('pvctrl_objects_size_bytes', 'Bytes of the objects in the object store.', [], () => [{ labels: [], value: sources.objects().bytes }]);
    gauge('pvctrl_daemon_up', 'Whether a helper daemon runs now (1) or not (0).', ['daemon'], function* () {
      for (const daemon of sources.daemons()) yield { labels: [daemon.name], value: daemon.running ? 1 : 0 };
    });
    gauge('pvctrl_open_connections', 'Connections to the API socket open now.', [], () => [{ labels: [], value: sources.openConnections() }]);
    gauge('pvctrl_event_subscribers', 'GET /events streams open now.', [], () => [{ labels: [], value: sources.eventSubscribers() }]);
    this.registry.collect('process_cpu_seconds_total', 'User and system CPU time of the daemon process, in seconds.', 'counter', [], () => {
      const usage = process.cpuUsage();
      return [{ labels: [], value: (usage.user + usage.system) / 1e6 }];
    });
    gauge('process_resident_memory_bytes', 'Resident memory of the daemon process (VmRSS of /proc/self/status).', [], () => [{ labels: [], value: residentBytes() }]);
    gauge('process_start_time_seconds', 'Start of the daemon process, in seconds since the epoch.', [], () => [{ labels: [], value: PROCESS_START_SECONDS }]);
    gauge('process_open_fds', 'Open file descriptors of the daemon process.', [], () => [{ labels: [], value: openFds() }]);
  }

  /** The server's observer calls this once per finished request. */
  requestFinished(request: FinishedRequest): void {
    if (!this.enabled) return;
    let byMethod = this.series.get(request.route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.series.set(request.route, byMethod);
    }
    let series = byMethod.get(request.method);
    if (series === undefined) {
      series = new RouteSeries(this.requestDuration.labels(request.route, request.method));
      byMethod.set(request.method, series);
    }
    let counter = series.byStatus.get(request.status);
    if (counter === undefined) {
      counter = this.requests.labels(request.route, request.method, String(request.status));
      series.byStatus.set(request.status, counter);
    }
    counter.inc();
    series.duration.observe(request.seconds);
  }

  /** An upload stored an object of `bytes` in `seconds`. */
  objectIngested(path: IngestPath, bytes: number, seconds: number): void {
    if (!this.enabled) return;
    const series = this.ingest[path];
    series.bytes.inc(bytes);
    series.duration.observe(seconds);
  }

  /** The container runtime's status setter reports each change here. */
  containerStatusChanged(name: string, to: string): void {
    if (!this.enabled || to !== 'STARTING') return;
    if (this.containersStarted.has(name)) this.containerRestarts.labels(name).inc();
    else this.containersStarted.add(name);
  }

  /** The helper supervisor reports each spawn here. */
  daemonSpawned(name: string): void {
    if (!this.enabled) return;
    if (this.daemonsSpawned.has(name)) this.daemonRestarts.labels(name).inc();
    else this.daemonsSpawned.add(name);
  }

  /** The exposition text; a 404 when metrics are disabled. */
  exposition(): string {
    if (!this.enabled) throw notFound('Metrics are disabled (PV_METRICS=0)');
    return this.registry.render();
  }
}

/** PV_METRICS=0 (or false/off/no) disables metrics; anything else, or unset, keeps them. */
export function metricsEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return switchedOn(env.PV_METRICS);
}

const PROCESS_START_SECONDS = Math.round((Date.now() - process.uptime() * 1000) / 10) / 100;

function residentBytes(): number {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((candidate) => candidate.startsWith('VmRSS:'));
    const kib = Number(/\d+/.exec(line ?? '')?.[0]);
    return Number.isFinite(kib) ? kib * 1024 : process.memoryUsage.rss();
  } catch {
    return process.memoryUsage.rss();
  }
}

function openFds(): number {
  try {
    // The listing itself holds one descriptor for the directory while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return Number.NaN;
  }
}
