import { StateError, isObject, own } from './json.ts';
import { parseGroups } from './groups.ts';
import { parseStorage } from './platform.ts';
import type { BspRun, DiskSpec, DriverAliases, Group, JsonObject, JsonValue } from './types.ts';

const nonEmptyString = (obj: JsonObject, key: string): string | undefined => {
  const value = own(obj, key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/**
 * `bsp/run.json` outside appengine: the device must be bootable from it, so either a
 * kernel+initrd pair, a FIT image or an rpiab boot image is required, and rpiab
 * bootloaders need the latter. A boot field of any other JSON type counts as absent.
 */
export function parseBspRun(value: JsonValue, bootloaderType: string | undefined): BspRun {
  const where = 'bsp/run.json';
  if (!isObject(value)) throw new StateError(`${where}: not a JSON object`);
  const bsp: BspRun = { addons: [], raw: value };
  const fields = [
    ['linux', 'linux'],
    ['initrd', 'initrd'],
    ['fdt', 'fdt'],
    ['fit', 'fit'],
    ['rpiab', 'rpiab'],
    ['firmware', 'firmware'],
    ['modules', 'modules'],
    ['initrdConfig', 'initrd_config'],
  ] as const;
  for (const [field, key] of fields) {
    const v = nonEmptyString(value, key);
    if (v !== undefined) bsp[field] = v;
  }
  const addons = own(value, 'addons');
  if (addons !== undefined) {
    if (!Array.isArray(addons) || !addons.every((a): a is string => typeof a === 'string')) {
      throw new StateError(`${where}: "addons" must be an array of strings`);
    }
    bsp.addons = [...addons];
  }
  const hasKernel = bsp.linux !== undefined && bsp.initrd !== undefined;
  if (!hasKernel && bsp.fit === undefined && bsp.rpiab === undefined) {
    throw new StateError(`${where}: needs "linux" and "initrd", or "fit", or "rpiab"`);
  }
  if (bootloaderType === 'rpiab' && bsp.rpiab === undefined) {
    throw new StateError(`${where}: "rpiab" is required by the rpiab bootloader`);
  }
  return bsp;
}

/**
 * `bsp/drivers.json`. Every section must map aliases to module lists; the effective
 * table is `all` overlaid by `fitconfig:<PV_BOOTLOADER_FITCONFIG>`. REF compares the
 * section name after skipping its first 10 characters (whatever they are) — matched
 * exactly on `fitconfig:` here.
 */
export function parseDrivers(value: JsonValue, fitConfig: string | null | undefined): DriverAliases {
  const where = 'bsp/drivers.json';
  if (!isObject(value)) throw new StateError(`${where}: not a JSON object`);
  const result: DriverAliases = { aliases: new Map(), sections: new Map() };
  for (const [section, body] of Object.entries(value)) {
    if (section === '#spec') {
      if (typeof body !== 'string') throw new StateError(`${where}: "#spec" must be a string`);
      result.spec = body;
      continue;
    }
    if (!isObject(body)) throw new StateError(`${where}: section ${JSON.stringify(section)} is not an object`);
    const aliases = new Map<string, string[]>();
    for (const [alias, modules] of Object.entries(body)) {
      if (!Array.isArray(modules) || !modules.every((m): m is string => typeof m === 'string')) {
        throw new StateError(`${where}: ${section}.${alias} must be an array of module strings`);
      }
      aliases.set(alias, [...modules]);
    }
    result.sections.set(section, aliases);
  }
  const selected = ['all', ...(fitConfig ? [`fitconfig:${fitConfig}`] : [])];
  for (const name of selected) {
    for (const [alias, modules] of result.sections.get(name) ?? []) result.aliases.set(alias, modules);
  }
  return result;
}

/**
 * Disk lists (`disks`, `disks_v2`, `disks_v3`, legacy `disks.json`): REF rejects an
 * empty list and entries it cannot type. Disk type/format vocabularies live in REF's
 * disk module and are left to the runtime; here every disk needs a name and a type,
 * and names are unique across lists because volumes refer to disks by name.
 */
function parseDisks(value: JsonValue, where: string, names: Set<string>): DiskSpec[] {
  if (!Array.isArray(value) || value.length === 0) throw new StateError(`${where}: must be a non-empty array`);
  return value.map((entry, index) => {
    const at = `${where}: entry ${index + 1}`;
    if (!isObject(entry)) throw new StateError(`${at} is not an object`);
    const name = own(entry, 'name');
    const type = own(entry, 'type');
    if (typeof name !== 'string' || name === '') throw new StateError(`${at} has no "name"`);
    if (typeof type !== 'string' || type === '') throw new StateError(`${at} has no "type"`);
    if (names.has(name)) throw new StateError(`${at}: disk name ${JSON.stringify(name)} conflicts with another disk`);
    names.add(name);
    return { name, type, raw: entry };
  });
}

export interface DeviceParts {
  groups: Group[];
  disks: DiskSpec[];
}

/**
 * `device.json`. REF accepts one without `groups` but then has no group to put
 * platforms in (undefined behaviour); the spec requires rejecting it.
 */
export function parseDevice(value: JsonValue, goalsTimeout: number): DeviceParts {
  const where = 'device.json';
  if (!isObject(value)) throw new StateError(`${where}: not a JSON object`);
  const groupsValue = own(value, 'groups');
  if (groupsValue === undefined) throw new StateError(`${where}: no "groups"`);
  const groups = parseGroups(groupsValue, `${where} groups`, goalsTimeout);
  const names = new Set<string>();
  const disks: DiskSpec[] = [];
  for (const key of ['disks', 'disks_v2', 'disks_v3'] as const) {
    const list = own(value, key);
    if (list !== undefined) disks.push(...parseDisks(list, `${where} ${key}`, names));
  }
  const volumes = own(value, 'volumes');
  if (volumes !== undefined) parseStorage(volumes, `${where} volumes`);
  const network = own(value, 'network');
  if (network !== undefined) {
    if (!isObject(network)) throw new StateError(`${where}: "network" must be an object`);
    const pools = own(network, 'pools');
    if (pools !== undefined && !isObject(pools)) throw new StateError(`${where}: "network.pools" must be an object`);
  }
  return { groups, disks };
}

/** Legacy `disks.json` / `disks_v3.json`, only read when there is no device.json. */
export function parseLegacyDisks(entries: ReadonlyArray<[string, JsonValue]>): DiskSpec[] {
  const names = new Set<string>();
  const disks: DiskSpec[] = [];
  for (const [key, value] of entries) {
    if (key === 'disks.json' || key === 'disks_v3.json') disks.push(...parseDisks(value, key, names));
  }
  return disks;
}
