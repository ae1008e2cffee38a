/**
 * Settings of the Bun runtime that the daemon needs before the runtime starts. Bun reads them from
 * the environment once, at exec, so a compiled executable cannot take them from its build, and
 * must not depend on the user's environment: when they are missing, the daemon executes itself
 * again (same pid, same arguments) with them set, before it loads anything. That second start of
 * the runtime costs about 40 ms, so whatever starts the daemon sets them first and it never
 * happens: `pv-ctrl` in dist/<target>/ is a small native launcher that does
 * (native/src/multicall_launcher.cpp), as do `bin/pv-ctrl` (the daemon run from source) and the
 * Yocto wrapper; test/integration/runtime-env.test.ts and multicall-launcher.test.ts keep them in
 * step with this list. What remains here is the fallback for the runtime-sized file started
 * directly. Helpers the daemon spawns (pv-xconnect) inherit them.
 *
 * - `BUN_GC_TIMER_DISABLE=1`: Bun's idle GC timer wakes the process every second (it reads
 *   /proc/self/statm and may start a collection), which is polling at idle (docs/events.md,
 *   "Idle cost"). JavaScriptCore still paces collections against allocation, and the daemon
 *   collects after a burst itself (src/server/http-server.ts).
 *
 * A variable the environment already has, whatever its value, is left as it is.
 */
export const DAEMON_RUNTIME_ENV: Readonly<Record<string, string>> = { BUN_GC_TIMER_DISABLE: '1' };

/** Where a compiled executable's own program lives (argv[1] there); the exec adds it again. */
const COMPILED_ENTRY_PREFIX = '/$bunfs/';

/**
 * The argument vector to execute again with (argv[0] first), or undefined when every setting is in
 * `env` already. A pure decision.
 */
export function reexecArguments(argv0: string, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  if (Object.keys(DAEMON_RUNTIME_ENV).every((name) => env[name] !== undefined)) return undefined;
  // argv[1] is the script `bun` runs (kept), or a compiled executable's embedded entry (dropped).
  const compiled = argv[1]?.startsWith(COMPILED_ENTRY_PREFIX) ?? false;
  return [argv0, ...argv.slice(compiled ? 2 : 1)];
}

/** Execute this program again with the runtime settings when they are missing; returns only when nothing was done. */
export function applyDaemonRuntimeEnv(): void {
  const args = reexecArguments(process.argv0, process.argv, process.env);
  if (args === undefined) return;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  try {
    process.execve?.(process.execPath, args, { ...DAEMON_RUNTIME_ENV, ...env });
  } catch {
    // Cannot exec here: run as is; the settings cost idle CPU, nothing else.
  }
}
