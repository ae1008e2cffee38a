/**
 * Who is calling: kernel credentials captured at accept → /proc/<pid>/cgroup → container name
 * (spec §4.1) → platform of the running state → privilege (spec §4.2).
 */
import { readFileSync } from 'node:fs';
import { LXC_CGROUP_PARENT } from '../runtime/cgroups.ts';

/** The name Pantavisor gives to processes in the root cgroup: the host itself. */
export const HOST_CALLER = '_pv_';

export type CgroupMode = 'v1' | 'v2';

export interface PeerIdentity {
  pid: number;
  uid: number;
  gid: number;
  /** pidfd pinned at accept (-1 when the kernel has none); lets us prove the pid was not recycled. */
  pidfd: number;
}

export type Caller =
  | { kind: 'host'; name: typeof HOST_CALLER; privileged: true; pid: number }
  | { kind: 'container'; name: string; privileged: boolean; pid: number };

export type CallerLookup = { ok: true; caller: Caller } | { ok: false; reason: string };

/** What the caller resolution needs from the running state, and nothing more. */
export interface PlatformDirectory {
  findPlatform(name: string): { name: string; mgmt: boolean } | undefined;
}

/** Detect the cgroup layout Pantavisor would use: a named v1 hierarchy, else the unified one. */
export function detectCgroupMode(selfCgroup: string = readFileSync('/proc/self/cgroup', 'utf8')): CgroupMode {
  return selfCgroup.split('\n').some((line) => line.includes(':name=pantavisor:/')) ? 'v1' : 'v2';
}

/**
 * Map the text of /proc/<pid>/cgroup to a container name, or HOST_CALLER, or undefined when the
 * process sits somewhere we do not recognise. Only the first path component after `lxc/` counts:
 * a container's own sub-cgroups still belong to that container.
 */
export function cgroupToName(
  text: string,
  mode: CgroupMode,
  appengine: boolean,
  extraHostPaths: readonly string[] = [],
): string | undefined {
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (mode === 'v1') {
    const marker = ':name=pantavisor:/';
    const line = lines.find((candidate) => candidate.includes(marker));
    if (line === undefined) return undefined;
    const rest = line.slice(line.indexOf(marker) + marker.length);
    const inside = rest.startsWith(`${LXC_CGROUP_PARENT}/`) ? rest.slice(LXC_CGROUP_PARENT.length + 1) : rest;
    const name = firstComponent(inside);
    return name === '' ? HOST_CALLER : name;
  }
  for (const line of lines) {
    const marker = `/${LXC_CGROUP_PARENT}/`;
    const at = line.indexOf(marker);
    if (at >= 0) {
      const name = firstComponent(line.slice(at + marker.length));
      return name === '' ? undefined : name;
    }
  }
  for (const line of lines) {
    const match = /^\d+::(\/.*)$/.exec(line);
    if (match === null) continue;
    if (match[1] === '/') return HOST_CALLER;
    if (appengine && match[1] === '/..') return HOST_CALLER;
    if (extraHostPaths.includes(match[1] as string)) return HOST_CALLER;
  }
  return undefined;
}

function firstComponent(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? path : path.slice(0, slash);
}

/** LXC appends `-N` when a cgroup name is taken; appengine strips it for the lookup (spec §4.1 step 4). */
function withoutSlotSuffix(name: string): string | undefined {
  const dash = name.lastIndexOf('-');
  if (dash < 0) return undefined;
  return /^\d*$/.test(name.slice(dash + 1)) ? name.slice(0, dash) : undefined;
}

/** The unified-hierarchy path of a cgroup file's `0::` line, if any. */
export function unifiedCgroupPath(text: string): string | undefined {
  const line = text.split('\n').find((candidate) => /^\d+::\//.test(candidate));
  return line === undefined ? undefined : line.slice(line.indexOf('::') + 2);
}

export interface CallerResolverOptions {
  mode: CgroupMode;
  appengine: boolean;
  /**
   * Unified cgroups, besides the root, whose processes are the host. The daemon passes its own
   * cgroup so that it and the helpers it spawns stay privileged when a service manager (systemd)
   * runs it outside the root cgroup, where Pantavisor as PID 1 never is.
   */
  hostCgroupPaths?: readonly string[];
  readCgroup?: (pid: number) => string;
  /** Whether the process behind a pidfd has not been reaped (see src/native `pidfdAlive`). */
  pidfdAlive?: (pidfd: number) => boolean;
}

export class CallerResolver {
  private readonly readCgroup: (pid: number) => string;

  constructor(private readonly options: CallerResolverOptions) {
    this.readCgroup = options.readCgroup ?? ((pid) => readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  }

  resolve(peer: PeerIdentity, platforms: PlatformDirectory | undefined): CallerLookup {
    if (!Number.isInteger(peer.pid) || peer.pid <= 0) return { ok: false, reason: `no peer pid (${peer.pid})` };
    let text: string;
    try {
      text = this.readCgroup(peer.pid);
    } catch (error) {
      return { ok: false, reason: `cannot read cgroup of pid ${peer.pid}: ${(error as Error).message}` };
    }
    // The cgroup file was read by pid; the pidfd proves that pid still names the process that
    // connected (a pid is recycled only once its process is reaped).
    if (peer.pidfd >= 0 && this.options.pidfdAlive !== undefined && !this.options.pidfdAlive(peer.pidfd)) {
      return { ok: false, reason: `caller pid ${peer.pid} exited before identification` };
    }
    const name = cgroupToName(text, this.options.mode, this.options.appengine, this.options.hostCgroupPaths);
    if (name === undefined) return { ok: false, reason: `pid ${peer.pid} is in no recognised cgroup` };
    if (name === HOST_CALLER) return { ok: true, caller: { kind: 'host', name: HOST_CALLER, privileged: true, pid: peer.pid } };
    let platform = platforms?.findPlatform(name);
    if (platform === undefined && this.options.appengine) {
      const stripped = withoutSlotSuffix(name);
      if (stripped !== undefined) platform = platforms?.findPlatform(stripped);
    }
    if (platform === undefined) return { ok: false, reason: `container "${name}" is not in the running state` };
    return { ok: true, caller: { kind: 'container', name: platform.name, privileged: platform.mgmt, pid: peer.pid } };
  }
}
