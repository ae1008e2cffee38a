import { statSync } from 'node:fs';
import { CONTAINER_SOCKET, DEFAULT_SOCKET_CANDIDATES } from '../client/pv-client.ts';

/** Environment variable naming the socket; an addition of this port, below `-s`. */
export const SOCKET_ENV = 'PVCTRL_SOCKET';

export function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * `-s` wins, then $PVCTRL_SOCKET, then the first existing host socket, else the path seen
 * inside containers. An explicitly configured path is never replaced by a probed one, so a
 * typo fails loudly instead of silently talking to another daemon.
 */
export function resolveSocket(explicit: string | undefined, env: Record<string, string | undefined>): string {
  if (explicit !== undefined) return explicit;
  const fromEnv = env[SOCKET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  for (const candidate of DEFAULT_SOCKET_CANDIDATES) {
    if (isSocket(candidate)) return candidate;
  }
  return CONTAINER_SOCKET;
}
