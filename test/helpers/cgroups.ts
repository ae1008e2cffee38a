/** Put test processes into cgroups named like LXC containers (`lxc/<name>`) on the unified hierarchy. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LXC_CGROUP_PARENT } from '../../src/runtime/cgroups.ts';
import { BUN } from './daemon.ts';

export function unifiedCgroupMount(): string {
  const line = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((candidate) => candidate.split(' ')[2] === 'cgroup2');
  if (line === undefined) throw new Error('no cgroup2 hierarchy mounted');
  return line.split(' ')[1] as string;
}

export function createContainerCgroup(name: string): { path: string; remove(): void } {
  const path = join(unifiedCgroupMount(), LXC_CGROUP_PARENT, name);
  mkdirSync(path, { recursive: true });
  return {
    path,
    remove: () => {
      try {
        rmdirSync(path);
      } catch {
        // still has members; the test process tree is gone soon anyway
      }
    },
  };
}

export function movePid(cgroupPath: string, pid: number): void {
  writeFileSync(join(cgroupPath, 'cgroup.procs'), String(pid));
}

/**
 * Send requests (method, path, body?) to `socket` from a child process that first moves itself
 * into `cgroupPath`, so the daemon sees a caller in that container; bounded by `timeoutMs`.
 */
export function requestsFromCgroup(cgroupPath: string, socket: string, requests: [string, string, string?][], timeoutMs = 20_000): { status: number; body: string }[] {
  const script = `
    import { writeFileSync } from 'node:fs';
    import { rawRequest } from ${JSON.stringify(join(import.meta.dir, 'raw-http.ts'))};
    const [cgroup, socket, requests] = JSON.parse(process.env.PVCTRL_CALL);
    writeFileSync(cgroup + '/cgroup.procs', String(process.pid));
    const out = [];
    for (const [method, path, body] of requests) {
      const response = await rawRequest(socket, method, path, body === undefined ? {} : { body });
      out.push({ status: response.status, body: response.body });
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const result = spawnSync(BUN, ['-e', script], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, PVCTRL_CALL: JSON.stringify([cgroupPath, socket, requests]) } });
  if (result.status !== 0) throw new Error(`requests from ${cgroupPath}: ${result.error?.message ?? result.stderr}`);
  return JSON.parse(result.stdout) as { status: number; body: string }[];
}
