/**
 * libkmod through the addon (src/native/kmod.ts) on a module tree built in a temp dir: lookup by
 * name, dash/underscore spelling, wildcard aliases, symbols, modprobe.d, dependency order, the
 * exact insert/remove plans, and the errors a kernel that refuses modules produces.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonExports } from '../../src/native/index.ts';
import { KmodContext, MODULES_DIR_ENV, defaultModuleDir, isKmodError, type KmodError, type KmodPlanStep } from '../../src/native/kmod.ts';
import { buildModuleTree, writeIndex } from '../helpers/module-tree.ts';

// A no-op when the addon is current; keeps this file runnable on a fresh checkout.
const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

const root = mkdtempSync(join(tmpdir(), 'pvctrl-kmod-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

// pvt_wifi → pvt-util → pvt_core, pvt_wifi → pvt_crypto → pvt_core (a diamond), plus modules
// matched by PCI aliases the way real drivers are, and one module only a modprobe.d alias names.
const tree = buildModuleTree(root, {
  modules: [
    { name: 'pvt_core', dir: 'kernel/lib', symbols: ['pvt_core_register'] },
    { name: 'pvt-util', dir: 'kernel/lib', depends: ['pvt_core'] },
    { name: 'pvt_crypto', dir: 'kernel/crypto', depends: ['pvt_core'] },
    { name: 'pvt_wifi', dir: 'kernel/drivers/net/wireless', depends: ['pvt-util', 'pvt_crypto'], aliases: ['pci:v00008086d00002723sv*sd*bc*sc*i*', 'pvt-wlan'] },
    { name: 'pvt_e1000', dir: 'kernel/drivers/net/ethernet', depends: ['pvt_core'], aliases: ['pci:v00008086d*sv*sd*bc02sc00i*'] },
    { name: 'pvt_solo', dir: 'kernel/drivers/misc' },
    { name: 'pvt_quirk', dir: 'kernel/drivers/misc', depends: ['pvt_core'], aliases: ['pci:v00008086d*sv*sd*bc02sc00i*'] },
    { name: 'pvt_cmd', dir: 'kernel/drivers/misc', depends: ['pvt_core'] },
  ],
  builtin: ['pvt_builtin'],
});
const at = (name: string): string => join(tree.dir, tree.paths.get(name)!);

const conf = join(root, 'modprobe.d');
mkdirSync(conf);
const commandLog = join(root, 'commands.log');
writeFileSync(
  join(conf, 'pvtest.conf'),
  [
    'options pvt_wifi power_save=0',
    'alias pvt-board-net pvt_solo',
    'blacklist pvt_quirk',
    'softdep pvt_solo pre: pvt_crypto',
    `install pvt_cmd echo "install $MODPROBE_MODULE $CMDLINE_OPTS" >> ${commandLog}`,
    `remove pvt_cmd echo "remove $MODPROBE_MODULE" >> ${commandLog}`,
    '',
  ].join('\n'),
);
// Only the test configuration: the host's /etc/modprobe.d must not change the plans.
const kmod = new KmodContext({ moduleDir: tree.dir, configPaths: [conf] });

const step = (action: KmodPlanStep['action'], module: string, role: KmodPlanStep['role'], options = '', extra: Partial<KmodPlanStep> = {}): KmodPlanStep => ({
  action,
  module,
  path: module === 'pvt_builtin' ? null : at(module === 'pvt_util' ? 'pvt-util' : module),
  options,
  role,
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<KmodError> {
  try {
    await promise;
  } catch (error) {
    if (isKmodError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Fails instead of hanging when a command is never killed (10 s: far beyond the 1000 ms timeout). */
async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after 10 s: the command was not killed`)), 10_000);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Alive and not a zombie (a killed child of a killed shell is reparented and reaped later). */
function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

t.test('the index writer produces what libkmod reads, including wildcard keys inside prefixes', async (t) => {
  const index = writeIndex([
    { key: 'abc', value: 'one', priority: 0 },
    { key: 'abd', value: 'two', priority: 1 },
    { key: 'x*y', value: 'wild', priority: 2 },
  ]);
  t.equal(index.readUInt32BE(0), 0xb007f457, 'magic');
  t.equal(index.readUInt32BE(4), 0x00020001, 'version 2.1');
  t.equal(writeIndex([]).length, 16 - 4, 'an empty index is a header and an empty root');
  t.ok(existsSync(join(tree.dir, 'modules.dep')) && existsSync(join(tree.dir, 'modules.alias')), 'text files for humans too');
  t.match(readFileSync(join(tree.dir, 'modules.dep'), 'utf8'), /^kernel\/drivers\/net\/wireless\/pvt_wifi\.ko: kernel\/crypto\/pvt_crypto\.ko kernel\/lib\/pvt-util\.ko kernel\/lib\/pvt_core\.ko$/m, 'depmod order: users before what they need');
});

t.test('resolve: names, dash/underscore spelling, dependencies in insert order', async (t) => {
  const wifi = kmod.resolve('pvt_wifi');
  t.equal(wifi.query, 'pvt_wifi');
  t.same(wifi.modules, [
    {
      name: 'pvt_wifi',
      path: at('pvt_wifi'),
      options: 'power_save=0',
      installCommand: null,
      removeCommand: null,
      state: null,
      dependencies: [
        { name: 'pvt_core', path: at('pvt_core') },
        { name: 'pvt_util', path: at('pvt-util') },
        { name: 'pvt_crypto', path: at('pvt_crypto') },
      ],
      softdeps: { pre: [], post: [] },
    },
  ]);
  t.same(kmod.resolve('pvt-util').modules.map((m) => [m.name, m.path]), [['pvt_util', at('pvt-util')]], 'pvt-util and pvt_util are one module');
  t.same(kmod.resolve('pvt_util').modules.map((m) => m.name), ['pvt_util']);
  t.same(kmod.resolve('symbol:pvt_core_register').modules.map((m) => m.name), ['pvt_core'], 'modules.symbols');
  const builtin = kmod.resolve('pvt_builtin').modules;
  t.same(builtin.map((m) => [m.name, m.path, m.state]), [['pvt_builtin', null, 'builtin']], 'built-ins have no file');
});

t.test('resolve: aliases from modules.alias (fnmatch wildcards) and modprobe.d', async (t) => {
  const names = (query: string): string[] => kmod.resolve(query).modules.map((m) => m.name);
  t.same(names('pci:v00008086d00002723sv00008086sd00000084bc02sc80i00'), ['pvt_wifi'], 'device-specific PCI alias');
  t.same(names('pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00'), ['pvt_e1000', 'pvt_quirk'], 'vendor-wide alias matches every module declaring it');
  t.same(names('pvt-wlan'), ['pvt_wifi'], 'plain alias');
  t.same(names('pvt_wlan'), ['pvt_wifi'], 'aliases are normalised like names');
  t.same(names('pvt-board-net'), ['pvt_solo'], 'modprobe.d alias');
  t.same(kmod.resolve('pvt_solo').modules[0]?.softdeps, { pre: ['pvt_crypto'], post: [] }, 'modprobe.d softdep');
  t.equal(kmod.resolve('pvt_cmd').modules[0]?.installCommand, `echo "install $MODPROBE_MODULE $CMDLINE_OPTS" >> ${commandLog}`);
  const missing = thrown(() => kmod.resolve('pci:v000010ECd00008168sv*')) as KmodError;
  t.equal(missing.message, `resolve "pci:v000010ECd00008168sv*": module not found in ${tree.dir} (ENOENT)`);
  t.equal(missing.code, 'ENOENT');
});

t.test('plan insert: dependencies first, modprobe.d then module-string options, exactly as libkmod probes', async (t) => {
  t.same(kmod.plan('pvt_wifi  debug=1   fw=iwl.ucode', 'insert'), [
    step('insert', 'pvt_core', 'dependency'),
    step('insert', 'pvt_util', 'dependency'),
    step('insert', 'pvt_crypto', 'dependency'),
    step('insert', 'pvt_wifi', 'target', 'power_save=0 debug=1 fw=iwl.ucode'),
  ]);
  t.same(kmod.plan('pvt_solo', 'insert'), [step('insert', 'pvt_core', 'softdep'), step('insert', 'pvt_crypto', 'softdep'), step('insert', 'pvt_solo', 'target')], 'softdeps (and their dependencies) first');
  t.same(kmod.plan('pvt-board-net x=1', 'insert'), [step('insert', 'pvt_core', 'softdep'), step('insert', 'pvt_crypto', 'softdep'), step('insert', 'pvt_solo', 'target', 'x=1')]);
  t.same(
    kmod.plan('pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00', 'insert'),
    [step('insert', 'pvt_core', 'dependency'), step('insert', 'pvt_e1000', 'target'), step('blacklisted', 'pvt_quirk', 'target')],
    'every alias match is probed; a shared dependency once; blacklisted alias matches are skipped',
  );
  t.same(kmod.plan('pvt_quirk', 'insert'), [step('insert', 'pvt_core', 'dependency'), step('insert', 'pvt_quirk', 'target')], 'blacklists apply to aliases only, as in modprobe');
  t.same(kmod.plan('pvt_cmd a=1', 'insert'), [
    step('insert', 'pvt_core', 'dependency'),
    step('install-command', 'pvt_cmd', 'target', 'a=1', { command: `echo "install $MODPROBE_MODULE $CMDLINE_OPTS" >> ${commandLog}` }),
  ], 'a modprobe.d install command replaces the insertion');
  const ignoring = new KmodContext({ moduleDir: tree.dir, configPaths: [conf], ignoreCommands: true });
  t.same(ignoring.plan('pvt_cmd', 'insert'), [step('insert', 'pvt_core', 'dependency'), step('insert', 'pvt_cmd', 'target')], 'ignoreCommands');
  t.same(kmod.plan('pvt_builtin', 'insert'), [], 'built in: nothing to insert');
  const bare = new KmodContext({ moduleDir: tree.dir, configPaths: [] });
  t.same(bare.plan('pvt_wifi', 'insert').at(-1), step('insert', 'pvt_wifi', 'target'), 'without configuration no modprobe.d options');
  t.notOk(existsSync(commandLog), 'planning ran no install command');
});

const modprobe = ['/usr/sbin/modprobe', '/sbin/modprobe', '/usr/bin/modprobe', '/bin/modprobe'].find((path) => existsSync(path));

t.test('insert plans agree with modprobe --show-depends on the same tree', { skip: modprobe === undefined && 'no modprobe (Debian package kmod) installed' }, async (t) => {
  // modprobe prints what libkmod's probe hands to print_action, as plan() records it; it also
  // lists a shared dependency once per alias match, which plan() lists once (see docs/drivers.md).
  const specs = ['pvt_wifi debug=1 fw=x.bin', 'pvt_solo', 'pvt-board-net x=1', 'pvt_cmd a=1', 'pvt-wlan', 'pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00'];
  for (const spec of specs) {
    const [name, ...options] = spec.split(' ');
    const shown = spawnSync(modprobe!, ['-d', root, '-S', tree.version, '-C', conf, '--show-depends', name!, ...options], { encoding: 'utf8' });
    t.equal(shown.status, 0, `modprobe --show-depends ${spec}: ${shown.stderr.trim()}`);
    const expected = kmod
      .plan(spec, 'insert')
      .filter((s) => s.action !== 'blacklisted')
      .map((s) => (s.action === 'insert' ? `insmod ${s.path} ${s.options}` : `install ${s.command} ${s.options}`));
    t.same(shown.stdout.split('\n').slice(0, -1), expected, spec);
  }
});

t.test('plan remove: the module, then its dependencies last-inserted first', async (t) => {
  t.same(kmod.plan('pvt_wifi debug=1', 'remove'), [
    step('remove', 'pvt_wifi', 'target'),
    step('remove', 'pvt_crypto', 'dependency'),
    step('remove', 'pvt_util', 'dependency'),
    step('remove', 'pvt_core', 'dependency'),
  ], 'the module string options are irrelevant; only the first word counts');
  t.same(kmod.plan('pvt-wlan', 'remove').map((s) => s.module), ['pvt_wifi', 'pvt_crypto', 'pvt_util', 'pvt_core'], 'by alias like modprobe -r');
  t.same(kmod.plan('pvt_solo', 'remove'), [
    step('remove', 'pvt_solo', 'target'),
    step('remove', 'pvt_crypto', 'softdep'),
    step('remove', 'pvt_core', 'dependency'),
  ], 'pre-softdeps after the module, like modprobe -r');
  t.same(kmod.plan('pvt_cmd', 'remove'), [
    step('remove-command', 'pvt_cmd', 'target', '', { command: `echo "remove $MODPROBE_MODULE" >> ${commandLog}` }),
  ], 'a remove command takes over the dependencies too');
});

t.test('insert on a kernel that refuses: the error names the module and the errno', async (t) => {
  const solo = await rejection(kmod.insert('pvt_solo opt=1'));
  // ENOSYS without module support (these machines); ENOEXEC or EPERM elsewhere: the stub is no object.
  t.match(solo.message, /^insert "pvt_solo": [^:]+ \((ENOSYS|ENOEXEC|EPERM)\)$/, solo.message);
  t.equal(solo.module, 'pvt_solo', 'softdeps that fail are passed over (libkmod), the module itself is what failed');
  t.same(solo.steps, [step('insert', 'pvt_core', 'softdep'), step('insert', 'pvt_crypto', 'softdep'), step('insert', 'pvt_solo', 'target', 'opt=1')]);
  const wifi = await rejection(kmod.insert('pvt_wifi debug=1'));
  t.match(wifi.message, /^insert "pvt_wifi": dependency "pvt_core": /);
  t.ok(['ENOSYS', 'ENOEXEC', 'EPERM'].includes(wifi.code), wifi.code);
  t.ok(wifi.message.endsWith(`(${wifi.code})`), 'errno name in the message');
  t.ok(wifi.errno < 0, 'negative errno like Node');
  t.equal(wifi.request, 'pvt_wifi debug=1');
  t.equal(wifi.operation, 'insert');
  t.same(wifi.steps, [step('insert', 'pvt_core', 'dependency')], 'stopped at the first failure');
  const direct = await rejection(kmod.insert('pvt_core'));
  t.match(direct.message, /^insert "pvt_core": [^:]+ \(E[A-Z]+\)$/, `a failing target is named without "dependency": ${direct.message}`);
  if (direct.code === 'ENOSYS') t.equal(direct.message, 'insert "pvt_core": Function not implemented (ENOSYS)');
  t.equal(direct.syscall, 'init_module');
  const unknown = await rejection(kmod.insert('pvt_nosuch x=1'));
  t.equal(unknown.message, `insert "pvt_nosuch": module not found in ${tree.dir} (ENOENT)`);
  t.same(await kmod.insert('pvt_builtin'), [], 'a built-in module is already there: success, nothing done');
});

t.test('install and remove commands run through /bin/sh with MODPROBE_MODULE set', async (t) => {
  const onlyCommand = new KmodContext({ moduleDir: tree.dir, configPaths: [conf] });
  // pvt_core, its dependency, has no command and the kernel refuses it first.
  const failed = await rejection(onlyCommand.insert('pvt_cmd a=1'));
  t.equal(failed.module, 'pvt_core');
  t.notOk(existsSync(commandLog), 'the command was not reached');

  const standalone = buildModuleTree(join(root, 'standalone'), { modules: [{ name: 'pvt_cmd' }, { name: 'pvt_fail' }] });
  const confOnly = join(root, 'cmd.conf');
  writeFileSync(
    confOnly,
    [
      `install pvt_cmd echo "install $MODPROBE_MODULE $CMDLINE_OPTS" >> ${commandLog}`,
      `remove pvt_cmd echo "remove $MODPROBE_MODULE" >> ${commandLog}`,
      'install pvt_fail exit 3',
      '',
    ].join('\n'),
  );
  const commands = new KmodContext({ moduleDir: standalone.dir, configPaths: [confOnly] });
  const done = await commands.insert('pvt_cmd a=1  b=2');
  t.same(done.map((s) => [s.action, s.module, s.options]), [['install-command', 'pvt_cmd', 'a=1 b=2']]);
  t.same(await commands.remove('pvt_cmd'), [{ action: 'remove-command', module: 'pvt_cmd', path: join(standalone.dir, 'kernel/drivers/pvtest/pvt_cmd.ko'), options: '', role: 'target', command: `echo "remove $MODPROBE_MODULE" >> ${commandLog}` }]);
  t.equal(readFileSync(commandLog, 'utf8'), 'install pvt_cmd a=1 b=2\nremove pvt_cmd\n');
  const exitCode = await rejection(commands.insert('pvt_fail'));
  t.equal(exitCode.message, 'insert "pvt_fail": command "exit 3" exited with status 3 (EIO)');
});

t.test('an install or remove command that hangs is killed at the timeout with a clear error', async (t) => {
  const hanging = buildModuleTree(join(root, 'hanging'), { modules: [{ name: 'pvt_hang' }] });
  const confHang = join(root, 'hang.conf');
  const childPidFile = join(root, 'hang.pid');
  // The shell starts a child and waits for it: the kill must reach the whole process group.
  writeFileSync(confHang, [`install pvt_hang sleep 600 & echo $! > ${childPidFile}; wait`, 'remove pvt_hang sleep 600', ''].join('\n'));
  const commands = new KmodContext({ moduleDir: hanging.dir, configPaths: [confHang], commandTimeoutMs: 1000 });

  const pending = bounded(commands.insert('pvt_hang'), 'insert pvt_hang');
  for (let waited = 0; !existsSync(childPidFile) && waited < 5000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
  t.ok(existsSync(childPidFile), 'the install command is running');
  // The wait runs on a thread of its own, not on the runtime's shared pool (docs/native-threads.md).
  const threads = readdirSync('/proc/self/task').map((task) => readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim());
  t.ok(threads.includes('pvctrl-kmod'), `a pvctrl-kmod thread while the command runs (threads: ${[...new Set(threads)].join(', ')})`);
  const inserting = await rejection(pending);
  t.equal(inserting.message, `insert "pvt_hang": command "sleep 600 & echo $! > ${childPidFile}; wait" did not finish within 1000 ms and was killed (ETIMEDOUT)`);
  t.equal(inserting.code, 'ETIMEDOUT');
  t.equal(inserting.module, 'pvt_hang');
  t.same(inserting.steps.map((s) => s.action), ['install-command']);
  const childPid = Number(readFileSync(childPidFile, 'utf8').trim());
  t.ok(Number.isInteger(childPid) && childPid > 0, `the command's child pid ${childPid}`);
  // SIGKILL is delivered before the shell is reaped; the child is gone, or a zombie of init's.
  t.notOk(isRunning(childPid), "the command's child was killed with it");

  const removing = await rejection(bounded(commands.remove('pvt_hang'), 'remove pvt_hang'));
  t.equal(removing.message, 'remove "pvt_hang": command "sleep 600" did not finish within 1000 ms and was killed (ETIMEDOUT)');
  t.equal(removing.syscall, 'remove command');
});

t.test('remove of a module that is not loaded, and of an unknown one', async (t) => {
  const notLoaded = await rejection(kmod.remove('pvt_solo'));
  t.equal(notLoaded.message, 'remove "pvt_solo": module is not loaded (ENOENT)');
  t.equal(notLoaded.module, 'pvt_solo');
  t.same(notLoaded.steps, [], 'nothing attempted');
  const unknown = await rejection(kmod.remove('pvt_nosuch'));
  t.equal(unknown.message, `remove "pvt_nosuch": module not found in ${tree.dir} (ENOENT)`);
  const builtin = await rejection(kmod.remove('pvt_builtin'));
  t.equal(builtin.message, 'remove "pvt_builtin": module is built into the kernel (EPERM)');
});

t.test('a module tree without indexes: a clear error instead of libkmod ENOSYS', async (t) => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'modules.dep'), 'kernel/foo.ko:\n');
  const missing = new KmodContext({ moduleDir: empty, configPaths: [] });
  const error = thrown(() => missing.plan('foo', 'insert')) as KmodError;
  t.equal(error.message, `plan "foo": no module index ${empty}/modules.dep.bin (No such file or directory; run depmod) (ENOENT)`, 'the text modules.dep alone is not enough');
  t.equal((await rejection(missing.insert('foo'))).code, 'ENOENT');
});

t.test('the module root: PVCTRL_MODULES_DIR or /lib/modules/<uname -r>', async (t) => {
  t.equal(defaultModuleDir({ [MODULES_DIR_ENV]: '/x/lib/modules/1.2.3' }), '/x/lib/modules/1.2.3');
  t.match(defaultModuleDir({}), /^\/lib\/modules\/\S+$/);
  t.equal(new KmodContext({ moduleDir: tree.dir }).moduleDir, tree.dir);
});

t.test('every native entry point validates its arguments', async (t) => {
  const addon = addonExports('lazy') as Record<string, (...args: unknown[]) => unknown>;
  const options = { moduleDir: tree.dir, configPaths: [] };
  const cases: [string, unknown[], RegExp][] = [
    ['kmodResolve', [options], /kmodResolve: expected 2 arguments, got 1/],
    ['kmodResolve', [null, 'x'], /kmodResolve: options must be an object/],
    ['kmodResolve', [{}, 'x'], /options.moduleDir must be a string/],
    ['kmodResolve', [{ moduleDir: '' }, 'x'], /options.moduleDir must be a non-empty path/],
    ['kmodResolve', [{ moduleDir: 'a\0b' }, 'x'], /without NUL/],
    ['kmodResolve', [{ moduleDir: tree.dir, configPaths: 'x' }, 'x'], /options.configPaths must be an array/],
    ['kmodResolve', [{ moduleDir: tree.dir, configPaths: [''] }, 'x'], /options.configPaths\[0\] must be a non-empty path/],
    ['kmodResolve', [{ moduleDir: tree.dir, ignoreCommands: 1 }, 'x'], /options.ignoreCommands must be a boolean/],
    ['kmodResolve', [{ moduleDir: tree.dir, commandTimeoutMs: 0 }, 'x'], /options.commandTimeoutMs must be an integer from 1 to 86400000/],
    ['kmodInsert', [{ moduleDir: tree.dir, commandTimeoutMs: 1.5 }, 'x'], /options.commandTimeoutMs must be an integer/],
    ['kmodRemove', [{ moduleDir: tree.dir, commandTimeoutMs: '10' }, 'x'], /options.commandTimeoutMs must be an integer/],
    ['kmodResolve', [options, 'two words'], /kmodResolve: name must be a single word/],
    ['kmodResolve', [options, 42], /kmodResolve: name must be a string naming a module/],
    ['kmodPlan', [options, '   ', 'insert'], /kmodPlan: moduleSpec must be a string naming a module/],
    ['kmodPlan', [options, 'x'.repeat(5000), 'insert'], /at most 4096 bytes/],
    ['kmodPlan', [options, 'pvt_core', 'load'], /kmodPlan: action must be "insert" or "remove"/],
    ['kmodInsert', [options, ''], /kmodInsert: moduleSpec must be a string naming a module/],
    ['kmodInsert', [options, 'a', 'b'], /kmodInsert: expected 2 arguments, got 3/],
    ['kmodRemove', [options, 'pvt_core opt=1'], /kmodRemove: name must be a single word/],
  ];
  for (const [fn, args, message] of cases) {
    const error = thrown(() => addon[fn]!(...args));
    t.type(error, TypeError, `${fn}(${JSON.stringify(args).slice(0, 60)}) → TypeError`);
    t.match(error.message, message);
  }
});
