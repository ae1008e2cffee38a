/**
 * The server's one observer of finished requests: it counts them (metrics) and writes the audit
 * trail — every request that can change state (PUT, POST, DELETE) once at info, reads at debug.
 */
import type { LogContext, Logger } from '../log.ts';
import type { FinishedRequest, RequestObserver } from '../server/types.ts';
import type { PvCtrlMetrics } from './pvctrl.ts';

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

export interface RequestObserverOptions {
  readonly metrics: PvCtrlMetrics;
  readonly log: Logger;
  /** Whether debug lines are written at all: reads are then not formatted for nothing. */
  readonly logReads: boolean;
}

export function createRequestObserver({ metrics, log, logReads }: RequestObserverOptions): RequestObserver {
  return (request) => {
    metrics.requestFinished(request);
    const read = READ_METHODS.has(request.method);
    if (read && !logReads) return;
    const { message, context } = auditEntry(request);
    if (read) log.debug(message, context);
    else log.info(message, context);
  };
}

/** The line for a request, as text and as structured context (pure; unit-tested). */
export function auditEntry(request: FinishedRequest): { message: string; context: LogContext } {
  const milliseconds = Math.round(request.seconds * 1e4) / 10;
  const container = request.caller?.name;
  const message = `${container ?? '?'}(${request.pid}) ${request.method} ${request.target} route=${request.route} status=${request.status} duration_ms=${milliseconds}`;
  return {
    message,
    context: {
      component: READ_METHODS.has(request.method) ? 'request' : 'audit',
      caller: { container, pid: request.pid },
      fields: { method: request.method, route: request.route, target: request.target, status: request.status, duration_ms: milliseconds },
    },
  };
}
