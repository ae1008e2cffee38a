/** Observing containers the daemon runs: its API, LXC's own view, and the kernel's. */
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { rawRequest } from './raw-http.ts';

export interface ContainerView {
  name: string;
  group: string;
  status: string;
  status_goal: string;
  restart_policy: string;
  roles: string[];
  auto_recovery?: { current_retries: number; policy: string };
  user_stopped?: string;
}

export async function containers(socket: string): Promise<ContainerView[]> {
  return JSON.parse((await rawRequest(socket, 'GET', '/containers')).body) as ContainerView[];
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function waitForStatus(socket: string, name: string, statuses: string[], timeoutMs = 60_000): Promise<ContainerView> {
  return waitFor(`${name} in ${statuses.join('/')}`, async () => {
    const found = (await containers(socket)).find((item) => item.name === name);
    return found !== undefined && statuses.includes(found.status) ? found : undefined;
  }, timeoutMs);
}

/** The daemon's LXC path for a test daemon rooted at `runDir`'s parent. */
export function lxcPathOf(runDir: string): string {
  return join(dirname(runDir), 'containers', 'lxc');
}

export function lxcInfo(lxcPath: string, name: string): { state: string; pid: number } {
  const result = spawnSync('lxc-info', ['-P', lxcPath, '-n', name, '-s', '-p', '-H'], { encoding: 'utf8' });
  const value = (line: string | undefined): string => (line ?? '').replace(/^\w+:\s*/, '').trim();
  const [state, pid] = result.stdout.trim().split('\n');
  return { state: value(state), pid: Number(value(pid) || -1) };
}

/** Run a command inside a container (its namespaces and cgroup) through lxc-attach. */
export function attach(lxcPath: string, name: string, command: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('lxc-attach', ['-P', lxcPath, '-n', name, '--clear-env', '--', ...command], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
