/** Shared bench plumbing: start the daemon and the baseline server, run the Node load client. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(import.meta.dir, '..');
const BUN = process.execPath;

export interface Started {
  process: ChildProcess;
  socket: string;
  dir: string;
  stop(): Promise<void>;
}

async function waitForSocket(socket: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start (${socket})`);
    await Bun.sleep(20);
  }
  await Bun.sleep(200);
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * @param env extra environment for the daemon (e.g. PVCTRL_UPLOAD_FASTPATH=0)
 * @param root where its storage and run dir go (default the temp dir; bench/events.ts: tmpfs)
 */
export async function startDaemon(env: Record<string, string> = {}, root = tmpdir()): Promise<Started> {
  const dir = mkdtempSync(join(root, 'pvctrl-bench-'));
  const socket = join(dir, 'run', 'pv-ctrl');
  const child = spawn(join(REPO, 'bin', 'pv-ctrl'), ['--storage', join(dir, 'storage'), '--rundir', join(dir, 'run'), '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  await waitForSocket(socket, child);
  return { process: child, socket, dir, stop: stopper(child, dir) };
}

export async function startHelloServer(): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-bench-hello-'));
  const socket = join(dir, 'hello.sock');
  const child = spawn(BUN, [join(REPO, 'bench', 'hello-server.ts'), socket], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForSocket(socket, child);
  return { process: child, socket, dir, stop: stopper(child, dir) };
}

export interface LoadResult {
  rps: number;
  /** CPU seconds the load client used (user + system). */
  cpu_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  errors: number;
  codes: Record<string, number>;
}

export function load(socket: string, path: string, concurrency: number, total: number): LoadResult {
  const result = spawnSync('node', [join(REPO, 'bench', 'load-client.mjs'), socket, path, String(concurrency), String(total)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as LoadResult;
}

/** Resident set size of a process, in bytes. */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((candidate) => candidate.startsWith('VmRSS:'));
  return Number(/\d+/.exec(line ?? '')?.[0] ?? 0) * 1024;
}

export const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
export const ratio = (value: number, baseline: number): string => (value / baseline).toFixed(2);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** CPU seconds (user + system, /proc/<pid>/stat; clock ticks of 10 ms, CLK_TCK 100) a process used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
