/**
 * pv-xconnect: connects the services containers export to the containers that require them,
 * as the graph from pv-ctrl describes (spec §7.12, §14). Run by pv-ctrl's supervisor as
 * `<bun> src/xconnect/main.ts --socket <pv-ctrl socket>` (see docs/xconnect.md); it is a host
 * process in pv-ctrl's cgroup, which is what makes pv-ctrl answer it as the privileged `_pv_`.
 *
 * Output: one line per event on stdout (the supervisor tags it `pv-xconnect-out`).
 */
import { parseArgs } from 'node:util';
import { openEventStream, type EventStream } from '../client/event-stream.ts';
import { fetchGraph } from './graph.ts';
import { Reconciler } from './reconciler.ts';
import type { LinkLogger } from './unix-link.ts';

const USAGE = `Usage: pv-xconnect [--socket PATH] [--retry MS] [--verbose]
  --socket PATH   pv-ctrl's socket (default $PV_CTRL_SOCKET, else /run/pantavisor/pv/pv-ctrl)
  --retry MS      first delay before re-subscribing, or re-trying links that could not be set
                  up (default 1000, doubling up to 30 s; nothing is timed while all is well)
  --verbose       log every relayed connection`;

interface Settings {
  socket: string;
  retryMs: number;
  verbose: boolean;
}

/** The longest wait between attempts while pv-ctrl is away or a link cannot be set up. */
const MAX_RETRY_MS = 30_000;

function settings(argv: string[]): Settings | string {
  const { values } = parseArgs({
    args: argv,
    options: {
      socket: { type: 'string' },
      retry: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return USAGE;
  const retryMs = Number(values.retry ?? process.env.PV_XCONNECT_RETRY_MS ?? 1000);
  if (!Number.isFinite(retryMs) || retryMs < 50) return `pv-xconnect: bad retry delay ${values.retry}\n${USAGE}`;
  return {
    socket: values.socket ?? process.env.PV_CTRL_SOCKET ?? '/run/pantavisor/pv/pv-ctrl',
    retryMs,
    verbose: values.verbose === true || process.env.PV_XCONNECT_VERBOSE === '1',
  };
}

function logger(verbose: boolean): LinkLogger {
  return {
    info: (message) => process.stdout.write(`${message}\n`),
    error: (message) => process.stdout.write(`error: ${message}\n`),
    debug: (message) => {
      if (verbose) process.stdout.write(`${message}\n`);
    },
  };
}

/**
 * Reads the graph and applies it, one pass at a time: asks that come during a pass make one
 * more pass after it. A pass that leaves links unset (a provider socket not there yet, pv-ctrl
 * busy) arms one retry, with a doubling delay; a clean pass arms nothing.
 */
class GraphSync {
  private running = false;
  private again = false;
  private current: Promise<void> = Promise.resolve();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs: number;
  private lastError = '';

  constructor(
    private readonly socket: string,
    private readonly reconciler: Reconciler,
    private readonly log: LinkLogger,
    private readonly firstRetryMs: number,
  ) {
    this.retryMs = firstRetryMs;
  }

  request(): void {
    this.cancelRetry();
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = this.passes();
  }

  cancelRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Resolves once no pass runs (the last one's links are set up or torn down). */
  settled(): Promise<void> {
    return this.current;
  }

  private async passes(): Promise<void> {
    let complete = true;
    do {
      this.again = false;
      complete = await this.pass();
    } while (this.again);
    this.running = false;
    if (complete) {
      this.retryMs = this.firstRetryMs;
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.request();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  /** One pass; false when something is left to retry. */
  private async pass(): Promise<boolean> {
    try {
      const graph = await fetchGraph(this.socket);
      if (this.lastError !== '') this.log.info('graph available again');
      this.lastError = '';
      await this.reconciler.apply(graph);
      return this.reconciler.unset === 0;
    } catch (error) {
      // Keep the links we have: a busy or restarting pv-ctrl does not stop the containers.
      const message = (error as Error).message;
      if (message !== this.lastError) this.log.error(`cannot read the graph: ${message}`);
      this.lastError = message;
      return false;
    }
  }
}

async function run(config: Settings): Promise<number> {
  const log = logger(config.verbose);
  const reconciler = new Reconciler(log);
  const sync = new GraphSync(config.socket, reconciler, log, config.retryMs);
  const parent = process.ppid;
  let stopping = false;
  let stream: EventStream | undefined;
  let wake: () => void = () => undefined;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}: closing links`);
    stream?.close();
    wake();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log.info(`following ${config.socket} (GET /events?types=xconnect)`);
  // The last event seen: a re-subscription resumes after it. A restarted pv-ctrl has a new
  // epoch and answers an old number with `reset`, which only asks for the pass we make anyway.
  let since: number | undefined;
  let retryMs = config.retryMs;
  let lastError = '';
  while (!stopping) {
    // We run in our own process group, so a pv-ctrl that died without stopping us would
    // leave us serving a stale graph next to its successor's pv-xconnect.
    if (process.ppid !== parent) {
      stop(`pv-ctrl (pid ${parent}) is gone`);
      break;
    }
    try {
      stream = await openEventStream({ socketPath: config.socket, types: ['xconnect'], since });
      if (stopping) break;
      if (lastError !== '') log.info('event stream available again');
      lastError = '';
      retryMs = config.retryMs;
      // Whatever changed while we were not subscribed: one pass now, then one per change.
      sync.request();
      for await (const event of stream) {
        since = event.seq;
        if (event.type === 'xconnect' || event.type === 'reset') sync.request();
      }
    } catch (error) {
      const message = (error as Error).message;
      if (message !== lastError) log.error(`event stream: ${message}`);
      lastError = message;
    } finally {
      stream?.close();
      stream = undefined;
    }
    if (stopping) break;
    // pv-ctrl restarts or is busy: subscribe again after a pause that grows while it stays away.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, retryMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
  sync.cancelRetry();
  await sync.settled();
  await reconciler.closeAll('pv-xconnect stopping');
  return 0;
}

const parsed = settings(process.argv.slice(2));
if (typeof parsed === 'string') {
  process.stdout.write(`${parsed}\n`);
  process.exit(parsed === USAGE ? 0 : 2);
}
run(parsed).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`pv-xconnect: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
