import { StateError, isObject, own } from './json.ts';
import { parseAutoRecovery, parseRestartPolicy, parseStatusGoal } from './groups.ts';
import type {
  JsonObject,
  JsonValue,
  NetworkConfig,
  Persistence,
  PlatformDrivers,
  RestartPolicy,
  Roles,
  ServiceExport,
  ServiceRequirement,
  ServiceType,
  StatusGoal,
  StorageEntry,
} from './types.ts';

/**
 * A run.json before group resolution: `group` / status / policy are still what the
 * document says, so the state parser can assign groups and inherit defaults afterwards.
 */
export interface PlatformDraft {
  name: string;
  dir: string;
  type: string;
  config?: string;
  share?: string;
  rootVolume?: string;
  volumes: string[];
  storage: Record<string, StorageEntry>;
  group?: string;
  runlevel?: string;
  statusGoal?: StatusGoal;
  restartPolicy?: RestartPolicy;
  roles: Roles;
  autoRecovery: ReturnType<typeof parseAutoRecovery>;
  network?: NetworkConfig;
  drivers: PlatformDrivers;
  services: { required: ServiceRequirement[]; optional: ServiceRequirement[] };
  rootfsExports: boolean;
  logs: JsonObject[];
  devLog?: boolean;
  automodfw: boolean;
  raw: JsonObject;
}

/**
 * Fields REF can only apply to an existing platform: without `name` each of their
 * actions fails and the whole state is rejected (spec §6.3). An array `roles` and
 * `logs` fail the same way in REF (the latter by crashing), so they count too.
 */
const NEEDS_NAME = [
  'type',
  'group',
  'runlevel',
  'automodfw',
  'restart_policy',
  'status_goal',
  'root-volume',
  'volumes',
  'roles',
  'logs',
] as const;

const PERSISTENCES: readonly Persistence[] = ['permanent', 'revision', 'boot'];
const SERVICE_TYPES: readonly ServiceType[] = ['rest', 'dbus', 'unix', 'drm', 'wayland', 'input'];

const optString = (obj: JsonObject, key: string, where: string): string | undefined => {
  const value = own(obj, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new StateError(`${where}: "${key}" must be a string`);
  return value;
};

const stringArray = (value: JsonValue, what: string, where: string): string[] => {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new StateError(`${where}: "${what}" must be an array of strings`);
  }
  return [...value];
};

/**
 * Parses `<dir>/run.json`. Returns null for a run.json REF silently drops (no name and
 * none of the name-dependent fields).
 *
 * A field of the wrong JSON type is rejected rather than ignored: REF's behaviour for
 * those varies per field (ignored, misread or crash) and a state the runtime would
 * misinterpret is better refused at PUT.
 */
export function parseRunJson(dir: string, value: JsonValue, where: string): PlatformDraft | null {
  if (!isObject(value)) throw new StateError(`${where}: not a JSON object`);
  const name = own(value, 'name');
  if (name === undefined) {
    const dependent = NEEDS_NAME.find(
      (key) => own(value, key) !== undefined && (key !== 'roles' || Array.isArray(own(value, key))),
    );
    if (dependent !== undefined) throw new StateError(`${where}: no "name" but "${dependent}" is set`);
    return null;
  }
  if (typeof name !== 'string' || name === '') throw new StateError(`${where}: "name" must be a non-empty string`);
  // The name becomes a cgroup/LXC name and a path component in the runtime.
  if (name.includes('/') || name.includes('\0') || name === '.' || name === '..') {
    throw new StateError(`${where}: invalid platform name ${JSON.stringify(name)}`);
  }

  const draft: PlatformDraft = {
    name,
    dir,
    type: optString(value, 'type', where) ?? 'lxc',
    volumes: [],
    storage: {},
    roles: parseRoles(own(value, 'roles')),
    autoRecovery: parseAutoRecovery(own(value, 'auto_recovery'), where),
    drivers: { required: [], optional: [], manual: [] },
    services: { required: [], optional: [] },
    rootfsExports: false,
    logs: [],
    automodfw: true,
    raw: value,
  };

  const config = optString(value, 'config', where);
  if (config !== undefined) draft.config = config;
  const share = optString(value, 'share', where);
  if (share !== undefined) draft.share = share;
  const rootVolume = optString(value, 'root-volume', where);
  if (rootVolume !== undefined) draft.rootVolume = rootVolume;
  const volumes = own(value, 'volumes');
  if (volumes !== undefined) draft.volumes = stringArray(volumes, 'volumes', where);

  const group = optString(value, 'group', where);
  if (group !== undefined) draft.group = group;
  const runlevel = optString(value, 'runlevel', where);
  if (runlevel !== undefined) draft.runlevel = runlevel;
  const statusGoal = parseStatusGoal(own(value, 'status_goal'), where);
  if (statusGoal !== undefined) draft.statusGoal = statusGoal;
  const restartPolicy = parseRestartPolicy(own(value, 'restart_policy'), where);
  if (restartPolicy !== undefined) draft.restartPolicy = restartPolicy;

  const automodfw = optString(value, 'automodfw', where);
  if (automodfw !== undefined) draft.automodfw = automodfw !== 'no';
  const devLog = own(value, 'dev-log');
  if (devLog !== undefined) {
    if (typeof devLog !== 'boolean') throw new StateError(`${where}: "dev-log" must be a boolean`);
    draft.devLog = devLog;
  }

  const storage = own(value, 'storage');
  if (storage !== undefined) draft.storage = parseStorage(storage, where);
  const network = own(value, 'network');
  if (network !== undefined) draft.network = parseNetwork(network, where);
  const drivers = own(value, 'drivers');
  if (drivers !== undefined) draft.drivers = parsePlatformDrivers(drivers, where);
  const services = own(value, 'services');
  if (services !== undefined) draft.services = parseRequirements(services, where);

  const logs = own(value, 'logs');
  if (logs !== undefined) {
    if (!Array.isArray(logs) || !logs.every(isObject)) throw new StateError(`${where}: "logs" must be an array of objects`);
    draft.logs = logs as JsonObject[];
  }
  const exports = own(value, 'exports');
  if (exports !== undefined) {
    if (!Array.isArray(exports)) throw new StateError(`${where}: "exports" must be an array`);
    draft.rootfsExports = true;
  }
  return draft;
}

/** Absent ⇒ mgmt (REF's backwards-compatible default); present ⇒ mgmt only if listed. */
function parseRoles(value: JsonValue | undefined): Roles {
  if (value === undefined) return { mgmt: true, declared: false, list: [] };
  const list = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  return { mgmt: list.includes('mgmt'), declared: true, list };
}

/**
 * Entries without `persistence` create no volume in REF, so they are left out; an
 * unknown persistence falls back to `boot` as in REF.
 */
export function parseStorage(value: JsonValue, where: string): Record<string, StorageEntry> {
  if (!isObject(value)) throw new StateError(`${where}: "storage" must be an object`);
  const out: Record<string, StorageEntry> = {};
  for (const [path, spec] of Object.entries(value)) {
    if (!isObject(spec)) throw new StateError(`${where}: storage ${JSON.stringify(path)} must be an object`);
    const persistence = own(spec, 'persistence');
    if (persistence === undefined) continue;
    if (typeof persistence !== 'string') throw new StateError(`${where}: storage ${JSON.stringify(path)} persistence must be a string`);
    const entry: StorageEntry = {
      persistence: (PERSISTENCES as readonly string[]).includes(persistence) ? (persistence as Persistence) : 'boot',
    };
    const disk = own(spec, 'disk');
    if (disk !== undefined) {
      if (typeof disk !== 'string') throw new StateError(`${where}: storage ${JSON.stringify(path)} disk must be a string`);
      entry.disk = disk;
    }
    Object.defineProperty(out, path, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function parseNetwork(value: JsonValue, where: string): NetworkConfig {
  if (!isObject(value)) throw new StateError(`${where}: "network" must be an object`);
  const at = `${where}: network`;
  const network: NetworkConfig = { raw: value };
  const mode = optString(value, 'mode', at);
  if (mode !== undefined) {
    if (mode !== 'host' && mode !== 'pool') throw new StateError(`${at}: invalid mode ${JSON.stringify(mode)}`);
    network.mode = mode;
  }
  for (const key of ['pool', 'hostname', 'ip', 'mac'] as const) {
    const v = optString(value, key, at);
    if (v !== undefined) network[key] = v;
  }
  return network;
}

function parsePlatformDrivers(value: JsonValue, where: string): PlatformDrivers {
  if (!isObject(value)) throw new StateError(`${where}: "drivers" must be an object`);
  const drivers: PlatformDrivers = { required: [], optional: [], manual: [] };
  for (const kind of ['required', 'optional', 'manual'] as const) {
    const list = own(value, kind);
    if (list !== undefined) drivers[kind] = stringArray(list, `drivers.${kind}`, where);
  }
  return drivers;
}

function parseRequirements(value: JsonValue, where: string): PlatformDraftServices {
  if (!isObject(value)) throw new StateError(`${where}: "services" must be an object`);
  const out: PlatformDraftServices = { required: [], optional: [] };
  for (const kind of ['required', 'optional'] as const) {
    const list = own(value, kind);
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new StateError(`${where}: "services.${kind}" must be an array`);
    list.forEach((req, index) => {
      const at = `${where}: services.${kind}[${index}]`;
      if (!isObject(req)) throw new StateError(`${at} is not an object`);
      const name = own(req, 'name');
      if (typeof name !== 'string' || name === '') throw new StateError(`${at} has no "name"`);
      const requirement: ServiceRequirement = { name, raw: req };
      for (const key of ['type', 'role', 'interface', 'target'] as const) {
        const v = optString(req, key, at);
        if (v !== undefined) requirement[key] = v;
      }
      out[kind].push(requirement);
    });
  }
  return out;
}

type PlatformDraftServices = PlatformDraft['services'];

export const normaliseServiceType = (value: string | undefined): ServiceType =>
  value !== undefined && (SERVICE_TYPES as readonly string[]).includes(value) ? (value as ServiceType) : 'unknown';

/**
 * `<dir>/services.json`: `{"#spec":"service-manifest-xconnect@1","services":[…]}` or a
 * bare array. Unknown types become `unknown` (spec §6.4); structurally broken manifests
 * are rejected because xconnect would otherwise fail later with no hint at the cause.
 */
export function parseServiceExports(value: JsonValue, where: string): ServiceExport[] {
  let list: JsonValue[];
  if (Array.isArray(value)) list = value;
  else if (isObject(value)) {
    const services = own(value, 'services');
    if (!Array.isArray(services)) throw new StateError(`${where}: "services" must be an array`);
    list = services;
  } else throw new StateError(`${where}: must be an object or an array`);

  return list.map((item, index): ServiceExport => {
    const at = `${where}: services[${index}]`;
    if (!isObject(item)) throw new StateError(`${at} is not an object`);
    const type = normaliseServiceType(optString(item, 'type', at));
    const bus = optString(item, 'bus', at);
    if (bus !== undefined) {
      const allow = own(item, 'allow');
      const entry: ServiceExport = {
        kind: 'bus',
        type,
        bus,
        allow: allow === undefined ? [] : stringArray(allow, 'allow', at),
        raw: item,
      };
      const name = optString(item, 'name', at);
      if (name !== undefined) entry.name = name;
      const owns = optString(item, 'owns', at);
      if (owns !== undefined) entry.owns = owns;
      const role = optString(item, 'role', at);
      if (role !== undefined) entry.role = role;
      return entry;
    }
    const name = optString(item, 'name', at);
    if (name === undefined || name === '') throw new StateError(`${at} has no "name"`);
    const entry: ServiceExport = { kind: 'service', name, type, raw: item };
    const socket = optString(item, 'socket', at);
    if (socket !== undefined) entry.socket = socket;
    return entry;
  });
}
