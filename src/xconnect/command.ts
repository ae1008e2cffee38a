/**
 * How pv-ctrl's supervisor runs pv-xconnect (docs/xconnect.md):
 * - `PV_XCONNECT_BIN` set: that executable (a `bun build --compile` of src/xconnect/main.ts,
 *   or any program speaking the same graph);
 * - from source (dev, bin/pv-ctrl): the Bun running pv-ctrl on `src/xconnect/main.ts`, so
 *   helper and daemon always share the pinned Bun;
 * - pv-ctrl compiled to a single executable: its sources are not on disk, so a compiled
 *   `pv-xconnect` next to it.
 */
import { dirname, join } from 'node:path';
import type { DaemonSpec } from '../runtime/daemons.ts';

export const XCONNECT_DAEMON = 'pv-xconnect';

/** Bun serves a compiled executable's modules from this virtual root. */
const isCompiled = (): boolean => import.meta.dir.startsWith('/$bunfs/');

export function xconnectDaemonSpec(socket: string, env: Readonly<Record<string, string | undefined>> = process.env): DaemonSpec {
  const childEnv = { PV_CTRL_SOCKET: socket };
  const args = ['--socket', socket];
  const override = env.PV_XCONNECT_BIN;
  if (override !== undefined && override !== '') return { name: XCONNECT_DAEMON, command: override, args, env: childEnv, requires: [override] };
  if (isCompiled()) {
    const sibling = join(dirname(process.execPath), XCONNECT_DAEMON);
    return { name: XCONNECT_DAEMON, command: sibling, args, env: childEnv, requires: [sibling] };
  }
  const script = join(import.meta.dir, 'main.ts');
  return { name: XCONNECT_DAEMON, command: process.execPath, args: [script, ...args], env: childEnv, requires: [process.execPath, script] };
}
