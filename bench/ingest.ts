/**
 * End-to-end object ingest throughput: JS path vs native path vs a shell baseline.
 *
 *   bun bench/ingest.ts [--size-mib 256] [--runs 5] [--dir <tmpdir>] [--chunk-kib 64]
 *
 * Both ingest paths are fed from a random file read in 64 KiB chunks, the way
 * an HTTP upload handler receives them, and timed from open to finish()
 * (which includes the fsync). The baseline is what the machine does with two
 * processes: `openssl dgst -sha256` in parallel with `dd ... conv=fsync` on
 * the same file; every figure is also printed as a ratio to it.
 *
 * Single runs on a VM disk are noisy (occasional 2x outliers in any row), so
 * each row is measured --runs times, interleaved, and the median is reported
 * with the min..max range.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import {
  openJsIngest,
  openNativeIngest,
  sha256FileJs,
  INGEST_IMPLEMENTATION,
  type ObjectIngest,
} from '../src/storage/ingest.ts';
import { createNativeIngest, nativeSha256File } from '../src/native/index.ts';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? (process.argv[index + 1] as string) : fallback;
}

const sizeMiB = Number(option('size-mib', '256'));
const runs = Number(option('runs', '5'));
const chunkBytes = Number(option('chunk-kib', '64')) * 1024;
const dir = mkdtempSync(join(option('dir', tmpdir()), 'pvctrl-bench-'));
const source = join(dir, 'source.bin');
const bytes = sizeMiB * 1024 * 1024;

function makeSource(): void {
  const fd = openSync(source, 'w');
  const block = Buffer.allocUnsafe(1 << 20);
  for (let i = 0; i < sizeMiB; i++) {
    randomFillSync(block);
    writeSync(fd, block);
  }
  closeSync(fd);
  // Keep earlier dirty pages from being written back during a measurement.
  spawnSync('sync');
}

/** Each measurement starts with no dirty pages left over from the previous one. */
function settle(): void {
  spawnSync('sync');
}

/**
 * Writes and deletes a scratch file as large as the object right before a
 * measurement that creates one. This VM's balloon reports idle free memory to
 * the host, and re-touching reported pages made a 256 MiB page-cache write
 * cost ~300 ms instead of ~90 ms depending only on how long memory sat free;
 * recycling pages just before the timed run gives every row the same start.
 */
function recyclePageCache(): void {
  const scratch = join(dir, 'scratch.bin');
  const fd = openSync(scratch, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < sizeMiB; i++) writeSync(fd, block);
  closeSync(fd);
  rmSync(scratch);
}

async function feed(sink: ((chunk: Uint8Array) => Promise<void>) | undefined): Promise<number> {
  let chunks = 0;
  for await (const chunk of createReadStream(source, { highWaterMark: chunkBytes })) {
    chunks++;
    if (sink !== undefined) await sink(chunk as Buffer);
  }
  return chunks;
}

/**
 * CPU time of the loop thread alone (main thread tid == pid), in ms. Shows how
 * much of the event loop an upload takes away from other requests, which
 * wall-clock throughput does not. Clock ticks are 10 ms (CLK_TCK 100).
 */
function loopThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const loopCpu = new Map<string, number[]>();

async function timeIngest(open: (path: string) => ObjectIngest, label?: string): Promise<number> {
  const target = join(dir, 'ingest.tmp');
  rmSync(target, { force: true });
  recyclePageCache();
  settle();
  const cpuBefore = loopThreadCpuMs();
  const started = performance.now();
  const ingest = open(target);
  await feed((chunk) => ingest.write(chunk));
  const result = await ingest.finish();
  const elapsed = performance.now() - started;
  if (label !== undefined) loopCpu.set(label, [...(loopCpu.get(label) ?? []), loopThreadCpuMs() - cpuBefore]);
  if (result.size !== bytes) throw new Error(`size mismatch: ${result.size} != ${bytes}`);
  rmSync(target, { force: true });
  return elapsed;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

async function timeBaseline(): Promise<number> {
  const copy = join(dir, 'copy.bin');
  rmSync(copy, { force: true });
  recyclePageCache();
  settle();
  const started = performance.now();
  await Promise.all([
    run('openssl', ['dgst', '-sha256', source]),
    run('dd', [`if=${source}`, `of=${copy}`, 'bs=1M', 'conv=fsync']),
  ]);
  const elapsed = performance.now() - started;
  rmSync(copy, { force: true });
  return elapsed;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  settle();
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** The native path with sync_file_range disabled, to show what early writeback buys. */
function lateWritebackIngest(path: string): ObjectIngest {
  const handle = createNativeIngest(path, { earlyWriteback: false });
  return {
    write: (chunk) => handle.write(chunk) ?? Promise.resolve(),
    finish: () => handle.finish(),
    abort: () => handle.abort(),
  };
}

const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);

interface Row {
  name: string;
  ms: number[];
}

async function main(): Promise<void> {
  console.log(`# bench/ingest: ${sizeMiB} MiB random file, ${chunkBytes / 1024} KiB chunks, ${runs} run(s), dir ${dir}`);
  console.log(`# bun ${Bun.version}, openIngest uses: ${INGEST_IMPLEMENTATION}`);
  makeSource();
  // Untimed pass through both paths: the first run in a fresh process pays
  // for JIT and allocator warm-up, which a long-running daemon does not.
  await timeIngest(openJsIngest);
  await timeIngest(openNativeIngest);
  const rows: Row[] = [
    { name: 'baseline: openssl dgst || dd conv=fsync', ms: [] },
    { name: 'sha256sum alone', ms: [] },
    { name: 'feeder alone (64 KiB reads, no ingest)', ms: [] },
    { name: 'JS ingest (CryptoHasher + fs)', ms: [] },
    { name: 'native ingest (addon)', ms: [] },
    { name: 'native ingest, earlyWriteback off', ms: [] },
    { name: 'sha256File JS', ms: [] },
    { name: 'sha256File native', ms: [] },
  ];
  const [baseline, sha256sum, feeder, js, native, nativeLate, fileJs, fileNative] = rows as [Row, Row, Row, Row, Row, Row, Row, Row];
  for (let i = 0; i < runs; i++) {
    baseline.ms.push(await timeBaseline());
    sha256sum.ms.push(await timed(() => run('sha256sum', [source])));
    {
      const cpuBefore = loopThreadCpuMs();
      feeder.ms.push(await timed(() => feed(undefined)));
      loopCpu.set(feeder.name, [...(loopCpu.get(feeder.name) ?? []), loopThreadCpuMs() - cpuBefore]);
    }
    js.ms.push(await timeIngest(openJsIngest, js.name));
    native.ms.push(await timeIngest(openNativeIngest, native.name));
    nativeLate.ms.push(await timeIngest(lateWritebackIngest, nativeLate.name));
    fileJs.ms.push(await timed(() => sha256FileJs(source)));
    fileNative.ms.push(await timed(() => nativeSha256File(source)));
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  const baseMbps = median(baseline.ms.map(mbps));
  console.log(`${'row'.padEnd(42)} ${'median'.padStart(11)}  ${'min..max'.padEnd(11)}  ratio to baseline median, loop-thread CPU (median)`);
  for (const row of rows) {
    const figures = row.ms.map(mbps);
    const mid = median(figures);
    const range = `${Math.min(...figures).toFixed(0)}..${Math.max(...figures).toFixed(0)}`;
    const cpu = loopCpu.get(row.name);
    const cpuText = cpu === undefined ? '' : `   loop-thread CPU ${median(cpu).toFixed(0)} ms`;
    console.log(`${row.name.padEnd(42)} ${mid.toFixed(0).padStart(6)} MB/s  ${range.padEnd(11)}  x${(mid / baseMbps).toFixed(2)}${cpuText}`);
  }
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
