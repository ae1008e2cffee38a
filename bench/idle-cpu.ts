/**
 * Idle cost (issue 9): CPU seconds per minute used by the daemon and pv-xconnect together with
 * the example containers running and nothing happening, from /proc/<pid>/stat utime + stime.
 * Usage: bun bench/idle-cpu.ts [seconds (default 60)]. Needs root (real LXC containers).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './common.ts';

const CLOCK_TICKS = 100;
const EXAMPLES = join(REPO, 'examples', 'pvtx.d');

interface View {
  name: string;
  status?: string;
  pid?: number;
}

/** utime + stime of one process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function get(socket: string, path: string): Promise<View[]> {
  const response = await fetch(`http://localhost${path}`, { unix: socket } as RequestInit);
  return (await response.json()) as View[];
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}

export interface IdleCpu {
  seconds: number;
  daemonCpuPerMinute: number;
  xconnectCpuPerMinute: number;
  totalCpuPerMinute: number;
}

export async function measureIdleCpu(seconds = 60): Promise<IdleCpu> {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-idle-'));
  const socket = join(dir, 'run', 'pv-ctrl');
  const logFd = openSync(join(dir, 'pv-ctrl.log'), 'a');
  const child = spawn(join(REPO, 'bin', 'pv-ctrl'), ['--storage', join(dir, 'storage'), '--rundir', join(dir, 'run'), '--log-level', 'warn', '--pvtx-dir', EXAMPLES], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  try {
    await waitFor('the socket', async () => existsSync(socket));
    await waitFor('both examples READY', async () => {
      const list = await get(socket, '/containers');
      return list.length >= 2 && list.every((item) => item.status === 'READY');
    });
    let xconnect = 0;
    await waitFor('pv-xconnect', async () => {
      xconnect = (await get(socket, '/daemons')).find((item) => item.name === 'pv-xconnect')?.pid ?? 0;
      return xconnect > 0;
    });
    // Let start-up work (links, stability windows of a few seconds) finish before measuring.
    await Bun.sleep(15_000);
    const daemonPid = child.pid ?? 0;
    const before = { daemon: cpuSeconds(daemonPid), xconnect: cpuSeconds(xconnect) };
    await Bun.sleep(seconds * 1000);
    const perMinute = (used: number): number => Math.round((used * 60 * 1000) / seconds) / 1000;
    const daemonCpuPerMinute = perMinute(cpuSeconds(daemonPid) - before.daemon);
    const xconnectCpuPerMinute = perMinute(cpuSeconds(xconnect) - before.xconnect);
    return { seconds, daemonCpuPerMinute, xconnectCpuPerMinute, totalCpuPerMinute: Math.round((daemonCpuPerMinute + xconnectCpuPerMinute) * 1000) / 1000 };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const seconds = Number(process.argv[2] ?? 60);
  const result = await measureIdleCpu(seconds);
  console.log(`idle CPU over ${result.seconds} s, examples running: daemon ${result.daemonCpuPerMinute} s/min, pv-xconnect ${result.xconnectCpuPerMinute} s/min, together ${result.totalCpuPerMinute} s/min (goal <= 0.1)`);
}
