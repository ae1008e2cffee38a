/**
 * Configuration levels (spec §9.1). A value remembers the level that last wrote it; a later
 * write only lands if its level ranks at least as high, so the effective precedence is this
 * order no matter in which order the daemon happens to read its sources.
 */

/** Lowest to highest; the array index is the rank. */
export const CONFIG_LEVELS = [
  'DEFAULT',
  'ARGS',
  'PV_CONF',
  'PH_CONF',
  'PH_CLIENT',
  'POLICY',
  'OEM',
  'PV_CMDLINE',
  'PH_CMDLINE',
  'ENV',
  'META',
  'CMD',
] as const;

export type ConfigLevel = (typeof CONFIG_LEVELS)[number];

/**
 * The `modified` text of GET /config2. PH_CLIENT has no text in the reference, which prints
 * its fallback "unknown"; consumers may compare these strings, so they are kept verbatim.
 */
export const LEVEL_TEXT: Readonly<Record<ConfigLevel, string>> = {
  DEFAULT: 'default',
  ARGS: 'args',
  PV_CONF: 'pv conf file',
  PH_CONF: 'ph conf file',
  PH_CLIENT: 'unknown',
  POLICY: 'policy',
  OEM: 'oem config',
  PV_CMDLINE: 'pv cmdline',
  PH_CMDLINE: 'ph cmdline',
  ENV: 'env',
  META: 'metadata',
  CMD: 'command',
};

const RANK: ReadonlyMap<ConfigLevel, number> = new Map(CONFIG_LEVELS.map((level, index) => [level, index]));

export function levelRank(level: ConfigLevel): number {
  // Every ConfigLevel is in the map; the fallback only satisfies the type checker.
  return RANK.get(level) ?? 0;
}

export function isConfigLevel(value: string): value is ConfigLevel {
  return RANK.has(value as ConfigLevel);
}

/**
 * Allowed-level shorthands of the key table (§9.1). Each key's allowed set is a union of them;
 * ARGS and PH_CLIENT belong to none because the reference assigns those directly, bypassing
 * the check — here that is `PvConfig.force`.
 */
export const LEVEL_GROUPS = {
  PV: ['PV_CONF', 'POLICY', 'PV_CMDLINE', 'ENV'],
  PH: ['PH_CONF', 'POLICY', 'PH_CMDLINE', 'ENV'],
  OEM: ['OEM'],
  RUN: ['META', 'CMD'],
} as const satisfies Record<string, readonly ConfigLevel[]>;

export type LevelGroup = keyof typeof LEVEL_GROUPS;
