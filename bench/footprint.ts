/**
 * Footprint (issue 10): memory, start-up and flash of the compiled pv-ctrl, each beside Bun's own
 * floor measured in the same run (the machine is noisy; absolute figures mean little):
 *
 * - RSS idle: the compiled daemon with the example containers running (root and LXC; without
 *   them, or with BENCH_FOOTPRINT_EXAMPLES=0, an empty revision) vs a bare compiled Bun
 *   `node:http` server on a Unix socket (node:net underneath) that answered one request.
 * - RSS served: the same daemon after a round of ordinary requests (20 of each of 8 GETs) and
 *   3 s: idle RSS is taken after the daemon paged its image out (src/native/memory.ts), and this
 *   shows what serving reads back in.
 * - RSS after burst: 20,000 GETs over 16 keep-alive connections, then 1,000 idle connections
 *   opened and closed; the daemon's RSS 10 s later (goal: within 8 MiB of idle), the same burst
 *   on the bare server as baseline.
 * - Control plane: the daemon plus every process it started that stays in its cgroup (its helpers:
 *   pv-xconnect; containers excluded) vs the bare server.
 * - Start-up: exec → first answered GET /buildinfo (no containers) vs the bare compiled server's
 *   exec → first answer; medians of alternating runs. A restart three ways: dist's pv-ctrl exec'd
 *   plainly (the launcher), the same with Bun's settings already in the environment, and the
 *   runtime-sized file exec'd directly without them (it executes itself again); and a first boot.
 * - Executable sizes: dist/linux-x64 (built or reused by scripts/build-targets.ts) vs the bare
 *   compiled server.
 *
 * Usage: bun bench/footprint.ts   (BENCH_FOOTPRINT_ONLY=startup: the start-up rows only)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_DIR, runtimeBinary, runtimeFileOf, TARGETS, type Target } from '../scripts/build-targets.ts';
import { load, median, REPO, rssOf } from './common.ts';
import { DAEMON_RUNTIME_ENV } from '../src/util/runtime-env.ts';

function linuxX64(): Target {
  const found = TARGETS.find((candidate) => candidate.name === 'linux-x64');
  if (found === undefined) throw new Error('no linux-x64 target');
  return found;
}
const TARGET = linuxX64();
const EXAMPLES = join(REPO, 'examples', 'pvtx.d');
/** Start-up moves by ±15 % between runs on a shared machine: enough runs for a steady median. */
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 11);
const BURST_GETS = 20_000;
const BURST_CONNECTIONS = 16;
const IDLE_CONNECTIONS = 1_000;
const SETTLE_MS = 10_000;

const work = mkdtempSync(join(tmpdir(), 'pvctrl-footprint-'));
const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

function buildExecutables(): { daemon: string; runtime: string; bare: string } {
  const bun = process.execPath;
  const built = spawnSync(bun, [join(REPO, 'scripts', 'build-targets.ts'), 'linux-x64'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (built.status !== 0) throw new Error(`build-targets linux-x64 failed: ${built.stderr}`);
  // Bun's floor as a user gets it: the same runtime, `bun build --compile` with its defaults.
  const bare = join(work, 'bare-server');
  const compiled = spawnSync(
    bun,
    ['build', '--compile', `--target=${TARGET.bunTarget}`, `--compile-executable-path=${runtimeBinary(TARGET)}`, join(REPO, 'bench', 'bare-node-server.ts'), '--outfile', bare],
    { cwd: REPO, encoding: 'utf8' },
  );
  if (compiled.status !== 0) throw new Error(`compiling the bare server failed: ${compiled.stderr}`);
  const dist = join(DIST_DIR, 'linux-x64');
  return { daemon: join(dist, 'pv-ctrl'), runtime: join(dist, runtimeFileOf(TARGET)), bare };
}

/** One request on a fresh connection; true on a 200 answer. */
function answers(socket: string, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = connect(socket);
    let reply = '';
    const timer = setTimeout(() => client.destroy(), 5_000);
    client.on('data', (chunk) => (reply += chunk.toString('latin1')));
    client.on('close', () => {
      clearTimeout(timer);
      resolve(/^HTTP\/1\.[01] 200/.test(reply));
    });
    client.on('error', () => undefined);
    client.write(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`);
  });
}

interface Running {
  child: ChildProcess;
  socket: string;
  dir: string;
  /** ms from spawn to the first answered request. */
  startMs: number;
  /** keepDir: leave the storage for a restart on it. */
  stop(keepDir?: boolean): Promise<void>;
}

async function start(kind: 'daemon' | 'bare', exe: string, withExamples = false, reuseDir?: string, extraEnv: Record<string, string> = {}): Promise<Running> {
  const dir = reuseDir ?? mkdtempSync(join(work, `${kind}-`));
  const socket = kind === 'bare' ? join(dir, 'bare.sock') : join(dir, 'run', 'pv-ctrl');
  const args = kind === 'bare' ? [socket] : ['--storage', join(dir, 'storage'), '--rundir', join(dir, 'run'), '--log-level', 'warn', ...(withExamples ? ['--pvtx-dir', EXAMPLES] : [])];
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PVCTRL_NATIVE_ADDON;
  delete env.PV_XCONNECT_BIN;
  // Unset, dist's launcher sets it, and the runtime-sized file exec'd directly executes itself
  // again to set it (src/util/runtime-env.ts); whether it is set is this bench's choice
  // (extraEnv), never the caller's shell.
  delete env.BUN_GC_TIMER_DISABLE;
  Object.assign(env, extraEnv);
  const logFd = openSync(join(dir, 'log'), 'a');
  const began = performance.now();
  const child = spawn(exe, args, { stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  const path = kind === 'bare' ? '/' : '/buildinfo';
  const deadline = Date.now() + 60_000;
  while (!(existsSync(socket) && (await answers(socket, path)))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${kind} did not start: ${readFileSync(join(dir, 'log'), 'utf8')}`);
    await Bun.sleep(2);
  }
  const startMs = performance.now() - began;
  const stop = async (keepDir = false): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  return { child, socket, dir, startMs, stop };
}

const cgroupOf = (pid: number): string => readFileSync(`/proc/${pid}/cgroup`, 'utf8');

function descendants(pid: number): number[] {
  const direct = readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return direct.flatMap((child) => [child, ...descendants(child)]);
}

/** The daemon and the helpers it started that share its cgroup (containers live in lxc/<name>). */
function controlPlane(pid: number): { pids: number[]; names: string[]; rss: number } {
  const own = cgroupOf(pid);
  const pids = [pid, ...descendants(pid).filter((child) => {
    try {
      return cgroupOf(child) === own;
    } catch {
      return false;
    }
  })];
  const names = pids.map((each) => readFileSync(`/proc/${each}/cmdline`, 'utf8').split('\0')[0]?.split('/').pop() ?? '?');
  return { pids, names, rss: pids.reduce((sum, each) => sum + rssOf(each), 0) };
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}

async function examplesReady(socket: string): Promise<boolean> {
  const response = await fetch('http://localhost/containers', { unix: socket } as RequestInit);
  const list = (await response.json()) as { status?: string }[];
  return list.length >= 2 && list.every((item) => item.status === 'READY');
}

/** Every kind of GET a device sees, 20 times, one after the other (fewer than a burst's 200). */
const SERVED_PATHS = ['/buildinfo', '/containers', '/steps', '/device-meta', '/user-meta', '/groups', '/daemons', '/xconnect-graph'];
async function serveRound(socket: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    for (const path of SERVED_PATHS) await (await fetch(`http://localhost${path}`, { unix: socket } as RequestInit)).arrayBuffer();
  }
}

/** 20,000 keep-alive GETs over 16 connections, then 1,000 connections opened idle and closed. */
async function burst(socket: string, path: string): Promise<void> {
  load(socket, path, BURST_CONNECTIONS, BURST_GETS);
  const idle: Socket[] = [];
  const open = (): Promise<Socket | undefined> =>
    new Promise((resolve) => {
      const client = connect(socket, () => resolve(client));
      client.once('error', () => resolve(undefined));
    });
  for (let i = 0; i < IDLE_CONNECTIONS; i++) {
    // A full listen backlog (the server still busy with the GETs) refuses: retry, bounded.
    let client: Socket | undefined;
    for (let attempt = 0; client === undefined && attempt < 250; attempt++) {
      client = await open();
      if (client === undefined) await Bun.sleep(20);
    }
    if (client === undefined) throw new Error(`connection ${i} refused for 5 s`);
    idle.push(client);
  }
  await Bun.sleep(500);
  for (const client of idle) client.destroy();
}

/** RSS of pid SETTLE_MS after the burst, and how long it took to come within 8 MiB of idle. */
async function settle(pid: number, idle: number): Promise<{ rss: number; peak: number; backWithinMs: number | undefined }> {
  const began = Date.now();
  let peak = rssOf(pid);
  let backWithinMs: number | undefined;
  while (Date.now() - began < SETTLE_MS) {
    const now = rssOf(pid);
    peak = Math.max(peak, now);
    if (backWithinMs === undefined && now <= idle + 8 * 1024 * 1024) backWithinMs = Date.now() - began;
    await Bun.sleep(250);
  }
  return { rss: rssOf(pid), peak, backWithinMs };
}

function row(what: string, ours: string, baseline: string, ratio: string, goal: string): string {
  return `| ${what} | ${ours} | ${baseline} | ${ratio} | ${goal} |`;
}

async function main(): Promise<void> {
  const { daemon: daemonExe, runtime: runtimeExe, bare: bareExe } = buildExecutables();
  const rows: string[] = [];
  const notes: string[] = [];

  // Start-up first, on a machine not yet busy with our own daemons: alternating runs. A device
  // boots on a storage it already has (every start but its very first), so the goal is judged
  // on a restart; the first boot (storage created, factory revision deployed) is shown beside it.
  // A restart three ways: dist's pv-ctrl exec'd plainly (its launcher puts Bun's settings in the
  // environment and executes the runtime-sized file once); the same with the settings in the
  // caller's environment already (bin/pv-ctrl, the Yocto wrapper, a unit that sets them); and
  // the runtime-sized file exec'd directly without them, which executes itself again for them.
  const ourStarts: number[] = [];
  const launchedStarts: number[] = [];
  const directStarts: number[] = [];
  const firstBoots: number[] = [];
  const bareStarts: number[] = [];
  for (let run = 0; run < STARTUP_RUNS; run++) {
    const bare = await start('bare', bareExe);
    bareStarts.push(bare.startMs);
    await bare.stop();
    const first = await start('daemon', daemonExe);
    firstBoots.push(first.startMs);
    await first.stop(true);
    const launched = await start('daemon', daemonExe, false, first.dir, { ...DAEMON_RUNTIME_ENV });
    launchedStarts.push(launched.startMs);
    await launched.stop(true);
    const ours = await start('daemon', daemonExe, false, first.dir);
    ourStarts.push(ours.startMs);
    await ours.stop(true);
    const direct = await start('daemon', runtimeExe, false, first.dir);
    directStarts.push(direct.startMs);
    await direct.stop();
  }
  const startupRows = (): string[] => {
    const bareStart = median(bareStarts);
    const ratio = (values: number[]): string => (median(values) / bareStart).toFixed(2);
    return [
      row(`start-up, exec → first answer, restart, pv-ctrl exec'd plainly (median of ${STARTUP_RUNS})`, `${median(ourStarts).toFixed(0)} ms`, `${bareStart.toFixed(0)} ms`, ratio(ourStarts), '≤ 1.30'),
      row("start-up, restart, Bun's settings in the caller's environment", `${median(launchedStarts).toFixed(0)} ms`, `${bareStart.toFixed(0)} ms`, ratio(launchedStarts), '(shown)'),
      row(`start-up, restart, ${runtimeFileOf(TARGET)} exec'd directly (executes itself again)`, `${median(directStarts).toFixed(0)} ms`, `${bareStart.toFixed(0)} ms`, ratio(directStarts), '(shown)'),
      row('start-up, first boot (storage created)', `${median(firstBoots).toFixed(0)} ms`, `${bareStart.toFixed(0)} ms`, ratio(firstBoots), '(shown)'),
    ];
  };

  if (process.env.BENCH_FOOTPRINT_ONLY === 'startup') {
    for (const line of startupRows()) console.log(line);
    const list = (values: number[]): string => values.map((ms) => ms.toFixed(0)).join(' ');
    console.log(`- runs: restart ${list(ourStarts)}; settings in the environment ${list(launchedStarts)}; runtime file directly ${list(directStarts)}; first boot ${list(firstBoots)}; bare ${list(bareStarts)}`);
    return;
  }
  const lxc = process.getuid?.() === 0 && existsSync('/usr/bin/lxc-start') && existsSync(EXAMPLES) && process.env.BENCH_FOOTPRINT_EXAMPLES !== '0';
  const bare = await start('bare', bareExe);
  const daemon = await start('daemon', daemonExe, lxc);
  try {
    if (lxc) await waitFor('both examples READY', () => examplesReady(daemon.socket));
    else notes.push('no example containers (needs root and LXC, or BENCH_FOOTPRINT_EXAMPLES=0 was set): an empty revision');
    const daemonPid = daemon.child.pid ?? 0;
    // The native pv-xconnect (pvctrl-xconnect) where the addon was built, else the multicall name.
    const isXconnect = (name: string): boolean => name === 'pvctrl-xconnect' || name === 'pv-xconnect';
    await waitFor('pv-xconnect', async () => controlPlane(daemonPid).names.some(isXconnect), 30_000);
    // Let start-up work (links, stability windows) finish before the idle figure.
    await Bun.sleep(SETTLE_MS);
    const bareIdle = rssOf(bare.child.pid ?? 0);
    const ourIdle = rssOf(daemonPid);
    const plane = controlPlane(daemonPid);
    rows.push(row('RSS idle, daemon', `${mib(ourIdle)} MiB`, `${mib(bareIdle)} MiB`, (ourIdle / bareIdle).toFixed(2), '≤ 1.50'));
    rows.push(row(`control plane idle (${plane.names.join(' + ')})`, `${mib(plane.rss)} MiB`, `${mib(bareIdle)} MiB`, (plane.rss / bareIdle).toFixed(2), '≤ 2.20'));
    const helperIndex = plane.names.findIndex(isXconnect);
    const helperRss = helperIndex < 0 ? 0 : rssOf(plane.pids[helperIndex] ?? 0);
    rows.push(row(`RSS idle, ${plane.names[helperIndex] ?? 'pv-xconnect'} alone`, `${mib(helperRss)} MiB`, `${mib(bareIdle)} MiB`, (helperRss / bareIdle).toFixed(2), '(shown)'));
    await serveRound(daemon.socket);
    await Bun.sleep(3_000);
    const ourServed = rssOf(daemonPid);
    rows.push(row(`RSS, daemon, after ${20 * SERVED_PATHS.length} ordinary GETs and 3 s`, `${mib(ourServed)} MiB`, `${mib(bareIdle)} MiB`, (ourServed / bareIdle).toFixed(2), '(shown)'));
    // The round above is no burst (nothing is paged out after it): the burst is judged against
    // the idle figure before it, the stricter one.
    const ourBeforeBurst = rssOf(daemonPid);

    await burst(bare.socket, '/');
    const bareAfter = await settle(bare.child.pid ?? 0, bareIdle);
    await burst(daemon.socket, '/buildinfo');
    const ourAfter = await settle(daemonPid, ourIdle);
    rows.push(
      row(
        `RSS ${SETTLE_MS / 1000} s after burst (peak)`,
        `${mib(ourAfter.rss)} MiB (${mib(ourAfter.peak)})`,
        `${mib(bareAfter.rss)} MiB (${mib(bareAfter.peak)})`,
        `${ourAfter.rss >= ourIdle ? '+' : '−'}${mib(Math.abs(ourAfter.rss - ourIdle))} MiB vs idle (${mib(ourBeforeBurst)} MiB right before)`,
        '≤ +8 MiB within 10 s',
      ),
    );
    notes.push(
      ourAfter.backWithinMs === undefined
        ? `after the burst the daemon did not come within 8 MiB of idle in ${SETTLE_MS / 1000} s`
        : `after the burst the daemon was within 8 MiB of idle after ${(ourAfter.backWithinMs / 1000).toFixed(2)} s`,
    );
  } finally {
    await daemon.stop();
    await bare.stop();
  }
  rows.push(...startupRows());

  const distDir = join(DIST_DIR, 'linux-x64');
  const distBytes = readdirSync(distDir).reduce((sum, name) => sum + (lstatSync(join(distDir, name)).isFile() ? lstatSync(join(distDir, name)).size : 0), 0);
  const bareBytes = statSync(bareExe).size;
  rows.push(row(`runtime-sized file (${runtimeFileOf(TARGET)}; pv-ctrl = pvcontrol = pv-xconnect launch it)`, `${mib(statSync(runtimeExe).size)} MiB`, `${mib(bareBytes)} MiB`, (statSync(runtimeExe).size / bareBytes).toFixed(2), 'one runtime'));
  rows.push(row('dist/linux-x64 (executable, addon, helpers)', `${mib(distBytes)} MiB`, `${mib(bareBytes)} MiB`, (distBytes / bareBytes).toFixed(2), '~105 MiB, not ~208'));

  console.log(`Footprint, compiled linux-x64 (Bun ${Bun.version}), baselines in the same run: a bare compiled node:http server on a Unix socket`);
  console.log('| measure | pv-ctrl | baseline | ratio | goal |');
  console.log('|---|---:|---:|---:|---|');
  for (const line of rows) console.log(line);
  for (const note of notes) console.log(`- ${note}`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
