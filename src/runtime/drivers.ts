/**
 * Driver aliases of the running state's `bsp/drivers.json` (spec §7.10). Loading goes through a
 * module backend (libkmod in the native addon); without one, nothing can be loaded.
 */
import type { DriverManager } from '../api/services.ts';
import type { Logger } from '../log.ts';

export interface ModuleBackend {
  load(moduleSpec: string): Promise<void>;
  unload(moduleName: string): Promise<void>;
}

export class KernelDrivers implements DriverManager {
  private readonly loaded = new Set<string>();

  constructor(
    /** Module strings of an alias for this board, or undefined when the alias is not defined. */
    private readonly resolveAlias: (alias: string) => readonly string[] | undefined,
    private readonly backend: ModuleBackend | undefined,
    private readonly log: Logger,
  ) {}

  status(alias: string): 'LOADED' | 'UNLOADED' | 'UNKNOWN' {
    if (this.resolveAlias(alias) === undefined) return 'UNKNOWN';
    return this.loaded.has(alias) ? 'LOADED' : 'UNLOADED';
  }

  async apply(action: 'load' | 'unload', aliases: readonly string[]): Promise<boolean> {
    let allGood = true;
    for (const alias of aliases) {
      const modules = this.resolveAlias(alias);
      if (modules === undefined) continue;
      if (action === 'unload' && !this.loaded.has(alias)) continue;
      if (this.backend === undefined) {
        this.log.warn(`driver ${alias}: no kernel module backend on this build; cannot ${action}`);
        allGood = false;
        continue;
      }
      try {
        if (action === 'load') {
          for (const spec of modules) await this.backend.load(spec);
          this.loaded.add(alias);
        } else {
          for (const spec of [...modules].reverse()) await this.backend.unload(spec.split(/\s+/)[0] ?? spec);
          this.loaded.delete(alias);
        }
      } catch (error) {
        this.log.error(`driver ${alias}: ${action} failed: ${(error as Error).message}`);
        allGood = false;
      }
    }
    return allGood;
  }
}
