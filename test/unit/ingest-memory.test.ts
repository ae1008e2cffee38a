import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJsIngest, openNativeIngest, type ObjectIngest } from '../../src/storage/ingest.ts';
import { createNativeIngest } from '../../src/native/index.ts';

const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-ingest-mem-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const TOTAL = 256 << 20;
const CHUNK = 64 << 10;
const TARGET_MIB = 16;
const LIMIT_MIB = 48;
const mib = (bytes: number): number => Math.round((bytes / (1 << 20)) * 10) / 10;

// A small pool of distinct chunks, recycled: the ingest must copy, so reuse
// is legal, and it keeps the feeder's own garbage out of the RSS figure.
const pool = Array.from({ length: 16 }, () => randomBytes(CHUNK));

async function measure(open: (path: string) => ObjectIngest, label: string): Promise<{ growth: number; digestOk: boolean }> {
  // Warm-up so code, thread-pool threads and allocator arenas already exist.
  const warm = open(join(dir, `${label}-warm`));
  for (let i = 0; i < 64; i++) await warm.write(pool[i % pool.length]!);
  await warm.finish();
  Bun.gc(true);

  const base = process.memoryUsage.rss();
  let peak = base;
  const expected = createHash('sha256');
  const path = join(dir, `${label}.tmp`);
  const ingest = open(path);
  for (let offset = 0, i = 0; offset < TOTAL; offset += CHUNK, i++) {
    const chunk = pool[i % pool.length]!;
    expected.update(chunk);
    await ingest.write(chunk);
    if (i % 32 === 0) peak = Math.max(peak, process.memoryUsage.rss());
  }
  const result = await ingest.finish();
  peak = Math.max(peak, process.memoryUsage.rss());
  rmSync(path);
  return { growth: peak - base, digestOk: result.sha256 === expected.digest('hex') && result.size === TOTAL };
}

for (const [label, open] of [
  ['native', openNativeIngest],
  ['js', openJsIngest],
] as const) {
  t.test(`${label}: RSS growth while ingesting 256 MiB stays bounded`, async (t) => {
    const { growth, digestOk } = await measure(open, label);
    t.comment(`${label}: RSS growth ${mib(growth)} MiB over 256 MiB ingested (target < ${TARGET_MIB} MiB, limit ${LIMIT_MIB} MiB)`);
    t.ok(digestOk, 'digest and size match node:crypto');
    t.ok(growth < LIMIT_MIB << 20, `growth ${mib(growth)} MiB < ${LIMIT_MIB} MiB`);
  });
}

t.test('native: bytes held never exceed the high-water mark plus one chunk', async (t) => {
  const highWaterMark = 1 << 20;
  const handle = createNativeIngest(join(dir, 'buffered.tmp'), { highWaterMark, batchBytes: 128 << 10 });
  let peak = 0;
  for (let offset = 0, i = 0; offset < 64 << 20; offset += CHUNK, i++) {
    const pending = handle.write(pool[i % pool.length]!);
    peak = Math.max(peak, handle.bufferedBytes);
    if (pending !== undefined) await pending;
  }
  await handle.finish();
  t.comment(`peak buffered ${mib(peak)} MiB with a ${mib(highWaterMark)} MiB high-water mark`);
  t.ok(peak <= highWaterMark + CHUNK, `peak ${peak} <= ${highWaterMark + CHUNK}`);
  t.equal(handle.bufferedBytes, 0, 'nothing left after finish');
});

t.test('native: the event loop keeps running during a large ingest', async (t) => {
  // The loop-thread work per chunk is a memcpy; hashing, writing and the final
  // fsync happen on the thread pool. Measure the worst timer delay.
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  const ingest = openNativeIngest(join(dir, 'lag.tmp'));
  for (let offset = 0, i = 0; offset < 64 << 20; offset += CHUNK, i++) {
    await ingest.write(pool[i % pool.length]!);
    // Yield like a socket would between chunks so the timer gets its turns.
    if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await ingest.finish();
  clearInterval(timer);
  t.comment(`worst timer interval during a 64 MiB native ingest: ${worst.toFixed(1)} ms`);
  t.ok(worst < 100, 'no long stall on the loop thread');
});
