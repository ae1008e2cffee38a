/**
 * Typed model of one revision's state JSON (`pantavisor-service-system@1`, spec §6).
 *
 * The model is shared by `PUT /steps/locals/{name}` validation and by the container
 * runtime, so it keeps both the interpreted fields and the raw documents: the runtime
 * writes inline JSON documents back to the trail verbatim.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export const SYSTEM1_SPEC = 'pantavisor-service-system@1';
export const MULTI1_SPEC = 'pantavisor-multi-platform@1';

export type InitMode = 'embedded' | 'standalone' | 'appengine';
export type SecureBootMode = 'disabled' | 'audit' | 'lenient' | 'strict';
export type StatusGoal = 'MOUNTED' | 'STARTED' | 'READY';
export type RestartPolicy = 'system' | 'container';
export type RecoveryPolicy = 'no' | 'always' | 'on-failure' | 'unless-stopped';
export type Persistence = 'permanent' | 'revision' | 'boot';
export type ServiceType = 'rest' | 'dbus' | 'unix' | 'drm' | 'wayland' | 'input' | 'unknown';

/** What to do once the retries of an auto-recovering container are exhausted. */
export type BackoffPolicy =
  | { kind: 'reboot' }
  | { kind: 'never' }
  | { kind: 'delay'; seconds: number };

export interface AutoRecovery {
  policy: RecoveryPolicy;
  maxRetries: number;
  /** Seconds before the first retry. */
  retryDelay: number;
  backoffFactor: number;
  /** Seconds of uptime after which the retry counter resets; 0 = never. */
  resetWindow: number;
  /** Seconds of uptime after which the container counts as stable. */
  stableTimeout: number;
  backoffPolicy: BackoffPolicy;
}

/**
 * One entry of a groups list exactly as it appears in `groups.json`, `device.json`'s
 * `groups` or the shipped defaults file; it goes through the same validation as state
 * content so a broken defaults table is reported, not trusted.
 */
export interface GroupSpec {
  name: string;
  status_goal?: string;
  restart_policy?: string;
  timeout?: number;
  auto_recovery?: JsonObject;
  description?: string;
}

export interface Group {
  name: string;
  statusGoal: StatusGoal;
  restartPolicy: RestartPolicy;
  /** Seconds the group may take to reach its goal. */
  timeout: number;
  autoRecovery: AutoRecovery | null;
  description?: string;
}

export interface StorageEntry {
  persistence: Persistence;
  disk?: string;
}

export interface NetworkConfig {
  mode?: 'host' | 'pool';
  pool?: string;
  hostname?: string;
  ip?: string;
  mac?: string;
  raw: JsonObject;
}

export interface ServiceRequirement {
  name: string;
  type?: string;
  role?: string;
  interface?: string;
  target?: string;
  raw: JsonObject;
}

/**
 * One element of `<dir>/services.json`. The hosted-bus form (`bus`, `owns`, `allow`)
 * has no socket and usually no name; both are declared optional on it so graph code
 * can read `name`/`socket` without narrowing first.
 */
export type ServiceExport =
  | { kind: 'service'; name: string; type: ServiceType; socket?: string; raw: JsonObject }
  | {
      kind: 'bus';
      name?: string;
      type: ServiceType;
      socket?: undefined;
      bus: string;
      owns?: string;
      role?: string;
      allow: string[];
      raw: JsonObject;
    };

export interface Roles {
  mgmt: boolean;
  /** Whether run.json had a `roles` key at all (absent ⇒ mgmt, spec §4.2). */
  declared: boolean;
  /** The string elements of `roles` as written (may include `nobody` or unknown roles). */
  list: string[];
}

export interface PlatformDrivers {
  required: string[];
  optional: string[];
  manual: string[];
}

export interface Platform {
  name: string;
  /** Top-level state directory holding the run.json (`<dir>/run.json`). */
  dir: string;
  /** Runtime plugin; `lxc` (the only one) when run.json leaves it out. */
  type: string;
  config?: string;
  share?: string;
  rootVolume?: string;
  volumes: string[];
  storage: Record<string, StorageEntry>;
  group: string;
  /** How the group was chosen; implicit assignment follows spec §6.2. */
  groupSource: 'group' | 'runlevel' | 'implicit';
  statusGoal: StatusGoal;
  restartPolicy: RestartPolicy;
  roles: Roles;
  /** The platform's own policy only; see `effectiveAutoRecovery` for the group fallback. */
  autoRecovery: AutoRecovery | null;
  network?: NetworkConfig;
  drivers: PlatformDrivers;
  services: { required: ServiceRequirement[]; optional: ServiceRequirement[] };
  /** Exports declared in `<dir>/services.json`. */
  exports: ServiceExport[];
  /** run.json `exports` key present: the container exports rootfs directories. */
  rootfsExports: boolean;
  logs: JsonObject[];
  devLog?: boolean;
  automodfw: boolean;
  raw: JsonObject;
}

export interface BspRun {
  linux?: string;
  initrd?: string;
  fdt?: string;
  fit?: string;
  rpiab?: string;
  firmware?: string;
  modules?: string;
  initrdConfig?: string;
  addons: string[];
  raw: JsonObject;
}

export interface DriverAliases {
  spec?: string;
  /** Effective alias table: the `all` section overlaid by the `fitconfig:<name>` section. */
  aliases: Map<string, string[]>;
  /** Every section as written, keyed by section name (`all`, `fitconfig:x`, …). */
  sections: Map<string, Map<string, string[]>>;
}

export interface DiskSpec {
  name: string;
  type: string;
  raw: JsonObject;
}

export interface SignatureSummary {
  key: string;
  alg: string;
  include: string[];
  exclude: string[];
  /** Leaf certificate subject when the signature carried an x5c chain. */
  subject?: string;
  /** Whether the x5c chain was checked against configured trust anchors. */
  chainVerified: boolean;
}

export interface State {
  spec: typeof SYSTEM1_SPEC;
  /** The parsed document. Prefer `entries` when order matters. */
  json: JsonObject;
  /** Top-level keys in document order. */
  entries: Array<[string, JsonValue]>;
  /** Declaration order, which is also start order. */
  groups: Group[];
  /** Order of the `<dir>/run.json` keys in the document. */
  platforms: Platform[];
  usingDefaultGroups: boolean;
  bsp: { runJson?: BspRun; drivers?: DriverAliases };
  disks: DiskSpec[];
  /** Every key whose value is a sha256 (artifacts, config overlays). */
  objects: Map<string, string>;
  /** Inline JSON documents the runtime writes into the trail. */
  inlineJson: Map<string, JsonValue>;
  signatures: SignatureSummary[];
}

export interface TrustOptions {
  /**
   * PEM bundles of trust anchors for x5c chains. When undefined, chains are not checked
   * (the signature is still verified with the leaf key); when provided, every x5c chain
   * must lead to one of them.
   */
  trustedCertificates?: readonly string[];
  /** PEM public keys used for signatures that carry no x5c header. */
  publicKeys?: readonly string[];
  /** Clock for certificate validity checks; defaults to the current time. */
  now?: Date;
}

export interface ParseOptions extends TrustOptions {
  initMode: InitMode;
  /** PV_UPDATER_GOALS_TIMEOUT: group timeout when an entry has none. */
  goalsTimeout: number;
  /** PV_BOOTLOADER_TYPE (`uboot`, `rpiab`, …). */
  bootloaderType?: string;
  /** PV_BOOTLOADER_FITCONFIG. */
  fitConfig?: string | null;
  secureBootMode: SecureBootMode;
  /** Replaces the built-in copy of `defaults/groups.json`. */
  defaultGroups?: readonly GroupSpec[];
}

export type ParseResult =
  | { ok: true; state: State }
  | { ok: false; message: string; reason: string };
