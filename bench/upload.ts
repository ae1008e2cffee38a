/**
 * A 256 MiB object upload through pv-ctrl (curl -T, as pvcontrol does) beside the same work done
 * by standard tools in the same run: `openssl dgst -sha256` in parallel with `dd … conv=fsync`
 * writing a copy, and `sha256sum` alone. Also the daemon's RSS idle and during the upload, and
 * the slowest GET /containers answered while the upload runs.
 * Targets: upload ≥ 0.6 × the tool baseline; RSS growth < 16 MiB; no GET slower than 50 ms.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mb, ratio, rssOf, startDaemon } from './common.ts';

const SIZE = Number(process.env.BENCH_UPLOAD_BYTES ?? 256 * 1024 * 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const daemon = await startDaemon();
const file = join(daemon.dir, 'upload.bin');
const copy = join(daemon.dir, 'copy.bin');
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

function toolBaseline(): number {
  rmSync(copy, { force: true });
  spawnSync('sync');
  const started = process.hrtime.bigint();
  const result = spawnSync('sh', ['-c', `openssl dgst -sha256 ${file} >/dev/null & dd if=${file} of=${copy} bs=1M conv=fsync status=none; wait`]);
  if (result.status !== 0) throw new Error(String(result.stderr));
  return SIZE / seconds(started);
}

function sha256sumBaseline(): number {
  const started = process.hrtime.bigint();
  spawnSync('sha256sum', [file]);
  return SIZE / seconds(started);
}

async function ours(): Promise<{ rate: number; peakRss: number; slowestGet: number; gets: number }> {
  spawnSync('curl', ['-s', '--unix-socket', daemon.socket, '-X', 'POST', 'http://localhost/storage/gc']);
  spawnSync('sync');
  let peakRss = rssOf(daemon.process.pid as number);
  let slowestGet = 0;
  let gets = 0;
  let running = true;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(daemon.process.pid as number))), 10);
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

try {
  await ours();
  const idle = rssOf(daemon.process.pid as number);
  console.log(`256 MiB upload (${SIZE} bytes), ${RUNS} runs; daemon RSS idle ${mb(idle)} MB`);
  for (let run = 1; run <= RUNS; run++) {
    const tools = toolBaseline();
    const sum = sha256sumBaseline();
    const result = await ours();
    console.log(
      `run ${run}: pv-ctrl ${mb(result.rate)} MB/s | openssl‖dd ${mb(tools)} MB/s → ratio ${ratio(result.rate, tools)} | sha256sum ${mb(sum)} MB/s → ratio ${ratio(result.rate, sum)} | RSS peak ${mb(result.peakRss)} MB (+${mb(result.peakRss - idle)} MB) | slowest of ${result.gets} GETs during upload ${result.slowestGet.toFixed(1)} ms`,
    );
  }
} finally {
  rmSync(copy, { force: true });
  await daemon.stop();
}
