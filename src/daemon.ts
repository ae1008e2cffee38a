/**
 * Boot sequence of pv-ctrl: configuration → storage → metadata → running state → listener.
 * Reads as a script on purpose; each step's owner lives in its own module.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Services } from './services.ts';
import { buildRouter } from './api/routes.ts';
import { PvConfig } from './config/index.ts';
import { APPENGINE_CONFIG_TEXT } from './config/appengine-defaults.ts';
import { createLogger, type LogFormat, type LogLevel, type Logger } from './log.ts';
import { metricsEnabled, PvCtrlMetrics } from './metrics/pvctrl.ts';
import { createRequestObserver } from './metrics/request-observer.ts';
import { metricSourcesOf } from './metrics/sources.ts';
import { kernelPeerCredentials, pidfdAlive, readProcessCgroup } from './native/index.ts';
import { deviceFacts, storageJson } from './runtime/device-info.ts';
import { DaemonSupervisor } from './runtime/daemons.ts';
import { xconnectDaemonSpec } from './xconnect/command.ts';
import { KernelDrivers } from './runtime/drivers.ts';
import { createKmodBackend } from './runtime/kmod-backend.ts';
import { RunningSystem } from './runtime/running-system.ts';
import { ContainerRuntime } from './runtime/containers.ts';
import { execChecked } from './runtime/exec.ts';
import { waitUntil } from './runtime/deadlines.ts';
import { isMounted, unmount } from './runtime/mounts.ts';
import { openLxcContainer } from './native/lxc.ts';
import { pageOutImage } from './native/memory.ts';
import { ConnectionStreamWriter } from './native/stream-writer.ts';
import { switchedOn } from './util/env-switch.ts';
import { LXC_CGROUP_PARENT } from './runtime/cgroups.ts';
import { deployInstalledRevision, recoverInterruptedDeploys } from './storage/deploy.ts';
import { firstBoot } from './storage/pvtx.ts';
import { readBootEnv } from './storage/boot-env.ts';
import { CommandQueue } from './runtime/commands.ts';
import { EventBus } from './events/index.ts';
import { StatusEvents } from './runtime/status-events.ts';
import { SshServer } from './runtime/ssh.ts';
import { HelperRecords } from './runtime/helper-records.ts';
import { Updater } from './runtime/updater.ts';
import type { GcReport } from './storage/gc.ts';
import { CallerResolver, detectCgroupMode, unifiedCgroupPath } from './server/caller.ts';
import { PvCtrlServer } from './server/http-server.ts';
import type { StartupReporter } from './systemd/index.ts';
import type { ConnectionLimits } from './server/limits.ts';
import { judgeState, parseState, type ParseOptions } from './state/index.ts';
import { measureSpace } from './storage/free-space.ts';
import { revisionsToKeep, runGarbageCollector } from './storage/gc.ts';
import { armFaultPoints } from './storage/fault-points.ts';
import { FACTORY_REVISION, initStorage, storageLayout, type StorageLayout } from './storage/layout.ts';
import { MetadataStore } from './storage/metadata.ts';
import { ObjectStore } from './storage/objects.ts';
import { StepStore } from './storage/steps.ts';
import packageJson from '../package.json' with { type: 'json' };

export const VERSION = `pv-ctrl ${packageJson.version}`;

export interface DaemonOptions {
  storage?: string;
  runDir?: string;
  configFile?: string;
  pvtxDir?: string;
  logLevel?: LogLevel;
  /** `--log-format` / PV_LOG_FORMAT / JOURNAL_STREAM, resolved by main.ts (src/log.ts). */
  logFormat?: LogFormat;
  /** Listener limits (`--max-connections`, `--idle-timeout`); server defaults otherwise. */
  connectionLimits?: ConnectionLimits;
  env?: Readonly<Record<string, string | undefined>>;
  /** REBOOT_DEVICE / POWEROFF_DEVICE: the caller stops the daemon and reboots or exits. */
  onPowerRequest?: (kind: 'reboot' | 'poweroff', message: string) => Promise<void>;
  /** Start-up phases and readiness, for the service manager (src/systemd); none without one. */
  startup?: StartupReporter;
  /** A listening socket systemd passed (socket activation, checked), served instead of binding the path. */
  passedSocket?: { readonly fd: number; readonly path: string };
}

export interface RunningDaemon {
  services: Services;
  layout: StorageLayout;
  server: PvCtrlServer<Services>;
  runtime: ContainerRuntime | undefined;
  /** Settles once the running revision's groups reached their goals (or timed out). */
  started: Promise<unknown>;
  stop(): Promise<void>;
}

/** How long a stop waits for an update (deploy, LOCAL_RUN) to notice the stop and end. */
const UPDATE_SETTLE_MS = 15_000;

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Resolve where things live: flags beat config file and environment, which beat our defaults. */
function resolvePaths(options: DaemonOptions, config: PvConfig): { storage: string; runDir: string; userMeta?: string; deviceMeta?: string } {
  const configured = (key: string): string | undefined => (config.levelOf(key) === 'DEFAULT' ? undefined : (config.getString(key) ?? undefined));
  const storage = resolve(options.storage ?? configured('PV_STORAGE_MNTPOINT') ?? (isRoot() ? '/var/pantavisor/storage' : './.pv/storage'));
  const runDir = resolve(options.runDir ?? configured('PV_SYSTEM_RUNDIR') ?? (isRoot() ? '/run/pantavisor/pv' : './.pv/run'));
  const userMeta = configured('PV_CACHE_USRMETADIR');
  const deviceMeta = configured('PV_CACHE_DEVMETADIR');
  return { storage, runDir, ...(userMeta ? { userMeta } : {}), ...(deviceMeta ? { deviceMeta } : {}) };
}

export function loadConfig(options: DaemonOptions, log: Logger): PvConfig {
  const env = options.env ?? process.env;
  const configFile = options.configFile ?? env.PV_CONFIG_FILE;
  let configFileText = configFile !== undefined && existsSync(configFile) ? readFileSync(configFile, 'utf8') : undefined;
  if (configFile !== undefined && configFileText === undefined) log.warn(`config file ${configFile} not found; using appengine defaults`);
  configFileText ??= APPENGINE_CONFIG_TEXT;
  const config = PvConfig.load({ ...(configFileText !== undefined ? { configFileText } : {}), env, cmdline: '', logger: (message) => log.debug(`config: ${message}`) });
  if (options.storage !== undefined) config.force('PV_STORAGE_MNTPOINT', resolve(options.storage), 'ARGS');
  if (options.runDir !== undefined) config.force('PV_SYSTEM_RUNDIR', resolve(options.runDir), 'ARGS');
  return config;
}

export function stateParseOptions(config: PvConfig): ParseOptions {
  return {
    initMode: config.getEnum('PV_SYSTEM_INIT_MODE') as ParseOptions['initMode'],
    goalsTimeout: config.getInt('PV_UPDATER_GOALS_TIMEOUT'),
    bootloaderType: config.getEnum('PV_BOOTLOADER_TYPE'),
    fitConfig: config.getString('PV_BOOTLOADER_FITCONFIG'),
    secureBootMode: config.getEnum('PV_SECUREBOOT_MODE') as ParseOptions['secureBootMode'],
  };
}

export async function startDaemon(options: DaemonOptions = {}): Promise<RunningDaemon> {
  const log = createLogger(options.logLevel ?? 'info', undefined, options.logFormat ?? 'text');
  const config = loadConfig(options, log);
  const paths = resolvePaths(options, config);
  const layout = storageLayout({ storage: paths.storage, runDir: paths.runDir, userMetaDir: paths.userMeta, deviceMetaDir: paths.deviceMeta });
  const startup = options.startup;
  startup?.status(`storage: opening ${layout.root}`);
  const init = initStorage(layout);
  const recovered = await recoverInterruptedDeploys(layout);
  if (recovered.restored.length > 0) log.warn(`restored revisions interrupted mid-deploy: ${recovered.restored.join(', ')}`);
  log.info(`storage ${layout.root}${init.created ? ' (initialised)' : ''}, run dir ${layout.runDir}; swept ${init.sweptTempFiles} stale temp files`);
  // Helpers a killed predecessor left running would otherwise run beside ours (runtime/helper-records.ts).
  const helpers = new HelperRecords(layout.runDir, log);
  await helpers.sweep();

  const reservedPercent = (): number => config.getInt('PV_STORAGE_GC_RESERVED');
  const realFree = (): number => measureSpace(layout.root, reservedPercent()).realFree;
  const objects = new ObjectStore(layout.objects, realFree);
  // Every change is published here (GET /events, docs/events.md); a new process is a new epoch.
  const events = new EventBus();
  const steps = new StepStore(layout, (bytes) => bytes <= realFree(), events);
  const userMeta = new MetadataStore('user-meta', layout.userMeta, layout.runDir, (change) => {
    if (change.value === undefined) config.revertUserMeta(change.key);
    else config.applyUserMeta(change.key, change.value);
  }, events);
  const deviceMeta = new MetadataStore('device-meta', layout.deviceMeta, layout.runDir, undefined, events);
  userMeta.load();
  deviceMeta.load();

  if (options.pvtxDir !== undefined) {
    const report = await firstBoot(layout, options.pvtxDir, { parseOptions: stateParseOptions(config), logger: log });
    if (report.outcome !== 'already-done') {
      log.info(`first boot from ${options.pvtxDir}: ${report.outcome}${report.reason ? ` (${report.reason})` : ''}; ${report.packages.map((item) => `${item.file}: ${item.status}`).join(', ')}`);
    }
  }

  const system = new RunningSystem(events);
  let runtime: ContainerRuntime | undefined;
  const updater = new Updater({
    layout,
    steps,
    system,
    runtime: () => runtime,
    deviceMeta,
    parseOptions: () => stateParseOptions(config),
    commitDelay: () => config.getInt('PV_UPDATER_COMMIT_DELAY'),
    log,
  });
  updater.recoverInterruptedTry();
  const revision = steps.currentRevision() ?? FACTORY_REVISION;
  startup?.status(`runtime: loading revision ${revision}`);
  const parsed = parseState(steps.readState(revision), stateParseOptions(config));
  if (!parsed.ok) throw new Error(`running revision ${revision} has an invalid state: ${parsed.reason}`);
  system.load(revision, parsed.state);
  if (!existsSync(join(steps.directory(revision), '.pvr', 'config'))) await deployInstalledRevision(layout, revision);

  const drivers = new KernelDrivers((alias) => driverAlias(system, alias), createKmodBackend(log, options.env ?? process.env), log, (key) => userMeta.get(key), events);
  // Scrape-time values are read from their owners; the server is asked once it exists.
  const metrics: PvCtrlMetrics = new PvCtrlMetrics(
    metricSourcesOf({ system, updater, steps, objects, daemons: { list: () => daemons.list() }, events, openConnections: (): number => server.openConnections }),
    metricsEnabled(options.env ?? process.env),
  );
  const daemons = new DaemonSupervisor({
    log,
    registry: helpers,
    onEvent: (event) => {
      if (event.type === 'spawn') metrics.daemonSpawned(event.name);
      if (event.type === 'spawn') events.publish({ daemon: { name: event.name, action: 'started' } });
      else events.publish({ daemon: { name: event.name, action: event.respawnInMs === undefined ? 'stopped' : 'exited', ...(event.code !== null ? { exitCode: event.code } : {}), ...(event.signal !== null ? { signal: event.signal } : {}) } });
    },
  });
  daemons.register(xconnectDaemonSpec(layout.socket, options.env ?? process.env));
  const ssh = new SshServer({ keyDir: join(layout.root, 'cache', 'dropbear'), port: sshPort(options.env ?? process.env), log, registry: helpers });
  const collectGarbage = (): GcReport => {
    const keep = revisionsToKeep({
      running: system.revision ?? revision,
      rollbackPoint: readBootEnv(layout, revision).done,
      updating: updater.active,
      keepFactory: config.getBool('PV_STORAGE_GC_KEEP_FACTORY'),
    });
    return runGarbageCollector(steps, objects, { keep }, events);
  };
  const commands = new CommandQueue({
    log,
    updater,
    steps,
    deviceMeta,
    collectGarbage: () => {
      const report = collectGarbage();
      log.info(`RUN_GC reclaimed ${report.reclaimed} bytes`);
    },
    setSsh: async (enabled) => {
      config.force('PV_DEBUG_SSH', enabled ? '1' : '0', 'META');
      await (enabled ? ssh.start() : ssh.stop());
    },
    power: async (kind, message) => {
      log.info(`${kind === 'reboot' ? 'REBOOT_DEVICE' : 'POWEROFF_DEVICE'} requested${message ? `: ${message}` : ''}`);
      await (options.onPowerRequest ?? (async () => log.warn('no power handler: ignoring')))(kind, message);
    },
    remoteAllowed: () => config.getBool('PV_CONTROL_REMOTE'),
    debugShell: () => config.getBool('PV_DEBUG_SHELL'),
    events,
  });
  const services: Services = {
    layout,
    config,
    objects,
    steps,
    userMeta,
    deviceMeta,
    system,
    drivers,
    daemons,
    commands,
    events,
    metrics,
    buildInfo: `${VERSION}\nruntime: bun ${Bun.version}\n`,
    log,
    verifyState: (text) => {
      const verdict = judgeState(text, stateParseOptions(config));
      if (verdict !== undefined) log.warn(`state rejected: ${verdict.reason}`);
      return verdict;
    },
    collectGarbage,
    realFree,
  };

  const mode = detectCgroupMode();
  const ownCgroup = unifiedCgroupPath(readFileSync('/proc/self/cgroup', 'utf8'));
  const resolver = new CallerResolver({
    mode,
    appengine: config.getEnum('PV_SYSTEM_INIT_MODE') === 'appengine',
    readCgroup: readProcessCgroup,
    pidfdAlive,
    hostCgroupPaths: ownCgroup !== undefined && !ownCgroup.includes(`/${LXC_CGROUP_PARENT}/`) ? [ownCgroup] : [],
  });
  const servedPath = options.passedSocket?.path ?? layout.socket;
  if (servedPath !== layout.socket) log.warn(`socket activation: serving ${servedPath}, but pvcontrol and containers look for ${layout.socket}`);
  // GET /events bodies are written by a native thread, not the event loop (docs/events.md "Delivery").
  const bodyWriter = new ConnectionStreamWriter();
  const server = new PvCtrlServer({
    socketPath: layout.socket,
    ...(options.passedSocket !== undefined ? { listenFd: options.passedSocket.fd } : {}),
    router: buildRouter(),
    services,
    stateLoaded: () => system.state !== undefined,
    log,
    credentials: kernelPeerCredentials,
    identify: (peer) => resolver.resolve(peer, system),
    observe: createRequestObserver({ metrics, log, logReads: (options.logLevel ?? 'info') === 'debug' }),
    // PV_PAGE_OUT=0: keep the image resident (a board whose flash makes the first requests after
    // a page-out too slow); docs/footprint.md "Handing the image's clean pages back".
    ...(switchedOn((options.env ?? process.env).PV_PAGE_OUT) ? { afterQuietCollection: () => pageOutImageOnceQuiet(log) } : {}),
    bodyWriter,
    ...options.connectionLimits,
  });
  await server.listen();
  await verifyCredentialsComeBack(servedPath);
  // After the first answers, as the reference writes them once the revision runs (spec §10.5):
  // gathering and durably writing a dozen facts is most of a restart's time before the socket.
  const facts = deviceFacts({ version: VERSION, revision, mode: 'local' });
  for (const [key, value] of Object.entries(facts)) deviceMeta.set(key, value);
  deviceMeta.set('storage', storageJson(measureSpace(layout.root, reservedPercent())));
  deviceMeta.set('pantavisor.status', system.revisionStatus());
  log.info(`listening on ${servedPath} (${options.passedSocket !== undefined ? 'passed by systemd, ' : ''}cgroup mode ${mode}, revision ${revision})`);
  startup?.status(`listening on ${servedPath}`);
  startup?.ready();
  armFaultPoints();
  // Helpers talk to the socket, so they start once it answers; they stop first, while it still does.
  daemons.startAll();

  const metaMounts = await exposeMetadata(layout, log);
  if (config.getBool('PV_DEBUG_SSH')) await ssh.start().catch((error: unknown) => log.error(`ssh server: ${(error as Error).message}`));
  let started: Promise<unknown> = Promise.resolve();
  if (parsed.state.platforms.length > 0) {
    if (!isRoot()) {
      log.error('containers need root (LXC, loop mounts); not starting them');
    } else {
      const runtimeRoot = join(dirname(layout.runDir), 'containers');
      const statusEvents = new StatusEvents(system, events);
      runtime = new ContainerRuntime({
        layout,
        system,
        log,
        runtimeRoot,
        lxcPath: join(runtimeRoot, 'lxc'),
        lxcLogLevel: config.getInt('PV_LXC_LOG_LEVEL'),
        openContainer: (name, lxcPath) => openLxcContainer(name, lxcPath),
        loadDrivers: (aliases) => drivers.apply('load', aliases),
        onStatusChange: (name, status, from) => {
          deviceMeta.set('pantavisor.status', system.revisionStatus());
          statusEvents.containerChanged(name, status, from);
          metrics.containerStatusChanged(name, status);
        },
      });
      system.attachController(runtime);
      const startedAt = Date.now();
      started = runtime.startRevision(revision, parsed.state).then(
        (late) => {
          log.info(`revision ${revision} up in ${Date.now() - startedAt} ms${late.length > 0 ? `; goal timed out: ${late.join(', ')}` : ''}`);
          startup?.status(`revision ${revision} running${late.length > 0 ? `; goal timed out: ${late.join(', ')}` : ''}`);
        },
        (error: unknown) => {
          log.error(`revision ${revision} failed to start: ${(error as Error).message}`);
          startup?.status(`revision ${revision} failed to start: ${(error as Error).message}`);
        },
      );
    }
  }
  if (runtime === undefined) startup?.status(`revision ${revision} running (no containers started)`);
  // Start-up's garbage and run-once code (modules, a first boot's hashing, the containers'
  // start) are handed back like a burst's, once the revision runs and requests pause.
  void started.then(() => server.collectOnceQuiet());

  return {
    services,
    layout,
    server,
    runtime,
    started,
    stop: async () => {
      // From here nothing starts; a command or update in flight notices and ends (bounded wait).
      runtime?.beginStop();
      await daemons.stopAll();
      await ssh.stop();
      if (!(await waitUntil(() => !commands.busy && updater.active === undefined, Date.now() + UPDATE_SETTLE_MS))) {
        log.warn(`stop: update of ${updater.active ?? 'a command'} still in flight after ${UPDATE_SETTLE_MS} ms; stopping anyway`);
      }
      await runtime?.stopAll();
      // The containers that saw the metadata are gone: unmount now, not after the server's close
      // (up to its grace), so a stop cut short by a SIGKILL after that grace leaves no mount.
      for (const target of metaMounts) await unmount(target).catch((error: unknown) => log.warn(`stop: cannot unmount ${target}: ${(error as Error).message}`));
      // Streams never finish on their own: end them so the server's close does not wait for them.
      events.close();
      await server.close();
      bodyWriter.shutdown();
    },
  };
}

/**
 * After the collections that follow start-up or a burst: the clean pages of the process's own
 * image (runtime code, the embedded program, libraries) go back to the kernel. Most of them ran
 * once; what serving needs comes back on first use (docs/footprint.md "Where the memory goes").
 */
function pageOutImageOnceQuiet(log: Logger): void {
  const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
  pageOutImage().then(
    (done) => log.debug(done.supported ? `paged out the image's clean pages (${done.ranges} mappings): resident file pages ${mib(done.residentFileBefore)} -> ${mib(done.residentFileAfter)} MiB` : 'paging out: this kernel has no MADV_PAGEOUT'),
    (error: unknown) => log.debug(`paging out: ${(error as Error).message}`),
  );
}

/**
 * The reference bind-mounts the metadata folders at `<rundir>/user-meta` and
 * `<rundir>/device-meta`, which management containers see under /pantavisor. Needs root.
 */
async function exposeMetadata(layout: StorageLayout, log: Logger): Promise<string[]> {
  if (!isRoot()) return [];
  const mounted: string[] = [];
  for (const [source, name] of [
    [layout.userMeta, 'user-meta'],
    [layout.deviceMeta, 'device-meta'],
  ] as const) {
    const target = join(layout.runDir, name);
    try {
      mkdirSync(target, { recursive: true });
      if (!isMounted(target)) await execChecked('mount', ['--bind', source, target]);
      mounted.push(target);
    } catch (error) {
      log.warn(`cannot expose ${name} in the run dir: ${(error as Error).message}`);
    }
  }
  return mounted;
}

function driverAlias(system: RunningSystem, alias: string): readonly string[] | undefined {
  return system.state?.bsp.drivers?.aliases.get(alias);
}

/**
 * Caller identity rests on undocumented Bun internals (`socket._handle.fd`): prove at start-up
 * that a connection to our own socket is attributed to our own pid, or refuse to run.
 */
async function verifyCredentialsComeBack(socketPath: string): Promise<void> {
  const { createConnection } = await import('node:net');
  const answer = await new Promise<string>((resolvePromise, reject) => {
    const socket = createConnection(socketPath);
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolvePromise(text));
    socket.on('close', () => resolvePromise(text));
    socket.on('error', reject);
    socket.write('GET /buildinfo HTTP/1.0\r\nHost: localhost\r\n\r\n');
    setTimeout(() => reject(new Error('self-check timed out')), 5000).unref();
  });
  if (!answer.startsWith('HTTP/1.1 200') && !answer.startsWith('HTTP/1.0 200')) {
    throw new Error(`start-up self-check failed: the daemon could not identify its own connection (${answer.split('\r\n')[0] ?? 'no answer'})`);
  }
}

/** Port of the debug SSH server (8222, as Pantavisor's pvr-sdk uses; PVCTRL_SSH_PORT overrides). */
function sshPort(env: Readonly<Record<string, string | undefined>>): number {
  const port = Number(env.PVCTRL_SSH_PORT ?? 8222);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : 8222;
}
