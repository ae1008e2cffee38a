/**
 * The listener's two resource limits, from daemon flags or the environment. They are not
 * Pantavisor config keys: /config and /config2 must stay byte-identical to the reference.
 */

export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

export interface ConnectionLimits {
  maxConnections: number;
  idleTimeoutMs: number;
}

export type LimitsResult = { ok: true; limits: ConnectionLimits } | { ok: false; message: string };

/** Flag values win over PVCTRL_MAX_CONNECTIONS / PVCTRL_IDLE_TIMEOUT (seconds). */
export function resolveConnectionLimits(
  flags: { maxConnections?: string | undefined; idleTimeout?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): LimitsResult {
  const connections = flags.maxConnections ?? env.PVCTRL_MAX_CONNECTIONS;
  const idle = flags.idleTimeout ?? env.PVCTRL_IDLE_TIMEOUT;
  const maxConnections = connections === undefined ? DEFAULT_MAX_CONNECTIONS : positiveInteger(connections);
  if (maxConnections === undefined) return { ok: false, message: `max connections must be a positive integer, not ${connections}` };
  const idleSeconds = idle === undefined ? DEFAULT_IDLE_TIMEOUT_MS / 1000 : positiveInteger(idle);
  if (idleSeconds === undefined) return { ok: false, message: `idle timeout must be a positive number of seconds, not ${idle}` };
  return { ok: true, limits: { maxConnections, idleTimeoutMs: idleSeconds * 1000 } };
}

function positiveInteger(text: string): number | undefined {
  if (!/^\d{1,9}$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return value > 0 ? value : undefined;
}
