/**
 * Typed facade over the systemd part of the pvctrl_native (core) addon (native/src/sd_notify.cpp):
 * notify datagrams, the passed listening socket, and the C environment. Arguments are checked
 * here so a wrong call fails with a TypeError naming it, before reaching the addon.
 */
import { concernExports } from './index.ts';

interface SystemdExports {
  sdNotify(address: string, message: string): void;
  listenSocketPath(fd: number): string;
  unsetEnv(name: string): void;
}

const systemd = (): SystemdExports => concernExports<'systemd', SystemdExports>('systemd');

/** A Unix socket address as systemd writes it: an absolute path, or `@name` (abstract namespace). */
export function isNotifyAddress(address: string): boolean {
  return (address.startsWith('/') || address.startsWith('@')) && !address.includes('\0');
}

/**
 * Send one notify message (`READY=1`, `WATCHDOG=1`, `STATUS=…`) to `address`. Never waits: a
 * full receive queue fails with code EAGAIN; other socket errors carry their errno code.
 */
export function sdNotify(address: string, message: string): void {
  if (!isNotifyAddress(address)) throw new TypeError('sdNotify: address must be an absolute path or @name');
  if (message === '' || message.includes('\0')) throw new TypeError('sdNotify: message must be a non-empty string without NUL bytes');
  systemd().sdNotify(address, message);
}

/**
 * Check that `fd` is a listening AF_UNIX stream socket, mark it close-on-exec, and return the
 * address it is bound to (`/path`, `@name`, or '' when unnamed). Throws (with a code) otherwise.
 */
export function listenSocketPath(fd: number): string {
  if (!Number.isInteger(fd) || fd < 0) throw new TypeError('listenSocketPath: fd must be a non-negative integer');
  return systemd().listenSocketPath(fd);
}

/** Remove `name` from process.env and from the C environment (what posix_spawn children inherit). */
export function unsetEnvironment(name: string): void {
  if (name === '' || name.includes('=') || name.includes('\0')) throw new TypeError('unsetEnvironment: invalid variable name');
  delete process.env[name];
  systemd().unsetEnv(name);
}
