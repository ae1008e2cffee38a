/**
 * GET /events under load (docs/events.md). Three processes besides the daemon: a writer that
 * changes user meta 1,000 times a second for 10 s, a process holding the subscribers, and the
 * Node GET load client. Figures, each beside a baseline of the same run:
 * - delivery latency p50/p99 over 100 subscribers, from the state change (the event's `time`,
 *   set when the daemon publishes it after the durable write; whole ms, so up to 1 ms high) to
 *   the subscriber's read, once the writes have run for a second (as the GET load is measured
 *   after a warm-up): the first second's p99, when a fresh daemon's event path is compiled
 *   while it runs, is printed beside it;
 * - daemon RSS growth with 100 subscribers (goal ≤ 8 MiB);
 * - GET /buildinfo throughput during the writes with 100 subscribers vs with none (goal ≥ 0.9×);
 * - one subscriber that never reads: RSS growth vs the same run without it (goal ≤ cap + 1 MiB);
 * - the floor of the GET and latency figures: the same run with the 100 subscribers fed by a bare
 *   Bun streamer in its own process (same events, same coalescing rule) instead of the daemon, so
 *   the daemon does nothing for them and what GET loses is the deliveries' price on this machine.
 * The machine is shared and noisy: runs alternate (with, without) BENCH_ROUNDS times (default 3)
 * on fresh daemons and the medians are reported. The daemon's storage is on tmpfs (/dev/shm;
 * BENCH_EVENTS_ROOT to change it): on a disk, the writes' fsyncs cap the rate far below 1,000/s
 * and the bench measures the disk, not the stream. The achieved rate is printed.
 * Modes `--writer`, `--subscribers` and `--streamer` are this file run as those helper processes.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { DEFAULT_COALESCE_MS } from '../src/events/bus.ts';
import { CHUNKED } from '../src/server/respond.ts';
import { REPO, mb, median, rssOf, startDaemon, type LoadResult } from './common.ts';

const RATE = Number(process.env.BENCH_EVENT_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_EVENT_SECONDS ?? 10);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROOT = process.env.BENCH_EVENTS_ROOT ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const KEY = 'bench.events';
/** From the warm-up's end to the writes' start, in every run (the subscribers connect meanwhile). */
const SETTLE_MS = 1500;
const TIME = '"time":';
const now = (): number => performance.timeOrigin + performance.now();

/** Writer: RATE user-meta changes a second, paced, over 4 keep-alive connections. */
async function writer(socketPath: string, rate: number, seconds: number, padding: number): Promise<void> {
  const total = rate * seconds;
  const start = now() + 50;
  let next = 0;
  const pad = 'p'.repeat(padding);
  const connection = async (): Promise<void> => {
    const socket = createConnection(socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    let pending: (() => void) | undefined;
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // Each answer is a 200 with an empty body (Content-Length: 0).
      while (received.includes('\r\n\r\n')) {
        received = received.slice(received.indexOf('\r\n\r\n') + 4);
        const resolve = pending;
        pending = undefined;
        resolve?.();
      }
    });
    while (next < total) {
      const index = next++;
      const due = start + (index * 1000) / rate;
      const wait = due - now();
      if (wait > 1) await Bun.sleep(wait);
      const body = `${index} ${pad}`;
      const done = new Promise<void>((resolve) => (pending = resolve));
      socket.write(`PUT /user-meta/${KEY} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await done;
    }
    socket.end();
  };
  await Promise.all([connection(), connection(), connection(), connection()]);
  const usage = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ sent: total, seconds: (now() - start) / 1000, cpu: (usage.user + usage.system) / 1e6 })}\n`);
}

/** `"time":` as bytes: found in each read without decoding it. */
const TIME_BYTES = Buffer.from(TIME, 'latin1');
const COMMA = 0x2c;

/**
 * Subscribers: count events and latencies until told to stop on stdin; prints JSON. On Bun's own
 * sockets and scanning bytes, because this process shares the 2 CPUs with the daemon and the GET
 * load: what it spends is taken from the figure under test (node:net and a string per read cost
 * it about twice as much).
 */
async function subscribers(socketPath: string, count: number, stalled: boolean): Promise<void> {
  const latencies = new Float64Array(Math.max(1, RATE * (SECONDS + 5) * count));
  let received = 0;
  // Until the parent says `measure` (the writes have run for a second), reads count here.
  const warmLatencies = new Float64Array(Math.max(1, RATE * 2 * count));
  let warmReceived = 0;
  let measuring = false;
  let ready = 0;
  const sockets: { end(): void }[] = [];
  const request = Buffer.from('GET /events?types=meta HTTP/1.1\r\nHost: localhost\r\n\r\n', 'latin1');
  for (let index = 0; index < count; index++) {
    const socket = await Bun.connect({
      unix: socketPath,
      socket: {
        data(socket, chunk) {
          const at = now();
          if (stalled) {
            // Never read again: the daemon's writes pile up in its buffers and ours.
            socket.pause();
            return;
          }
          // Every event's `"time":` in the chunk, chunk framing and head bytes notwithstanding.
          for (let at0 = chunk.indexOf(TIME_BYTES); at0 >= 0; at0 = chunk.indexOf(TIME_BYTES, at0 + TIME_BYTES.length)) {
            let end = at0 + TIME_BYTES.length;
            let time = 0;
            while (end < chunk.length && chunk[end] !== COMMA) time = time * 10 + ((chunk[end++] as number) - 48);
            if (end >= chunk.length) break; // cut by the read: that one is not counted
            if (!measuring) {
              if (warmReceived < warmLatencies.length) warmLatencies[warmReceived++] = at - time;
            } else if (received < latencies.length) latencies[received++] = at - time;
          }
        },
      },
    });
    socket.write(request);
    sockets.push(socket);
    if (++ready === count) process.stdout.write('ready\n');
  }
  // The parent's lines: `measure` (from now on), then `stop`.
  let commands = '';
  await new Promise<void>((resolve) =>
    process.stdin.on('data', (chunk: Buffer) => {
      commands += chunk.toString();
      measuring ||= commands.includes('measure\n');
      if (commands.includes('stop\n')) resolve();
    }),
  );
  for (const socket of sockets) socket.end();
  const usage = process.cpuUsage();
  const quantile = (values: Float64Array, q: number): number => Number((values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN).toFixed(2));
  const sorted = latencies.subarray(0, received).sort();
  const warm = warmLatencies.subarray(0, warmReceived).sort();
  process.stdout.write(
    `${JSON.stringify({ received, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: quantile(sorted, 1), warmP99: quantile(warm, 0.99), warmMax: quantile(warm, 1), cpu: (usage.user + usage.system) / 1e6 })}\n`,
    () => process.exit(0),
  );
}

/**
 * The floor's feed: a bare Bun server (Bun.listen, nothing of pv-ctrl) that answers any request
 * with a chunked NDJSON head and then writes RATE events a second of the daemon's shape to every
 * connection, by the daemon's rule for coalescing writes (below).
 * Started with `go` on stdin, so it streams only while the writer runs. With the subscribers fed
 * from here, the daemon does nothing for them: what the GET figure loses then is the machine's
 * price of the deliveries themselves (sends, wake-ups, the reading process), which no server
 * can avoid on these 2 CPUs.
 */
async function streamer(socketPath: string, rate: number, seconds: number): Promise<void> {
  const open = new Set<{ write(bytes: Buffer): number }>();
  const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n', 'latin1');
  Bun.listen({
    unix: socketPath,
    socket: {
      data(socket) {
        if (open.has(socket)) return;
        socket.write(head);
        open.add(socket);
      },
      close(socket) {
        open.delete(socket);
      },
    },
  });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const start = now();
  const total = rate * seconds;
  let seq = 0;
  // The daemon's delivery rule: an event is stamped when it is published (here: the 1 ms tick
  // that finds it due) and written at once, unless the previous write was less than 2 ms ago;
  // then it waits, with whatever else comes, for the end of that window.
  let pending = '';
  let lastWrite = -Infinity;
  let writeTimer: ReturnType<typeof setTimeout> | undefined;
  const writeAll = (): void => {
    writeTimer = undefined;
    lastWrite = performance.now();
    const chunk = CHUNKED.frame(Buffer.from(pending, 'latin1'));
    pending = '';
    for (const socket of open) socket.write(chunk);
  };
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000));
      if (due > seq) {
        const time = Date.now();
        for (; seq < due; seq++) pending += `{"seq":${seq + 2},"time":${time},"type":"meta","meta":{"store":"user-meta","key":"${KEY}","action":"set","size":5,"value":"${seq} "}}\n`;
        const wait = lastWrite + DEFAULT_COALESCE_MS - performance.now();
        if (wait <= 0) writeAll();
        else writeTimer ??= setTimeout(writeAll, wait);
      }
      if (seq >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await new Promise<void>((resolve) => process.stdin.once('end', () => resolve()));
  const usage = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpu: (usage.user + usage.system) / 1e6 })}\n`, () => process.exit(0));
}

interface Helper {
  done: Promise<string>;
  ready: Promise<void>;
  /** Tell the subscribers that the measured window begins. */
  measure(): void;
  /** The streamer: begin. */
  go(): void;
  stop(): void;
}

function helper(args: string[]): Helper {
  const child = spawn(process.execPath, [import.meta.path, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  const done = new Promise<string>((resolve) => child.once('exit', () => resolve(out.replace(/^ready\n/, '').trim())));
  return { done, ready, measure: () => void child.stdin.write('measure\n'), go: () => void child.stdin.write('go\n'), stop: () => void (child.stdin.writableEnded || child.stdin.end('stop\n')) };
}

interface RunFigures {
  rssGrowth: number;
  /** RSS when the writes began and at their peak, in bytes. */
  rssBefore: number;
  rssPeak: number;
  /** Daemon CPU seconds (user + system) over the writer's run. */
  cpu: number;
  /** Of which the native thread that writes the streams (pvctrl-streams). */
  writerThreadCpu: number;
  /** CPU seconds of the other processes over their whole run: subscribers, writer, GET load client. */
  subscribersCpu: number;
  writerCpu: number;
  loadCpu: number;
  get: LoadResult;
  /** CPU seconds of the bare streamer (the floor's runs; 0 otherwise). */
  streamerCpu: number;
  /** Events per second the writer achieved. */
  rate: number;
  /** Over the measured window; `warmP99`/`warmMax` over the writes' first second. */
  latency: { received: number; p50: number; p99: number; max: number; warmP99: number; warmMax: number; cpu: number } | undefined;
}

/** CPU seconds of the daemon's thread named `name` (0 when it has none). */
function threadCpuOf(pid: number, name: string): number {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== name) continue;
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    }
  } catch {
    // The thread or process went away: nothing to count.
  }
  return 0;
}

/** CPU seconds a process used so far (user + system, from /proc). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const trace = (message: string): void => {
  if (process.env.BENCH_TRACE) console.error(`[${(performance.now() / 1000).toFixed(1)} s] ${message}`);
};

/** GET load for `durationMs` (4 keep-alive connections), without blocking this process (the RSS sampler runs meanwhile). */
function loadFor(socket: string, durationMs: number): Promise<LoadResult> {
  const child = spawn('node', [join(REPO, 'bench', 'load-client.mjs'), socket, '/buildinfo', '4', String(10_000_000), String(durationMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load client exited ${code}`)))));
}

/**
 * One run on a fresh daemon: optional subscribers, the writer, GET load during the writes. With
 * `feed` 'bare' the subscribers read a bare Bun streamer instead of the daemon (the floor).
 */
async function run(subscriberCount: number, stalled: boolean, padding: number, feed: 'daemon' | 'bare' = 'daemon'): Promise<RunFigures> {
  const daemon = await startDaemon({}, ROOT);
  let bare: Helper | undefined;
  try {
    const pid = daemon.process.pid as number;
    trace('daemon up');
    await loadFor(daemon.socket, 1000); // warm-up
    trace(`warmed up: RSS ${mb(rssOf(pid))} MB`);
    // The writes begin the same time after the warm-up in every run, subscribers or not: the
    // daemon's RSS falls for a while after the warm-up's burst, so a baseline taken sooner in
    // one run than in the other would count that fall as the subscribers' growth.
    const settled = Bun.sleep(SETTLE_MS);
    let subs: Helper | undefined;
    if (feed === 'bare') {
      const bareSocket = join(daemon.dir, 'bare-stream.sock');
      bare = helper(['--streamer', bareSocket, String(RATE), String(SECONDS)]);
      await bare.ready;
      subs = helper(['--subscribers', bareSocket, String(subscriberCount), 'reading']);
      await subs.ready;
    } else if (subscriberCount > 0) {
      subs = helper(['--subscribers', daemon.socket, String(subscriberCount), stalled ? 'stalled' : 'reading']);
      await subs.ready;
    }
    await settled;
    const before = rssOf(pid);
    trace(`writes begin: RSS ${mb(before)} MB`);
    const cpuBefore = cpuOf(pid);
    const writerThreadBefore = threadCpuOf(pid, 'pvctrl-streams');
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);
    const write = helper(['--writer', daemon.socket, String(RATE), String(SECONDS), String(padding)]);
    bare?.go();
    await Bun.sleep(1000);
    subs?.measure();
    trace('writer started');
    const get = await loadFor(daemon.socket, Math.max(1000, (SECONDS - 2) * 1000));
    trace('load done');
    const written = JSON.parse(await write.done) as { sent: number; seconds: number; cpu: number };
    const cpu = cpuOf(pid) - cpuBefore;
    const writerThreadCpu = threadCpuOf(pid, 'pvctrl-streams') - writerThreadBefore;
    trace('writer done');
    await Bun.sleep(300);
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));
    subs?.stop();
    const result = subs === undefined ? '' : await subs.done;
    const latency = result === '' || stalled ? undefined : (JSON.parse(result) as RunFigures['latency']);
    bare?.stop();
    const streamerCpu = bare === undefined ? 0 : (JSON.parse(await bare.done) as { cpu: number }).cpu;
    return {
      streamerCpu,
      rssGrowth: peak - before,
      rssBefore: before,
      rssPeak: peak,
      cpu,
      writerThreadCpu,
      subscribersCpu: latency?.cpu ?? 0,
      writerCpu: written.cpu,
      loadCpu: get.cpu_s,
      get,
      rate: written.sent / written.seconds,
      latency,
    };
  } finally {
    bare?.stop();
    await daemon.stop();
  }
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === '--writer') {
  await writer(rest[0] as string, Number(rest[1]), Number(rest[2]), Number(rest[3]));
} else if (mode === '--streamer') {
  await streamer(rest[0] as string, Number(rest[1]), Number(rest[2]));
} else if (mode === '--subscribers') {
  await subscribers(rest[0] as string, Number(rest[1]), rest[2] === 'stalled');
} else {
  console.log(`GET /events: ${RATE} user-meta changes/s for ${SECONDS} s (storage in ${ROOT}), GET /buildinfo load (4 connections) meanwhile; ${ROUNDS} alternating rounds, medians`);
  const none: RunFigures[] = [];
  const many: RunFigures[] = [];
  const floor: RunFigures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    none.push(await run(0, false, 0));
    many.push(await run(SUBSCRIBERS, false, 0));
    floor.push(await run(SUBSCRIBERS, false, 0, 'bare'));
    const [a, b, c] = [none.at(-1) as RunFigures, many.at(-1) as RunFigures, floor.at(-1) as RunFigures];
    console.log(
      `  round ${round + 1}: GET ${a.get.rps.toFixed(0)} vs ${b.get.rps.toFixed(0)} req/s; RSS +${mb(a.rssGrowth)} vs +${mb(b.rssGrowth)} MB (${mb(a.rssBefore)}→${mb(a.rssPeak)} vs ${mb(b.rssBefore)}→${mb(b.rssPeak)}); ` +
        `rate ${a.rate.toFixed(0)} / ${b.rate.toFixed(0)} events/s; p50 ${b.latency?.p50} p99 ${b.latency?.p99} max ${b.latency?.max} ms (first second: p99 ${b.latency?.warmP99} max ${b.latency?.warmMax} ms)`,
    );
    console.log(
      `    CPU s (without / with): daemon ${a.cpu.toFixed(2)} / ${b.cpu.toFixed(2)} (its stream thread ${b.writerThreadCpu.toFixed(2)}), ` +
        `GET client ${a.loadCpu.toFixed(2)} / ${b.loadCpu.toFixed(2)}, writer ${a.writerCpu.toFixed(2)} / ${b.writerCpu.toFixed(2)}, subscribers' process ${b.subscribersCpu.toFixed(2)}`,
    );
    console.log(
      `    floor (subscribers fed by a bare Bun streamer, not the daemon): GET ${c.get.rps.toFixed(0)} req/s, p50 ${c.latency?.p50} p99 ${c.latency?.p99} max ${c.latency?.max} ms; ` +
        `CPU s: daemon ${c.cpu.toFixed(2)}, GET client ${c.loadCpu.toFixed(2)}, streamer ${c.streamerCpu.toFixed(2)}, subscribers' process ${c.subscribersCpu.toFixed(2)}`,
    );
  }
  const med = (values: number[]): number => median(values);
  const ratios = many.map((figures, index) => figures.get.rps / (none[index] as RunFigures).get.rps);
  const rssMore = many.map((figures, index) => figures.rssGrowth - (none[index] as RunFigures).rssGrowth);
  const deliveries = RATE * SECONDS * SUBSCRIBERS;
  const cpuPerDelivery = many.map((figures, index) => ((figures.cpu - (none[index] as RunFigures).cpu) * 1e6) / deliveries);
  console.log(
    `no subscribers:   GET ${med(none.map((f) => f.get.rps)).toFixed(0)} req/s, daemon RSS +${mb(med(none.map((f) => f.rssGrowth)))} MB (the writes' own garbage), ` +
      `daemon CPU ${med(none.map((f) => f.cpu)).toFixed(2)} s, ${med(none.map((f) => f.rate)).toFixed(0)} events/s achieved`,
  );
  console.log(`${SUBSCRIBERS} subscribers cost the daemon ${med(cpuPerDelivery).toFixed(2)} µs of CPU per delivered event (median of the rounds' differences)`);
  // Who pays for the deliveries on this 2-CPU machine: the GET figure can only hold where the
  // subscribers' own reading leaves the CPU to the daemon and the load client.
  const reads = many.map((figures) => figures.latency?.received ?? 0);
  console.log(
    `per delivered event: the daemon's stream thread ${med(many.map((f, i) => (f.writerThreadCpu * 1e6) / Math.max(1, reads[i] as number))).toFixed(2)} µs, ` +
      `the subscribers' process ${med(many.map((f, i) => (f.subscribersCpu * 1e6) / Math.max(1, reads[i] as number))).toFixed(2)} µs; ` +
      `CPU of the GET client + daemon: ${med(none.map((f) => f.loadCpu + f.cpu)).toFixed(2)} s without subscribers, ${med(many.map((f) => f.loadCpu + f.cpu)).toFixed(2)} s with`,
  );
  console.log(
    `${SUBSCRIBERS} subscribers:  GET ${med(many.map((f) => f.get.rps)).toFixed(0)} req/s (${med(ratios).toFixed(2)}× without; goal ≥ 0.9), ` +
      `daemon RSS ${mb(med(rssMore))} MB more than without (goal ≤ 8.4 MB), ` +
      `delivery p50 ${med(many.map((f) => f.latency?.p50 ?? NaN)).toFixed(2)} ms p99 ${med(many.map((f) => f.latency?.p99 ?? NaN)).toFixed(2)} ms ` +
      `(max ${Math.max(...many.map((f) => f.latency?.max ?? NaN))} ms) over ${many[0]?.latency?.received} reads a round after the writes' first second (goal p99 ≤ 5 ms; that first second: p99 ${med(many.map((f) => f.latency?.warmP99 ?? NaN)).toFixed(2)} ms), ` +
      `${med(many.map((f) => f.rate)).toFixed(0)} events/s achieved`,
  );
  const floorRatios = floor.map((figures, index) => figures.get.rps / (none[index] as RunFigures).get.rps);
  console.log(
    `floor, ${SUBSCRIBERS} subscribers fed by a bare Bun streamer (the daemon does nothing for them): GET ${med(floor.map((f) => f.get.rps)).toFixed(0)} req/s (${med(floorRatios).toFixed(2)}× without), ` +
      `delivery p50 ${med(floor.map((f) => f.latency?.p50 ?? NaN)).toFixed(2)} ms p99 ${med(floor.map((f) => f.latency?.p99 ?? NaN)).toFixed(2)} ms; ` +
      `the daemon's GET ratio is ${med(many.map((f, i) => f.get.rps / (floor[i] as RunFigures).get.rps)).toFixed(2)}× the floor's`,
  );
  // Larger events fill a stalled reader's buffer quickly: 1 KB each, ~10 MB in all.
  // The reference reads the same events, so encoding garbage is in both figures.
  const stalledMore: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const reference = await run(1, false, 1000);
    const stalled = await run(1, true, 1000);
    stalledMore.push(stalled.rssGrowth - reference.rssGrowth);
    console.log(`  round ${round + 1}: RSS +${mb(stalled.rssGrowth)} MB stalled vs +${mb(reference.rssGrowth)} MB reading`);
  }
  console.log(`1 stalled subscriber (1 KB events): daemon RSS ${mb(med(stalledMore))} MB more than with one reading subscriber (median; goal ≤ 256 KiB cap + 1 MiB = 1.3 MB)`);
}
