/**
 * What a daemon run may leave behind, observed from the kernel independently of the daemon's own
 * code: processes in the example containers' cgroups (`lxc/<name>`, `lxc.monitor/<name>`, every
 * hierarchy), mounts under a test folder, loop devices backed by files of that folder. Plus a
 * spawner for daemons that are signalled at arbitrary moments (even before they listen).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT, SERVER } from './examples.ts';
import { PV_CTRL } from './daemon.ts';

const CONTAINER_NAMES = [SERVER, CLIENT];

function cgroupProcFiles(): string[] {
  const found = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '6', '-path', '*/lxc*/pv-example-*', '-name', 'cgroup.procs'], { encoding: 'utf8' });
  return found.stdout.split('\n').filter((line) => line !== '' && CONTAINER_NAMES.some((name) => line.includes(`/${name}/`)));
}

/** `<cgroup dir>: <pids>` for every container cgroup that holds a process. */
export function busyContainerCgroups(): string[] {
  const busy: string[] = [];
  for (const file of cgroupProcFiles()) {
    let pids = '';
    try {
      pids = readFileSync(file, 'utf8').trim().replaceAll('\n', ' ');
    } catch {
      continue;
    }
    if (pids !== '') busy.push(`${file.replace(/\/cgroup\.procs$/, '')}: ${pids}`);
  }
  return busy;
}

export function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((path) => path === root || path.startsWith(`${root}/`));
}

export function loopsBackedUnder(root: string): string[] {
  const loops: string[] = [];
  for (const name of readdirSync('/sys/block').filter((entry) => entry.startsWith('loop'))) {
    const file = join('/sys/block', name, 'loop', 'backing_file');
    if (!existsSync(file)) continue;
    const backing = readFileSync(file, 'utf8').trim();
    if (backing.startsWith(`${root}/`)) loops.push(`/dev/${name} (${backing})`);
  }
  return loops;
}

/** Everything of a run under `dir` that is still there; empty when nothing survived. */
export function leftoversOf(dir: string): string[] {
  return [
    ...busyContainerCgroups().map((line) => `process in container cgroup ${line}`),
    ...mountsUnder(join(dir, 'containers')).map((path) => `mount ${path}`),
    ...loopsBackedUnder(dir).map((loop) => `loop device ${loop}`),
  ];
}

/** Clear whatever a failed iteration left, so the next one starts from nothing. */
export function forceClean(dir: string): void {
  for (const file of cgroupProcFiles()) {
    const dirOf = file.replace(/\/cgroup\.procs$/, '');
    if (existsSync(join(dirOf, 'cgroup.kill'))) spawnSync('sh', ['-c', `echo 1 > '${dirOf}/cgroup.kill'`]);
    // Killing one process can end others and remove their cgroups meanwhile.
    const pids = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : [];
    for (const pid of pids) spawnSync('kill', ['-9', pid]);
  }
  // The whole test folder: a SIGKILLed daemon also leaves its metadata bind mounts in the run dir.
  for (const path of mountsUnder(dir).sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', path]);
  for (const loop of loopsBackedUnder(dir)) spawnSync('losetup', ['-d', loop.split(' ')[0] as string]);
  spawnSync('sh', ['-c', `for d in $(find /sys/fs/cgroup -maxdepth 6 -depth -type d -path '*/lxc*/pv-example-*'); do rmdir "$d" 2>/dev/null; done`]);
}

export interface SpawnedDaemon {
  process: ChildProcess;
  socket: string;
  log(): string;
  listening(): boolean;
  /** Resolves with the exit code (null when a signal ended it), or 'timeout'. */
  exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'timeout'>;
}

/** Start bin/pv-ctrl on `dir` without waiting for anything, so signals can hit any moment. */
export function spawnDaemon(dir: string, args: string[] = []): SpawnedDaemon {
  const runDir = join(dir, 'run');
  const logFile = join(dir, `pv-ctrl.${Date.now()}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(PV_CTRL, ['--storage', join(dir, 'storage'), '--rundir', runDir, '--log-level', 'debug', ...args], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return {
    process: child,
    socket: join(runDir, 'pv-ctrl'),
    log,
    listening: () => log().includes('listening on'),
    exit: (timeoutMs) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    },
  };
}

export { seededRandom } from './random.ts';
