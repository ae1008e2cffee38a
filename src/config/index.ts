/**
 * Configuration module (spec §9, §10.4): the key table, levels, value rules and the PvConfig
 * store that renders GET /config and GET /config2. No HTTP or file-system types in here.
 */
export { PvConfig, ConfigError, type ConfigSources, type ConfigValue, type ConfigLogger, type SysctlSetting } from './pv-config.ts';
export { KEY_TABLE, lookupKey, type ConfigKey, type KeyDef } from './keys.ts';
export { CONFIG_LEVELS, LEVEL_TEXT, type ConfigLevel } from './levels.ts';
export { ENUMS, LOG_OUTPUT_BITS, LOG_OUTPUT_UPDATE_BIT, type EnumKind, type LogOutput, type ValueKind } from './values.ts';
export { sysctlPath } from './sources.ts';
