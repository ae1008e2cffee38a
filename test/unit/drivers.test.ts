/**
 * Driver aliases (spec §7.10) end to end below HTTP: bsp/drivers.json → KernelDrivers → the real
 * libkmod backend on a module tree built in a temp dir, and the /drivers handlers on top.
 *
 * The test kernel cannot load modules, so most modules carry modprobe.d install/remove commands
 * that append to a log: libkmod still resolves, orders and probes exactly as on a device, and the
 * log shows what ran in which order. Modules without a command reach the kernel, which refuses.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listDrivers, loadAllDrivers, loadDriver, unloadAllDrivers, unloadDriver } from '../../src/api/drivers.ts';
import type { Services } from '../../src/services.ts';
import { PvError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { KmodContext } from '../../src/native/kmod.ts';
import { KernelDrivers, moduleNameOf, substituteUserMeta, type ModuleBackend } from '../../src/runtime/drivers.ts';
import { KmodModuleBackend, createKmodBackend } from '../../src/runtime/kmod-backend.ts';
import type { Caller } from '../../src/server/caller.ts';
import type { ApiRequest, ApiResponse } from '../../src/server/types.ts';
import { parseDrivers } from '../../src/state/bsp.ts';
import type { PlatformDrivers } from '../../src/state/types.ts';
import { buildModuleTree } from '../helpers/module-tree.ts';

// A no-op when the addon is current; keeps this file runnable on a fresh checkout.
const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

const root = mkdtempSync(join(tmpdir(), 'pvctrl-drivers-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const tree = buildModuleTree(root, {
  modules: [
    { name: 'pvd_cfg80211' },
    { name: 'pvd_brcmutil' },
    { name: 'pvd_brcmfmac', depends: ['pvd_brcmutil', 'pvd_cfg80211'], aliases: ['sdio:c*v02D0d4329*'] },
    { name: 'pvd_ftdi_sio' },
    { name: 'pvd_hci_uart' },
    { name: 'pvd_refused' },
    { name: 'pvd_sticky' },
  ],
});
const commands = join(root, 'commands.log');
const conf = join(root, 'pvtest.conf');
const logged = ['pvd_cfg80211', 'pvd_brcmutil', 'pvd_brcmfmac', 'pvd_ftdi_sio', 'pvd_hci_uart'];
writeFileSync(
  conf,
  [
    ...logged.flatMap((name) => [
      `install ${name} echo "insert $MODPROBE_MODULE [$CMDLINE_OPTS]" >> ${commands}`,
      `remove ${name} echo "remove $MODPROBE_MODULE" >> ${commands}`,
    ]),
    // Loads (through its command) but has nothing that could unload it: removal reaches the kernel.
    `install pvd_sticky echo "insert $MODPROBE_MODULE [$CMDLINE_OPTS]" >> ${commands}`,
    '',
  ].join('\n'),
);
const readCommands = (): string[] => (existsSync(commands) ? readFileSync(commands, 'utf8').trim().split('\n') : []);
const clearCommands = (): void => rmSync(commands, { force: true });

const driversJson = {
  '#spec': 'driver-aliases@1',
  all: {
    wifi: ['pvd_cfg80211', 'pvd_brcmfmac ${user-meta:drivers.brcmfmac.opts}'],
    'usb-serial': ['pvd_ftdi_sio'],
    bluetooth: ['pvd_hci_uart'],
    broken: ['pvd_ftdi_sio baud=9600', 'pvd_refused', 'pvd_hci_uart'],
    sticky: ['pvd_sticky'],
    bogus: ['pvd_ftdi_sio $oops'],
    'by-alias': ['sdio:c00v02D0d4329 quiet'],
  },
  'fitconfig:board-b': { bluetooth: ['pvd_hci_uart ${user-meta:bt.opts} fw=${user-meta:bt.fw}'] },
  'dtb:ignored.dtb': { bluetooth: ['never_used'] },
};
const aliases = parseDrivers(driversJson, 'board-b');
const userMeta = new Map<string, string>();

function setup(withBackend = true) {
  const lines: string[] = [];
  const log = createLogger('debug', (line) => lines.push(line));
  const backend: ModuleBackend | undefined = withBackend ? new KmodModuleBackend(new KmodContext({ moduleDir: tree.dir, configPaths: [conf] }), log) : undefined;
  const drivers = new KernelDrivers((alias) => aliases.aliases.get(alias), backend, log, (key) => userMeta.get(key));
  return { drivers, lines, log };
}

t.test('${user-meta:KEY} substitution as REF does it', async (t) => {
  const meta = (key: string): string | undefined => ({ 'a.opts': 'x=1 y=2', fw: 'f.bin', dollar: 'p=$1' })[key];
  t.equal(substituteUserMeta('mod ${user-meta:a.opts}', meta), 'mod x=1 y=2');
  t.equal(substituteUserMeta('mod ${user-meta:a.opts} fw=${user-meta:fw}', meta), 'mod x=1 y=2 fw=f.bin', 'several placeholders');
  t.equal(substituteUserMeta('mod ${user-meta:unset}', meta), 'mod ', 'an unset key leaves nothing');
  t.equal(substituteUserMeta('mod opt=${user-meta:dollar}', meta), 'mod opt=p=$1', 'values are not substituted again');
  t.equal(substituteUserMeta('plain', meta), 'plain');
  t.equal(substituteUserMeta('mod $oops', meta), undefined, 'a stray $ makes the module string illegal');
  t.equal(substituteUserMeta('mod ${user-meta:a.opts', meta), undefined, 'unterminated');
  t.equal(substituteUserMeta('mod ${device-meta:x}', meta), undefined, 'only user-meta placeholders exist');
  t.equal(moduleNameOf('  brcmfmac  debug=1 '), 'brcmfmac');
});

t.test('the alias table: "all" overlaid by the fitconfig section, dtb: sections ignored', async (t) => {
  t.same(aliases.aliases.get('bluetooth'), ['pvd_hci_uart ${user-meta:bt.opts} fw=${user-meta:bt.fw}']);
  t.same(parseDrivers(driversJson, undefined).aliases.get('bluetooth'), ['pvd_hci_uart']);
});

t.test('load: modules in list order, each after its dependencies, options substituted from user meta', async (t) => {
  clearCommands();
  userMeta.set('drivers.brcmfmac.opts', 'roamoff=1 feature_disable=0x82000');
  const { drivers, lines } = setup();
  t.equal(drivers.status('wifi'), 'UNLOADED');
  t.equal(await drivers.apply('load', ['wifi']), true);
  t.same(readCommands(), [
    'insert pvd_cfg80211 []',
    // pvd_brcmfmac's dependencies come first (modules.dep); the install command loaded nothing
    // real, so pvd_cfg80211 is not "in the kernel" and libkmod runs it again.
    'insert pvd_brcmutil []',
    'insert pvd_cfg80211 []',
    'insert pvd_brcmfmac [roamoff=1 feature_disable=0x82000]',
  ]);
  t.equal(drivers.status('wifi'), 'LOADED');
  t.equal(drivers.status('usb-serial'), 'UNLOADED');
  t.equal(drivers.status('nope'), 'UNKNOWN', 'not defined for this board');
  t.match(lines.join(''), /INFO driver wifi: loaded \(2 modules\)/);
  t.match(lines.join(''), /DEBUG kmod insert "pvd_brcmfmac roamoff=1 feature_disable=0x82000": install-command pvd_brcmutil, install-command pvd_cfg80211, install-command pvd_brcmfmac roamoff=1 feature_disable=0x82000/);

  clearCommands();
  t.equal(await drivers.apply('unload', ['wifi']), true);
  t.same(readCommands(), ['remove pvd_brcmfmac', 'remove pvd_cfg80211'], 'reverse list order, first word only');
  t.equal(drivers.status('wifi'), 'UNLOADED');

  clearCommands();
  t.equal(await drivers.apply('unload', ['wifi', 'usb-serial', 'nope']), true, 'nothing loaded: nothing to do');
  t.same(readCommands(), []);
});

t.test('fitconfig alias with two placeholders, one unset; an alias resolved through modules.alias', async (t) => {
  clearCommands();
  userMeta.delete('bt.opts');
  userMeta.set('bt.fw', 'brcm/BCM4345C0.hcd');
  const { drivers } = setup();
  t.equal(await drivers.apply('load', ['bluetooth', 'by-alias']), true);
  t.same(readCommands(), [
    'insert pvd_hci_uart [fw=brcm/BCM4345C0.hcd]',
    'insert pvd_brcmutil []',
    'insert pvd_cfg80211 []',
    'insert pvd_brcmfmac [quiet]',
  ]);
  clearCommands();
  t.equal(await drivers.apply('unload', ['by-alias']), true);
  t.same(readCommands(), ['remove pvd_brcmfmac'], 'modprobe -r takes the alias too');
});

t.test('a module the kernel refuses: the others are still tried, the alias stays unloaded, the log names it', async (t) => {
  clearCommands();
  const { drivers, lines } = setup();
  t.equal(await drivers.apply('load', ['broken']), false);
  t.same(readCommands(), ['insert pvd_ftdi_sio [baud=9600]', 'insert pvd_hci_uart []'], 'REF goes on after a failed module');
  t.equal(drivers.status('broken'), 'UNLOADED');
  const log = lines.join('');
  t.match(log, /ERROR driver broken: cannot load "pvd_refused": insert "pvd_refused": .+ \((ENOSYS|ENOEXEC|EPERM)\)/);
  t.notMatch(log, /driver broken: loaded \(/);

  t.equal(await drivers.apply('load', ['bogus']), false, 'an illegal module string fails the alias');
  t.match(lines.join(''), /WARN driver bogus: illegal module value "pvd_ftdi_sio \$oops"/);
});

t.test('an unload that fails is logged and the alias stays loaded', async (t) => {
  clearCommands();
  const { drivers, lines } = setup();
  t.equal(await drivers.apply('load', ['sticky']), true);
  t.equal(drivers.status('sticky'), 'LOADED');
  t.equal(await drivers.apply('unload', ['sticky']), false);
  t.match(lines.join(''), /WARN driver sticky: cannot unload "pvd_sticky": remove "pvd_sticky": module is not loaded \(ENOENT\)/);
  t.equal(drivers.status('sticky'), 'LOADED', 'REF keeps it marked loaded');
});

t.test('requests are serialised like REF\'s synchronous modprobe', async (t) => {
  clearCommands();
  const { drivers } = setup();
  const results = await Promise.all([drivers.apply('load', ['usb-serial', 'bluetooth']), drivers.apply('unload', ['usb-serial']), drivers.apply('load', ['usb-serial'])]);
  t.same(results, [true, true, true]);
  t.same(readCommands(), ['insert pvd_ftdi_sio []', 'insert pvd_hci_uart [fw=brcm/BCM4345C0.hcd]', 'remove pvd_ftdi_sio', 'insert pvd_ftdi_sio []']);
});

t.test('without a backend every load fails and says why', async (t) => {
  const { drivers, lines } = setup(false);
  t.equal(await drivers.apply('load', ['wifi']), false);
  t.match(lines.join(''), /no kernel module backend on this build; cannot load/);
  t.equal(await drivers.apply('load', ['nope']), true, 'an alias not on this board is not a failure');
});

t.test('createKmodBackend reads PVCTRL_MODULES_DIR', async (t) => {
  const log = createLogger('error', () => undefined);
  t.equal(createKmodBackend(log, { PVCTRL_MODULES_DIR: tree.dir })?.context.moduleDir, tree.dir);
  t.match(createKmodBackend(log, {})?.context.moduleDir, /^\/lib\/modules\//);
});

// ---- the /drivers handlers --------------------------------------------------

const host: Caller = { kind: 'host', name: '_pv_', privileged: true, pid: 1 };
const app: Caller = { kind: 'container', name: 'app', privileged: true, pid: 2 };
const bare: Caller = { kind: 'container', name: 'bare', privileged: true, pid: 3 };
const platformDrivers: Record<string, PlatformDrivers> = {
  app: { required: ['usb-serial'], optional: ['nope'], manual: ['wifi', 'broken', 'sticky'] },
  bare: { required: [], optional: [], manual: [] },
};

function handlerServices(drivers: KernelDrivers): Services {
  const system = { platform: (name: string) => (name in platformDrivers ? { name, drivers: platformDrivers[name] } : undefined) };
  return { system, drivers } as unknown as Services;
}

const request = (caller: Caller, params: string[] = []): ApiRequest => ({ caller, params }) as unknown as ApiRequest;
const body = (response: ApiResponse): unknown => (response.type === 'json' ? JSON.parse(response.text) : response.type);

async function failure(promise: Promise<unknown>): Promise<PvError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PvError) return error;
    throw error;
  }
  throw new Error('expected a PvError');
}

t.test('GET /drivers: {} without a platform or drivers, else declaration order with status', async (t) => {
  const { drivers } = setup();
  const services = handlerServices(drivers);
  t.same(body(await listDrivers(request(host), services)), {}, 'the host has no platform');
  t.same(body(await listDrivers(request(bare), services)), {}, 'a platform without drivers');
  t.same(body(await listDrivers(request(app), services)), [
    { name: 'usb-serial', type: 'REQUIRED', status: 'UNLOADED' },
    { name: 'nope', type: 'OPTIONAL', status: 'UNKNOWN' },
    { name: 'wifi', type: 'MANUAL', status: 'UNLOADED' },
    { name: 'broken', type: 'MANUAL', status: 'UNLOADED' },
    { name: 'sticky', type: 'MANUAL', status: 'UNLOADED' },
  ]);
});

t.test('PUT /drivers/...: manual drivers only, 400 when a module failed, unload always 200', async (t) => {
  clearCommands();
  const { drivers, lines } = setup();
  const services = handlerServices(drivers);
  t.equal((await loadDriver(request(app, ['wifi']), services)).type, 'empty', 'named load: 200');
  t.equal(drivers.status('wifi'), 'LOADED');
  t.same(body(await listDrivers(request(app), services)), [
    { name: 'usb-serial', type: 'REQUIRED', status: 'UNLOADED' },
    { name: 'nope', type: 'OPTIONAL', status: 'UNKNOWN' },
    { name: 'wifi', type: 'MANUAL', status: 'LOADED' },
    { name: 'broken', type: 'MANUAL', status: 'UNLOADED' },
    { name: 'sticky', type: 'MANUAL', status: 'UNLOADED' },
  ]);
  t.equal((await loadDriver(request(app, ['usb-serial']), services)).type, 'empty', 'a required driver by name: nothing matched, 200');
  t.equal(drivers.status('usb-serial'), 'UNLOADED', 'not loaded through the API');
  t.equal((await loadDriver(request(app, ['nosuch']), services)).type, 'empty', 'unknown name: 200');
  t.equal((await loadAllDrivers(request(host), services)).type, 'empty', 'the host: no platform, no-op');
  t.equal((await loadAllDrivers(request(bare), services)).type, 'empty', 'no manual drivers: 200');

  const named = await failure(loadDriver(request(app, ['broken']), services));
  t.equal(named.kind, 'bad-request');
  t.equal(named.message, 'Error loading driver');
  const bulk = await failure(loadAllDrivers(request(app), services));
  t.equal(bulk.message, 'Error loading drivers', 'bulk: wifi and sticky load, broken fails');
  t.equal(drivers.status('sticky'), 'LOADED');
  t.match(lines.join(''), /cannot load "pvd_refused": insert "pvd_refused"/, 'the module is named in the log');
  t.equal((await failure(loadDriver(request(app, ['load']), services))).message, 'No driver name');

  clearCommands();
  t.equal((await unloadAllDrivers(request(app), services)).type, 'empty', 'unload: 200 although pvd_sticky cannot go');
  t.same(readCommands(), ['remove pvd_brcmfmac', 'remove pvd_cfg80211'], 'only loaded manual aliases, broken was never loaded');
  t.equal(drivers.status('wifi'), 'UNLOADED');
  t.equal(drivers.status('sticky'), 'LOADED');
  t.equal((await unloadDriver(request(app, ['sticky']), services)).type, 'empty', 'named unload failing: still 200');
  t.equal((await failure(unloadDriver(request(app, ['unload']), services))).message, 'No driver name');
});
