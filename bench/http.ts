/**
 * GET /containers requests per second at 1, 16 and 64 keep-alive connections, beside a bare
 * Bun.serve hello server measured in the same run. Target: ≥ 0.5 × the bare server.
 */
import { load, ratio, startDaemon, startHelloServer } from './common.ts';

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
