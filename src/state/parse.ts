import { parseBspRun, parseDevice, parseDrivers, parseLegacyDisks } from './bsp.ts';
import { DEFAULT_GROUPS, parseGroups } from './groups.ts';
import { StateError, isSha256, own, readDocument, type Document } from './json.ts';
import { parseRunJson, parseServiceExports, type PlatformDraft } from './platform.ts';
import { verifySignatures } from './signature.ts';
import {
  MULTI1_SPEC,
  SYSTEM1_SPEC,
  type DiskSpec,
  type Group,
  type JsonValue,
  type ParseOptions,
  type ParseResult,
  type Platform,
  type ServiceExport,
  type SignatureSummary,
  type State,
} from './types.ts';

/** The exact 422 text of a parse rejection (spec §6.5 step 3). */
export const PARSER_MESSAGE = 'Parser: State JSON has bad format';

/** The runlevels REF maps onto same-named groups; any other runlevel is ignored. */
const RUNLEVELS = new Set(['data', 'root', 'app', 'platform']);

/** Keys read by dedicated steps rather than the per-key walk. */
const TOP_LEVEL_DOCUMENTS = new Set([
  'device.json',
  'groups.json',
  'disks.json',
  'disks_v3.json',
  'bsp/run.json',
  'bsp/drivers.json',
]);

/**
 * Validates a revision's state JSON the way `PUT /steps/locals/{name}` must (JSON,
 * then signature policy, then the system1 parse) and returns the typed model.
 *
 * Duplicate top-level keys are reported as a Parser failure before signatures are
 * looked at, because the signature payload of such a document is ambiguous.
 */
export function parseState(text: string, options: ParseOptions): ParseResult {
  let doc: Document;
  try {
    doc = readDocument(text);
  } catch (error) {
    return reject(error);
  }

  const check = verifySignatures(doc.entries, options.secureBootMode, options);
  if (!check.ok) return { ok: false, message: `Secureboot: ${check.failure}`, reason: check.detail };

  try {
    return { ok: true, state: buildState(doc, options, check.signatures) };
  } catch (error) {
    return reject(error);
  }
}

function reject(error: unknown): ParseResult {
  if (error instanceof StateError) return { ok: false, message: PARSER_MESSAGE, reason: error.message };
  // Anything else is a bug in this module; surfacing it as a parse failure keeps a
  // broken revision from being installed while the reason points at the defect.
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, message: PARSER_MESSAGE, reason: `internal parser error: ${detail}` };
}

function buildState(doc: Document, options: ParseOptions, signatures: SignatureSummary[]): State {
  const { json, entries } = doc;

  const spec = own(json, '#spec');
  if (spec === undefined) throw new StateError('"#spec" is missing');
  if (spec === MULTI1_SPEC) {
    // REF rejects the legacy multi-platform format in appengine mode only; this port
    // has no parser for it, so every mode refuses it rather than misreading it.
    throw new StateError(`"#spec" ${MULTI1_SPEC} is not supported (init mode ${options.initMode})`);
  }
  if (spec !== SYSTEM1_SPEC) throw new StateError(`unknown "#spec" ${JSON.stringify(spec)}`);

  // Groups and disks: device.json wins over the legacy files, which are then ignored.
  let groups: Group[];
  let usingDefaultGroups = false;
  let disks: DiskSpec[];
  const device = own(json, 'device.json');
  if (device !== undefined) {
    ({ groups, disks } = parseDevice(device, options.goalsTimeout));
  } else {
    disks = parseLegacyDisks(entries);
    const groupsJson = own(json, 'groups.json');
    if (groupsJson !== undefined) {
      groups = parseGroups(groupsJson, 'groups.json', options.goalsTimeout);
    } else {
      groups = parseGroups(options.defaultGroups ?? DEFAULT_GROUPS, 'default groups', options.goalsTimeout);
      usingDefaultGroups = true;
      const missing = ['root', 'platform'].filter((name) => !groups.some((g) => g.name === name));
      if (missing.length > 0) throw new StateError(`default groups in use but group(s) ${missing.join(', ')} missing`);
    }
  }

  const bsp: State['bsp'] = {};
  if (options.initMode !== 'appengine') {
    const bspRun = own(json, 'bsp/run.json');
    if (bspRun === undefined) throw new StateError('bsp/run.json is missing');
    bsp.runJson = parseBspRun(bspRun, options.bootloaderType);
  }
  const drivers = own(json, 'bsp/drivers.json');
  if (drivers !== undefined) bsp.drivers = parseDrivers(drivers, options.fitConfig);

  const objects = new Map<string, string>();
  const inlineJson = new Map<string, JsonValue>();
  const drafts: PlatformDraft[] = [];
  const manifests: Array<[string, JsonValue]> = [];
  for (const [key, value] of entries) {
    if (key === '#spec' || key.startsWith('_sigs/')) continue;
    const last = key.slice(key.lastIndexOf('/') + 1);
    if (key.includes('/') && (last === 'src.json' || last === 'build.json')) continue;
    // Checked before the sha test: REF parses every run.json, so one given as an
    // artifact reference is a broken platform, not an object.
    const dir = platformDir(key, 'run.json');
    if (dir !== undefined) {
      inlineJson.set(key, value);
      const draft = parseRunJson(dir, value, key);
      if (draft !== null) drafts.push(draft);
      continue;
    }
    if (TOP_LEVEL_DOCUMENTS.has(key)) {
      inlineJson.set(key, value);
      continue;
    }
    if (isSha256(value)) {
      objects.set(key, value);
      continue;
    }
    if (!key.endsWith('.json')) {
      throw new StateError(`${JSON.stringify(key)}: an artifact must be referenced by its sha256`);
    }
    inlineJson.set(key, value);
    if (platformDir(key, 'services.json') !== undefined) manifests.push([key, value]);
  }

  const names = new Set<string>();
  for (const draft of drafts) {
    // Caller identification resolves a container by name; two would be ambiguous.
    if (names.has(draft.name)) throw new StateError(`${draft.dir}/run.json: duplicate platform name ${JSON.stringify(draft.name)}`);
    names.add(draft.name);
  }

  const exportsByDir = new Map<string, ServiceExport[]>();
  for (const [key, value] of manifests) {
    exportsByDir.set(platformDir(key, 'services.json') ?? '', parseServiceExports(value, key));
  }

  const platforms = assignGroups(drafts, groups, usingDefaultGroups, exportsByDir);

  return {
    spec: SYSTEM1_SPEC,
    json,
    entries,
    groups,
    platforms,
    usingDefaultGroups,
    bsp,
    disks,
    objects,
    inlineJson,
    signatures,
  };
}

/**
 * `<dir>/<file>` with a single top-level directory. REF takes any key ending in
 * `/run.json` (even `_config/x/run.json`); only top-level directories hold platforms,
 * so deeper ones are treated as ordinary documents here.
 */
function platformDir(key: string, file: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || key.slice(slash + 1) !== file) return undefined;
  const dir = key.slice(0, slash);
  return dir === 'bsp' || dir === '_config' || dir === '_sigs' ? undefined : dir;
}

/**
 * Resolves each platform's group (spec §6.2, §6.3) and inherits the group's status
 * goal and restart policy where the run.json has none.
 *
 * When both `group` and the deprecated `runlevel` are set, `group` wins (REF applies
 * both in turn).
 */
function assignGroups(
  drafts: PlatformDraft[],
  groups: Group[],
  usingDefaultGroups: boolean,
  exportsByDir: Map<string, ServiceExport[]>,
): Platform[] {
  const byName = new Map(groups.map((g) => [g.name, g]));
  const chosen: Array<{ group: Group; source: Platform['groupSource'] } | undefined> = drafts.map((draft) => {
    const where = `${draft.dir}/run.json`;
    if (draft.group !== undefined) {
      const group = byName.get(draft.group);
      if (group === undefined) throw new StateError(`${where}: unknown group ${JSON.stringify(draft.group)}`);
      return { group, source: 'group' };
    }
    if (draft.runlevel !== undefined && RUNLEVELS.has(draft.runlevel)) {
      const group = byName.get(draft.runlevel);
      if (group === undefined) throw new StateError(`${where}: runlevel ${JSON.stringify(draft.runlevel)} has no matching group`);
      return { group, source: 'runlevel' };
    }
    return undefined;
  });

  const lastGroup = groups[groups.length - 1] as Group;
  let rootTaken = chosen.some((c) => c?.group.name === 'root');
  const resolved = chosen.map((c) => {
    if (c !== undefined) return c;
    if (!usingDefaultGroups) return { group: lastGroup, source: 'implicit' as const };
    const name = rootTaken ? 'platform' : 'root';
    rootTaken = true;
    return { group: byName.get(name) as Group, source: 'implicit' as const };
  });

  return drafts.map((draft, index) => {
    const { group, source } = resolved[index] as { group: Group; source: Platform['groupSource'] };
    const platform: Platform = {
      name: draft.name,
      dir: draft.dir,
      type: draft.type,
      volumes: draft.volumes,
      storage: draft.storage,
      group: group.name,
      groupSource: source,
      statusGoal: draft.statusGoal ?? group.statusGoal,
      restartPolicy: draft.restartPolicy ?? group.restartPolicy,
      roles: draft.roles,
      autoRecovery: draft.autoRecovery,
      drivers: draft.drivers,
      services: draft.services,
      exports: exportsByDir.get(draft.dir) ?? [],
      rootfsExports: draft.rootfsExports,
      logs: draft.logs,
      automodfw: draft.automodfw,
      raw: draft.raw,
    };
    if (draft.config !== undefined) platform.config = draft.config;
    if (draft.share !== undefined) platform.share = draft.share;
    if (draft.rootVolume !== undefined) platform.rootVolume = draft.rootVolume;
    if (draft.network !== undefined) platform.network = draft.network;
    if (draft.devLog !== undefined) platform.devLog = draft.devLog;
    return platform;
  });
}


/** Why a state JSON is refused: the 422 message the API answers and the reason the log gets. */
export type StateVerdict = { message: string; reason: string } | undefined;

/** The check `PUT /steps/locals/{}` applies to an uploaded state (spec §6.5): undefined when accepted. */
export function judgeState(text: string, options: ParseOptions): StateVerdict {
  const result = parseState(text, options);
  return result.ok ? undefined : { message: result.message, reason: result.reason };
}
