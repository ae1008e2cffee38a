/**
 * The LXC settings the daemon adds to a container's own `lxc.container.conf`: root file system,
 * cgroup placement (callers are identified by `lxc/<name>`), logs, network, and what the
 * container sees of pv-ctrl (spec §2.1).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Platform } from '../state/index.ts';
import { lxcCgroupOverrides } from './cgroups.ts';

export interface ContainerPaths {
  /** Per-container runtime folder (mount points, effective config, status). */
  root: string;
  rootfs: string;
  volumes: string;
  logDir: string;
}

export interface ViewSources {
  runDir: string;
  socket: string;
  logsRoot: string;
  revision: string;
}

/** Ordered list of [key, value] to apply after loading the container's own config. */
export function lxcOverrides(platform: Platform, paths: ContainerPaths, views: ViewSources, logLevel: number): [string, string][] {
  const items: [string, string][] = [
    ['lxc.uts.name', platform.name],
    ['lxc.rootfs.path', `dir:${paths.rootfs}`],
    // LXC 5 defaults to `lxc.payload.<name>`; caller identification looks for `lxc/<name>`.
    ...lxcCgroupOverrides(platform.name),
    ['lxc.log.file', join(paths.logDir, 'lxc.log')],
    ['lxc.log.level', String(logLevel)],
    ['lxc.console.logfile', join(paths.logDir, 'console.log')],
    ['lxc.tty.max', '0'],
    ['lxc.pty.max', '16'],
    ['lxc.autodev', '1'],
    ['lxc.mount.auto', 'proc:mixed sys:mixed cgroup:mixed'],
    ['lxc.net.0.type', platform.network?.mode === 'host' ? 'none' : 'empty'],
  ];
  if (existsSync('/sys/kernel/security/apparmor') || existsSync('/sys/module/apparmor')) items.push(['lxc.apparmor.profile', 'unconfined']);
  for (const entry of viewMounts(platform, views)) items.push(['lxc.mount.entry', entry]);
  return items;
}

/**
 * Management containers see the whole run dir at /pantavisor (read-only); every other container
 * sees only the socket, its own logs and its own metadata projections.
 */
function viewMounts(platform: Platform, views: ViewSources): string[] {
  const bind = (source: string, target: string, kind: 'dir' | 'file', readOnly: boolean): string =>
    `${escapeMountPath(source)} ${target} none bind${readOnly ? ',ro' : ''},create=${kind} 0 0`;
  if (platform.roles.mgmt) return [bind(views.runDir, 'pantavisor', 'dir', true)];
  return [
    bind(views.socket, 'pantavisor/pv-ctrl', 'file', false),
    bind(join(views.runDir, `user-meta.${platform.name}`), 'pantavisor/user-meta', 'dir', true),
    bind(join(views.runDir, `device-meta.${platform.name}`), 'pantavisor/device-meta', 'dir', true),
    bind(join(views.logsRoot, views.revision, platform.name), 'pantavisor/logs', 'dir', true),
  ];
}

/** LXC splits mount entries on spaces; fstab-style octal escapes keep paths with spaces intact. */
function escapeMountPath(path: string): string {
  return path.replace(/ /g, '\\040');
}
