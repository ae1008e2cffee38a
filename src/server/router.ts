/**
 * Route table and matching (spec §3). Exact routes compare the decoded path; pattern routes
 * compare raw segments with `{}` wildcards and, like the reference, are tried in reverse
 * registration order; a caller refused on every candidate gets 403 before 400 (see match()).
 */
import type { Caller } from './caller.ts';
import type { ApiRequest, ApiResponse, Method } from './types.ts';
/**
 * A route's handler. The server hands every handler the services object it was built with and
 * knows nothing of it (the API layer fixes the type: src/api/handler.ts).
 */
export type Handler<S> = (request: ApiRequest, services: S) => Promise<ApiResponse>;

export interface RouteSpec<S> {
  path: string;
  methods: readonly Method[];
  /** Only privileged callers (host, or containers with the mgmt role) may use it. */
  mgmt: boolean;
  handler: Handler<S>;
}

interface CompiledPattern<S> extends RouteSpec<S> {
  segments: string[];
}

export type RouteMatch<S> =
  | { kind: 'dispatch'; route: RouteSpec<S>; params: string[] }
  /** `pattern`: the route the path matched when one did (for request metrics and logs). */
  | { kind: 'error'; status: 400 | 403 | 500; message: string; pattern?: string }
  | { kind: 'unknown' };

export const MESSAGES = {
  methodNotSupported: 'Method not supported for this endpoint',
  exactNotMgmt: 'Request not sent from a mgmt platform',
  patternNotMgmt: 'Request not sent from mgmt platform',
  exactUnknownCaller: 'Internal Error',
  patternUnknownCaller: 'Internal error, unknown caller',
} as const;

/** The reference keeps at most this many path segments. */
const MAX_SEGMENTS = 10;

export function splitSegments(path: string): string[] {
  return path.split('/').filter((segment) => segment.length > 0).slice(0, MAX_SEGMENTS);
}

export type CallerProvider = () => { ok: true; caller: Caller } | { ok: false };

export class Router<S> {
  private readonly exact = new Map<string, RouteSpec<S>>();
  private readonly patterns: CompiledPattern<S>[] = [];

  add(route: RouteSpec<S>): this {
    if (route.path.includes('{}')) {
      this.patterns.unshift({ ...route, segments: splitSegments(route.path) });
    } else {
      if (this.exact.has(route.path)) throw new Error(`duplicate exact route ${route.path}`);
      this.exact.set(route.path, route);
    }
    return this;
  }

  /** Every route, exact ones first (for documentation and tests). */
  list(): RouteSpec<S>[] {
    return [...this.exact.values(), ...[...this.patterns].reverse()];
  }

  /**
   * @param decodedPath percent-decoded path without query (exact routes)
   * @param rawPath raw path without query (pattern routes: no decoding, so `a%2Fb` stays one key)
   */
  match(method: string, decodedPath: string, rawPath: string, identify: CallerProvider): RouteMatch<S> {
    const exact = this.exact.get(decodedPath);
    if (exact !== undefined) {
      const who = identify();
      const pattern = exact.path;
      if (!who.ok) return { kind: 'error', status: 500, message: MESSAGES.exactUnknownCaller, pattern };
      if (!exact.methods.includes(method as Method)) return { kind: 'error', status: 400, message: MESSAGES.methodNotSupported, pattern };
      if (exact.mgmt && !who.caller.privileged) return { kind: 'error', status: 403, message: MESSAGES.exactNotMgmt, pattern };
      return { kind: 'dispatch', route: exact, params: [] };
    }
    const segments = splitSegments(rawPath);
    let methodError: string | undefined;
    let mgmtError: string | undefined;
    for (const pattern of this.patterns) {
      const params = matchSegments(pattern.segments, segments);
      if (params === undefined) continue;
      const who = identify();
      if (!who.ok) return { kind: 'error', status: 500, message: MESSAGES.patternUnknownCaller, pattern: pattern.path };
      if (!pattern.methods.includes(method as Method)) {
        methodError ??= pattern.path;
        continue;
      }
      if (pattern.mgmt && !who.caller.privileged) {
        mgmtError ??= pattern.path;
        continue;
      }
      return { kind: 'dispatch', route: pattern, params };
    }
    // The reference let whichever error came last win, so a non-mgmt GET /objects/<sha> got
    // "method not supported" from the PUT entry; a route that exists for this method but not for
    // this caller is a 403.
    if (mgmtError !== undefined) return { kind: 'error', status: 403, message: MESSAGES.patternNotMgmt, pattern: mgmtError };
    if (methodError !== undefined) return { kind: 'error', status: 400, message: MESSAGES.methodNotSupported, pattern: methodError };
    return { kind: 'unknown' };
  }
}

function matchSegments(pattern: string[], actual: string[]): string[] | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: string[] = [];
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] as string;
    const got = actual[index] as string;
    if (expected === '{}') params.push(got);
    else if (expected !== got) return undefined;
  }
  return params;
}
