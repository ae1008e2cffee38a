/**
 * Start the real pv-ctrl daemon (bin/pv-ctrl, a separate process) on a temp storage and socket,
 * for integration and acceptance tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(import.meta.dir, '..', '..');
export const BUN = join(REPO, 'node_modules', '.bin', 'bun');
export const PVCONTROL = join(REPO, 'bin', 'pvcontrol');
export const PV_CTRL = join(REPO, 'bin', 'pv-ctrl');

export interface TestDaemon {
  readonly dir: string;
  readonly storage: string;
  readonly runDir: string;
  readonly socket: string;
  readonly process: ChildProcess;
  log(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Stop and remove the temp folder. */
  dispose(): Promise<void>;
}

export interface DaemonLaunch {
  /** Reuse an existing folder (restart scenarios); a fresh one otherwise. */
  dir?: string;
  /** With `dir`: the test made that folder for this daemon alone, so `dispose` removes it too. */
  disposeDir?: boolean;
  configText?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Set JOURNAL_STREAM to the log file's `<dev>:<inode>`, as systemd does when stderr is the journal. */
  journalStream?: boolean;
}

/**
 * A temp folder whose storage already runs revision `locals/<name>` with `state` as its state
 * JSON; hand it to startTestDaemon({ dir }).
 */
export function folderRunning(name: string, state: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-test-'));
  const revision = join(dir, 'storage', 'trails', 'locals', name);
  mkdirSync(join(revision, '.pvr'), { recursive: true });
  writeFileSync(join(revision, '.pvr', 'json'), JSON.stringify(state));
  symlinkSync(`locals/${name}`, join(dir, 'storage', 'trails', 'current'));
  return dir;
}

export async function startTestDaemon(launch: DaemonLaunch = {}): Promise<TestDaemon> {
  const dir = launch.dir ?? mkdtempSync(join(tmpdir(), 'pvctrl-test-'));
  const storage = join(dir, 'storage');
  const runDir = join(dir, 'run');
  const socket = join(runDir, 'pv-ctrl');
  const args = ['--storage', storage, '--rundir', runDir, '--log-level', 'debug', ...(launch.args ?? [])];
  if (launch.configText !== undefined) {
    const configFile = join(dir, 'pantavisor.config');
    writeFileSync(configFile, launch.configText);
    args.push('--config', configFile);
  }
  // The log goes to a file, not a pipe: tests block in spawnSync and must never stall the daemon.
  const logFile = join(dir, `pv-ctrl.${Date.now()}.log`);
  const logFd = openSync(logFile, 'a');
  const journal: Record<string, string> = {};
  if (launch.journalStream === true) {
    const stats = fstatSync(logFd, { bigint: true });
    journal.JOURNAL_STREAM = `${stats.dev}:${stats.ino}`;
  }
  const child = spawn(PV_CTRL, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, ...launch.env, ...journal } });
  closeSync(logFd);
  const output = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!output().includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`daemon did not start:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!existsSync(socket)) throw new Error(`daemon reports listening but ${socket} is missing`);
  let stopped: Promise<number | null> | undefined;
  const stop = (): Promise<number | null> => {
    if (stopped === undefined) {
      if (child.exitCode === null) child.kill('SIGTERM');
      // A stop this slow is a defect of its own: say so, since what the kill leaves (the
      // metadata bind mounts) is what the runner then reports against this file.
      const killer = setTimeout(() => {
        process.stderr.write(`daemon in ${dir} still running 15 s after SIGTERM: SIGKILL\n${output().split('\n').slice(-30).join('\n')}\n`);
        child.kill('SIGKILL');
      }, 15_000);
      stopped = exited.finally(() => clearTimeout(killer));
    }
    return stopped;
  };
  return {
    dir,
    storage,
    runDir,
    socket,
    process: child,
    log: output,
    stop,
    dispose: async () => {
      await stop();
      if (launch.dir === undefined || launch.disposeDir === true) rmSync(dir, { recursive: true, force: true });
    },
  };
}
