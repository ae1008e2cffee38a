/**
 * How pv-ctrl's supervisor runs pv-xconnect (docs/xconnect.md), first that applies:
 * - `PV_XCONNECT_BIN` set: that executable (any program speaking the same graph);
 * - the native pv-xconnect, `pvctrl-xconnect` next to the core addon (native/src/xconnect_relay.cpp):
 *   the same program in about 3 MiB instead of a second Bun runtime's 29 MiB, and no timer at
 *   idle (issue 10, docs/footprint.md). Both builds of the addon produce it;
 * - without it, the TypeScript pv-xconnect (src/xconnect/main.ts): from source, the Bun running
 *   pv-ctrl on main.ts, so helper and daemon share the pinned Bun; compiled to a single
 *   executable (its sources are not on disk), the multicall `pv-xconnect` next to it.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { findAddon } from '../native/index.ts';
import type { DaemonSpec } from '../runtime/daemons.ts';

export const XCONNECT_DAEMON = 'pv-xconnect';
/** The native pv-xconnect's file name, next to pvctrl_native.node (the core addon). */
export const XCONNECT_NATIVE_FILE = 'pvctrl-xconnect';

/** Bun serves a compiled executable's modules from this virtual root. */
const isCompiled = (): boolean => import.meta.dir.startsWith('/$bunfs/');

/** The native pv-xconnect next to the loaded core addon (else next to the first one found), if executable. */
export function nativeXconnect(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const addon = findAddon('core', env);
  if (addon === undefined) return undefined;
  const helper = join(dirname(addon), XCONNECT_NATIVE_FILE);
  try {
    accessSync(helper, constants.X_OK);
    return helper;
  } catch {
    return undefined;
  }
}

export function xconnectDaemonSpec(
  socket: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** null: there is none (the default looks next to the addon). */
  nativeHelper: string | null = nativeXconnect(env) ?? null,
): DaemonSpec {
  const childEnv = { PV_CTRL_SOCKET: socket };
  const args = ['--socket', socket];
  const override = env.PV_XCONNECT_BIN;
  if (override !== undefined && override !== '') return { name: XCONNECT_DAEMON, command: override, args, env: childEnv, requires: [override] };
  if (nativeHelper !== null) return { name: XCONNECT_DAEMON, command: nativeHelper, args, env: childEnv, requires: [nativeHelper] };
  if (isCompiled()) {
    const sibling = join(dirname(process.execPath), XCONNECT_DAEMON);
    return { name: XCONNECT_DAEMON, command: sibling, args, env: childEnv, requires: [sibling] };
  }
  const script = join(import.meta.dir, 'main.ts');
  return { name: XCONNECT_DAEMON, command: process.execPath, args: [script, ...args], env: childEnv, requires: [process.execPath, script] };
}
