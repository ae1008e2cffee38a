/** Put test processes into cgroups named like LXC containers (`lxc/<name>`) on the unified hierarchy. */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LXC_CGROUP_PARENT } from '../../src/runtime/cgroups.ts';

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
