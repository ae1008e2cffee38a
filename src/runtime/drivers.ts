/**
 * Driver aliases of the running state's `bsp/drivers.json` (spec §7.10). Loading goes through a
 * module backend (libkmod in the native addon, src/runtime/kmod-backend.ts); without one,
 * nothing can be loaded.
 */
import type { Logger } from '../log.ts';
import { NO_EVENTS, type EventPublisher } from '../events/index.ts';
import { SerialQueue } from '../util/keyed-lock.ts';

export interface ModuleBackend {
  /** `modprobe <module string>`: the first word names the module, the rest are its options. */
  load(moduleSpec: string): Promise<void>;
  /** `modprobe -r <name>`. */
  unload(moduleName: string): Promise<void>;
}

export type UserMetaLookup = (key: string) => string | undefined;

const PLACEHOLDER = /\$\{user-meta:([^}]*)\}/g;

/**
 * `${user-meta:KEY}` → the user-meta value, or nothing when the key is unset (REF's
 * `_sub_meta_values`, so an unset options key simply drops the options). undefined when the
 * string has a `$` that starts no such placeholder: REF refuses those module strings as illegal.
 */
export function substituteUserMeta(moduleSpec: string, lookup: UserMetaLookup): string | undefined {
  if (moduleSpec.replace(PLACEHOLDER, '').includes('$')) return undefined;
  return moduleSpec.replace(PLACEHOLDER, (_match, key: string) => lookup(key) ?? '');
}

/** The module name `modprobe -r` gets: the first word of the (substituted) module string. */
export function moduleNameOf(moduleSpec: string): string {
  return moduleSpec.trim().split(/\s+/)[0] ?? '';
}

export class KernelDrivers {
  private readonly loaded = new Set<string>();
  /** REF runs modprobe synchronously, one request at a time; keep requests from interleaving. */
  private readonly queue = new SerialQueue();

  constructor(
    /** Module strings of an alias for this board, or undefined when the alias is not defined. */
    private readonly resolveAlias: (alias: string) => readonly string[] | undefined,
    private readonly backend: ModuleBackend | undefined,
    private readonly log: Logger,
    private readonly userMeta: UserMetaLookup = () => undefined,
    private readonly events: EventPublisher = NO_EVENTS,
  ) {}

  status(alias: string): 'LOADED' | 'UNLOADED' | 'UNKNOWN' {
    if (this.resolveAlias(alias) === undefined) return 'UNKNOWN';
    return this.loaded.has(alias) ? 'LOADED' : 'UNLOADED';
  }

  /** Aliases not defined for this board are skipped (nothing to do is success). */
  apply(action: 'load' | 'unload', aliases: readonly string[]): Promise<boolean> {
    return this.queue.run(() => this.applyNow(action, aliases));
  }

  private async applyNow(action: 'load' | 'unload', aliases: readonly string[]): Promise<boolean> {
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
      const ok = action === 'load' ? await this.loadAlias(alias, modules, this.backend) : await this.unloadAlias(alias, modules, this.backend);
      // Like REF, the alias changes state only when every module went through.
      if (ok && action === 'load') this.loaded.add(alias);
      if (ok && action === 'unload') this.loaded.delete(alias);
      if (ok) this.log.info(`driver ${alias}: ${action === 'load' ? 'loaded' : 'unloaded'} (${modules.length} module${modules.length === 1 ? '' : 's'})`);
      this.events.publish({ driver: { alias, action: action === 'load' ? 'loaded' : 'unloaded', ok } });
      allGood &&= ok;
    }
    return allGood;
  }

  /** Every module in list order; REF goes on after a failure, so the others still get their chance. */
  private async loadAlias(alias: string, modules: readonly string[], backend: ModuleBackend): Promise<boolean> {
    let failures = 0;
    for (const written of modules) {
      const spec = this.substitute(alias, written);
      if (spec === undefined) {
        failures++;
        continue;
      }
      try {
        await backend.load(spec);
        this.log.debug(`driver ${alias}: loaded "${spec}"`);
      } catch (error) {
        failures++;
        this.log.error(`driver ${alias}: cannot load "${spec}": ${(error as Error).message}`);
      }
    }
    return failures === 0;
  }

  /** Reverse list order (REF since 029), each by the first word of its module string. */
  private async unloadAlias(alias: string, modules: readonly string[], backend: ModuleBackend): Promise<boolean> {
    let failures = 0;
    for (const written of [...modules].reverse()) {
      const spec = this.substitute(alias, written);
      const name = spec === undefined ? '' : moduleNameOf(spec);
      if (name === '') {
        failures++;
        continue;
      }
      try {
        await backend.unload(name);
        this.log.debug(`driver ${alias}: unloaded "${name}"`);
      } catch (error) {
        failures++;
        this.log.warn(`driver ${alias}: cannot unload "${name}": ${(error as Error).message}`);
      }
    }
    return failures === 0;
  }

  private substitute(alias: string, written: string): string | undefined {
    const spec = substituteUserMeta(written, this.userMeta);
    if (spec === undefined || moduleNameOf(spec) === '') {
      this.log.warn(`driver ${alias}: illegal module value "${written}"`);
      return undefined;
    }
    return spec;
  }
}
