/**
 * The debug SSH server behind ENABLE_SSH / DISABLE_SSH (spec §8.3): Debian's dropbear, run in the
 * foreground as a child we supervise, with its host key kept in the storage (PV_DROPBEAR_CACHE_DIR
 * semantics) so clients see the same key across restarts. Only until the daemon restarts: the
 * config override lives at the metadata level.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { execChecked } from './exec.ts';
import type { HelperRegistry } from './helper-records.ts';

const SSH_HELPER_NAME = 'dropbear';

export interface SshOptions {
  keyDir: string;
  port: number;
  log: Logger;
  /** dropbear binary (Debian: dropbear-bin). */
  dropbear?: string;
  dropbearkey?: string;
  /** Where the running server is recorded, so a restarted pv-ctrl can end what a killed one left. */
  registry?: HelperRegistry;
}

export class SshServer {
  private child: ChildProcess | undefined;
  private wanted = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: SshOptions) {}

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  async start(): Promise<void> {
    this.wanted = true;
    if (this.running) return;
    const key = join(this.options.keyDir, 'dropbear_ed25519_host_key');
    mkdirSync(this.options.keyDir, { recursive: true, mode: 0o700 });
    if (!existsSync(key)) await execChecked(this.options.dropbearkey ?? 'dropbearkey', ['-t', 'ed25519', '-f', key], { timeoutMs: 30_000 });
    this.spawnServer(key);
  }

  private spawnServer(key: string): void {
    const child = spawn(this.options.dropbear ?? 'dropbear', ['-F', '-E', '-s', '-r', key, '-p', String(this.options.port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    if (child.pid !== undefined) this.options.registry?.started(SSH_HELPER_NAME, child.pid);
    child.stderr?.on('data', (chunk: Buffer) => this.options.log.debug(`dropbear: ${chunk.toString().trim()}`));
    child.once('error', (error) => this.options.log.error(`ssh server: ${error.message}`));
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) this.options.registry?.ended(SSH_HELPER_NAME, child.pid);
      if (this.child === child) this.child = undefined;
      if (!this.wanted) return;
      // Unexpected exit while enabled: try again, but never in a tight loop.
      this.options.log.warn(`ssh server exited (${signal ?? code}); restarting in 5 s`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.wanted && !this.running) this.spawnServer(key);
      }, 5000);
    });
    this.options.log.info(`ssh server listening on port ${this.options.port} (pid ${child.pid})`);
  }

  async stop(): Promise<void> {
    this.wanted = false;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.options.log.info('ssh server stopped');
  }
}
