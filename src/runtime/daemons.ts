/**
 * Supervisor of the daemon's helper processes (spec §7.11). The table is filled at boot by
 * whoever owns a helper (pv-xconnect today); an empty table is a valid device.
 *
 * Deliberate differences from the reference (docs/xconnect.md):
 * - no `/bin/sleep 5` placeholder between crashes: the pid is 0 while a respawn is pending,
 *   and the wait grows exponentially (first respawn immediate, then 1 s, 2 s, … capped),
 *   resetting once a run lasted long enough to count as healthy;
 * - helpers get their own process group, so a terminal's Ctrl-C reaches pv-ctrl only and
 *   pv-ctrl alone decides when they stop; signals go to the whole group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { notFound } from '../errors.ts';
import type { Logger } from '../log.ts';
import { SerialQueue } from '../util/keyed-lock.ts';
import { signalProcessGroup, type HelperRegistry } from './helper-records.ts';

/** One helper as `GET /daemons` lists it. */
export interface DaemonView {
  name: string;
  pid: number;
  respawn: boolean;
}

/** Where a helper's stdout/stderr lines go, tagged `<name>-out` / `<name>-err`. */
export type DaemonOutput =
  | { readonly kind: 'log' }
  /** Resolved for every line, so a revision change moves the file without a restart. */
  | { readonly kind: 'file'; readonly path: () => string };

export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  /** Added to pv-ctrl's own environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The reference's "test binary": a missing one lists the daemon with respawn false and never runs it. */
  readonly requires?: readonly string[];
  /** The reference's init-mode gate; a disabled daemon stays listed with pid 0. */
  readonly enabled?: boolean;
  readonly output?: DaemonOutput;
}

export interface RespawnPolicy {
  /** Wait before the second quick respawn in a row; doubles after each further one. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** A run at least this long is healthy: the next crash respawns immediately again. */
  readonly stableAfterMs: number;
  /** SIGTERM → SIGKILL grace on stop. */
  readonly stopGraceMs: number;
}

export const DEFAULT_RESPAWN_POLICY: RespawnPolicy = { firstDelayMs: 1000, maxDelayMs: 30_000, stableAfterMs: 10_000, stopGraceMs: 5000 };

export type DaemonEvent =
  | { readonly type: 'spawn'; readonly name: string; readonly pid: number }
  | {
      readonly type: 'exit';
      readonly name: string;
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      /** undefined: no respawn (stopped, or respawn disabled). */
      readonly respawnInMs: number | undefined;
    };

export interface SupervisorOptions {
  readonly log: Logger;
  readonly policy?: Partial<RespawnPolicy>;
  /** Observation point for tests and metrics; must not throw. */
  readonly onEvent?: (event: DaemonEvent) => void;
  /** Where running helpers are recorded, so a restarted pv-ctrl can end what a killed one left. */
  readonly registry?: HelperRegistry;
}

/** Long output lines are cut so one runaway helper cannot grow our memory without bound. */
const MAX_LINE = 8192;

class SupervisedDaemon {
  private pid = 0;
  private respawn = true;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private startedAt = 0;
  private quickExits = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** API operations run one after the other, so a stop and a start cannot interleave. */
  private readonly queue = new SerialQueue();

  constructor(
    readonly spec: DaemonSpec,
    private readonly policy: RespawnPolicy,
    private readonly options: SupervisorOptions,
  ) {}

  view(): DaemonView {
    return { name: this.spec.name, pid: this.pid, respawn: this.respawn };
  }

  serialise<T>(operation: () => Promise<T>): Promise<T> {
    return this.queue.run(operation);
  }

  /** Boot-time spawn (spec: every daemon with pid 0, respawn true, mode enabled). */
  boot(): void {
    if (this.pid === 0 && this.respawn && this.child === undefined) this.spawnNow();
  }

  /** `start`: respawn on; spawn at once unless running (an operator does not wait for a backoff). */
  start(): void {
    this.respawn = true;
    if (this.child !== undefined) return;
    this.pid = 0;
    this.quickExits = 0;
    this.spawnNow();
  }

  /** `stop`: respawn off, SIGTERM, SIGKILL after the grace; resolves once it exited (pid -1). */
  async stop(): Promise<void> {
    this.respawn = false;
    this.clearTimer();
    const child = this.child;
    if (child === undefined) return;
    const exited = this.exited;
    this.signal(child, 'SIGTERM');
    let killer: ReturnType<typeof setTimeout> | undefined;
    const forced = new Promise<void>((resolve) => {
      killer = setTimeout(() => {
        if (this.child === child) {
          this.options.log.warn(`daemon ${this.spec.name}: no exit ${this.policy.stopGraceMs} ms after SIGTERM, sending SIGKILL`);
          this.signal(child, 'SIGKILL');
        }
        resolve();
      }, this.policy.stopGraceMs);
    });
    await Promise.race([exited, forced]);
    await exited;
    clearTimeout(killer);
  }

  private spawnNow(): void {
    this.clearTimer();
    const { spec } = this;
    const log = this.options.log;
    if (spec.enabled === false) return;
    const missing = (spec.requires ?? []).filter((path) => !existsSync(path));
    if (missing.length > 0) {
      log.warn(`daemon ${spec.name}: ${missing.join(', ')} missing; not starting it`);
      this.respawn = false;
      this.pid = 0;
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...(spec.args ?? [])], {
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      this.startedAt = Date.now();
      this.onExit(undefined, null, null, error as Error);
      return;
    }
    let settled = false;
    let markExited: () => void = () => undefined;
    this.exited = new Promise<void>((resolve) => (markExited = resolve));
    const finish = (code: number | null, signal: string | null, error?: Error): void => {
      if (settled) return;
      settled = true;
      this.onExit(child, code, signal, error);
      markExited();
    };
    // A failed exec (ENOENT, EACCES) comes as 'error' without any 'exit'; on a running
    // child 'error' only means a signal could not be sent, which is no exit.
    child.on('error', (error) => {
      if (child.pid === undefined) finish(null, null, error);
      else log.warn(`daemon ${spec.name}: ${error.message}`);
    });
    child.once('exit', (code, signal) => finish(code, signal));
    this.child = child;
    this.startedAt = Date.now();
    if (child.pid === undefined) return;
    this.pid = child.pid;
    this.options.registry?.started(spec.name, child.pid);
    this.forward(child.stdout, 'out');
    this.forward(child.stderr, 'err');
    log.info(`daemon ${spec.name}: started (pid ${child.pid})`);
    this.options.onEvent?.({ type: 'spawn', name: spec.name, pid: child.pid });
  }

  private onExit(child: ChildProcess | undefined, code: number | null, signal: string | null, error?: Error): void {
    const { spec } = this;
    const pid = child?.pid ?? 0;
    if (child !== undefined && this.child !== child) return;
    this.child = undefined;
    if (pid > 0) this.options.registry?.ended(spec.name, pid);
    const how = error !== undefined ? `failed: ${error.message}` : signal !== null ? `killed by ${signal}` : `exited with ${code}`;
    let respawnInMs: number | undefined;
    if (this.respawn) {
      this.pid = 0;
      if (Date.now() - this.startedAt >= this.policy.stableAfterMs) this.quickExits = 0;
      respawnInMs = this.quickExits === 0 ? 0 : Math.min(this.policy.firstDelayMs * 2 ** (this.quickExits - 1), this.policy.maxDelayMs);
      this.quickExits++;
      this.options.log.warn(`daemon ${spec.name} (pid ${pid}) ${how}; respawning${respawnInMs > 0 ? ` in ${respawnInMs} ms` : ''}`);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.respawn && this.child === undefined) this.spawnNow();
      }, respawnInMs);
    } else {
      this.pid = -1;
      this.options.log.info(`daemon ${spec.name} (pid ${pid}) ${how}; respawn off`);
    }
    this.options.onEvent?.({ type: 'exit', name: spec.name, pid, code, signal, respawnInMs });
  }

  private signal(child: ChildProcess, signal: NodeJS.Signals): void {
    // The helper leads its own group (detached): reach whatever it forked as well.
    if (child.pid !== undefined) signalProcessGroup(child.pid, signal);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private forward(stream: NodeJS.ReadableStream | null, channel: 'out' | 'err'): void {
    if (stream === null) return;
    const tag = `${this.spec.name}-${channel}`;
    let pending = '';
    const emit = (line: string): void => this.writeLine(tag, line);
    stream.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString();
      let cut: number;
      while ((cut = pending.indexOf('\n')) >= 0) {
        emit(pending.slice(0, cut));
        pending = pending.slice(cut + 1);
      }
      if (pending.length > MAX_LINE) {
        emit(pending);
        pending = '';
      }
    });
    stream.on('end', () => {
      if (pending.length > 0) emit(pending);
      pending = '';
    });
    // A broken pipe on our side must not surface as an unhandled error.
    stream.on('error', () => undefined);
  }

  private writeLine(tag: string, line: string): void {
    const output = this.spec.output ?? { kind: 'log' };
    if (output.kind === 'log') {
      this.options.log.info(`${tag}: ${line}`);
      return;
    }
    try {
      const path = output.path();
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, `${new Date().toISOString()} [${tag}] ${line}\n`);
    } catch (error) {
      this.options.log.warn(`${tag}: ${line} (log file: ${(error as Error).message})`);
    }
  }
}

export class DaemonSupervisor {
  private readonly daemons = new Map<string, SupervisedDaemon>();
  private readonly policy: RespawnPolicy;

  constructor(private readonly options: SupervisorOptions) {
    this.policy = { ...DEFAULT_RESPAWN_POLICY, ...options.policy };
  }

  register(spec: DaemonSpec): void {
    if (this.daemons.has(spec.name)) throw new Error(`daemon ${spec.name} registered twice`);
    this.daemons.set(spec.name, new SupervisedDaemon(spec, this.policy, this.options));
  }

  /** Spawn every registered, enabled daemon; called once the socket they talk to is up. */
  startAll(): void {
    for (const daemon of this.daemons.values()) void daemon.serialise(async () => daemon.boot());
  }

  list(): DaemonView[] {
    return [...this.daemons.values()].map((daemon) => daemon.view());
  }

  has(name: string): boolean {
    return this.daemons.has(name);
  }

  async control(name: string, action: 'start' | 'stop' | 'restart'): Promise<void> {
    const daemon = this.daemons.get(name);
    if (daemon === undefined) throw notFound('Daemon not found');
    await daemon.serialise(async () => {
      if (action !== 'start') await daemon.stop();
      if (action !== 'stop') daemon.start();
    });
  }

  /** Daemon shutdown: every helper stopped (and reaped) with respawn off. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.daemons.values()].map((daemon) => daemon.serialise(() => daemon.stop())));
  }
}
