/**
 * Typed facade over the libkmod part of the pvctrl_native_lazy addon (native/src/kmod_drivers.cpp):
 * what `modprobe <module string>` and `modprobe -r <name>` do, in-process. See docs/drivers.md.
 *
 * Kept apart from ./index.ts like ./lxc.ts, so a build without these exports only fails for the
 * code that loads drivers. The lazy addon is loaded by the first call that reaches libkmod, not
 * by constructing a KmodContext (the daemon makes one before its first answer).
 */
import { release } from 'node:os';
import { join } from 'node:path';
import { concernExports } from './index.ts';

/** Overrides the module tree (default `/lib/modules/<uname -r>`); tests point it at a temp tree. */
export const MODULES_DIR_ENV = 'PVCTRL_MODULES_DIR';

export interface KmodOptions {
  /** Directory holding modules.dep.bin and friends; default from defaultModuleDir(). */
  moduleDir?: string;
  /**
   * modprobe.d-style files or directories (aliases, options, blacklist, install/remove, softdep).
   * Undefined: the system's (/etc/modprobe.d, /run/modprobe.d, /lib/modprobe.d, …), as modprobe.
   */
  configPaths?: readonly string[];
  /** Insert/remove modules even when modprobe.d has an install/remove command for them. */
  ignoreCommands?: boolean;
  /**
   * A modprobe.d install/remove command still running after this long is killed (with its
   * process group) and the call fails with ETIMEDOUT. Integer ms, 1 to 24 h; default 60 000.
   */
  commandTimeoutMs?: number;
}

export interface KmodDependency {
  name: string;
  path: string | null;
}

export interface KmodModuleInfo {
  name: string;
  /** Absolute path of the .ko; null for built-ins and names only modprobe.d knows. */
  path: string | null;
  /** Options from modprobe.d `options` lines. */
  options: string;
  installCommand: string | null;
  removeCommand: string | null;
  /** Kernel state from /sys/module: null when not loaded. */
  state: 'builtin' | 'live' | 'coming' | 'going' | null;
  /** Every module it needs, in insert order (modules.dep). */
  dependencies: KmodDependency[];
  softdeps: { pre: string[]; post: string[] };
}

export interface KmodResolution {
  query: string;
  /** Every match of the name or alias, in libkmod's lookup order. */
  modules: KmodModuleInfo[];
}

export type KmodAction = 'insert' | 'remove';

export interface KmodPlanStep {
  /**
   * insert / remove: init_module / delete_module; install-command / remove-command: the
   * modprobe.d command that replaces it (see `command`); blacklisted: an alias match skipped
   * because modprobe.d blacklists it (nothing happens, like modprobe).
   */
  action: 'insert' | 'install-command' | 'remove' | 'remove-command' | 'blacklisted';
  module: string;
  path: string | null;
  /** Options the module is inserted with: modprobe.d options, then the module string's. */
  options: string;
  /**
   * target: the module named (or matched by the alias); dependency: from modules.dep (on
   * removal: removed only when no longer used); softdep: a modprobe.d softdep.
   */
  role: 'target' | 'dependency' | 'softdep';
  command?: string;
}

/** What insert/remove/plan/resolve throw: `insert "foo": Function not implemented (ENOSYS)`. */
export interface KmodError extends Error {
  /** errno name, e.g. ENOSYS, EPERM, ENOENT. */
  code: string;
  /** Negative errno, like Node's fs errors. */
  errno: number;
  syscall: string;
  /** The module that failed (a dependency of the requested one, possibly). */
  module: string;
  /** The module string or name as given. */
  request: string;
  operation: 'insert' | 'remove' | 'plan' | 'resolve';
  /** libkmod's own error log lines for this call. */
  kmodLog: string[];
  /** Steps carried out (or planned) before the failure; the failing one is last. */
  steps: KmodPlanStep[];
}

interface NativeKmodOptions {
  moduleDir: string;
  configPaths?: string[];
  ignoreCommands?: boolean;
  commandTimeoutMs?: number;
}

interface KmodAddon {
  kmodResolve(options: NativeKmodOptions, name: string): KmodResolution;
  kmodPlan(options: NativeKmodOptions, moduleSpec: string, action: KmodAction): KmodPlanStep[];
  kmodInsert(options: NativeKmodOptions, moduleSpec: string): Promise<KmodPlanStep[]>;
  kmodRemove(options: NativeKmodOptions, name: string): Promise<KmodPlanStep[]>;
}

function kmodAddon(): KmodAddon {
  return concernExports<'kmod', KmodAddon>('kmod');
}

/** `$PVCTRL_MODULES_DIR`, else where modprobe looks: `/lib/modules/<uname -r>`. */
export function defaultModuleDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env[MODULES_DIR_ENV];
  return override !== undefined && override !== '' ? override : join('/lib/modules', release());
}

export function isKmodError(error: unknown): error is KmodError {
  return error instanceof Error && typeof (error as Partial<KmodError>).module === 'string' && typeof (error as Partial<KmodError>).code === 'string';
}

/**
 * One module tree and configuration. Holds no libkmod state: each call reads the indexes and
 * modprobe.d afresh (see the native file), so a tree updated on disk is seen at once.
 */
export class KmodContext {
  readonly moduleDir: string;
  private readonly native: NativeKmodOptions;

  constructor(options: KmodOptions = {}) {
    this.moduleDir = options.moduleDir ?? defaultModuleDir();
    this.native = {
      moduleDir: this.moduleDir,
      ...(options.configPaths !== undefined ? { configPaths: [...options.configPaths] } : {}),
      ...(options.ignoreCommands !== undefined ? { ignoreCommands: options.ignoreCommands } : {}),
      ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
    };
  }

  /** Look a module name or alias up (modprobe.d aliases, modules.dep, modules.alias wildcards, built-ins). */
  resolve(nameOrAlias: string): KmodResolution {
    return kmodAddon().kmodResolve(this.native, nameOrAlias);
  }

  /**
   * What insert()/remove() would do now, without touching the kernel. Insert plans are
   * libkmod's own dry run (dependencies and softdeps first, loaded modules skipped); remove
   * plans list the module and then every dependency, last-inserted first.
   */
  plan(moduleSpec: string, action: KmodAction): KmodPlanStep[] {
    return kmodAddon().kmodPlan(this.native, moduleSpec, action);
  }

  /** `modprobe <name> [options…]` on a thread of its own; resolves with the steps carried out. */
  insert(moduleSpec: string): Promise<KmodPlanStep[]> {
    return kmodAddon().kmodInsert(this.native, moduleSpec);
  }

  /** `modprobe -r <name>`: the module, then dependencies nothing uses any more. */
  remove(moduleName: string): Promise<KmodPlanStep[]> {
    return kmodAddon().kmodRemove(this.native, moduleName);
  }
}
