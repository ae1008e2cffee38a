/**
 * GET /events under load (docs/events.md). Three processes besides the daemon: a writer that
 * changes user meta 1,000 times a second for 10 s, a process holding the subscribers, and the
 * Node GET load client. Figures, each beside a baseline of the same run:
 * - delivery latency p50/p99 over 100 subscribers, from the state change (the event's `time`,
 *   set when the daemon publishes it after the durable write; whole ms, so up to 1 ms high) to
 *   the subscriber's read;
 * - daemon RSS growth with 100 subscribers (goal ≤ 8 MiB);
 * - GET /buildinfo throughput during the run with 100 subscribers vs with none (goal ≥ 0.9×);
 * - one subscriber that never reads: RSS growth vs the same run without it (goal ≤ cap + 1 MiB).
 * Modes `--writer` and `--subscribers` are this file run as those helper processes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { load, mb, rssOf, startDaemon, type LoadResult } from './common.ts';

const RATE = Number(process.env.BENCH_EVENT_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_EVENT_SECONDS ?? 10);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100);
const KEY = 'bench.events';
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
}

/** Subscribers: count events and latencies until told to stop on stdin; prints JSON. */
async function subscribers(socketPath: string, count: number, stalled: boolean): Promise<void> {
  const latencies: number[] = [];
  const sockets: Socket[] = [];
  let ready = 0;
  for (let index = 0; index < count; index++) {
    const socket = createConnection(socketPath);
    sockets.push(socket);
    socket.on('data', (chunk: Buffer) => {
      const at = now();
      if (stalled) return;
      // Cheap on purpose (this process shares the CPUs with the daemon): every event's `"time":`
      // in the chunk, chunk framing and head bytes notwithstanding. The events are meta only.
      const text = chunk.toString('latin1');
      for (let index = text.indexOf(TIME); index >= 0; index = text.indexOf(TIME, index + TIME.length)) {
        const end = text.indexOf(',', index);
        if (end < 0) break; // cut by the read: that one is not counted
        latencies.push(at - Number(text.slice(index + TIME.length, end)));
      }
    });
    socket.once('connect', () => {
      socket.write(`GET /events?types=meta HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      if (stalled) socket.once('data', () => socket.pause());
      if (++ready === count) process.stdout.write('ready\n');
    });
  }
  await new Promise((resolve) => process.stdin.once('data', resolve));
  for (const socket of sockets) socket.destroy();
  latencies.sort((a, b) => a - b);
  const pick = (q: number): number => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(2));
  process.stdout.write(`${JSON.stringify({ received: latencies.length, p50: pick(0.5), p99: pick(0.99), max: pick(1) })}\n`, () => process.exit(0));
}

interface Helper {
  done: Promise<string>;
  ready: Promise<void>;
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
  return { done, ready, stop: () => child.stdin.end('stop\n') };
}

interface RunFigures {
  rssGrowth: number;
  /** Daemon CPU seconds (user + system) over the writer's run. */
  cpu: number;
  get: LoadResult;
  latency: { received: number; p50: number; p99: number; max: number } | undefined;
}

/** One run on a fresh daemon: optional subscribers, the writer, GET load meanwhile. */
/** CPU seconds a process used so far (user + system, from /proc). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const trace = (message: string): void => {
  if (process.env.BENCH_TRACE) console.error(`[${(performance.now() / 1000).toFixed(1)} s] ${message}`);
};

async function run(subscriberCount: number, stalled: boolean, padding: number): Promise<RunFigures> {
  const daemon = await startDaemon();
  try {
    const pid = daemon.process.pid as number;
    trace('daemon up');
    load(daemon.socket, '/buildinfo', 4, 2000); // warm-up
    trace('warmed up');
    Bun.gc(true);
    let subs: Helper | undefined;
    if (subscriberCount > 0) {
      subs = helper(['--subscribers', daemon.socket, String(subscriberCount), stalled ? 'stalled' : 'reading']);
      await subs.ready;
      await Bun.sleep(200);
    }
    const before = rssOf(pid);
    const cpuBefore = cpuOf(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100);
    const write = helper(['--writer', daemon.socket, String(RATE), String(SECONDS), String(padding)]);
    await Bun.sleep(1000);
    trace('writer started');
    const get = load(daemon.socket, '/buildinfo', 4, Math.max(2000, Math.floor((SECONDS - 3) * 2500)));
    trace('load done');
    await write.done;
    const cpu = cpuOf(pid) - cpuBefore;
    trace('writer done');
    await Bun.sleep(300);
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));
    subs?.stop();
    const result = subs === undefined ? '' : await subs.done;
    return { rssGrowth: peak - before, cpu, get, latency: result === '' || stalled ? undefined : (JSON.parse(result) as RunFigures['latency']) };
  } finally {
    await daemon.stop();
  }
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === '--writer') {
  await writer(rest[0] as string, Number(rest[1]), Number(rest[2]), Number(rest[3]));
} else if (mode === '--subscribers') {
  await subscribers(rest[0] as string, Number(rest[1]), rest[2] === 'stalled');
} else {
  console.log(`GET /events: ${RATE} user-meta changes/s for ${SECONDS} s, GET /buildinfo load (4 connections) meanwhile`);
  const none = await run(0, false, 0);
  const many = await run(SUBSCRIBERS, false, 0);
  const ratioGet = many.get.rps / none.get.rps;
  console.log(`no subscribers:   GET ${none.get.rps.toFixed(0)} req/s, daemon RSS +${mb(none.rssGrowth)} MB (the writes' own garbage), daemon CPU ${none.cpu.toFixed(2)} s`);
  const deliveries = RATE * SECONDS * SUBSCRIBERS;
  console.log(
    `${SUBSCRIBERS} subscribers cost the daemon ${(many.cpu - none.cpu).toFixed(2)} s of CPU more: ${(((many.cpu - none.cpu) * 1e6) / deliveries).toFixed(2)} µs per delivered event`,
  );
  console.log(
    `${SUBSCRIBERS} subscribers:  GET ${many.get.rps.toFixed(0)} req/s (${ratioGet.toFixed(2)}× without; goal ≥ 0.9), daemon RSS +${mb(many.rssGrowth)} MB: ` +
      `${mb(many.rssGrowth - none.rssGrowth)} MB more than without (goal ≤ 8.4 MB), ` +
      `delivery p50 ${many.latency?.p50} ms p99 ${many.latency?.p99} ms max ${many.latency?.max} ms over ${many.latency?.received} reads (goal p99 ≤ 5 ms)`,
  );
  // Larger events fill a stalled reader's buffer quickly: 1 KB each, ~10 MB in all.
  // The reference reads the same events, so encoding garbage is in both figures.
  const reference = await run(1, false, 1000);
  const stalled = await run(1, true, 1000);
  console.log(
    `1 stalled subscriber (1 KB events): daemon RSS +${mb(stalled.rssGrowth)} MB vs +${mb(reference.rssGrowth)} MB without it: ` +
      `difference ${mb(stalled.rssGrowth - reference.rssGrowth)} MB vs one reading subscriber (goal ≤ 256 KiB cap + 1 MiB = 1.3 MB)`,
  );
}
