/** `pv-ctrl` command line: flags, start, and a clean stop on SIGTERM/SIGINT. */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startDaemon, VERSION } from './daemon.ts';
import { fstatSync } from 'node:fs';
import { chooseLogFormat, type LogLevel } from './log.ts';
import { resolveConnectionLimits } from './server/limits.ts';
import { activatedSocketPath, adoptSystemdEnvironment, armLoopBlockHook } from './systemd/index.ts';

import { EXIT_POWEROFF, EXIT_REBOOT } from './exit-codes.ts';

const USAGE = `Usage: pv-ctrl [options]
  --storage DIR    storage root (default /var/pantavisor/storage as root, else ./.pv/storage)
  --rundir DIR     run dir; the socket is DIR/pv-ctrl (default /run/pantavisor/pv as root, else ./.pv/run)
  --config FILE    pantavisor.config file (KEY=value lines)
  --pvtx-dir DIR   folder of *.pvrexport.tgz installed on first boot
  --log-level L    error | warn | info | debug (default info)
  --log-format F   text | journal | json (default: journal when stderr is JOURNAL_STREAM, else
                   text; env PV_LOG_FORMAT)
  --max-connections N      open connections served at once; beyond, 503 and close (default 1024,
                           env PVCTRL_MAX_CONNECTIONS)
  --idle-timeout SECONDS   close keep-alive connections idle this long (default 300, env PVCTRL_IDLE_TIMEOUT)
  --version, -h/--help
Environment and config file accept Pantavisor's keys (PV_STORAGE_MNTPOINT, PV_SYSTEM_RUNDIR, ...).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      storage: { type: 'string' },
      rundir: { type: 'string' },
      config: { type: 'string' },
      'pvtx-dir': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      'max-connections': { type: 'string' },
      'idle-timeout': { type: 'string' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const logLevel = (values['log-level'] ?? process.env.PV_CTRL_LOG_LEVEL ?? 'info') as LogLevel;
  if (!['error', 'warn', 'info', 'debug'].includes(logLevel)) {
    process.stderr.write(`pv-ctrl: unknown log level ${logLevel}\n`);
    return 2;
  }
  const logFormat = chooseLogFormat(values['log-format'], process.env, () => {
    try {
      const stats = fstatSync(2, { bigint: true });
      return { dev: stats.dev, ino: stats.ino };
    } catch {
      return undefined;
    }
  });
  if (logFormat === undefined) {
    process.stderr.write(`pv-ctrl: unknown log format ${values['log-format'] ?? process.env.PV_LOG_FORMAT}\n`);
    return 2;
  }
  const limits = resolveConnectionLimits({ maxConnections: values['max-connections'], idleTimeout: values['idle-timeout'] }, process.env);
  if (!limits.ok) {
    process.stderr.write(`pv-ctrl: ${limits.message}\n`);
    return 2;
  }
  // Before anything is spawned: systemd's variables describe this process, not its children.
  let reportNotifyFailure = (message: string): void => void process.stderr.write(`pv-ctrl: ${message}\n`);
  const systemd = adoptSystemdEnvironment((message) => reportNotifyFailure(message));
  if (systemd.listen.kind === 'refuse') {
    process.stderr.write(`pv-ctrl: ${systemd.listen.reason}\n`);
    return 2;
  }
  // Checked before storage is touched: a passed fd that is not a listening Unix socket ends here.
  let passedSocket: { fd: number; path: string } | undefined;
  if (systemd.listen.kind === 'fd') {
    try {
      passedSocket = { fd: systemd.listen.fd, path: activatedSocketPath(systemd.listen.fd) };
    } catch (error) {
      process.stderr.write(`pv-ctrl: socket activation: ${(error as Error).message}\n`);
      return 1;
    }
  }
  const notifier = systemd.notifier;
  // From the event loop, from now on: a start-up step that blocks the loop misses its ping too.
  notifier.startWatchdog();
  armLoopBlockHook();
  // The socket answers before start-up ends, so a REBOOT/POWEROFF command can arrive before the
  // real handler exists: remember the first one and carry it out once ready, like a signal.
  let earlyPower: { kind: 'reboot' | 'poweroff'; message: string } | undefined;
  let requestPower: (kind: 'reboot' | 'poweroff', message: string) => Promise<void> = async (kind, message) => {
    earlyPower ??= { kind, message };
  };
  // A signal during start-up must still stop cleanly (mounts, containers): remember it until ready.
  let earlySignal: string | undefined;
  const early = (signal: string) => () => {
    earlySignal ??= signal;
    // Told at once (start-up may take a while): systemd then never hears READY=1 from us.
    notifier.stopping();
  };
  const earlyTerm = early('SIGTERM');
  const earlyInt = early('SIGINT');
  process.on('SIGTERM', earlyTerm);
  process.on('SIGINT', earlyInt);
  const daemon = await startDaemon({
    onPowerRequest: (kind, message) => requestPower(kind, message),
    startup: notifier,
    ...(passedSocket !== undefined ? { passedSocket } : {}),
    ...(values.storage !== undefined ? { storage: values.storage } : {}),
    ...(values.rundir !== undefined ? { runDir: values.rundir } : {}),
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    ...(values['pvtx-dir'] !== undefined ? { pvtxDir: values['pvtx-dir'] } : {}),
    logLevel,
    logFormat,
    connectionLimits: limits.limits,
  }).catch((error: unknown) => {
    notifier.status(`start-up failed: ${(error as Error).message}`);
    throw error;
  });
  reportNotifyFailure = (message) => daemon.services.log.warn(message);
  for (const problem of systemd.problems) daemon.services.log.warn(`systemd: ${problem}`);
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string, code = 0): void => {
      if (stopping) return;
      stopping = true;
      notifier.stopping();
      notifier.status(`${signal}: stopping`);
      daemon.services.log.info(`${signal}: finishing in-flight requests and stopping`);
      // A failed stop must still end the process (with a failure code), never leave it hanging.
      void daemon.stop().then(
        () => resolve(code),
        (error: unknown) => {
          daemon.services.log.error(`${signal}: stop failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    requestPower = async (kind) => {
      const appengine = daemon.services.config.getEnum('PV_SYSTEM_INIT_MODE') === 'appengine';
      if (appengine) {
        // The appengine runner (npm start) starts the daemon again after a reboot, not after a poweroff.
        stop(kind === 'reboot' ? 'REBOOT_DEVICE' : 'POWEROFF_DEVICE', kind === 'reboot' ? EXIT_REBOOT : EXIT_POWEROFF);
        return;
      }
      stopping = true;
      notifier.stopping();
      await daemon.stop();
      spawnSync(kind === 'reboot' ? 'reboot' : 'poweroff', [], { stdio: 'inherit' });
      resolve(kind === 'reboot' ? EXIT_REBOOT : EXIT_POWEROFF);
    };
    process.off('SIGTERM', earlyTerm);
    process.off('SIGINT', earlyInt);
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    if (earlySignal !== undefined) stop(earlySignal);
    else if (earlyPower !== undefined) void requestPower(earlyPower.kind, earlyPower.message);
  });
}

/** Run pv-ctrl as a program: parse argv, serve until stopped, exit with the right code. */
export function runPvCtrl(): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`pv-ctrl: ${(error as Error).message ?? String(error)}\n`);
      process.exit(1);
    },
  );
}

// Only as the entry point (or through runPvCtrl): importing this module must never start a daemon.
if (import.meta.main) runPvCtrl();
