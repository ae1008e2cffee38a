/**
 * A 256 MiB object upload through pv-ctrl (curl -T, as pvcontrol does) beside the same work done
 * by standard tools in the same run: `openssl dgst -sha256` in parallel with `dd … conv=fsync`
 * writing a copy, and `sha256sum` alone. Two daemons run side by side, one with the upload fast
 * path (native read from the connection fd, the default) and one with PVCTRL_UPLOAD_FASTPATH=0
 * (body through Bun's HTTP parser), and every run measures baseline, JS path and fast path in a
 * rotating order. Also each daemon's RSS idle and during the upload, and the slowest
 * GET /containers answered while the upload runs.
 * Targets: upload ≥ 0.6 × the tool baseline; RSS growth < 16 MiB; no GET slower than 50 ms.
 *
 * Env: BENCH_UPLOAD_BYTES (default 256 MiB), BENCH_RUNS (default 5, at least 3).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { mb, median, ratio, rssOf, startDaemon, type Started } from './common.ts';

const SIZE = Number(process.env.BENCH_UPLOAD_BYTES ?? 256 * 1024 * 1024);
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));

const fast = await startDaemon();
const js = await startDaemon({ PVCTRL_UPLOAD_FASTPATH: '0' });
const file = join(fast.dir, 'upload.bin');
const copy = join(fast.dir, 'copy.bin');
{
  const block = Buffer.alloc(1024 * 1024);
  const parts: Buffer[] = [];
  for (let written = 0; written < SIZE; written += block.length) parts.push(Buffer.from(crypto.getRandomValues(new Uint8Array(block.length))));
  writeFileSync(file, Buffer.concat(parts).subarray(0, SIZE));
}
const hash = createHash('sha256');
for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
const sha = hash.digest('hex');

const seconds = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;

/**
 * Write and delete a scratch file as large as the object right before every measurement that
 * creates one: this VM's balloon hands idle free memory back to the host and re-touching it
 * made page-cache writes 2–3× slower depending only on how long memory sat free
 * (docs/native-ingest.md, "Measurement pitfall"). Then sync, so no earlier dirty pages are
 * written back during the measurement.
 */
function prepare(): void {
  const scratch = join(fast.dir, 'scratch.bin');
  const fd = openSync(scratch, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let written = 0; written < SIZE; written += block.length) writeSync(fd, block);
  closeSync(fd);
  rmSync(scratch);
  spawnSync('sync');
}

function toolBaseline(): number {
  rmSync(copy, { force: true });
  prepare();
  const started = process.hrtime.bigint();
  const result = spawnSync('sh', ['-c', `openssl dgst -sha256 ${file} >/dev/null & dd if=${file} of=${copy} bs=1M conv=fsync status=none; wait`]);
  if (result.status !== 0) throw new Error(String(result.stderr));
  const rate = SIZE / seconds(started);
  rmSync(copy, { force: true });
  return rate;
}

function sha256sumBaseline(): number {
  const started = process.hrtime.bigint();
  spawnSync('sha256sum', [file]);
  return SIZE / seconds(started);
}

interface UploadResult {
  rate: number;
  peakRss: number;
  slowestGet: number;
  gets: number;
}

async function upload(daemon: Started): Promise<UploadResult> {
  // Removed behind the daemon's back so every run stores the object anew (no "already present").
  rmSync(join(daemon.dir, 'storage', 'objects', sha), { force: true });
  prepare();
  const pid = daemon.process.pid as number;
  let peakRss = rssOf(pid);
  let slowestGet = 0;
  let gets = 0;
  let running = true;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(pid))), 10);
  const prober = (async () => {
    while (running) {
      const started = process.hrtime.bigint();
      await fetch('http://localhost/containers', { unix: daemon.socket } as RequestInit);
      slowestGet = Math.max(slowestGet, seconds(started) * 1000);
      gets++;
      await Bun.sleep(5);
    }
  })();
  const started = process.hrtime.bigint();
  const curl = spawn('curl', ['-sS', '--unix-socket', daemon.socket, '-H', 'Content-Type: application/octet-stream', '-T', file, `http://localhost/objects/${sha}`, '-w', '%{http_code}', '-o', '/dev/null']);
  let status = '';
  curl.stdout.on('data', (chunk: Buffer) => (status += chunk.toString()));
  await new Promise((resolve) => curl.once('exit', resolve));
  const rate = SIZE / seconds(started);
  running = false;
  await prober;
  clearInterval(sampler);
  if (status !== '200') throw new Error(`upload answered ${status}`);
  return { rate, peakRss, slowestGet, gets };
}

type Row = 'baseline' | 'js' | 'fast';
const ORDERS: Row[][] = [
  ['baseline', 'js', 'fast'],
  ['fast', 'baseline', 'js'],
  ['js', 'fast', 'baseline'],
];

const summary = (values: number[]): string =>
  `median ${mb(median(values))} MB/s (${mb(Math.min(...values))}..${mb(Math.max(...values))})`;
const ratios = (values: number[], baselines: number[]): number[] => values.map((value, index) => value / (baselines[index] as number));
const ratioSummary = (values: number[]): string =>
  `median ${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}..${Math.max(...values).toFixed(2)})`;

try {
  await upload(fast);
  await upload(js);
  const idle = { fast: rssOf(fast.process.pid as number), js: rssOf(js.process.pid as number) };
  console.log(
    `${mb(SIZE)} MB upload (${SIZE} bytes), ${RUNS} runs; daemon RSS idle: fast path ${mb(idle.fast)} MB, JS path ${mb(idle.js)} MB`,
  );
  const tools: number[] = [];
  const sums: number[] = [];
  const results: Record<'js' | 'fast', UploadResult[]> = { js: [], fast: [] };
  for (let run = 1; run <= RUNS; run++) {
    for (const row of ORDERS[(run - 1) % ORDERS.length] as Row[]) {
      if (row === 'baseline') tools.push(toolBaseline());
      else results[row].push(await upload(row === 'fast' ? fast : js));
    }
    sums.push(sha256sumBaseline());
    const base = tools[run - 1] as number;
    const line = (row: 'js' | 'fast'): string => {
      const result = results[row][run - 1] as UploadResult;
      return `${row === 'fast' ? 'fast path' : 'JS path'} ${mb(result.rate)} MB/s (ratio ${ratio(result.rate, base)}, RSS +${mb(result.peakRss - idle[row])} MB, slowest of ${result.gets} GETs ${result.slowestGet.toFixed(1)} ms)`;
    };
    console.log(`run ${run}: openssl‖dd ${mb(base)} MB/s | ${line('js')} | ${line('fast')} | sha256sum ${mb(sums[run - 1] as number)} MB/s`);
  }
  const fastRates = results.fast.map((result) => result.rate);
  const jsRates = results.js.map((result) => result.rate);
  console.log('summary (median over runs, min..max):');
  console.log(`  openssl‖dd baseline  ${summary(tools)}`);
  console.log(`  sha256sum            ${summary(sums)}`);
  console.log(`  JS path              ${summary(jsRates)}; ratio to baseline ${ratioSummary(ratios(jsRates, tools))}`);
  console.log(`  fast path            ${summary(fastRates)}; ratio to baseline ${ratioSummary(ratios(fastRates, tools))}`);
  console.log(`  fast / JS            ${ratioSummary(ratios(fastRates, jsRates))}`);
  for (const row of ['js', 'fast'] as const) {
    const peak = Math.max(...results[row].map((result) => result.peakRss - idle[row]));
    const slowest = Math.max(...results[row].map((result) => result.slowestGet));
    console.log(`  ${row === 'fast' ? 'fast path' : 'JS path  '}            RSS growth max ${mb(peak)} MB; slowest GET during uploads ${slowest.toFixed(1)} ms`);
  }
} finally {
  rmSync(copy, { force: true });
  await fast.stop();
  await js.stop();
}
