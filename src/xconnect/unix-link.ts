/**
 * One `unix` link: a listening socket at the consumer's `target` (inside the consumer's
 * root) whose every connection is relayed to the provider's `socket` (inside the
 * provider's root). Bytes are copied both ways with back-pressure (pipe), half-closes are
 * passed on (a client may send its request, shut down writing and still read the answer),
 * and an error on either side ends both.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { connectUnix } from './connect-unix.ts';
import type { XconnectLink } from './graph.ts';
import { containerRoot, resolveInRoot } from './paths.ts';

export interface LinkLogger {
  info(message: string): void;
  error(message: string): void;
  /** Per-connection chatter; the client example connects every 5 s. */
  debug(message: string): void;
}

/** Once one side closed, the other gets this long to flush what it still holds. */
const DRAIN_GRACE_MS = 10_000;
/** Repeated relay failures of one link are summarised instead of logged one by one. */
const FAILURE_LOG_INTERVAL_MS = 10_000;
/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** What makes a link the same link: any change (a container restarted) means tear down and recreate. */
export function linkIdentity(link: XconnectLink): string {
  return JSON.stringify([link.consumer, link.consumer_pid, link.target, link.provider, link.provider_pid, link.socket]);
}

export function describeLink(link: XconnectLink): string {
  return `${link.name}: ${link.consumer}:${link.target ?? '?'} -> ${link.provider}:${link.socket ?? '?'}`;
}

export class UnixLink {
  private readonly connections = new Set<Socket>();
  private listening = true;
  private failures = 0;
  private lastFailureLog = 0;
  private relayed = 0;

  private constructor(
    readonly link: XconnectLink,
    readonly identity: string,
    private readonly server: Server,
    private readonly listenPath: string,
    private readonly inode: number,
    private readonly log: LinkLogger,
  ) {
    server.on('connection', (client: Socket) => this.relay(client));
    server.on('error', (error) => {
      this.log.error(`link ${describeLink(link)}: listener failed: ${error.message}`);
      this.listening = false;
    });
    server.on('close', () => (this.listening = false));
  }

  /** Create the consumer's socket (replacing a stale one) and start accepting. */
  static async open(link: XconnectLink, log: LinkLogger): Promise<UnixLink> {
    if (link.target === null || link.socket === null) throw new Error('link without target or socket');
    const listenPath = resolveInRoot(containerRoot(link.consumer_pid), link.target, { createParents: true });
    if (Buffer.byteLength(listenPath) > MAX_SOCKET_PATH) throw new Error(`${listenPath}: longer than a socket path may be`);
    removeStaleSocket(listenPath);
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The consumer may run its client as any user; access is decided by who gets the path.
    chmodSync(listenPath, 0o666);
    const opened = new UnixLink(link, linkIdentity(link), server, listenPath, lstatSync(listenPath).ino, log);
    log.info(`link ${describeLink(link)} up (pids ${link.consumer_pid} -> ${link.provider_pid}, listening on ${listenPath})`);
    return opened;
  }

  /** Still serving: listener open and our socket still at the target (nobody removed or replaced it). */
  healthy(): boolean {
    if (!this.listening) return false;
    try {
      const stat = lstatSync(this.listenPath);
      return stat.isSocket() && stat.ino === this.inode;
    } catch {
      return false;
    }
  }

  async close(reason: string): Promise<void> {
    this.listening = false;
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Bun removes the path on close; should a runtime not, remove it if it still is ours
    // (after a consumer restart the path may hold someone else's socket).
    try {
      const stat = lstatSync(this.listenPath);
      if (stat.isSocket() && stat.ino === this.inode) unlinkSync(this.listenPath);
    } catch {
      // The consumer is gone, and its root with it.
    }
    this.log.info(`link ${describeLink(this.link)} down (${reason}; ${this.relayed} connections relayed)`);
  }

  private relay(client: Socket): void {
    const { link } = this;
    let upstream: Socket;
    try {
      const providerPath = resolveInRoot(containerRoot(link.provider_pid), link.socket ?? '');
      upstream = connectUnix(providerPath);
    } catch (error) {
      this.failed(`provider socket: ${(error as Error).message}`);
      client.destroy();
      return;
    }
    this.connections.add(client);
    this.connections.add(upstream);
    this.relayed++;
    const sides = [client, upstream] as const;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const destroyBoth = (): void => {
      for (const side of sides) side.destroy();
    };
    const connected = (): void => {
      this.succeeded();
      this.log.debug(`link ${link.name}: connection relayed`);
    };
    // Connected in the call through FFI (no 'connect' event then); the fallback connects later.
    if (upstream.connecting) upstream.once('connect', connected);
    else connected();
    client.on('error', (error) => {
      this.log.debug(`link ${link.name}: consumer side: ${error.message}`);
      destroyBoth();
    });
    upstream.on('error', (error) => {
      this.failed(`provider side: ${error.message}`);
      destroyBoth();
    });
    for (const side of sides) {
      side.once('close', () => {
        this.connections.delete(side);
        const other = side === client ? upstream : client;
        if (other.destroyed) {
          clearTimeout(graceTimer);
          return;
        }
        // Let the other side deliver what it already holds, but never hang forever.
        other.end();
        graceTimer ??= setTimeout(destroyBoth, DRAIN_GRACE_MS);
        graceTimer.unref?.();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private failed(message: string): void {
    this.failures++;
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
    const repeated = this.failures > 1 ? ` (${this.failures} failures since the last report)` : '';
    this.log.error(`link ${describeLink(this.link)}: ${message}${repeated}`);
    this.lastFailureLog = now;
    this.failures = 0;
  }

  private succeeded(): void {
    if (this.lastFailureLog === 0 && this.failures === 0) return;
    this.log.info(`link ${describeLink(this.link)}: provider reachable again`);
    this.lastFailureLog = 0;
    this.failures = 0;
  }
}

/** A socket left by an earlier run (or a killed pv-xconnect) blocks bind; anything else is not ours to delete. */
function removeStaleSocket(path: string): void {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}
