/**
 * Paths inside a container, reached from the host through `/proc/<pid>/root`.
 *
 * Why not simply `/proc/<pid>/root` + path: the kernel resolves an absolute symlink met on
 * the way against *our* root, not the container's. A container could then point its
 * service directory at a host directory and have pv-xconnect (root, host cgroup, trusted
 * by pv-ctrl) create or remove sockets there, or make us connect to a host socket such as
 * pv-ctrl's own and relay it to the consumer. So symlinks are resolved here, component by
 * component, inside the container's root (the semantics of openat2's RESOLVE_IN_ROOT, which
 * Bun does not expose). A container swapping a component between our check and our use
 * can still race us; it can only win a path under its own root that way.
 */
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';

const MAX_SYMLINKS = 40;

export function containerRoot(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no container pid (${pid})`);
  return `/proc/${pid}/root`;
}

export interface ResolveOptions {
  /** Create missing parent directories (mode 0755), as the consumer's target may need. */
  readonly createParents?: boolean;
}

/**
 * The host path of `path` inside the root `root`, with every symlink resolved within that
 * root. Parents must exist (or are created); the last component may be missing.
 */
export function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): string {
  if (!path.startsWith('/')) throw new Error(`${path}: not an absolute path`);
  const pending = path.split('/');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? '';
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = `${root}/${[...resolved, part].join('/')}`;
    const isLast = pending.every((rest) => rest === '' || rest === '.');
    let stat: ReturnType<typeof lstatSync> | undefined;
    try {
      stat = lstatSync(candidate);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (stat === undefined) {
      if (!isLast) {
        if (options.createParents !== true) throw new Error(`${path}: ${[...resolved, part].join('/')} does not exist`);
        mkdirSync(candidate, { mode: 0o755 });
      }
      resolved.push(part);
      continue;
    }
    if (stat.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new Error(`${path}: too many symbolic links`);
      const link = readlinkSync(candidate);
      if (link.startsWith('/')) resolved.length = 0;
      pending.unshift(...link.split('/'));
      continue;
    }
    if (!isLast && !stat.isDirectory()) throw new Error(`${path}: ${[...resolved, part].join('/')} is not a directory`);
    resolved.push(part);
  }
  return `${root}/${resolved.join('/')}`;
}
