/**
 * Pantavisor's layered configuration (spec §9, §10.4): one value per key of the §9.4 table,
 * each tagged with the level that set it. Pure: every source arrives as text or a record, so
 * the daemon decides which files to read and tests need no file system.
 */
import { KEY_TABLE, lookupKey, type ConfigKey, type KeyDef } from './keys.ts';
import { LEVEL_TEXT, levelRank, type ConfigLevel } from './levels.ts';
import { cmdlinePairs, envPairs, isSysctlName, parseConfigText, type ConfigPair } from './sources.ts';
import { enumName, formatValue, isEnum, parseValue, truncateUtf8, type StoredValue } from './values.ts';

export type ConfigValue = string | number | boolean | null;
export type ConfigLogger = (message: string) => void;

/** Raised for misuse by the daemon itself (unknown key in a getter, bad forced value). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** `pantavisor.config` (PV_CONF). */
  configFileText?: string;
  /** `pantahub.config` or `unclaimed.config` (PH_CONF). */
  phConfigText?: string;
  /** Process environment; only PV_… and PH_… names are looked at (ENV). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Text of /proc/cmdline (PV_CMDLINE / PH_CMDLINE). */
  cmdline?: string;
  /**
   * Returns the text of `<PV_SYSTEM_ETCPANTAVISORDIR>/policies/<name>.config`, or undefined if
   * there is none. Injected so this module stays free of file-system access.
   */
  readPolicy?: (name: string, config: PvConfig) => string | undefined;
  /** Receives warnings (refused writes, bad values, unknown keys). Defaults to discarding them. */
  logger?: ConfigLogger;
}

export interface SysctlSetting {
  /** The name as written (`PV_SYSCTL_KERNEL_CORE_PATTERN`, `sysctl.kernel.core_pattern`). */
  readonly name: string;
  readonly value: string;
  readonly level: ConfigLevel;
}

interface Entry {
  value: StoredValue;
  level: ConfigLevel;
  /** Set by force(): outranks every boot-time source, but not runtime (META/CMD) writes. */
  forced: boolean;
}

/**
 * Rank of a forced value: above ENV (so no file, cmdline or environment can undo a daemon
 * flag) and below META (so an operator's user-meta override still works, as it does over
 * the reference's ARGS-level values).
 */
const FORCED_RANK = levelRank('ENV') + 0.5;
const META_RANK = levelRank('META');

function effectiveRank(entry: Entry): number {
  return entry.forced ? Math.max(FORCED_RANK, levelRank(entry.level)) : levelRank(entry.level);
}

/** /config2 prints each value through a 256-byte buffer. */
const CONFIG2_VALUE_MAX_BYTES = 255;

const SYSCTL_ALLOWED: ReadonlySet<ConfigLevel> = new Set(['PV_CONF', 'POLICY', 'PV_CMDLINE', 'ENV', 'OEM']);
const DEFAULT_SYSCTLS: readonly SysctlSetting[] = [
  { name: 'PV_SYSCTL_KERNEL_CORE_PATTERN', value: '|/lib/pv/pvcrash --skip', level: 'DEFAULT' },
];

export class PvConfig {
  private readonly entries = new Map<ConfigKey, Entry>();
  /**
   * Value and level in effect before the first user-meta override of a key (§9.1 last
   * paragraph). Boot-time writes that arrive while the override is active land here, so
   * a later revert restores what those sources now say rather than a stale value.
   */
  private readonly beforeMeta = new Map<ConfigKey, Entry>();
  /** Active user-meta overrides per key: meta key → raw value, oldest first. */
  private readonly metaOverrides = new Map<ConfigKey, Map<string, string>>();
  private readonly sysctls = new Map<string, SysctlSetting>();
  private readonly log: ConfigLogger;

  constructor(logger?: ConfigLogger) {
    this.log = logger ?? ((): void => {});
    for (const def of KEY_TABLE) this.entries.set(def.key, { value: def.defaultValue, level: 'DEFAULT', forced: false });
    for (const setting of DEFAULT_SYSCTLS) this.sysctls.set(setting.name.toLowerCase(), setting);
  }

  /**
   * Build the boot configuration. The level rule makes the result independent of the order
   * in which sources are applied; the policy file is read after the cmdline and environment
   * so that `readPolicy` sees their PV_SYSTEM_ETCPANTAVISORDIR.
   */
  static load(sources: ConfigSources = {}): PvConfig {
    const config = new PvConfig(sources.logger);
    const confPairs = sources.configFileText === undefined ? [] : config.pairsFromText(sources.configFileText, 'pantavisor.config');
    const cmdline = cmdlinePairs(sources.cmdline ?? '');
    const env = envPairs(sources.env ?? {});

    config.applyPairs(confPairs, 'PV_CONF');
    config.applyCmdlinePairs(cmdline.filter((pair) => pair.level === 'PV_CMDLINE'));
    config.applyPairs(env, 'ENV');
    if (sources.readPolicy !== undefined) {
      const name = config.policyName(confPairs, cmdline, env);
      if (name !== undefined) {
        const text = sources.readPolicy(name, config);
        if (text !== undefined) config.applyPairs(config.pairsFromText(text, `policy ${name}`), 'POLICY');
      }
    }
    if (sources.phConfigText !== undefined) config.applyText(sources.phConfigText, 'PH_CONF');
    config.applyCmdlinePairs(cmdline.filter((pair) => pair.level === 'PH_CMDLINE'));
    return config;
  }

  /** Apply a KEY=value file at `level` (e.g. the OEM file when a revision starts). Returns how many writes landed. */
  applyText(text: string, level: ConfigLevel): number {
    return this.applyPairs(this.pairsFromText(text, LEVEL_TEXT[level]), level);
  }

  /** Apply /proc/cmdline text (pv_* at PV_CMDLINE, ph_* at PH_CMDLINE). Returns how many writes landed. */
  applyCmdline(cmdline: string): number {
    return this.applyCmdlinePairs(cmdlinePairs(cmdline));
  }

  /** Apply PV_… and PH_… environment variables at ENV. Returns how many writes landed. */
  applyEnv(env: Readonly<Record<string, string | undefined>>): number {
    return this.applyPairs(envPairs(env), 'ENV');
  }

  /**
   * Write `rawValue` to `name` (canonical key or legacy alias, any case) at `level`.
   * Returns true if the value now is (or, under an active user-meta override, will be
   * restored as) the configuration. Refused writes — unknown key, level not allowed for the
   * key, unparsable value — are reported through the logger; a write losing to a higher level
   * is expected and silent.
   */
  set(name: string, rawValue: string, level: ConfigLevel): boolean {
    if (isSysctlName(name) && lookupKey(name) === undefined) return this.setSysctl(name, rawValue, level);
    const def = this.resolve(name, level);
    if (def === undefined) return false;
    if (!def.allowed.has(level)) {
      this.log(`config: ${def.key} cannot be set at level ${LEVEL_TEXT[level]}, ignored`);
      return false;
    }
    const value = this.parse(def, rawValue);
    if (value === undefined) return false;
    return this.write(def.key, { value, level, forced: false }, levelRank(level));
  }

  /**
   * Set a value from the daemon's own command-line flags (level ARGS) or the Hub client
   * (PH_CLIENT): no allowed-level check, and it outranks every boot-time source whatever the
   * loading order, so `--storage` wins over pantavisor.config, the environment and the
   * cmdline. User meta (META) can still override it and reverting restores it.
   * Throws ConfigError for an unknown key or an unparsable value: a bad flag must not be lost.
   */
  force(name: string, rawValue: string, level: ConfigLevel = 'ARGS'): void {
    const lookup = lookupKey(name);
    if (lookup === undefined) throw new ConfigError(`unknown config key '${name}'`);
    const parsed = parseValue(lookup.def.kind, rawValue);
    if (!parsed.ok) throw new ConfigError(`${lookup.def.key}: ${parsed.error}`);
    const entry: Entry = { value: parsed.value, level, forced: true };
    const saved = this.beforeMeta.get(lookup.def.key);
    // Under an active user-meta override the forced value becomes what a revert restores.
    if (saved !== undefined) this.beforeMeta.set(lookup.def.key, entry);
    else this.entries.set(lookup.def.key, entry);
  }

  /**
   * Offer a user-meta key/value to the configuration at level META (§10.4). Meta keys that
   * name no config key are ordinary metadata: false, no warning. Returns true if it took effect.
   */
  applyUserMeta(metaKey: string, rawValue: string): boolean {
    const lookup = lookupKey(metaKey);
    if (lookup === undefined) return false;
    const def = this.resolve(metaKey, 'META');
    if (def === undefined) return false;
    if (!def.allowed.has('META')) {
      this.log(`config: ${def.key} cannot be set from user meta '${metaKey}', ignored`);
      return false;
    }
    const value = this.parse(def, rawValue);
    if (value === undefined) return false;
    const current = this.entry(def.key);
    if (effectiveRank(current) > META_RANK) return false;
    if (!this.beforeMeta.has(def.key)) this.beforeMeta.set(def.key, { ...current });
    const overrides = this.metaOverrides.get(def.key) ?? new Map<string, string>();
    // Re-insert so the most recently written meta key is last (it is what stays in effect).
    overrides.delete(metaKey);
    overrides.set(metaKey, rawValue);
    this.metaOverrides.set(def.key, overrides);
    this.entries.set(def.key, { value, level: 'META', forced: false });
    return true;
  }

  /**
   * The user-meta key was deleted. If it was overriding a config key, fall back to the
   * newest other meta key still overriding it, or else to the value and level in effect
   * before the first override. Returns true if the configuration changed.
   */
  revertUserMeta(metaKey: string): boolean {
    const lookup = lookupKey(metaKey);
    if (lookup === undefined) return false;
    const key = lookup.def.key;
    const overrides = this.metaOverrides.get(key);
    if (overrides === undefined || !overrides.delete(metaKey)) return false;
    const remaining = [...overrides.values()].pop();
    if (remaining !== undefined) {
      const parsed = parseValue(lookup.def.kind, remaining);
      // It parsed when it was applied; the check only satisfies the type checker.
      if (parsed.ok) this.entries.set(key, { value: parsed.value, level: 'META', forced: false });
      return true;
    }
    this.metaOverrides.delete(key);
    const saved = this.beforeMeta.get(key);
    this.beforeMeta.delete(key);
    if (saved !== undefined) this.entries.set(key, saved);
    return true;
  }

  /** Typed value: string|null, number (int, seconds, output mask), boolean, or the enum name. */
  get(name: string): ConfigValue {
    const def = this.defOf(name);
    const { value } = this.entry(def.key);
    if (isEnum(def.kind) && typeof value === 'number') return enumName(def.kind, value) ?? null;
    return value;
  }

  getString(name: string): string | null {
    const def = this.defOf(name);
    if (def.kind !== 'string') throw new ConfigError(`${def.key} is not a string key`);
    const { value } = this.entry(def.key);
    return typeof value === 'string' ? value : null;
  }

  /** Ints, durations (seconds) and the log output mask. */
  getInt(name: string): number {
    const def = this.defOf(name);
    const { value } = this.entry(def.key);
    if ((def.kind !== 'int' && def.kind !== 'duration' && def.kind !== 'log-outputs') || typeof value !== 'number') {
      throw new ConfigError(`${def.key} is not a numeric key`);
    }
    return value;
  }

  getBool(name: string): boolean {
    const def = this.defOf(name);
    const { value } = this.entry(def.key);
    if (def.kind !== 'bool' || typeof value !== 'boolean') throw new ConfigError(`${def.key} is not a boolean key`);
    return value;
  }

  /** Enum value by name (`appengine`, `locks`, …). */
  getEnum(name: string): string {
    const def = this.defOf(name);
    const { value } = this.entry(def.key);
    const text = isEnum(def.kind) && typeof value === 'number' ? enumName(def.kind, value) : undefined;
    if (text === undefined) throw new ConfigError(`${def.key} is not an enum key`);
    return text;
  }

  /** The level that set the current value. */
  levelOf(name: string): ConfigLevel {
    return this.entry(this.defOf(name).key).level;
  }

  /** Sysctl settings collected from PV/OEM sources, for the daemon to write to /proc/sys. */
  sysctlSettings(): SysctlSetting[] {
    return [...this.sysctls.values()];
  }

  /** Exact body of GET /config2. */
  config2Json(): string {
    const items = KEY_TABLE.map((def) => {
      const { value, level } = this.entry(def.key);
      const text = truncateUtf8(formatValue(def.kind, value), CONFIG2_VALUE_MAX_BYTES);
      return `{"key":${JSON.stringify(def.key)},"value":${JSON.stringify(text)},"modified":${JSON.stringify(LEVEL_TEXT[level])}}`;
    });
    return `[${items.join(',')}]`;
  }

  /** Exact body of GET /config: first legacy alias → typed value, keys without alias omitted. */
  configJson(): string {
    const items: string[] = [];
    for (const def of KEY_TABLE) {
      const alias = def.aliases[0];
      if (alias === undefined) continue;
      // Enums print their ordinal here, which is how they are stored.
      const { value } = this.entry(def.key);
      items.push(`${JSON.stringify(alias)}:${JSON.stringify(value)}`);
    }
    return `{${items.join(',')}}`;
  }

  private entry(key: ConfigKey): Entry {
    const entry = this.entries.get(key);
    // The constructor fills every key; reaching this means the table and the map diverged.
    if (entry === undefined) throw new ConfigError(`config entry ${key} missing`);
    return entry;
  }

  private defOf(name: string): KeyDef {
    const lookup = lookupKey(name);
    if (lookup === undefined) throw new ConfigError(`unknown config key '${name}'`);
    return lookup.def;
  }

  private resolve(name: string, level: ConfigLevel): KeyDef | undefined {
    const lookup = lookupKey(name);
    if (lookup === undefined) {
      this.log(`config: unknown key '${name}' (${LEVEL_TEXT[level]}), ignored`);
      return undefined;
    }
    if (lookup.viaAlias) this.log(`config: '${name}' is a legacy name, use ${lookup.def.key}`);
    return lookup.def;
  }

  private parse(def: KeyDef, rawValue: string): StoredValue | undefined {
    const parsed = parseValue(def.kind, rawValue);
    if (!parsed.ok) {
      this.log(`config: ${def.key}: ${def.secret ? 'invalid value' : parsed.error}, ignored`);
      return undefined;
    }
    for (const note of parsed.notes) this.log(`config: ${def.key}: ${note}`);
    return parsed.value;
  }

  /** Apply `next` if its rank is not below the current holder's; see beforeMeta for the META case. */
  private write(key: ConfigKey, next: Entry, rank: number): boolean {
    const saved = this.beforeMeta.get(key);
    if (saved !== undefined && rank < META_RANK) {
      if (rank < effectiveRank(saved)) return false;
      this.beforeMeta.set(key, next);
      return true;
    }
    if (rank < effectiveRank(this.entry(key))) return false;
    this.entries.set(key, next);
    return true;
  }

  private setSysctl(name: string, value: string, level: ConfigLevel): boolean {
    if (!SYSCTL_ALLOWED.has(level)) {
      this.log(`config: ${name} cannot be set at level ${LEVEL_TEXT[level]}, ignored`);
      return false;
    }
    const id = name.toLowerCase();
    const current = this.sysctls.get(id);
    if (current !== undefined && levelRank(level) < levelRank(current.level)) return false;
    this.sysctls.set(id, { name, value, level });
    return true;
  }

  private pairsFromText(text: string, origin: string): readonly ConfigPair[] {
    const parsed = parseConfigText(text);
    for (const problem of parsed.problems) this.log(`config: ${origin}: ${problem}, ignored`);
    return parsed.pairs;
  }

  private applyPairs(pairs: readonly ConfigPair[], level: ConfigLevel): number {
    let landed = 0;
    for (const pair of pairs) if (this.set(pair.name, pair.value, level)) landed++;
    return landed;
  }

  /**
   * A cmdline name is tried whole first (`pv_log_level` → PV_LOG_LEVEL), then without its
   * prefix (`pv_log.level` → log.level). Unknown pv_/ph_ tokens are skipped silently: the
   * bootloader puts its own state there (pv_rev, pv_try, …) on every boot.
   */
  private applyCmdlinePairs(pairs: ReturnType<typeof cmdlinePairs>): number {
    let landed = 0;
    for (const pair of pairs) {
      const name = [pair.name, pair.stripped].find((candidate) => lookupKey(candidate) !== undefined || isSysctlName(candidate));
      if (name !== undefined && this.set(name, pair.value, pair.level)) landed++;
    }
    return landed;
  }

  /**
   * The policy file is chosen before policies are read, from the cmdline, then the
   * environment, then pantavisor.config (§9.1) — first found wins. A name with '/' could
   * escape the policies directory and is refused.
   */
  private policyName(
    conf: readonly ConfigPair[],
    cmdline: ReturnType<typeof cmdlinePairs>,
    env: readonly ConfigPair[],
  ): string | undefined {
    const isPolicy = (name: string): boolean => lookupKey(name)?.def.key === 'PV_POLICY';
    const fromCmdline = cmdline.filter((pair) => pair.level === 'PV_CMDLINE' && (isPolicy(pair.name) || isPolicy(pair.stripped)));
    const candidates = [fromCmdline, env.filter((pair) => isPolicy(pair.name)), conf.filter((pair) => isPolicy(pair.name))];
    for (const list of candidates) {
      const last = list[list.length - 1];
      if (last === undefined || last.value === '') continue;
      if (last.value.includes('/')) {
        this.log(`config: policy name '${last.value}' contains '/', ignored`);
        return undefined;
      }
      return last.value;
    }
    return undefined;
  }
}
