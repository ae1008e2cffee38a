/**
 * The ModuleBackend that loads drivers in-process through libkmod (src/native/kmod.ts) instead of
 * REF's `/sbin/modprobe` child: same lookup, dependency order, modprobe.d handling and options,
 * but on a thread of its own, so a slow module init never blocks the API, modprobe.d commands
 * have a timeout, and the error carries the errno instead of an exit status.
 */
import type { Logger } from '../log.ts';
import { ADDON_FILES, findAddon } from '../native/index.ts';
import { KmodContext, defaultModuleDir, type KmodOptions, type KmodPlanStep } from '../native/kmod.ts';
import type { ModuleBackend } from './drivers.ts';

export class KmodModuleBackend implements ModuleBackend {
  constructor(
    readonly context: KmodContext,
    private readonly log?: Logger,
  ) {}

  async load(moduleSpec: string): Promise<void> {
    this.report('insert', moduleSpec, await this.context.insert(moduleSpec));
  }

  async unload(moduleName: string): Promise<void> {
    this.report('remove', moduleName, await this.context.remove(moduleName));
  }

  private report(action: string, request: string, steps: KmodPlanStep[]): void {
    if (this.log === undefined) return;
    // An empty plan is worth saying: already loaded, built in, or blacklisted.
    const done = steps.map((step) => `${step.action} ${step.module}${step.options.trim() !== '' ? ` ${step.options.trim()}` : ''}`);
    this.log.debug(`kmod ${action} "${request}": ${done.length > 0 ? done.join(', ') : 'nothing to do'}`);
  }
}

/**
 * The backend for the daemon, or undefined when there is no lazy addon to find (KernelDrivers
 * then reports every load as failed). Only looked for, not loaded: the daemon creates this before
 * its first answer, and libkmod loads with the lazy addon on the first driver operation (an addon
 * without the kmod exports fails that operation, naming them). The module tree is
 * `$PVCTRL_MODULES_DIR` from `env`, else `/lib/modules/<uname -r>`, unless options name one.
 */
export function createKmodBackend(
  log: Logger,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: KmodOptions = {},
): KmodModuleBackend | undefined {
  if (findAddon('lazy', env) === undefined) {
    log.warn(`native addon ${ADDON_FILES.lazy} not found: drivers cannot be loaded`);
    return undefined;
  }
  const context = new KmodContext({ moduleDir: defaultModuleDir(env), ...options });
  log.debug(`drivers: kernel modules from ${context.moduleDir}`);
  return new KmodModuleBackend(context, log);
}
