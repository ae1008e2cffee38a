import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_GROUPS,
  PARSER_MESSAGE,
  effectiveAutoRecovery,
  parseState,
  type JsonObject,
  type JsonValue,
  type ParseOptions,
  type ParseResult,
  type Platform,
  type State,
} from '../../src/state/index.ts';

const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'state');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

const SPEC = 'pantavisor-service-system@1';
const SHA = 'a'.repeat(64);
const SHA2 = 'b'.repeat(64);
const GOOD_BSP = { linux: 'kernel.img', initrd: 'pantavisor' };

const APPENGINE: ParseOptions = { initMode: 'appengine', goalsTimeout: 120, secureBootMode: 'disabled' };
const EMBEDDED: ParseOptions = { initMode: 'embedded', goalsTimeout: 120, secureBootMode: 'disabled' };

type TapTest = Tap.Test;

const parse = (doc: JsonObject | string, options: Partial<ParseOptions> = {}): ParseResult =>
  parseState(typeof doc === 'string' ? doc : JSON.stringify(doc), { ...APPENGINE, ...options });

function accept(tt: TapTest, doc: JsonObject | string, options: Partial<ParseOptions> = {}): State {
  const result = parse(doc, options);
  if (!result.ok) {
    tt.fail(`expected acceptance, got: ${result.message} (${result.reason})`);
    throw new Error(result.reason);
  }
  return result.state;
}

/** One assertion per rule: the exact 422 text, plus the reason naming the culprit. */
function rejects(tt: TapTest, doc: JsonObject | string, reason: RegExp, options: Partial<ParseOptions> = {}): void {
  const result = parse(doc, options);
  tt.same(
    result.ok ? { ok: true } : { ok: false, message: result.message, reasonMatches: reason.test(result.reason) },
    { ok: false, message: PARSER_MESSAGE, reasonMatches: true },
    result.ok ? 'was accepted' : `reason: ${result.reason}`,
  );
}

const platform = (state: State, name: string): Platform => {
  const found = state.platforms.find((p) => p.name === name);
  if (found === undefined) throw new Error(`no platform ${name}`);
  return found;
};

t.test('minimal appengine state gets the four default groups', async (t) => {
  const state = accept(t, fixture('minimal.json'));
  t.equal(state.spec, SPEC);
  t.equal(state.usingDefaultGroups, true);
  t.same(state.platforms, []);
  t.same(
    state.groups.map((g) => [g.name, g.statusGoal, g.restartPolicy, g.timeout]),
    [
      ['data', 'MOUNTED', 'system', 30],
      ['root', 'STARTED', 'system', 30],
      ['platform', 'STARTED', 'system', 30],
      ['app', 'STARTED', 'container', 30],
    ],
  );
  t.same(state.groups.slice(0, 3).map((g) => g.autoRecovery), [null, null, null]);
  t.same(state.groups[3]?.autoRecovery, {
    policy: 'on-failure',
    maxRetries: 5,
    retryDelay: 5,
    backoffFactor: 2,
    resetWindow: 0,
    stableTimeout: 30,
    backoffPolicy: { kind: 'reboot' },
  });
  t.same(state.bsp, {}, 'bsp/run.json is not read in appengine mode');
});

t.test('realistic two-container appengine state', async (t) => {
  const text = fixture('appengine-xconnect.json');
  const state = accept(t, text);
  t.same(state.platforms.map((p) => p.name), ['pv-example-unix-client', 'pv-example-unix-server']);

  const client = platform(state, 'pv-example-unix-client');
  t.equal(client.dir, 'pv-example-unix-client');
  t.equal(client.group, 'root', 'first unassigned platform goes to root');
  t.equal(client.groupSource, 'implicit');
  t.equal(client.statusGoal, 'STARTED', 'inherits the group goal');
  t.equal(client.restartPolicy, 'system', 'inherits the group policy');
  t.same(client.roles, { mgmt: false, declared: true, list: ['nobody'] });
  t.equal(client.type, 'lxc');
  t.equal(client.config, 'lxc.container.conf');
  t.equal(client.rootVolume, 'root.squashfs');
  t.same(client.volumes, []);
  t.same(client.storage, {
    'docker--etc-example': { persistence: 'permanent' },
    'lxc-overlay': { persistence: 'boot' },
    'docker--var-cache': { persistence: 'revision', disk: 'dm-versatile' },
  });
  t.same(client.services.required.map(({ raw: _raw, ...r }) => r), [
    { name: 'raw', type: 'unix', target: '/run/pv/services/raw.sock' },
  ]);
  t.same(client.services.optional, []);
  t.same(client.exports, []);
  t.equal(client.autoRecovery, null);
  t.equal(client.automodfw, true);
  t.equal(client.devLog, undefined);

  const server = platform(state, 'pv-example-unix-server');
  t.equal(server.group, 'app');
  t.equal(server.groupSource, 'group');
  t.equal(server.statusGoal, 'READY');
  t.equal(server.restartPolicy, 'container', 'inherited from app');
  t.same(server.roles, { mgmt: true, declared: true, list: ['mgmt', 'observer'] });
  t.same(server.volumes, ['extra.squashfs']);
  t.equal(server.devLog, true);
  t.same(server.drivers, { required: [], optional: ['usb-serial'], manual: ['wifi'] });
  t.same(server.network && { mode: server.network.mode, pool: server.network.pool, hostname: server.network.hostname }, {
    mode: 'pool',
    pool: 'internal',
    hostname: 'server',
  });
  t.same(server.autoRecovery, {
    policy: 'always',
    maxRetries: 3,
    retryDelay: 2,
    backoffFactor: 1.5,
    resetWindow: 0,
    stableTimeout: 60,
    backoffPolicy: { kind: 'delay', seconds: 600 },
  });
  t.same(server.exports.map(({ raw: _raw, ...e }) => e), [
    { kind: 'service', name: 'raw', type: 'unix', socket: '/run/example/raw.sock' },
    { kind: 'bus', type: 'dbus', bus: 'system-bus', owns: 'org.example.Server', role: 'server', allow: ['client'] },
  ]);

  t.equal(state.objects.size, 7);
  t.equal(state.objects.get('_config/pv-example-unix-server/etc/example/server.conf')?.length, 64);
  t.same([...state.inlineJson.keys()], [
    'pv-example-unix-client/run.json',
    'pv-example-unix-server/run.json',
    'pv-example-unix-server/services.json',
  ], 'src.json documents are not part of the revision');
  t.same(state.entries.map(([k]) => k), Object.keys(JSON.parse(text) as object), 'document key order');
});

t.test('embedded state with device.json, custom groups, BSP and drivers', async (t) => {
  const state = accept(t, fixture('embedded-device.json'), { initMode: 'embedded', fitConfig: 'board-b' });
  t.equal(state.usingDefaultGroups, false);
  t.same(state.groups.map((g) => [g.name, g.statusGoal, g.restartPolicy, g.timeout]), [
    ['data', 'MOUNTED', 'system', 15],
    ['core', 'STARTED', 'system', 120],
    ['apps', 'READY', 'container', 45],
  ], 'missing timeout falls back to goalsTimeout; a digit string is read as a number');
  t.equal(state.groups[0]?.description, 'volumes only');
  t.same(state.groups[2]?.autoRecovery?.backoffPolicy, { kind: 'delay', seconds: 7200 });

  t.same(state.platforms.map((p) => [p.name, p.group, p.groupSource, p.statusGoal, p.restartPolicy]), [
    ['awconnect', 'data', 'runlevel', 'MOUNTED', 'system'],
    ['pvr-sdk', 'core', 'group', 'STARTED', 'system'],
    ['web', 'apps', 'implicit', 'READY', 'system'],
  ]);
  const web = platform(state, 'web');
  t.equal(web.automodfw, false);
  t.equal(web.rootfsExports, true);
  t.same(web.logs, [{ file: '/var/log/nginx/access.log', maxsize: '1048576' }]);
  t.equal(platform(state, 'awconnect').roles.mgmt, true, 'roles absent ⇒ mgmt');

  const bsp = state.bsp.runJson;
  t.same(bsp && { linux: bsp.linux, initrd: bsp.initrd, fdt: bsp.fdt, firmware: bsp.firmware, modules: bsp.modules, addons: bsp.addons, initrdConfig: bsp.initrdConfig }, {
    linux: 'kernel.img',
    initrd: 'pantavisor',
    fdt: 'board.dtb',
    firmware: 'firmware.squashfs',
    modules: 'modules.squashfs',
    addons: ['addon-plymouth.cpio.xz4'],
    initrdConfig: undefined,
  });
  t.equal(state.bsp.drivers?.spec, 'driver-aliases@1');
  t.same(Object.fromEntries(state.bsp.drivers?.aliases ?? []), {
    wifi: ['mt7601u ${user-meta:wifi.opts}'],
    'usb-serial': ['ftdi_sio'],
  }, 'fitconfig section overlays "all"; other sections are not applied');
  t.same([...(state.bsp.drivers?.sections.keys() ?? [])], ['all', 'fitconfig:board-b', 'dtb:legacy.dtb']);
  t.same(state.disks.map((d) => [d.name, d.type]), [['dm-versatile', 'dm-crypt-versatile']]);
  t.equal(state.inlineJson.get('groups.json'), 'this legacy file is ignored because device.json is present');
  t.notOk(state.inlineJson.has('bsp/src.json'));
  t.ok(state.objects.has('bsp/kernel.img'));

  const noFit = accept(t, fixture('embedded-device.json'), { initMode: 'embedded' });
  t.same(noFit.bsp.drivers?.aliases.get('wifi'), ['brcmfmac', 'brcmutil'], 'without fitconfig only "all" applies');
});

t.test('group assignment', async (t) => {
  t.test('default groups: first unassigned → root, the rest → platform', async (t) => {
    const state = accept(t, {
      '#spec': SPEC,
      'b/run.json': { name: 'b' },
      'a/run.json': { name: 'a' },
      'c/run.json': { name: 'c' },
    });
    t.same(state.platforms.map((p) => [p.name, p.group]), [
      ['b', 'root'],
      ['a', 'platform'],
      ['c', 'platform'],
    ], 'state-key order, not name order');
  });
  t.test('default groups: root already taken explicitly → all unassigned go to platform', async (t) => {
    const state = accept(t, {
      '#spec': SPEC,
      'a/run.json': { name: 'a' },
      'b/run.json': { name: 'b', group: 'root' },
    });
    t.same(state.platforms.map((p) => [p.name, p.group]), [
      ['a', 'platform'],
      ['b', 'root'],
    ]);
  });
  t.test('custom groups: unassigned → last declared group', async (t) => {
    const state = accept(t, {
      '#spec': SPEC,
      'groups.json': [{ name: 'first' }, { name: 'last', status_goal: 'READY' }],
      'a/run.json': { name: 'a' },
      'b/run.json': { name: 'b', group: 'first' },
    });
    t.same(state.platforms.map((p) => [p.name, p.group, p.statusGoal, p.restartPolicy]), [
      ['a', 'last', 'READY', 'container'],
      ['b', 'first', 'STARTED', 'container'],
    ], 'group defaults: STARTED and container');
  });
  t.test('runlevel alias', async (t) => {
    const state = accept(t, {
      '#spec': SPEC,
      'a/run.json': { name: 'a', runlevel: 'app' },
      'b/run.json': { name: 'b', runlevel: 'bogus' },
      'c/run.json': { name: 'c', runlevel: 'app', group: 'data' },
    });
    t.same(state.platforms.map((p) => [p.name, p.group, p.groupSource]), [
      ['a', 'app', 'runlevel'],
      ['b', 'root', 'implicit'],
      ['c', 'data', 'group'],
    ], 'unknown runlevels are ignored; group wins over runlevel');
  });
});

t.test('inheritance and auto-recovery', async (t) => {
  const state = accept(t, {
    '#spec': SPEC,
    'a/run.json': { name: 'a', group: 'app' },
    'b/run.json': { name: 'b', group: 'app', status_goal: 'READY', restart_policy: 'system' },
    'c/run.json': { name: 'c', group: 'app', auto_recovery: { policy: 'no' } },
    'd/run.json': { name: 'd', group: 'app', auto_recovery: { policy: 'unless-stopped', max_retries: 1 } },
    'e/run.json': { name: 'e', group: 'root' },
  });
  const app = state.groups.find((g) => g.name === 'app');
  const root = state.groups.find((g) => g.name === 'root');
  const [a, b, c, d, e] = state.platforms as [Platform, Platform, Platform, Platform, Platform];
  t.same([a.statusGoal, a.restartPolicy], ['STARTED', 'container'], 'inherited when absent');
  t.same([b.statusGoal, b.restartPolicy], ['READY', 'system'], 'own values win');
  t.equal(a.autoRecovery, null, 'no own policy: kept null on the platform');
  t.equal(effectiveAutoRecovery(a, app), app?.autoRecovery, 'group policy applies at start');
  t.equal(effectiveAutoRecovery(c, app), app?.autoRecovery, 'own policy "no" also falls back to the group');
  t.equal(effectiveAutoRecovery(d, app)?.policy, 'unless-stopped');
  t.equal(effectiveAutoRecovery(d, app)?.maxRetries, 1);
  t.equal(effectiveAutoRecovery(e, root), null, 'neither has one');
});

t.test('roles', async (t) => {
  const state = accept(t, {
    '#spec': SPEC,
    'a/run.json': { name: 'a' },
    'b/run.json': { name: 'b', roles: [] },
    'c/run.json': { name: 'c', roles: ['mgmt'] },
    'd/run.json': { name: 'd', roles: ['nobody'] },
    'e/run.json': { name: 'e', roles: 'mgmt' },
  });
  t.same(state.platforms.map((p) => p.roles.mgmt), [true, false, true, false, false]);
});

t.test('key order is the document order', async (t) => {
  const text = `{"#spec":"${SPEC}","z/run.json":{"name":"z"},"2":"${SHA}","m/run.json":{"name":"m"},"1":"${SHA2}","a.json":{}}`;
  const state = accept(t, text);
  t.same(state.entries.map(([k]) => k), ['#spec', 'z/run.json', '2', 'm/run.json', '1', 'a.json'], 'integer-like keys stay in place');
  t.same([...state.objects.keys()], ['2', '1']);
  t.same(state.platforms.map((p) => p.name), ['z', 'm']);
});

t.test('keys match exactly (REF matched prefixes)', async (t) => {
  const state = accept(t, {
    '#spec': SPEC,
    bsp: SHA,
    device: SHA2,
    'x/run.json': { name: 'x', group: 'app', status: 'READY' },
  });
  t.same([...state.objects.keys()], ['bsp', 'device'], 'prefixes of skipped keys are ordinary objects');
  t.equal(state.platforms[0]?.statusGoal, 'STARTED', '"status" is not "status_goal"');
  rejects(t, { '#spec': SPEC, 'x/run.json': { names: 'x', type: 'lxc' } }, /no "name" but "type" is set/);
  rejects(t, `{"#spec":"${SPEC}","bsp/run.json":{"fit":"a"},"bsp/run.json":{"fit":"b"}}`, /duplicate top-level key "bsp\/run.json"/, EMBEDDED);
});

t.test('nameless run.json without name-dependent fields is dropped', async (t) => {
  const state = accept(t, { '#spec': SPEC, 'a/run.json': { config: 'lxc.conf' } });
  t.same(state.platforms, []);
  t.ok(state.inlineJson.has('a/run.json'));
});

t.test('boot images accepted outside appengine', async (t) => {
  const base = (bsp: JsonValue): JsonObject => ({ '#spec': SPEC, 'bsp/run.json': bsp });
  t.equal(accept(t, base(GOOD_BSP), EMBEDDED).bsp.runJson?.linux, 'kernel.img');
  t.equal(accept(t, base({ fit: 'pantavisor.fit' }), EMBEDDED).bsp.runJson?.fit, 'pantavisor.fit');
  t.equal(accept(t, base({ rpiab: 'boot.img' }), { ...EMBEDDED, bootloaderType: 'rpiab' }).bsp.runJson?.rpiab, 'boot.img');
  t.equal(accept(t, base(GOOD_BSP), { initMode: 'standalone' }).bsp.runJson?.initrd, 'pantavisor');
  t.ok(accept(t, base('garbage')), 'appengine never reads bsp/run.json');
});

t.test('rejections (Parser: State JSON has bad format)', async (t) => {
  const withGroups = (groups: JsonValue): JsonObject => ({ '#spec': SPEC, 'groups.json': groups });
  const run = (runJson: JsonValue, extra: JsonObject = {}): JsonObject => ({ '#spec': SPEC, ...extra, 'x/run.json': runJson });

  rejects(t, '{"#spec":', /not valid JSON/);
  rejects(t, '[]', /top level is not a JSON object/);
  rejects(t, '"text"', /top level is not a JSON object/);
  rejects(t, {}, /"#spec" is missing/);
  rejects(t, { '#spec': 'pantavisor-service-system@2' }, /unknown "#spec"/);
  rejects(t, { '#spec': 42 }, /unknown "#spec"/);
  rejects(t, { '#spec': 'pantavisor-multi-platform@1' }, /multi-platform@1 is not supported \(init mode appengine\)/);
  rejects(t, { '#spec': 'pantavisor-multi-platform@1', 'bsp/run.json': GOOD_BSP }, /not supported \(init mode embedded\)/, EMBEDDED);
  rejects(t, `{"#spec":"${SPEC}","a.json":{},"a.json":{}}`, /duplicate top-level key "a.json"/);

  rejects(t, { '#spec': SPEC, 'device.json': { disks: [] } }, /device.json: no "groups"/);
  rejects(t, { '#spec': SPEC, 'device.json': { groups: {} } }, /device.json groups: groups must be an array/);
  rejects(t, { '#spec': SPEC, 'device.json': { groups: [{ name: 'g', restart_policy: 'always' }] } }, /device.json groups: entry 1: invalid restart_policy "always"/);
  rejects(t, { '#spec': SPEC, 'device.json': 'x' }, /device.json: not a JSON object/);
  rejects(t, { '#spec': SPEC, 'device.json': { groups: [{ name: 'g' }], disks: [] } }, /device.json disks: must be a non-empty array/);
  rejects(
    t,
    { '#spec': SPEC, 'device.json': { groups: [{ name: 'g' }], disks: [{ name: 'd', type: 'directory' }], disks_v2: [{ name: 'd', type: 'directory' }] } },
    /disk name "d" conflicts/,
  );
  rejects(t, { '#spec': SPEC, 'device.json': { groups: [{ name: 'g' }], disks: [{ name: 'd' }] } }, /entry 1 has no "type"/);
  rejects(t, { '#spec': SPEC, 'device.json': { groups: [{ name: 'g' }], volumes: [] } }, /device.json volumes: "storage" must be an object/);
  rejects(t, { '#spec': SPEC, 'disks.json': [] }, /disks.json: must be a non-empty array/);

  rejects(t, withGroups({ name: 'g' }), /groups.json: groups must be an array/);
  rejects(t, withGroups([]), /groups.json: groups array is empty/);
  rejects(t, withGroups([{ name: 'a' }, {}]), /groups.json: entry 2 is empty/);
  rejects(t, withGroups(['root']), /groups.json: entry 1 is not an object/);
  rejects(t, withGroups([{ name: 'a' }, { status_goal: 'READY' }]), /groups.json: entry 2 has no "name"/);
  rejects(t, withGroups([{ name: '' }]), /groups.json: entry 1 has an invalid "name"/);
  rejects(t, withGroups([{ name: 'a', status_goal: 'RUNNING' }]), /entry 1: invalid status_goal "RUNNING"/);
  rejects(t, withGroups([{ name: 'a', status_goal: 'ready' }]), /invalid status_goal "ready"/);
  rejects(t, withGroups([{ name: 'a', restart_policy: 'never' }]), /entry 1: invalid restart_policy "never"/);
  rejects(t, withGroups([{ name: 'a', timeout: -1 }]), /entry 1: negative timeout -1/);
  rejects(t, withGroups([{ name: 'a', timeout: 2147483648 }]), /entry 1: timeout 2147483648 out of range/);
  rejects(t, withGroups([{ name: 'a', timeout: 'soon' }]), /entry 1: timeout "soon" is not an integer/);
  rejects(t, withGroups([{ name: 'a', timeout: 1.5 }]), /entry 1: timeout 1.5 is not an integer/);
  rejects(t, withGroups([{ name: 'a' }, { name: 'a' }]), /entry 2: duplicate group name "a"/);
  rejects(t, withGroups([{ name: 'a', auto_recovery: { policy: 'sometimes' } }]), /invalid auto_recovery.policy "sometimes"/);
  rejects(t, withGroups([{ name: 'a', auto_recovery: { backoff_policy: '5m' } }]), /invalid auto_recovery.backoff_policy "5m"/);
  rejects(t, withGroups([{ name: 'a', auto_recovery: { max_retries: -2 } }]), /auto_recovery.max_retries must be a non-negative integer/);
  rejects(t, withGroups([{ name: 'a', auto_recovery: { backoff_factor: 0 } }]), /auto_recovery.backoff_factor must be positive/);
  rejects(t, withGroups([{ name: 'a', auto_recovery: 'on-failure' }]), /auto_recovery is not an object/);

  rejects(t, { '#spec': SPEC }, /bsp\/run.json is missing/, EMBEDDED);
  rejects(t, { '#spec': SPEC, 'bsp/run.json': 'x' }, /bsp\/run.json: not a JSON object/, EMBEDDED);
  rejects(t, { '#spec': SPEC, 'bsp/run.json': { linux: 'k' } }, /needs "linux" and "initrd", or "fit", or "rpiab"/, EMBEDDED);
  rejects(t, { '#spec': SPEC, 'bsp/run.json': { initrd: 'i', fdt: 'd' } }, /needs "linux" and "initrd"/, { initMode: 'standalone' });
  rejects(t, { '#spec': SPEC, 'bsp/run.json': GOOD_BSP }, /"rpiab" is required by the rpiab bootloader/, { ...EMBEDDED, bootloaderType: 'rpiab' });
  rejects(t, { '#spec': SPEC, 'bsp/run.json': { ...GOOD_BSP, addons: 'a' } }, /"addons" must be an array of strings/, EMBEDDED);

  rejects(t, { '#spec': SPEC, 'bsp/drivers.json': [] }, /bsp\/drivers.json: not a JSON object/);
  rejects(t, { '#spec': SPEC, 'bsp/drivers.json': { all: ['wifi'] } }, /section "all" is not an object/);
  rejects(t, { '#spec': SPEC, 'bsp/drivers.json': { all: { wifi: 'brcmfmac' } } }, /all.wifi must be an array of module strings/);
  rejects(t, { '#spec': SPEC, 'bsp/drivers.json': { 'fitconfig:x': { wifi: [1] } } }, /fitconfig:x.wifi must be an array/);

  rejects(t, run({ name: 'x', group: 'nope' }), /x\/run.json: unknown group "nope"/);
  rejects(t, run({ name: 'x', group: 'roots' }), /unknown group "roots"/, {});
  rejects(t, run({ name: 'x', group: 'roo' }), /unknown group "roo"/, {});
  rejects(t, run({ name: 'x', restart_policy: 'always' }), /x\/run.json: invalid restart_policy "always"/);
  rejects(t, run({ name: 'x', status_goal: 'DONE' }), /x\/run.json: invalid status_goal "DONE"/);
  for (const field of ['type', 'group', 'runlevel', 'automodfw', 'restart_policy', 'status_goal', 'root-volume', 'volumes', 'roles', 'logs']) {
    const value: JsonValue = field === 'volumes' || field === 'roles' || field === 'logs' ? [] : 'v';
    rejects(t, run({ [field]: value }), new RegExp(`x/run.json: no "name" but "${field}" is set`));
  }
  rejects(t, run({ name: 7 }), /"name" must be a non-empty string/);
  rejects(t, run({ name: '../evil' }), /invalid platform name/);
  rejects(t, run('5f6e'), /x\/run.json: not a JSON object/);
  rejects(t, run(SHA), /x\/run.json: not a JSON object/, {});
  rejects(t, { '#spec': SPEC, 'a/run.json': { name: 'same' }, 'b/run.json': { name: 'same' } }, /b\/run.json: duplicate platform name "same"/);
  rejects(t, run({ name: 'x', runlevel: 'app' }, { 'groups.json': [{ name: 'only' }] }), /runlevel "app" has no matching group/);
  rejects(t, run({ name: 'x', volumes: 'root.squashfs' }), /"volumes" must be an array of strings/);
  rejects(t, run({ name: 'x', storage: { '/data': 'permanent' } }), /storage "\/data" must be an object/);
  rejects(t, run({ name: 'x', 'dev-log': 'yes' }), /"dev-log" must be a boolean/);
  rejects(t, run({ name: 'x', network: { mode: 'bridge' } }), /network: invalid mode "bridge"/);
  rejects(t, run({ name: 'x', drivers: { required: 'wifi' } }), /"drivers.required" must be an array of strings/);
  rejects(t, run({ name: 'x', services: { required: [{ type: 'unix' }] } }), /services.required\[0\] has no "name"/);
  rejects(t, run({ name: 'x', auto_recovery: { retry_delay: 'soon' } }), /auto_recovery.retry_delay must be a non-negative number/);

  rejects(t, { '#spec': SPEC, 'x/services.json': 'raw' }, /x\/services.json: must be an object or an array/);
  rejects(t, { '#spec': SPEC, 'x/services.json': { services: {} } }, /x\/services.json: "services" must be an array/);
  rejects(t, { '#spec': SPEC, 'x/services.json': [{ type: 'unix' }] }, /services\[0\] has no "name"/);

  rejects(t, { '#spec': SPEC, 'x/root.squashfs': 'not-a-sha' }, /"x\/root.squashfs": an artifact must be referenced by its sha256/);
  rejects(t, { '#spec': SPEC, 'x/root.squashfs': SHA.toUpperCase() }, /must be referenced by its sha256/);

  rejects(t, { '#spec': SPEC }, /default groups in use but group\(s\) root missing/, {
    defaultGroups: DEFAULT_GROUPS.filter((g) => g.name !== 'root'),
  });
  rejects(t, { '#spec': SPEC }, /group\(s\) root, platform missing/, { defaultGroups: [{ name: 'data' }] });
  rejects(t, { '#spec': SPEC }, /default groups: groups array is empty/, { defaultGroups: [] });
});

t.test('accepted variants', async (t) => {
  t.equal(accept(t, { '#spec': SPEC, 'groups.json': [{ name: 'a', timeout: 0 }] }).groups[0]?.timeout, 0, 'zero timeout');
  t.equal(accept(t, { '#spec': SPEC, 'groups.json': [{ name: 'a', timeout: 2147483647 }] }).groups[0]?.timeout, 2147483647);
  const storage = accept(t, {
    '#spec': SPEC,
    'x/run.json': { name: 'x', storage: { a: { persistence: 'weird' }, b: { disk: 'd' } } },
  }).platforms[0]?.storage;
  t.same(storage, { a: { persistence: 'boot' } }, 'unknown persistence → boot; no persistence → no volume');
  const misc = accept(t, {
    '#spec': SPEC,
    'x/run.json': { name: 'x' },
    'x/services.json': [{ name: 'svc', type: 'carrier-pigeon' }],
    '_config/x/run.json': { name: 'not a platform' },
    'x/extra/run.json': SHA,
    '_sigs/x.json': { '#spec': 'pvs@2', protected: 'e30', signature: 'AA' },
    'x/notes.json': 'inline string document',
  });
  t.same(misc.platforms.map((p) => p.name), ['x'], 'only top-level <dir>/run.json keys are platforms');
  t.same(misc.platforms[0]?.exports.map((e) => e.type), ['unknown'], 'unknown service type → unknown');
  t.ok(misc.inlineJson.has('_config/x/run.json'));
  t.equal(misc.objects.get('x/extra/run.json'), SHA);
  t.notOk(misc.inlineJson.has('_sigs/x.json'), 'signatures are not trail documents');
  t.equal(misc.inlineJson.get('x/notes.json'), 'inline string document');
  t.same(accept(t, { '#spec': SPEC, 'orphan/services.json': [] }).platforms, [], 'manifest without a platform is only validated');
});
