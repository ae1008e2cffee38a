/**
 * The test plan's helper aliases, for real: `pvctl` runs bin/pvcontrol and `pvc` runs curl on
 * the daemon's socket (the plan's pvcurl), both as separate processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUN, PVCONTROL } from './daemon.ts';
import { unifiedCgroupMount } from './cgroups.ts';
import { CONTRACT_DIR_ENV, recordingEnabled } from './contract-recorder.ts';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let recordTraffic = false;
const proxies = new Map<string, string>();

/**
 * Opt-in for the contract check: from now on `pvctl` and `pvc` reach the daemon through a
 * recording pass-through (test/helpers/contract-proxy.ts) when the runner records answers.
 * `pvctlAs` stays direct: the daemon must see the container's own process.
 */
export function recordPlanTraffic(): void {
  recordTraffic = recordingEnabled();
}

function viaRecorder(socket: string): string {
  if (!recordTraffic) return socket;
  const known = proxies.get(socket);
  if (known !== undefined) return known;
  const listen = join(process.env[CONTRACT_DIR_ENV] as string, `proxy-${process.pid}-${proxies.size}.sock`);
  const child = spawn(BUN, [join(import.meta.dir, 'contract-proxy.ts'), socket, listen], { stdio: 'ignore' });
  // Unref'd so it never keeps the test alive; the test's exit ends it (it records what is open).
  child.unref();
  process.once('exit', () => child.kill('SIGTERM'));
  const deadline = Date.now() + 10_000;
  while (!existsSync(listen)) {
    if (Date.now() > deadline) throw new Error(`contract proxy did not listen on ${listen}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  proxies.set(socket, listen);
  return listen;
}

export function pvctl(socket: string, args: string[], options: { input?: string } = {}): CommandResult {
  const result = spawnSync(PVCONTROL, args, {
    encoding: 'utf8',
    env: { ...process.env, PVCTRL_SOCKET: viaRecorder(socket) },
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `pvc <curl args> http://localhost/<path>`: curl with the plan's pvcurl semantics plus -w for the status. */
export function pvc(socket: string, args: string[]): CommandResult & { status: number; body: string } {
  const result = spawnSync('curl', ['-sS', '--max-time', '60', '--unix-socket', viaRecorder(socket), '-w', '\n%{http_code}', ...args], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  const text = result.stdout;
  const cut = text.lastIndexOf('\n');
  return { code: result.status, stdout: text, stderr: result.stderr, status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

export function sh(script: string): CommandResult {
  const result = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `pvctl` as run by a container: pvcontrol in that container's cgroup (`lxc/<name>`), where the
 * daemon identifies callers. The container image has no Bun, so the CLI runs from the host
 * filesystem, but the kernel attributes it to the container exactly as it would its own tools.
 */
export function pvctlAs(container: string, socket: string, args: string[]): CommandResult {
  const cgroup = join(unifiedCgroupMount(), 'lxc', container, 'cgroup.procs');
  const result = spawnSync('sh', ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', cgroup, PVCONTROL, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PVCTRL_SOCKET: socket },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
