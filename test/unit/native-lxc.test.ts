/**
 * The liblxc binding against real LXC: busybox containers started, stopped, shut down and adopted
 * across processes, with their cgroup placement checked in every hierarchy.
 *
 * Run as: node_modules/.bin/bun test/unit/native-lxc.test.ts (needs root, liblxc and /bin/busybox).
 *
 * Containers use lxc.cgroup.relative = 1 so their cgroups sit below this process's own cgroup (on
 * the reference VM the session lives in a v1 memory cgroup that should keep accounting for them);
 * one case uses the production default (0) to check the exact paths the daemon relies on.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddonPath, nativeSha256File } from '../../src/native/index.ts';
import {
  LXC_START_HELPER_FILE,
  lxcConfigItemSupported,
  lxcStartHelper,
  lxcVersion,
  openLxcContainer,
  type LxcContainerHandle,
} from '../../src/native/lxc.ts';
import {
  containerCgroupPaths,
  findContainerCgroups,
  lxcCgroupOverrides,
  removeStaleContainerCgroups,
  startInCleanCgroups,
  type LxcCgroupOptions,
} from '../../src/runtime/cgroups.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// A no-op when the addon and the helper are current; keeps this file runnable on a fresh checkout.
const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: root, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

// 20 start/stop cycles and a few deliberate timeouts need more than tap's default 30 s on a slow VM.
t.setTimeout(180_000);

const RELATIVE: LxcCgroupOptions = { relative: true };
const dir = mkdtempSync(join(tmpdir(), 'pvctrl-lxc-'));
const lxcPath = join(dir, 'lxc');
const rootfs = join(dir, 'rootfs');
const hostFile = join(dir, 'host-file');
const outDir = join(dir, 'out');
const opened: LxcContainerHandle[] = [];
let counter = 0;

/** Unique per run: another test run (or another engineer's) may use LXC on the same machine. */
function uniqueName(label: string): string {
  counter += 1;
  return `pvlxct-${process.pid}-${label}-${counter}`;
}

function buildRootfs(): void {
  for (const sub of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'mnt', 'out']) mkdirSync(join(rootfs, sub), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const applet of ['sh', 'sleep', 'cat', 'echo', 'ls', 'kill', 'true']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  // lxc.init.cmd is split on spaces without any quoting, so shell programs live in files.
  const scripts: Record<string, string> = {
    // Exits on the halt signal; `wait` returns as soon as a trapped signal arrives.
    'graceful.sh': "trap 'exit 0' PWR TERM\ncat /mnt/host-file > /out/seen-$1\nwhile :; do sleep 5 & wait $!; done\n",
    // PID 1 of a pid namespace ignores every signal it has no handler for, SIGPWR included.
    'stubborn.sh': 'while :; do sleep 1; done\n',
    'exit-soon.sh': 'sleep 0.3\nexit 3\n',
  };
  for (const [file, text] of Object.entries(scripts)) writeFileSync(join(rootfs, file), text);
  writeFileSync(hostFile, 'hello from the host\n');
  mkdirSync(outDir, { recursive: true });
}

interface ContainerOptions {
  init?: string;
  cgroup?: LxcCgroupOptions;
  extra?: Array<[string, string]>;
}

function configure(name: string, options: ContainerOptions = {}): LxcContainerHandle {
  const handle = openLxcContainer(name, lxcPath);
  opened.push(handle);
  const items: Array<[string, string]> = [
    ['lxc.rootfs.path', `dir:${rootfs}`],
    ['lxc.uts.name', name.slice(0, 60)],
    ['lxc.init.cmd', options.init ?? `/bin/sh /graceful.sh ${name}`],
    ['lxc.net.0.type', 'empty'],
    ['lxc.mount.auto', 'proc:mixed sys:ro'],
    ['lxc.mount.entry', `${hostFile} mnt/host-file none bind,ro,create=file 0 0`],
    ['lxc.mount.entry', `${outDir} out none bind,create=dir 0 0`],
    ['lxc.log.file', join(dir, `${name}.log`)],
    ...lxcCgroupOverrides(name, options.cgroup ?? RELATIVE),
    ...(options.extra ?? []),
  ];
  if (existsSync('/sys/kernel/security/apparmor')) items.push(['lxc.apparmor.profile', 'unconfined']);
  for (const [key, value] of items) handle.setConfigItem(key, value);
  return handle;
}

function cgroupLines(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
}

function processAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

function statusField(pid: number, field: string): string {
  const match = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return match[1] as string;
}

/** Waits until `pid` has a handler for `signal` (SigCgt), as a halt signal to PID 1 needs. */
async function handlesSignal(pid: number, signal: number): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if ((BigInt(`0x${statusField(pid, 'SigCgt')}`) >> BigInt(signal - 1)) & 1n) return true;
    await Bun.sleep(20);
  }
  return false;
}

function fdTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '(gone)';
    }
  });
}

async function caught(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await promise;
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error('expected a throw');
}

/** Run a Bun script in a child process; resolves with its stdout once it exits. */
function runBun(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(dir, `child-${counter}-${Date.now()}.ts`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const facade = fileURLToPath(new URL('../../src/native/lxc.ts', import.meta.url));
const cgroupsModule = fileURLToPath(new URL('../../src/runtime/cgroups.ts', import.meta.url));

t.before(() => buildRootfs());

t.teardown(async () => {
  for (const handle of opened) {
    try {
      if (handle.isRunning()) await handle.stop();
    } catch {
      // Released or already gone.
    }
    try {
      removeStaleContainerCgroups(handle.name, RELATIVE);
      removeStaleContainerCgroups(handle.name);
      handle.release();
    } catch {
      // Released already.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

t.test('version, config keys and the start helper', async (t) => {
  t.match(lxcVersion(), /^\d+\.\d+\.\d+/, 'liblxc version string');
  for (const key of ['lxc.cgroup.dir.container', 'lxc.cgroup.dir.monitor', 'lxc.cgroup.dir.monitor.pivot', 'lxc.cgroup.relative']) {
    t.ok(lxcConfigItemSupported(key), `${key} is supported by this liblxc`);
  }
  t.notOk(lxcConfigItemSupported('lxc.no.such.key'));
  const helper = lxcStartHelper();
  t.equal(helper, join(join(nativeAddonPath('lazy') as string, '..'), LXC_START_HELPER_FILE), 'next to the loaded lazy addon (the one carrying LXC)');
  t.throws(() => lxcStartHelper({ PVCTRL_LXC_START_HELPER: join(dir, 'missing') }), /is not executable/);

  // The gyp build must ship the helper next to its .node too (built by test/unit/native-gyp.test.ts).
  const gypHelper = join(root, 'build', 'gyp', 'build', 'Release', LXC_START_HELPER_FILE);
  if (existsSync(join(root, 'build', 'gyp', 'build', 'Release', 'pvctrl_native_lazy.node'))) {
    t.ok(existsSync(gypHelper), 'gyp build has pvctrl-lxc-start next to pvctrl_native_lazy.node');
  }
});

t.test('argument validation and clear errors', async (t) => {
  t.throws(() => openLxcContainer('a/b', lxcPath), { name: 'TypeError', message: /invalid container name "a\/b"/ });
  t.throws(() => openLxcContainer('..', lxcPath), { name: 'TypeError' });
  t.throws(() => openLxcContainer('with space', lxcPath), { name: 'TypeError' });
  t.throws(() => openLxcContainer('ok', 'relative/path'), { name: 'TypeError', message: /lxcPath must be an absolute path/ });

  const name = uniqueName('args');
  const handle = configure(name);
  t.equal(handle.name, name);
  t.equal(handle.lxcPath, lxcPath);
  t.equal(handle.state(), 'STOPPED');
  t.equal(handle.initPid(), -1);
  t.equal(handle.isRunning(), false);
  t.equal(handle.getConfigItem('lxc.cgroup.dir.container'), `lxc/${name}`);
  t.equal(handle.getConfigItem('lxc.hook.pre-start'), undefined, 'unset key reads as undefined');

  t.match(thrown(() => handle.setConfigItem('lxc.no.such.key', 'x')), { code: 'ERR_LXC_CONFIG', message: /lxc setConfigItem ".*": liblxc rejected lxc\.no\.such\.key/ });
  t.match(thrown(() => handle.getConfigItem('lxc.no.such.key')), { code: 'ERR_LXC_CONFIG' });
  t.match(thrown(() => handle.setConfigItem('lxc.uts.name', 'a\nb')), { name: 'TypeError', message: /newline/ });
  t.match(thrown(() => handle.setConfigItem('bad key', 'x')), { name: 'TypeError' });
  t.match(thrown(() => handle.loadConfig(join(dir, 'missing.conf'))), { code: 'ENOENT', syscall: 'access' });

  t.match(await caught(handle.start([])), { name: 'TypeError', message: /argv must not be empty/ });
  t.match(await caught(handle.start(['bin/sh'])), { name: 'TypeError', message: /argv\[0\] must be an absolute path/ });
  t.match(thrown(() => handle.shutdown(-1)), { name: 'TypeError', message: /timeoutSeconds must be a non-negative integer/ });
  t.match(thrown(() => handle.shutdown(1.5)), { name: 'TypeError' });
  t.match(thrown(() => handle.wait('RUNNIN' as 'RUNNING', 1)), { name: 'TypeError', message: /unknown state "RUNNIN"/ });

  t.equal(await handle.wait('STOPPED', 0), true, 'a stopped container is STOPPED');
  t.equal(await handle.shutdown(1), true, 'shutdown of a stopped container reports stopped');
  await handle.stop();

  handle.release();
  handle.release();
  t.match(thrown(() => handle.state()), { code: 'ERR_LXC_RELEASED', message: `lxc state "${name}": handle already released` });
  t.match(await caught(handle.start()), { code: 'ERR_LXC_RELEASED' });
});

t.test('config file round trip: loadConfig, overrides, saveConfig', async (t) => {
  const name = uniqueName('conf');
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, `lxc.rootfs.path = dir:${rootfs}\nlxc.uts.name = fromfile\nlxc.init.cmd = /bin/sh /graceful.sh x\n`);
  const handle = openLxcContainer(name, lxcPath);
  opened.push(handle);
  handle.loadConfig(file);
  t.equal(handle.getConfigItem('lxc.uts.name'), 'fromfile');
  handle.setConfigItem('lxc.uts.name', 'override');
  for (const [key, value] of lxcCgroupOverrides(name)) handle.setConfigItem(key, value);
  handle.clearConfigItem('lxc.init.cmd');
  t.equal(handle.getConfigItem('lxc.init.cmd'), undefined, 'cleared');
  const saved = join(dir, `${name}.saved`);
  handle.saveConfig(saved);
  const text = readFileSync(saved, 'utf8');
  t.match(text, /^lxc\.uts\.name = override$/m);
  t.match(text, new RegExp(`^lxc\\.cgroup\\.dir\\.container = lxc/${name}$`, 'm'));
  t.match(text, new RegExp(`^lxc\\.cgroup\\.dir\\.monitor = lxc\\.monitor/${name}$`, 'm'));
  t.match(text, /^lxc\.cgroup\.dir\.monitor\.pivot = lxc\.monitor$/m);
  t.notMatch(text, /lxc\.init\.cmd/);
});

t.test('start: RUNNING, cgroup lxc/<name> everywhere, bind mounts, clean process state', async (t) => {
  const name = uniqueName('run');
  const handle = configure(name);
  const marker = openSync(join(dir, 'fd-marker'), 'w');
  process.env.PVCTRL_LXC_TEST_MARKER = 'leak';
  const ballast = new Uint8Array(64 << 20).fill(7); // a big heap the monitor must not inherit
  try {
    const started = performance.now();
    await handle.start();
    t.comment(`start took ${(performance.now() - started).toFixed(1)} ms`);
  } finally {
    closeSync(marker);
    delete process.env.PVCTRL_LXC_TEST_MARKER;
  }
  t.equal(handle.state(), 'RUNNING');
  t.equal(handle.isRunning(), true);
  const pid = handle.initPid();
  t.ok(pid > 0, `init pid ${pid}`);
  t.ok(processAlive(pid), 'init process exists');

  const lines = cgroupLines(pid);
  for (const line of lines) t.match(line, new RegExp(`/lxc/${name}$`), `init cgroup: ${line}`);
  t.ok(lines.includes(`0::/lxc/${name}`), 'unified hierarchy: exactly /lxc/<name> (our base is the root)');
  t.ok(lines.length > 1, 'v1 hierarchies are used as well on this hybrid layout');
  t.equal(findContainerCgroups(name, RELATIVE).length, 2 * lines.length, 'container and monitor cgroups in every hierarchy');
  t.notMatch(readFileSync('/proc/self/cgroup', 'utf8'), /lxc/, 'the caller was not moved into the monitor cgroup');

  const monitor = Number(statusField(pid, 'PPid'));
  t.match(readFileSync(`/proc/${monitor}/cmdline`, 'utf8'), /^\[lxc monitor\]/, 'parent of init is the monitor');
  t.not(Number(statusField(monitor, 'PPid')), process.pid, 'the monitor is not our child (daemonized)');
  for (const line of cgroupLines(monitor)) t.match(line, new RegExp(`/lxc\\.monitor/${name}$`), `monitor cgroup: ${line}`);
  const monitorPrivate = Number(/^Private_Dirty:\s*(\d+) kB$/m.exec(readFileSync(`/proc/${monitor}/smaps_rollup`, 'utf8'))?.[1]);
  t.ok(monitorPrivate < 16 * 1024, `monitor private memory ${monitorPrivate} kB (a fork of this process would carry its heap)`);
  t.ok(ballast[0] === 7);

  // The monitor is liblxc's own process: what it has, init and every hook inherit. (busybox sh
  // as init ignores SIGQUIT on its own, so init itself is checked in the argv test.)
  t.equal(statusField(monitor, 'SigIgn'), '0000000000000000', "monitor inherits none of the runtime's ignored signals");
  t.equal(statusField(pid, 'SigBlk'), '0000000000000000', 'init starts with no blocked signals');
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  t.ok(environ.includes('container=lxc'));
  t.notOk(environ.some((entry) => entry.startsWith('PVCTRL_LXC_TEST_MARKER=')), 'environment not inherited');
  for (const target of [...fdTargets(pid), ...fdTargets(monitor)]) t.not(target, join(dir, 'fd-marker'), `no inherited fd: ${target}`);

  t.equal(readFileSync(`/proc/${pid}/root/mnt/host-file`, 'utf8'), 'hello from the host\n', 'host file bind-mounted');
  const seen = join(outDir, `seen-${name}`);
  const readSeen = (): string => (existsSync(seen) ? readFileSync(seen, 'utf8') : '');
  // The shell creates the file before cat fills it.
  for (let i = 0; i < 250 && readSeen() === ''; i++) await Bun.sleep(20);
  t.equal(readSeen(), 'hello from the host\n', 'the container read it and wrote through a rw bind mount');

  t.match(await caught(handle.start()), { code: 'ERR_LXC_ALREADY_RUNNING', message: new RegExp(`already running \\(init pid ${pid}\\)`) });
  t.equal(await handle.wait('RUNNING', 1), true);
  t.equal(await handle.wait('STOPPED', 0), false, 'timeout 0 answers from the current state at once');

  t.ok(await handlesSignal(pid, 30), 'init trapped SIGPWR');
  const stopping = performance.now();
  t.equal(await handle.shutdown(10), true, 'graceful shutdown (init traps SIGPWR)');
  t.comment(`shutdown took ${(performance.now() - stopping).toFixed(1)} ms`);
  t.equal(handle.state(), 'STOPPED');
  t.equal(handle.initPid(), -1);
  t.notOk(processAlive(pid), 'init is gone');
  t.same(findContainerCgroups(name, RELATIVE), [], 'no cgroup directories left');
  for (let i = 0; i < 100 && processAlive(monitor); i++) await Bun.sleep(20);
  t.notOk(processAlive(monitor), 'monitor exited');
});

t.test('production cgroup placement (lxc.cgroup.relative = 0): exactly /lxc/<name> in every hierarchy', async (t) => {
  const name = uniqueName('abs');
  const handle = configure(name, { cgroup: {} });
  t.equal(handle.getConfigItem('lxc.cgroup.relative'), '0');
  await handle.start();
  const pid = handle.initPid();
  const ownCgroups = readFileSync('/proc/1/cgroup', 'utf8');
  for (const line of cgroupLines(pid)) {
    const [id, controllers] = line.split(':');
    const base = new RegExp(`^${id}:${controllers}:(.*)$`, 'm').exec(ownCgroups)?.[1] ?? '/';
    t.equal(line, `${id}:${controllers}:${base === '/' ? '' : base}/lxc/${name}`, `below init's cgroup: ${line}`);
  }
  t.ok(findContainerCgroups(name).length > 0);
  await handle.stop();
  t.equal(handle.state(), 'STOPPED');
  t.same(findContainerCgroups(name), [], 'no cgroup directories left');
});

t.test('shutdown falls back: an init that ignores SIGPWR times out, then stop() kills it', async (t) => {
  const name = uniqueName('stubborn');
  const handle = configure(name, { init: '/bin/sh /stubborn.sh' });
  await handle.start();
  const pid = handle.initPid();

  // The wait must not hold the loop or the shared thread pool (sha256File uses it).
  let ticks = 0;
  const ticker = setInterval(() => (ticks += 1), 50);
  const shutdown = handle.shutdown(2);
  const hashStarted = performance.now();
  writeFileSync(join(dir, 'small'), 'x');
  await nativeSha256File(join(dir, 'small'));
  const hashMs = performance.now() - hashStarted;
  const began = performance.now();
  const stopped = await shutdown;
  const waited = performance.now() - began + hashMs;
  clearInterval(ticker);

  t.equal(stopped, false, 'shutdown reports it did not stop');
  t.ok(waited >= 1500 && waited < 6000, `waited about the timeout (${waited.toFixed(0)} ms)`);
  t.ok(ticks >= 20, `event loop kept running (${ticks} ticks of 50 ms)`);
  t.ok(hashMs < 1000, `thread pool stayed free during the wait (sha256File took ${hashMs.toFixed(1)} ms)`);
  t.equal(handle.state(), 'RUNNING');
  t.equal(handle.initPid(), pid, 'same init still running');

  const killing = performance.now();
  await handle.stop();
  t.comment(`stop took ${(performance.now() - killing).toFixed(1)} ms`);
  t.equal(handle.state(), 'STOPPED');
  t.notOk(processAlive(pid));
  t.same(findContainerCgroups(name, RELATIVE), []);
});

t.test('lxc.signal.halt is honoured', async (t) => {
  const name = uniqueName('halt');
  const handle = configure(name, { extra: [['lxc.signal.halt', 'SIGTERM']] });
  await handle.start();
  // Until the shell has run `trap`, PID 1 ignores the signal and the shutdown would only time out.
  t.ok(await handlesSignal(handle.initPid(), 15), 'init trapped SIGTERM');
  t.equal(await handle.shutdown(10), true, 'init trapping SIGTERM stopped');
  t.same(findContainerCgroups(name, RELATIVE), []);
});

t.test('argv overrides lxc.init.cmd; a container whose init exits is cleaned up by its monitor', async (t) => {
  const name = uniqueName('exit');
  const handle = configure(name);
  // busybox sleep touches no signal state, so this shows exactly what init inherits.
  await handle.start(['/bin/sleep', '1000']);
  const sleeper = handle.initPid();
  t.match(readFileSync(`/proc/${sleeper}/cmdline`, 'utf8'), /^\/bin\/sleep\x001000\x00$/);
  t.equal(statusField(sleeper, 'SigIgn'), '0000000000000000', "init inherits none of the runtime's ignored signals");
  t.equal(statusField(sleeper, 'SigBlk'), '0000000000000000', 'nor its blocked mask');
  await handle.stop(0);
  t.equal(await handle.wait('STOPPED', 5), true, 'stop(0) does not wait, wait() does');

  await handle.start(['/bin/sh', '-c', 'echo "argv works" > /out/argv-$0; sleep 0.3; exit 3', name]);
  t.equal(handle.state(), 'RUNNING');
  t.equal(await handle.wait('STOPPED', 10), true, 'STOPPED once init exits');
  t.equal(readFileSync(join(outDir, `argv-${name}`), 'utf8'), 'argv works\n', 'quoted argv reached init intact');
  t.equal(handle.isRunning(), false);
  t.same(findContainerCgroups(name, RELATIVE), []);
});

t.test('start failure: the reason from lxc.log.file, nothing left behind', async (t) => {
  const name = uniqueName('fail');
  const handle = configure(name, { extra: [['lxc.rootfs.path', `dir:${join(dir, 'no-such-rootfs')}`]] });
  const error = await caught(startInCleanCgroups(handle, name, RELATIVE));
  t.equal(error.code, 'ERR_LXC_START');
  t.match(error.message, new RegExp(`^lxc start "${name}": .*No such file or directory - Failed to open "${join(dir, 'no-such-rootfs')}"`));
  t.equal((error as unknown as { logFile: string }).logFile, join(dir, `${name}.log`));
  t.equal(handle.state(), 'STOPPED');
  t.same(findContainerCgroups(name, RELATIVE), [], 'monitor cgroups of the failed start removed');

  // Without lxc.log.file the facade picks <lxcPath>/<name>/lxc.log so there is a reason to report.
  const bare = uniqueName('nolog');
  const other = openLxcContainer(bare, lxcPath);
  opened.push(other);
  other.setConfigItem('lxc.rootfs.path', `dir:${join(dir, 'no-such-rootfs')}`);
  for (const [key, value] of lxcCgroupOverrides(bare, RELATIVE)) other.setConfigItem(key, value);
  t.match(await caught(startInCleanCgroups(other, bare, RELATIVE)), { code: 'ERR_LXC_START', message: /Failed to open/ });
  t.equal(other.getConfigItem('lxc.log.file'), join(lxcPath, bare, 'lxc.log'));
});

t.test('stale cgroups (runtime/cgroups.ts): empty ones are removed before start, busy ones are reported', async (t) => {
  const name = uniqueName('stale');
  const handle = configure(name, { init: '/bin/sh /stubborn.sh' });
  // A leftover like the one a crashed monitor leaves; liblxc alone would fail with
  // "Numerical result out of range - Failed to create container cgroup".
  const unified = unifiedContainerCgroup(name);
  mkdirSync(join(unified, 'child'), { recursive: true });
  await startInCleanCgroups(handle, name, RELATIVE);
  t.equal(handle.state(), 'RUNNING', 'started despite the empty leftover');
  await handle.stop();

  // A process still sitting in lxc/<name> (escaped from an earlier run): refuse with a reason.
  mkdirSync(unified, { recursive: true });
  const squatter = spawn('/bin/busybox', ['sleep', '30'], { stdio: 'ignore' });
  await new Promise((resolve) => squatter.once('spawn', resolve));
  writeFileSync(join(unified, 'cgroup.procs'), String(squatter.pid));
  try {
    const error = await caught(startInCleanCgroups(handle, name, RELATIVE));
    t.match(error, { code: 'ERR_LXC_START', message: /stale cgroups still in use: .* \(processes of an earlier run\)/ });
    t.equal(handle.state(), 'STOPPED');
  } finally {
    writeFileSync('/sys/fs/cgroup/unified/cgroup.procs', String(squatter.pid));
    squatter.kill('SIGKILL');
  }
  t.same(removeStaleContainerCgroups(name, RELATIVE), [], 'removable once empty');
  t.same(findContainerCgroups(name, RELATIVE), []);
});

/** The unified-hierarchy directory of lxc/<name> with relative placement (below our own cgroup). */
function unifiedContainerCgroup(name: string): string {
  const base = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
  return join('/sys/fs/cgroup/unified', base, containerCgroupPaths(name)[0] as string);
}

t.test('busy guards: one start at a time, no config edits while starting', async (t) => {
  const name = uniqueName('busy');
  const handle = configure(name);
  const first = handle.start();
  t.match(await caught(handle.start()), { code: 'ERR_LXC_BUSY', message: /start\(\) already in progress/ });
  t.match(thrown(() => handle.setConfigItem('lxc.uts.name', 'x')), { code: 'ERR_LXC_BUSY' });
  t.equal(typeof handle.state(), 'string', 'state queries stay allowed');
  await first;
  handle.setConfigItem('lxc.uts.name', 'allowed-again');
  // Released mid-operation: the task keeps its own reference.
  const stopping = handle.stop();
  handle.release();
  await stopping;
  t.same(findContainerCgroups(name, RELATIVE), []);
});

t.test('20 start/stop cycles in a row, and three containers at once', async (t) => {
  const name = uniqueName('loop');
  const handle = configure(name);
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const pids = new Set<number>();
  const began = performance.now();
  for (let round = 0; round < 20; round++) {
    await handle.start();
    const pid = handle.initPid();
    if (handle.state() !== 'RUNNING' || pid <= 0 || !processAlive(pid)) t.fail(`round ${round}: not running (pid ${pid})`);
    if (!cgroupLines(pid).includes(`0::/lxc/${name}`)) t.fail(`round ${round}: wrong cgroup`);
    pids.add(pid);
    await handle.stop();
    if (handle.state() !== 'STOPPED' || processAlive(pid)) t.fail(`round ${round}: not stopped`);
    if (findContainerCgroups(name, RELATIVE).length !== 0) t.fail(`round ${round}: cgroups left`);
  }
  t.comment(`20 cycles in ${(performance.now() - began).toFixed(0)} ms`);
  t.equal(pids.size, 20, 'a fresh init every round');
  t.ok(readdirSync('/proc/self/fd').length <= fdsBefore + 2, 'no fd leak across cycles');
  const zombies = spawnSync('ps', ['-o', 'stat=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
  t.notMatch(zombies, /Z/, 'start helpers are reaped');

  const names = [uniqueName('par'), uniqueName('par'), uniqueName('par')];
  const handles = names.map((each) => configure(each));
  await Promise.all(handles.map((each) => each.start()));
  for (const [index, each] of handles.entries()) {
    t.equal(each.state(), 'RUNNING', `${names[index]} running`);
    t.ok(cgroupLines(each.initPid()).includes(`0::/lxc/${names[index]}`));
  }
  await Promise.all(handles.map((each) => each.stop()));
  for (const each of names) t.same(findContainerCgroups(each, RELATIVE), []);
});

t.test('adoption across processes: containers outlive the process that started them', async (t) => {
  // 1. A child process starts a container and exits without stopping it.
  const name = uniqueName('adopt');
  const starter = `
import { openLxcContainer } from ${JSON.stringify(facade)};
import { lxcCgroupOverrides } from ${JSON.stringify(cgroupsModule)};
const [name, lxcPath, rootfs, log] = process.argv.slice(2);
const handle = openLxcContainer(name, lxcPath);
for (const [key, value] of [
  ['lxc.rootfs.path', 'dir:' + rootfs], ['lxc.init.cmd', '/bin/sh /stubborn.sh'], ['lxc.net.0.type', 'empty'],
  ['lxc.log.file', log], ...lxcCgroupOverrides(name, { relative: true }),
]) handle.setConfigItem(key, value);
await handle.start();
console.log(JSON.stringify({ pid: handle.initPid(), state: handle.state() }));
process.exit(0);
`;
  const started = await runBun(starter, [name, lxcPath, rootfs, join(dir, `${name}.log`)]);
  t.equal(started.code, 0, `starter exited 0 ${started.stderr}`);
  const reported = JSON.parse(started.stdout.trim()) as { pid: number; state: string };
  t.equal(reported.state, 'RUNNING');

  const adopted = openLxcContainer(name, lxcPath);
  opened.push(adopted);
  t.equal(adopted.isRunning(), true, 'still running after its starter exited');
  t.equal(adopted.initPid(), reported.pid, 'same init pid');
  t.ok(cgroupLines(reported.pid).includes(`0::/lxc/${name}`));

  // 2. Another process opens the same container and reads the same pid.
  const reader = `
import { openLxcContainer } from ${JSON.stringify(facade)};
const handle = openLxcContainer(process.argv[2], process.argv[3]);
console.log(JSON.stringify({ pid: handle.initPid(), running: handle.isRunning(), state: handle.state() }));
handle.release();
`;
  const read = await runBun(reader, [name, lxcPath]);
  t.same(JSON.parse(read.stdout.trim()), { pid: reported.pid, running: true, state: 'RUNNING' }, 'second process sees it too');

  // 3. The adopting handle controls it: stop works without ever having started it.
  await adopted.stop();
  t.equal(adopted.state(), 'STOPPED');
  t.notOk(processAlive(reported.pid));
  t.same(findContainerCgroups(name, RELATIVE), [], 'adopted container cleaned up on stop');
});

t.test('no leftovers from this file', async (t) => {
  for (const handle of opened) {
    let name: string;
    try {
      name = handle.name;
    } catch {
      continue;
    }
    t.same(findContainerCgroups(name, RELATIVE), [], `${name}: no cgroups`);
    t.same(findContainerCgroups(name), [], `${name}: none with absolute placement either`);
  }
});
