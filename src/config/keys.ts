/**
 * The configuration key table of spec §9.4. Row order is the reference's table order, which is
 * the output order of GET /config and GET /config2 — do not sort or regroup the rows.
 */
import { LEVEL_GROUPS, type ConfigLevel, type LevelGroup } from './levels.ts';
import { parseValue, type StoredValue, type ValueKind } from './values.ts';

/** Allowed-level specs exactly as the table spells them. */
type LevelSpec = 'PV' | 'PV+OEM' | 'PV+OEM+RUN' | 'PH+OEM' | 'PH+OEM+RUN';

/**
 * One row: key, kind, default (as the text a config file would carry; null = unset string),
 * allowed levels, legacy aliases (the first one names the key in GET /config).
 */
type Row = readonly [key: string, kind: ValueKind, defaultText: string | null, levels: LevelSpec, aliases: readonly string[]];

// prettier-ignore
const ROWS = [
  ['PH_CREDS_HOST', 'string', 'api.pantahub.com', 'PH+OEM', ['creds.host']],
  ['PH_CREDS_ID', 'string', null, 'PH+OEM', ['creds.id']],
  ['PH_CREDS_PORT', 'int', '443', 'PH+OEM', ['creds.port']],
  ['PH_CREDS_PROXY_HOST', 'string', null, 'PH+OEM', ['creds.proxy.host']],
  ['PH_CREDS_PROXY_NOPROXYCONNECT', 'int', '0', 'PH+OEM', ['creds.proxy.noproxyconnect']],
  ['PH_CREDS_PROXY_PORT', 'int', '3218', 'PH+OEM', ['creds.proxy.port']],
  ['PH_CREDS_PRN', 'string', null, 'PH+OEM', ['creds.prn']],
  ['PH_CREDS_SECRET', 'string', null, 'PH+OEM', ['creds.secret']],
  ['PH_CREDS_TYPE', 'string', 'builtin', 'PH+OEM', ['creds.type']],
  ['PH_FACTORY_AUTOTOK', 'string', null, 'PH+OEM', ['factory.autotok']],
  ['PH_LIBEVENT_HTTP_TIMEOUT', 'int', '60', 'PH+OEM+RUN', []],
  ['PH_LIBEVENT_HTTP_RETRIES', 'int', '1', 'PH+OEM+RUN', []],
  ['PH_METADATA_DEVMETA_INTERVAL', 'int', '10', 'PH+OEM+RUN', ['metadata.devmeta.interval']],
  ['PH_METADATA_USRMETA_INTERVAL', 'int', '5', 'PH+OEM+RUN', ['metadata.usrmeta.interval']],
  ['PH_ONLINE_REQUEST_THRESHOLD', 'int', '0', 'PH+OEM+RUN', []],
  ['PH_UPDATER_INTERVAL', 'int', '5', 'PH+OEM+RUN', ['updater.interval']],
  ['PH_UPDATER_NETWORK_TIMEOUT', 'int', '120', 'PH+OEM+RUN', ['updater.network_timeout']],
  ['PH_UPDATER_TRANSFER_MAX_COUNT', 'int', '5', 'PH+OEM+RUN', []],
  ['PV_BOOTLOADER_FITCONFIG', 'string', null, 'PV', ['bootloader.fitconfig']],
  ['PV_BOOTLOADER_MTD_ENV', 'string', null, 'PV', ['bootloader.mtd_env']],
  ['PV_BOOTLOADER_MTD_ONLY', 'bool', '0', 'PV', ['bootloader.mtd_only']],
  ['PV_BOOTLOADER_TYPE', 'bootloader', 'uboot', 'PV', ['bootloader.type']],
  ['PV_BOOTLOADER_UBOOTAB_A_NAME', 'string', 'fitA', 'PV', []],
  ['PV_BOOTLOADER_UBOOTAB_B_NAME', 'string', 'fitB', 'PV', []],
  ['PV_BOOTLOADER_UBOOTAB_ENV_NAME', 'string', null, 'PV', []],
  ['PV_BOOTLOADER_UBOOTAB_ENV_BAK_NAME', 'string', null, 'PV', []],
  ['PV_BOOTLOADER_UBOOTAB_ENV_OFFSET', 'int', '0', 'PV', []],
  ['PV_BOOTLOADER_UBOOTAB_ENV_SIZE', 'int', '0', 'PV', []],
  ['PV_CACHE_DEVMETADIR', 'string', '/storage/cache/devmeta', 'PV', ['cache.devmetadir']],
  ['PV_CACHE_USRMETADIR', 'string', '/storage/cache/meta', 'PV', ['cache.usrmetadir', 'meta.cache.dir']],
  ['PV_CONTROL_REMOTE', 'bool', '1', 'PV+OEM', ['control.remote']],
  ['PV_CONTROL_REMOTE_ALWAYS', 'bool', '0', 'PV+OEM', ['control.remote.always']],
  ['PV_DEBUG_SHELL', 'bool', '1', 'PV', ['debug.shell']],
  ['PV_DEBUG_SHELL_AUTOLOGIN', 'bool', '0', 'PV', ['debug.shell.autologin']],
  ['PV_DEBUG_SHELL_TIMEOUT', 'int', '60', 'PV', []],
  ['PV_DEBUG_SSH', 'bool', '1', 'PV+OEM+RUN', ['debug.ssh']],
  ['PV_DEBUG_SSH_AUTHORIZED_KEYS', 'string', null, 'PV+OEM+RUN', ['debug.ssh_authorized_keys']],
  ['PV_DISK_EXPORTSDIR', 'string', '/exports', 'PV', ['disk.exportsdir']],
  ['PV_DISK_VOLDIR', 'string', '/volumes', 'PV', ['disk.voldir']],
  ['PV_DISK_WRITABLEDIR', 'string', '/writable', 'PV', ['disk.writabledir']],
  ['PV_DROPBEAR_CACHE_DIR', 'string', '/storage/cache/dropbear', 'PV', ['dropbear.cache.dir']],
  ['PV_LIBEVENT_DEBUG_MODE', 'bool', '0', 'PV+OEM', []],
  ['PV_LIBTHTTP_CERTSDIR', 'string', '/certs', 'PV', ['libthttp.certdir']],
  ['PV_LIBTHTTP_LOG_LEVEL', 'int', '3', 'PV+OEM+RUN', ['libthttp.log.level']],
  ['PV_LOG_AUTO_DEVLOG', 'bool', '1', 'PV+OEM', []],
  ['PV_LOG_CAPTURE', 'bool', '1', 'PV+OEM', ['log.capture']],
  ['PV_LOG_CAPTURE_DMESG', 'bool', '1', 'PV+OEM', ['log.capture.dmesg']],
  ['PV_LOG_BUF_NITEMS', 'int', '128', 'PV+OEM', ['log.buf_nitems']],
  ['PV_LOG_DIR', 'string', '/storage/logs/', 'PV', ['log.dir']],
  ['PV_LOG_DIR_MAXSIZE', 'string', '0', 'PV+OEM+RUN', []],
  ['PV_LOG_FILETREE_TIMESTAMP_FORMAT', 'string', null, 'PV+OEM+RUN', ['log.filetree.timestamp.format']],
  ['PV_LOG_HYSTERESIS_FACTOR', 'int', '4', 'PV+OEM+RUN', []],
  ['PV_LOG_LEVEL', 'int', '0', 'PV+OEM+RUN', ['log.level']],
  ['PV_LOG_LOGGERS', 'bool', '1', 'PV+OEM', ['log.loggers']],
  ['PV_LOG_PUSH', 'bool', '1', 'PV+OEM+RUN', ['log.push', 'pantahub.log.push']],
  ['PV_LOG_ROTATE_FACTOR', 'int', '5', 'PV+OEM+RUN', []],
  ['PV_LOG_SERVER_OUTPUTS', 'log-outputs', 'filetree', 'PV+OEM+RUN', ['log.server.outputs']],
  ['PV_LOG_SINGLEFILE_TIMESTAMP_FORMAT', 'string', null, 'PV+OEM+RUN', ['log.singlefile.timestamp.format']],
  ['PV_LOG_STDOUT_TIMESTAMP_FORMAT', 'string', null, 'PV+OEM+RUN', ['log.stdout.timestamp.format']],
  ['PV_LOG_TIMESTAMP', 'timer', 'relative', 'PV+OEM+RUN', []],
  ['PV_LOOP_INDEX_BASE', 'int', '-1', 'PV', []],
  ['PV_LXC_LOG_LEVEL', 'int', '2', 'PV+OEM', ['lxc.log.level']],
  ['PV_NET_BRADDRESS4', 'string', '10.0.3.1', 'PV+OEM', ['net.braddress4']],
  ['PV_NET_BRDEV', 'string', 'lxcbr0', 'PV+OEM', ['net.brdev']],
  ['PV_NET_BRMASK4', 'string', '255.255.255.0', 'PV+OEM', ['net.brmask4']],
  ['PV_OEM_NAME', 'string', null, 'PV', []],
  ['PV_POLICY', 'string', null, 'PV', ['policy']],
  ['PV_POWER_MODE', 'power-mode', 'locks', 'PV+OEM+RUN', ['power.mode']],
  ['PV_POWER_DEVMETA_EAGER_PUSH', 'bool', '0', 'PV+OEM+RUN', ['power.devmeta.eager_push']],
  ['PV_POWER_WAKE_INTERVAL', 'duration', '3600', 'PV+OEM+RUN', ['power.wake.interval']],
  // 0 = "no run window"; the default is installed directly because the parser refuses zero.
  ['PV_POWER_WAKE_RUN_WINDOW', 'duration', '0', 'PV+OEM+RUN', ['power.wake.run_window']],
  ['PV_POWER_AUTOSLEEP_SETTLE', 'duration', '90', 'PV+OEM+RUN', ['power.autosleep.settle']],
  ['PV_POWER_WAKE_MIN_AWAKE', 'duration', '10', 'PV+OEM+RUN', ['power.wake.min_awake']],
  ['PV_POWER_WAKE_MAX_AWAKE', 'duration', '60', 'PV+OEM+RUN', ['power.wake.max_awake']],
  ['PV_POWER_DEVMETA_MAX_HELD', 'duration', '300', 'PV+OEM+RUN', ['power.devmeta.max_held']],
  ['PV_POWER_SYSFS_DIR', 'string', '/sys/power', 'PV+OEM+RUN', ['power.sysfs_dir']],
  ['PV_REVISION_RETRIES', 'int', '10', 'PV+OEM+RUN', ['revision.retries']],
  ['PV_SECUREBOOT_CHECKSUM', 'bool', '1', 'PV', ['secureboot.checksum']],
  ['PV_SECUREBOOT_HANDLERS', 'bool', '1', 'PV', ['secureboot.handlers']],
  ['PV_SECUREBOOT_MODE', 'secureboot', 'lenient', 'PV', ['secureboot.mode']],
  // The reference's only alias for this key is this misspelt upper-case name; GET /config shows it.
  ['PV_SECUREBOOT_OEM_TRUSTSTORE', 'string', 'ca-oem-certificates', 'PV', ['PV_SECUREBOOT_OEM_TRUSTORE']],
  ['PV_SECUREBOOT_TRUSTSTORE', 'string', 'ca-certificates', 'PV', ['secureboot.truststore']],
  ['PV_STORAGE_DEVICE', 'string', null, 'PV', ['storage.device']],
  ['PV_STORAGE_FSTYPE', 'string', null, 'PV', ['storage.fstype']],
  ['PV_STORAGE_GC_KEEP_FACTORY', 'bool', '0', 'PV+OEM+RUN', ['storage.gc.keep_factory', 'updater.keep_factory']],
  ['PV_STORAGE_GC_RESERVED', 'int', '5', 'PV+OEM+RUN', ['storage.gc.reserved']],
  ['PV_STORAGE_GC_THRESHOLD_DEFERTIME', 'int', '600', 'PV+OEM+RUN', ['storage.gc.threshold.defertime']],
  ['PV_STORAGE_GC_THRESHOLD', 'int', '0', 'PV+OEM+RUN', ['storage.gc.threshold']],
  ['PV_STORAGE_LOGTEMPSIZE', 'string', null, 'PV', ['storage.logtempsize']],
  ['PV_STORAGE_MNTPOINT', 'string', null, 'PV', ['storage.mntpoint']],
  ['PV_STORAGE_MNTTYPE', 'string', null, 'PV', ['storage.mnttype']],
  ['PV_STORAGE_FIRMWARE_VOL', 'bool', '0', 'PV', []],
  ['PV_STORAGE_PHCONFIG_VOL', 'bool', '0', 'PV', []],
  ['PV_STORAGE_WAIT', 'int', '5', 'PV', ['storage.wait']],
  ['PV_SYSTEM_APPARMOR_PROFILES', 'string', null, 'PV', ['system.apparmor.profiles']],
  ['PV_SYSTEM_CONFDIR', 'string', '/configs', 'PV', ['system.confdir']],
  ['PV_SYSTEM_DRIVERS_LOAD_EARLY_AUTO', 'bool', '0', 'PV', ['system.drivers.load_early.auto']],
  ['PV_SYSTEM_ETCDIR', 'string', '/etc', 'PV', ['system.etcdir']],
  ['PV_SYSTEM_ETCPANTAVISORDIR', 'string', '/etc/pantavisor', 'PV', []],
  ['PV_SYSTEM_INIT_MODE', 'init-mode', 'embedded', 'PV', ['system.init.mode']],
  ['PV_SYSTEM_LIBDIR', 'string', '/lib', 'PV', ['system.libdir']],
  ['PV_SYSTEM_MEDIADIR', 'string', '/media', 'PV', ['system.mediadir']],
  ['PV_SYSTEM_MOUNT_SECURITYFS', 'bool', '0', 'PV', ['system.mount.securityfs']],
  ['PV_SYSTEM_RUNDIR', 'string', '/pv', 'PV', ['system.rundir']],
  ['PV_SYSTEM_DISKSDIR', 'string', '/run/pantavisor/disks', 'PV', ['system.disksdir']],
  ['PV_SYSTEM_USRDIR', 'string', '/usr', 'PV', ['system.usrdir']],
  ['PV_UPDATER_COMMIT_DELAY', 'int', '25', 'PV+OEM+RUN', ['updater.commit.delay']],
  // Not RUN-settable since 029: user meta for it was accepted but had no effect.
  ['PV_UPDATER_GOALS_TIMEOUT', 'int', '120', 'PV+OEM', ['updater.goals.timeout']],
  ['PV_UPDATER_USE_TMP_OBJECTS', 'bool', '0', 'PV+OEM+RUN', ['updater.use_tmp_objects']],
  ['PV_VOLMOUNT_DM_EXTRA_ARGS', 'string', null, 'PV+OEM', []],
  ['PV_WDT_MODE', 'wdt', 'shutdown', 'PV', ['wdt.mode']],
  ['PV_WDT_TIMEOUT', 'int', '15', 'PV', ['wdt.timeout']],
  ['PV_XCONNECT_DBUS_SYSTEMBUS_ENABLED', 'bool', '1', 'PV+OEM', ['xconnect.dbus.systembus.enabled']],
] as const satisfies readonly Row[];

/** Canonical key names, for callers that want a compile-time checked name. */
export type ConfigKey = (typeof ROWS)[number][0];

/** Keys returned in clear by /config and /config2 (as the reference does) but never logged. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['PH_CREDS_SECRET', 'PH_FACTORY_AUTOTOK']);

export interface KeyDef {
  readonly key: ConfigKey;
  readonly kind: ValueKind;
  readonly defaultValue: StoredValue;
  readonly allowed: ReadonlySet<ConfigLevel>;
  readonly aliases: readonly string[];
  readonly secret: boolean;
}

function allowedLevels(spec: LevelSpec): ReadonlySet<ConfigLevel> {
  const levels = new Set<ConfigLevel>();
  for (const group of spec.split('+') as LevelGroup[]) for (const level of LEVEL_GROUPS[group]) levels.add(level);
  return levels;
}

function defaultValue(key: string, kind: ValueKind, text: string | null): StoredValue {
  if (text === null) return null;
  // Zero durations are a legal default but not a legal input (see parseValue).
  if (kind === 'duration' && text === '0') return 0;
  const parsed = parseValue(kind, text);
  if (!parsed.ok) throw new Error(`config table: bad default for ${key}: ${parsed.error}`);
  return parsed.value;
}

export const KEY_TABLE: readonly KeyDef[] = ROWS.map(
  ([key, kind, text, levels, aliases]): KeyDef => ({
    key,
    kind,
    defaultValue: defaultValue(key, kind, text),
    allowed: allowedLevels(levels),
    aliases,
    secret: SECRET_KEYS.has(key),
  }),
);

const BY_NAME: ReadonlyMap<string, KeyDef> = (() => {
  const map = new Map<string, KeyDef>();
  for (const def of KEY_TABLE) {
    for (const name of [def.key, ...def.aliases]) {
      const folded = name.toLowerCase();
      // A clash would make lookups depend on row order; fail at start-up instead.
      if (map.has(folded)) throw new Error(`config table: duplicate name ${name}`);
      map.set(folded, def);
    }
  }
  return map;
})();

export interface KeyLookup {
  readonly def: KeyDef;
  /** True when `name` was a legacy alias rather than the canonical key. */
  readonly viaAlias: boolean;
}

/** Case-insensitive lookup of a canonical key or legacy alias. */
export function lookupKey(name: string): KeyLookup | undefined {
  const def = BY_NAME.get(name.toLowerCase());
  if (def === undefined) return undefined;
  return { def, viaAlias: def.key.toLowerCase() !== name.toLowerCase() };
}
