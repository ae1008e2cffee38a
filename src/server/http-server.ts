/**
 * The pv-ctrl listener: node:net accepts on the Unix socket so that each connection's fd is
 * reachable; the kernel's credentials are read once at accept (fail closed), then the socket is
 * handed to Bun's HTTP parser. Every request is routed, gated by caller and answered exactly once.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { isPvError } from '../errors.ts';
import type { LogContext, Logger } from '../log.ts';
import { ClientGoneError, IncomingBody } from './body.ts';
import { gateOf, installConnectionGate, type Rejection } from './identity-encoding.ts';
import type { CallerLookup, PeerIdentity } from './caller.ts';
import { sendApiResponse, sendError, sendPvError, tooManyConnectionsReply, unsupportedProtocolReply } from './respond.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } from './limits.ts';
import type { Router, RouteMatch } from './router.ts';
import { UNMATCHED_ROUTE, type ApiRequest, type BodyWriter, type FinishedRequest, type RequestObserver } from './types.ts';
import type { Caller } from './caller.ts';

export interface PeerCredentialSource {
  /** Credentials of the peer behind a connected socket fd; throws when they cannot be read. */
  read(fd: number): PeerIdentity;
  release(identity: PeerIdentity): void;
}

export interface ServerOptions<S> {
  socketPath: string;
  router: Router<S>;
  /** Handed to every handler as is; the server never looks inside. */
  services: S;
  /** False until the running revision's state is loaded: requests get 500 "State not loaded yet". */
  stateLoaded(): boolean;
  credentials: PeerCredentialSource;
  identify(peer: PeerIdentity): CallerLookup;
  log: Logger;
  /** Socket file mode: root and the socket group; identity within those comes from the kernel. */
  socketMode?: number;
  /** Open connections beyond this get 503 and are closed (default DEFAULT_MAX_CONNECTIONS). */
  maxConnections?: number;
  /** A connection idle between requests this long is closed (default DEFAULT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  /**
   * A listening socket the service manager passed (systemd socket activation): served as is.
   * Its path, mode and lifetime belong to the manager: never created, chmod'ed or removed here.
   */
  listenFd?: number;
  /** Told once about every request when it is over (metrics, audit log); the server knows neither. */
  observe?: RequestObserver;
  /**
   * Told when the collections that follow a burst, or the daemon's start-up (collectOnceQuiet),
   * are done and the quiet has lasted 5 s: the daemon then hands its image's clean pages back
   * (docs/footprint.md).
   */
  afterQuietCollection?: () => void;
  /** Writes long-lived bodies (GET /events) off the event loop; without it they go through the socket. */
  bodyWriter?: BodyWriter;
}

/** Refusals at the connection limit are logged at most this often (a flood must not flood the log). */
const LIMIT_WARNING_INTERVAL_MS = 10_000;
const REFUSED_FLUSH_TIMEOUT_MS = 5_000;
/** A burst (connections accepted plus requests) worth a full collection once quiet: below it the garbage is too small to matter. */
const BURST_ACTIVITY = 200;
/**
 * Quiet this long ends a burst. Long enough that back-to-back loads (a client's retries, the
 * rounds of bench/http.ts) are one burst and do not regrow a heap handed back in between.
 */
const COLLECT_AFTER_QUIET_MS = 2000;
/** The second collection: what the first one's finalizers released (sockets, buffers) is only free then. */
const SECOND_COLLECTION_AFTER_MS = 2000;
/**
 * `afterQuietCollection` waits for this much quiet. Within the 10 s the footprint goal gives a
 * daemon to come back after a burst (2 s of quiet, the collections, then this), and longer than
 * the pauses between a client's back-to-back operations.
 */
const AFTER_QUIET_HOOK_MS = 5000;
/** A quiet spell cut short is looked at again no sooner than this. */
const MIN_QUIET_RECHECK_MS = 50;
/** Bodies up to this size are drained before an early error answer; larger ones close the connection. */
const DRAIN_LIMIT = 1024 * 1024;

interface SocketWithHandle extends Socket {
  _handle?: { fd?: number };
}

export class PvCtrlServer<S> {
  private readonly net: NetServer;
  private readonly http: HttpServer;
  private readonly peers = new WeakMap<Socket, PeerIdentity>();
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<Promise<void>>();
  private lastLimitWarning = 0;
  private activitySinceCollection = 0;
  private lastActivity = 0;
  private collectionTimer: ReturnType<typeof setTimeout> | undefined;
  private quietHookTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: ServerOptions<S>) {
    this.http = createHttpServer();
    this.http.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.collectAfterBurst();
      this.track(this.handle(req, res, false));
    });
    this.http.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.track(this.handle(req, res, true)));
    this.http.on('clientError', (error: Error, socket: Socket) => this.onClientError(error, socket));
    // Half-open: a client that shuts down its write side after a request still gets the answer;
    // the connection gate ends our side once every request that fully arrived is answered.
    this.net = createNetServer({ allowHalfOpen: true }, (socket) => this.accept(socket as SocketWithHandle));
  }

  listen(): Promise<void> {
    const passedFd = this.options.listenFd;
    if (passedFd === undefined) rmSync(this.options.socketPath, { force: true });
    return new Promise((resolve, reject) => {
      this.net.once('error', reject);
      const listening = (): void => {
        this.net.off('error', reject);
        if (passedFd === undefined) chmodSync(this.options.socketPath, this.options.socketMode ?? 0o660);
        resolve();
      };
      if (passedFd !== undefined) this.net.listen({ fd: passedFd }, listening);
      else this.net.listen(this.options.socketPath, listening);
    });
  }

  /** Stop accepting, let in-flight requests (uploads, writes) finish, then close idle connections. */
  async close(graceMs = 10_000): Promise<void> {
    // net.Server.close only calls back once every connection has ended; idle keep-alive
    // connections would hold the stop, so stop accepting and handle connections ourselves.
    this.net.close();
    if (this.options.listenFd === undefined) rmSync(this.options.socketPath, { force: true });
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]).then(() => undefined), deadline]);
    for (const socket of this.sockets) socket.destroy();
  }

  /** Connections open now (accepted, identified, not yet closed). */
  get openConnections(): number {
    return this.sockets.size;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private accept(socket: SocketWithHandle): void {
    const limit = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.sockets.size >= limit) {
      // Before reading credentials: one runaway client must not exhaust the daemon's descriptors.
      this.refuseConnection(socket, limit);
      return;
    }
    const fd = socket._handle?.fd;
    let identity: PeerIdentity;
    try {
      if (typeof fd !== 'number' || fd < 0) throw new Error('connection has no file descriptor');
      identity = this.options.credentials.read(fd);
    } catch (error) {
      // Fail closed: a caller we cannot identify gets no HTTP at all.
      this.options.log.warn(`refusing connection: cannot read peer credentials: ${(error as Error).message}`);
      socket.destroy();
      return;
    }
    this.peers.set(socket, identity);
    this.sockets.add(socket);
    this.collectAfterBurst();
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.options.credentials.release(identity);
    });
    installConnectionGate(socket, { onRejected: (rejection) => this.onRejected(identity, rejection) });
    this.closeWhenIdle(socket);
    // Half-open sockets stay up after our side ends (Bun's `Connection: close`): nothing more
    // will be answered on them, so close the whole connection once our answer is flushed.
    socket.once('finish', () => socket.destroy());
    this.http.emit('connection', socket);
  }

  /**
   * JavaScriptCore collects lazily: after a burst of connections or requests the garbage
   * (sockets, parser state, buffers) can sit for a long time, holding tens of MiB. Once the
   * daemon is quiet again (no accept or request for a moment), one full
   * collection gives it back. Quiet does not wait for every connection to close: pv-xconnect's
   * `GET /events` subscription never does (docs/footprint.md). Called on every accept and request.
   */
  private collectAfterBurst(): void {
    this.activitySinceCollection++;
    this.lastActivity = Date.now();
    if (this.activitySinceCollection >= BURST_ACTIVITY) this.collectOnceQuiet();
  }

  /**
   * The collections after a burst, without one: the daemon asks for them once its start-up is
   * done (module evaluation, a first boot's hashing and the containers' start leave garbage and
   * run-once code of their own). They run once no accept or request has come for a moment.
   */
  collectOnceQuiet(): void {
    if (this.collectionTimer !== undefined) return;
    this.whenQuietFor(COLLECT_AFTER_QUIET_MS, COLLECT_AFTER_QUIET_MS, (timer) => (this.collectionTimer = timer), () => {
      const activity = this.activitySinceCollection;
      this.activitySinceCollection = 0;
      const before = process.memoryUsage.rss();
      // The daemon runs without Bun's idle GC timer (src/util/runtime-env.ts), so nothing else
      // hands the burst's memory back: collect, return the free heap to the kernel, and once
      // more when the first collection's finalizers have let go (after a 20,000-GET burst the
      // compiled daemon stays about 25 MiB over idle with one collection, about 14.5 with these
      // two; docs/footprint.md "After a burst").
      Bun.gc(true);
      Bun.shrink();
      const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
      const cause = activity >= BURST_ACTIVITY ? `a burst of ${activity} connections and requests` : 'start-up';
      this.options.log.debug(`collected after ${cause}: RSS ${mib(before)} -> ${mib(process.memoryUsage.rss())} MiB`);
      this.collectionTimer = setTimeout(() => {
        this.collectionTimer = undefined;
        Bun.gc(true);
        Bun.shrink();
        this.options.log.debug(`second collection after ${cause}: RSS ${mib(process.memoryUsage.rss())} MiB`);
        this.afterLastingQuiet();
      }, SECOND_COLLECTION_AFTER_MS);
      this.collectionTimer.unref();
    });
  }

  /**
   * Tell `afterQuietCollection` once the quiet has lasted AFTER_QUIET_HOOK_MS since the last
   * accept or request. Work that resumes sooner (a client's next upload a few seconds later)
   * would only read back at once what the hook (the daemon's page-out) let go, and wait for it:
   * bench/upload.ts saw one GET take 215 ms and the JS upload path a fifth slower when the hook
   * ran 2 s after the first collection whatever came meanwhile (docs/footprint.md).
   */
  private afterLastingQuiet(): void {
    const hook = this.options.afterQuietCollection;
    if (hook === undefined || this.quietHookTimer !== undefined) return;
    const quietSoFar = Date.now() - this.lastActivity;
    this.whenQuietFor(AFTER_QUIET_HOOK_MS, Math.max(0, AFTER_QUIET_HOOK_MS - quietSoFar), (timer) => (this.quietHookTimer = timer), hook);
  }

  /**
   * Run `action` once no accept or request has come for `quietMs`: a timer looks after
   * `firstDelayMs`, and again for the rest while activity goes on. `keep` holds the pending timer
   * (undefined once `action` runs), so its owner can tell one is waiting.
   */
  private whenQuietFor(quietMs: number, firstDelayMs: number, keep: (timer: ReturnType<typeof setTimeout> | undefined) => void, action: () => void): void {
    const wait = (delayMs: number): void => {
      const timer = setTimeout(() => {
        const quietFor = Date.now() - this.lastActivity;
        if (quietFor < quietMs) {
          wait(Math.max(quietMs - quietFor, MIN_QUIET_RECHECK_MS));
          return;
        }
        keep(undefined);
        action();
      }, delayMs);
      timer.unref();
      keep(timer);
    };
    wait(firstDelayMs);
  }

  private refuseConnection(socket: Socket, limit: number): void {
    const now = Date.now();
    if (now - this.lastLimitWarning > LIMIT_WARNING_INTERVAL_MS) {
      this.lastLimitWarning = now;
      this.options.log.warn(`refusing connection: ${limit} connections open (limit)`);
    }
    socket.on('error', () => socket.destroy());
    socket.end(tooManyConnectionsReply());
    socket.once('finish', () => socket.destroy());
    // A peer that never reads must not keep the refused socket: bounded wait for the flush.
    setTimeout(() => socket.destroy(), REFUSED_FLUSH_TIMEOUT_MS).unref();
  }

  /** Keep-alive connections with nothing in progress are closed after the idle timeout. */
  private closeWhenIdle(socket: Socket): void {
    socket.setTimeout(this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    socket.on('timeout', () => {
      const filter = gateOf(socket)?.filter;
      // A request being answered or a body being received is not idleness.
      if (filter !== undefined && (filter.answerOwed || filter.bodyIncomplete)) return;
      socket.destroy();
    });
  }

  private onRejected(peer: PeerIdentity, rejection: Rejection): void {
    this.options.log.warn(`pid ${peer.pid}: ${rejection.status} Unsupported protocol: ${rejection.reason}`);
  }

  private onClientError(error: Error, socket: Socket): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // The gate refuses what it recognises; this is what Bun's parser still found wrong.
    const status = /method/i.test(error.message) ? 501 : 400;
    this.options.log.warn(`${status} Unsupported protocol: ${error.message}`);
    socket.end(unsupportedProtocolReply(status, gateOf(socket)?.filter.versionInParser ?? '1.1'));
    socket.once('finish', () => socket.destroy());
  }

  private async handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    const socket = req.socket;
    const peer = this.peers.get(socket);
    const record = new RequestRecord(req.method ?? '', req.url ?? '/', peer?.pid ?? -1);
    // The gate lets the next pipelined request into the parser only once this answer is out.
    res.once('finish', () => {
      gateOf(socket)?.answered();
      this.finished(record, res);
    });
    res.once('close', () => this.finished(record, res));
    if (peer === undefined) {
      socket.destroy();
      return;
    }
    if (!hostIsAcceptable(req.headers.host)) {
      // The reference drops such connections without an answer (spec §3.3).
      socket.destroy();
      return;
    }
    // Methods outside spec §2.2's set never get here: the gate answers them 501.
    const method = req.method ?? '';
    const body = new IncomingBody(req, socket, () => {
      if (expectsContinue) res.writeContinue();
    });
    const rawTarget = req.url ?? '/';
    const { services, log } = this.options;
    try {
      if (!this.options.stateLoaded()) {
        await this.refuse(res, body, expectsContinue, 500, 'State not loaded yet');
        return;
      }
      const rawPath = rawTarget.split('?', 1)[0] ?? '';
      let lookup: CallerLookup | undefined;
      const identify = (): CallerLookup => (lookup ??= this.options.identify(peer));
      const match: RouteMatch<S> = this.options.router.match(method, decodePath(rawPath), rawPath, () => {
        const result = identify();
        return result.ok ? { ok: true, caller: result.caller } : { ok: false };
      });
      if (lookup !== undefined && !lookup.ok) log.warn(`cannot identify caller pid ${peer.pid}: ${lookup.reason}`, record.logContext());
      if (lookup?.ok === true) record.caller = lookup.caller;
      if (match.kind !== 'unknown') record.route = match.kind === 'dispatch' ? match.route.path : (match.pattern ?? UNMATCHED_ROUTE);
      if (match.kind === 'unknown') {
        // Not needed to answer, but the audit trail names who tried (only this refusal pays for it).
        const who = identify();
        if (who.ok) record.caller = who.caller;
        await this.refuse(res, body, expectsContinue, 400, `unknown endpoint: ${rawTarget}`);
        return;
      }
      if (match.kind === 'error') {
        await this.refuse(res, body, expectsContinue, match.status, match.message);
        return;
      }
      const who = identify();
      if (!who.ok) {
        await this.refuse(res, body, expectsContinue, 500, 'Internal error');
        return;
      }
      const request: ApiRequest = {
        method,
        rawTarget,
        path: decodePath(rawPath),
        params: match.params,
        caller: who.caller,
        body,
        header: (name) => {
          const value = req.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(', ') : value;
        },
      };
      log.debug(`${who.caller.name}(${peer.pid}) ${method} ${rawTarget}`);
      const response = await match.route.handler(request, services);
      await this.finishBody(res, body, expectsContinue);
      await sendApiResponse(res, response, this.options.bodyWriter);
    } catch (error) {
      if (error instanceof ClientGoneError) {
        log.info(`${method} ${rawTarget}: ${error.message}`, record.logContext());
        socket.destroy();
        return;
      }
      await this.finishBody(res, body, expectsContinue).catch(() => undefined);
      if (isPvError(error)) {
        if (error.kind === 'internal') log.error(`${method} ${rawTarget}: ${error.message}${error.cause ? `: ${String(error.cause)}` : ''}`, record.logContext());
        sendPvError(res, error);
        return;
      }
      log.error(`${method} ${rawTarget}: unexpected failure: ${(error as Error).stack ?? String(error)}`, record.logContext());
      sendError(res, 500, 'Internal error');
    }
  }

  private finished(record: RequestRecord, res: ServerResponse): void {
    if (record.reported) return;
    record.reported = true;
    const observe = this.options.observe;
    if (observe === undefined) return;
    record.status = res.headersSent ? res.statusCode : 0;
    record.seconds = (performance.now() - record.started) / 1000;
    try {
      observe(record);
    } catch (error) {
      this.options.log.error(`request observer failed: ${(error as Error).message}`);
    }
  }

  /**
   * Answer an error before the handler ran. A client waiting for `100 Continue` never gets it and
   * sends no body; a small body is drained so the answer is not lost to a reset; a large one is
   * cut off by closing after the answer.
   */
  private async refuse(res: ServerResponse, body: IncomingBody, expectsContinue: boolean, status: number, message: string): Promise<void> {
    if (expectsContinue || (body.present && (body.declaredLength === undefined || body.declaredLength > DRAIN_LIMIT))) {
      res.setHeader('Connection', 'close');
    } else if (body.present) {
      await body.drain().catch(() => undefined);
    }
    sendError(res, status, message);
  }

  /**
   * A handler that ignored the body (e.g. a GET with one, or a request refused on its URL) must
   * not leave it in the stream: drain a small one, else close after answering. A client still
   * waiting for `100 Continue` will not send it at all.
   */
  private async finishBody(res: ServerResponse, body: IncomingBody, expectsContinue: boolean): Promise<void> {
    if (body.detached) {
      closeAfterAnswer(res, body);
      return;
    }
    if (!body.present || body.consumed) return;
    if (!body.reading && !expectsContinue && body.declaredLength !== undefined && body.declaredLength <= DRAIN_LIMIT) {
      await body.drain();
    } else if (!body.reading) {
      res.setHeader('Connection', 'close');
    }
  }
}

/**
 * After the upload fast path Bun's parser still waits for body bytes it will never see, so the
 * connection cannot carry another request: say so, and close once the answer is flushed (Bun
 * does on `Connection: close`; the listener makes it independent of that).
 */
function closeAfterAnswer(res: ServerResponse, body: IncomingBody): void {
  const socket = body.connection;
  if (!res.headersSent) res.setHeader('Connection', 'close');
  res.once('finish', () => {
    if (!socket.destroyed && !socket.writableEnded) socket.destroySoon();
  });
}

/** What the observer is told about a request; filled in as the request is routed and answered. */
class RequestRecord implements FinishedRequest {
  route = UNMATCHED_ROUTE;
  status = 0;
  seconds = 0;
  caller: Caller | undefined = undefined;
  reported = false;
  readonly started = performance.now();
  constructor(
    readonly method: string,
    readonly target: string,
    readonly pid: number,
  ) {}
  /** For log lines about this request (the JSON format names the caller). */
  logContext(): LogContext {
    return { caller: { container: this.caller?.name, pid: this.pid } };
  }
}

/** Missing or empty Host is fine (HTTP/1.0); otherwise it must be `localhost`, any port. */
export function hostIsAcceptable(host: string | undefined): boolean {
  if (host === undefined || host === '') return true;
  const withoutPort = host.replace(/:\d*$/, '');
  return withoutPort === 'localhost';
}

function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}
