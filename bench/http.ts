/**
 * GET /containers requests per second at 1, 16 and 64 keep-alive connections, beside a bare
 * Bun.serve hello server measured in the same run. Target: ≥ 0.5 × the bare server.
 *
 * Then the cost of metrics (GET /metrics, issue 13): the same load on a daemon with metrics and
 * one with PV_METRICS=0, in alternating pairs (on/off, off/on, …) so that the machine's drift
 * falls on both alike; the cost is 1 − median(on/off throughput ratio of each pair). Target:
 * < 3 %. Beside it, the daemon's CPU time per request (which contention bends less than
 * throughput) and the collection's own time per request, measured in this process.
 */
import { cpuSecondsOf, load, median, ratio, startDaemon, startHelloServer, type Started } from './common.ts';
import { PvCtrlMetrics } from '../src/metrics/pvctrl.ts';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 20_000);
const LEVELS = [1, 16, 64];

const hello = await startHelloServer();
const daemon = await startDaemon();
try {
  console.log(`GET /containers, ${TOTAL} requests per run, Node http client, keep-alive`);
  for (const concurrency of LEVELS) {
    load(hello.socket, '/', concurrency, 2000);
    load(daemon.socket, '/containers', concurrency, 2000);
    const base = load(hello.socket, '/', concurrency, TOTAL);
    const ours = load(daemon.socket, '/containers', concurrency, TOTAL);
    console.log(
      `c=${String(concurrency).padStart(2)}  bare Bun.serve ${base.rps.toFixed(0)} req/s (p99 ${base.p99_ms} ms)  pv-ctrl ${ours.rps.toFixed(0)} req/s (p99 ${ours.p99_ms} ms, errors ${ours.errors})  ratio ${ratio(ours.rps, base.rps)}`,
    );
  }
} finally {
  await daemon.stop();
  await hello.stop();
}

const PAIRS = Number(process.env.BENCH_METRICS_PAIRS ?? 8);
const METRICS_CONCURRENCY = 16;
const withMetrics = await startDaemon();
const withoutMetrics = await startDaemon({ PV_METRICS: '0' });
try {
  load(withMetrics.socket, '/containers', METRICS_CONCURRENCY, 2000);
  load(withoutMetrics.socket, '/containers', METRICS_CONCURRENCY, 2000);
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const on: number[] = [];
  const off: number[] = [];
  const cpuOn: number[] = [];
  const cpuOff: number[] = [];
  /** Requests per second and the daemon's CPU microseconds per request of one run. */
  const run = (target: Started): { rps: number; cpuUs: number } => {
    const pid = target.process.pid ?? 0;
    const before = cpuSecondsOf(pid);
    const result = load(target.socket, '/containers', METRICS_CONCURRENCY, TOTAL);
    return { rps: result.rps, cpuUs: ((cpuSecondsOf(pid) - before) * 1e6) / TOTAL };
  };
  for (let pair = 0; pair < PAIRS; pair++) {
    const onFirst = pair % 2 === 0;
    const first = run(onFirst ? withMetrics : withoutMetrics);
    const second = run(onFirst ? withoutMetrics : withMetrics);
    const [withOn, withOff] = onFirst ? [first, second] : [second, first];
    on.push(withOn.rps);
    off.push(withOff.rps);
    cpuOn.push(withOn.cpuUs);
    cpuOff.push(withOff.cpuUs);
    ratios.push(withOn.rps / withOff.rps);
    cpuRatios.push(withOn.cpuUs / withOff.cpuUs);
  }
  const cost = (1 - median(ratios)) * 100;
  const cpuCost = (median(cpuRatios) - 1) * 100;
  // The collection's own work per request, without the machine's noise around it.
  const metrics = new PvCtrlMetrics({ runningRevision: () => undefined, updateProgress: () => undefined, containers: () => [], objects: () => ({ count: 0, bytes: 0 }), daemons: () => [], openConnections: () => 0, eventSubscribers: () => 0 });
  const finished = { route: '/containers', method: 'GET', status: 200, seconds: 0.0003, target: '/containers', caller: undefined, pid: 1 };
  const calls = 2_000_000;
  for (let call = 0; call < calls / 10; call++) metrics.requestFinished(finished);
  const started = performance.now();
  for (let call = 0; call < calls; call++) metrics.requestFinished(finished);
  const nsPerRequest = ((performance.now() - started) * 1e6) / calls;
  console.log(`metrics cost, GET /containers c=${METRICS_CONCURRENCY}, ${TOTAL} requests per run, ${PAIRS} alternating pairs (on/off, off/on, …)`);
  console.log(
    `  throughput: on ${median(on).toFixed(0)} req/s, PV_METRICS=0 ${median(off).toFixed(0)} req/s (medians); pair ratios ${ratios.map((value) => value.toFixed(3)).join(' ')}; ` +
      `median ${median(ratios).toFixed(3)}: cost ${cost.toFixed(1)} % (goal < 3 %)`,
  );
  console.log(`  daemon CPU per request: on ${median(cpuOn).toFixed(1)} µs, off ${median(cpuOff).toFixed(1)} µs (medians); median pair ratio ${median(cpuRatios).toFixed(3)}: ${cpuCost.toFixed(1)} %`);
  console.log(`  counting one request: ${nsPerRequest.toFixed(0)} ns (${((nsPerRequest * median(off)) / 1e7).toFixed(3)} % of a CPU at the PV_METRICS=0 rate)`);
} finally {
  await withMetrics.stop();
  await withoutMetrics.stop();
}
