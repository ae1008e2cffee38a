/**
 * pv-xconnect: connects the services containers export to the containers that require them,
 * as the graph from pv-ctrl describes (spec §7.12, §14). Run by pv-ctrl's supervisor as
 * `<bun> src/xconnect/main.ts --socket <pv-ctrl socket>` (see docs/xconnect.md); it is a host
 * process in pv-ctrl's cgroup, which is what makes pv-ctrl answer it as the privileged `_pv_`.
 *
 * Output: one line per event on stdout (the supervisor tags it `pv-xconnect-out`).
 */
import { parseArgs } from 'node:util';
import { fetchGraph } from './graph.ts';
import { Reconciler } from './reconciler.ts';
import type { LinkLogger } from './unix-link.ts';

const USAGE = `Usage: pv-xconnect [--socket PATH] [--interval MS] [--verbose]
  --socket PATH   pv-ctrl's socket (default $PV_CTRL_SOCKET, else /run/pantavisor/pv/pv-ctrl)
  --interval MS   graph poll period (default 1000)
  --verbose       log every relayed connection`;

interface Settings {
  socket: string;
  intervalMs: number;
  verbose: boolean;
}

function settings(argv: string[]): Settings | string {
  const { values } = parseArgs({
    args: argv,
    options: {
      socket: { type: 'string' },
      interval: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return USAGE;
  const intervalMs = Number(values.interval ?? process.env.PV_XCONNECT_INTERVAL_MS ?? 1000);
  if (!Number.isFinite(intervalMs) || intervalMs < 50) return `pv-xconnect: bad interval ${values.interval}\n${USAGE}`;
  return {
    socket: values.socket ?? process.env.PV_CTRL_SOCKET ?? '/run/pantavisor/pv/pv-ctrl',
    intervalMs,
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

async function run(config: Settings): Promise<number> {
  const log = logger(config.verbose);
  const reconciler = new Reconciler(log);
  const parent = process.ppid;
  let stopping = false;
  let wake: () => void = () => undefined;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}: closing links`);
    wake();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log.info(`polling ${config.socket} every ${config.intervalMs} ms`);
  let lastError = '';
  while (!stopping) {
    // We run in our own process group, so a pv-ctrl that died without stopping us would
    // leave us serving a stale graph next to its successor's pv-xconnect.
    if (process.ppid !== parent) {
      stop(`pv-ctrl (pid ${parent}) is gone`);
      break;
    }
    try {
      const graph = await fetchGraph(config.socket);
      if (lastError !== '') log.info('graph available again');
      lastError = '';
      if (!stopping) await reconciler.apply(graph);
    } catch (error) {
      // Keep the links we have: a busy or restarting pv-ctrl does not stop the containers.
      const message = (error as Error).message;
      if (message !== lastError) log.error(`cannot read the graph: ${message}`);
      lastError = message;
    }
    if (stopping) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, config.intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
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
