/**
 * Issue 10, flash: one multicall executable per target. dist/<target>/ holds exactly one
 * runtime-sized file (pvctrl-bun behind the small pv-ctrl launcher; pv-ctrl itself where the
 * target has no native build), and it answers as pv-ctrl, pvcontrol and pv-xconnect (by the name
 * it runs under, and by a first argument where links are awkward). Not a timing test.
 *
 * Builds every target this machine can build (linux-x64 always; linux-arm64 with the cross
 * compiler and arm64 libraries of scripts/setup.sh; linux-arm64-musl needs neither), reusing
 * up-to-date ones. The programs run from the linux-x64 build on a temp storage without containers.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DIST_DIR, REPO_ROOT, runtimeBinary, runtimeFileOf, TARGETS, type Target } from '../../scripts/build-targets.ts';
import { DAEMON_RUNTIME_ENV } from '../../src/util/runtime-env.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const BUN = join(REPO_ROOT, 'node_modules', '.bin', 'bun');

function canBuild(target: Target): boolean {
  if (target.addon !== 'aarch64-linux-gnu') return target.addon !== 'host' || process.arch === 'x64';
  return existsSync('/usr/bin/aarch64-linux-gnu-g++') && existsSync('/usr/lib/aarch64-linux-gnu/liblxc.so.1') && existsSync('/usr/lib/aarch64-linux-gnu/pkgconfig/libkmod.pc');
}

const buildable = TARGETS.filter(canBuild);
const linuxX64 = TARGETS.find((target) => target.name === 'linux-x64');
if (linuxX64 === undefined) throw new Error('no linux-x64 target');
const build = spawnSync(BUN, [join(REPO_ROOT, 'scripts', 'build-targets.ts'), ...buildable.map((target) => target.name)], {
  cwd: REPO_ROOT,
  encoding: 'utf8',
  timeout: 10 * 60 * 1000,
});
if (build.status !== 0) throw new Error(`build-targets failed:\n${build.stdout}${build.stderr}`);

t.test('each target folder holds exactly one runtime-sized file; the programs are links to it', async (t) => {
  for (const target of buildable) {
    const dir = join(DIST_DIR, target.name);
    const runtimeBytes = statSync(runtimeBinary(target)).size;
    // Distinct files (a hard link would be the same inode) at least as big as half a runtime.
    const big = new Map<string, string>();
    for (const name of readdirSync(dir)) {
      const stat = lstatSync(join(dir, name));
      if (stat.isFile() && stat.size >= runtimeBytes / 2) big.set(`${stat.dev}:${stat.ino}`, name);
    }
    t.same([...big.values()], [runtimeFileOf(target)], `${target.name}: one runtime-sized file, ${runtimeFileOf(target)}`);
    for (const link of ['pvcontrol', 'pv-xconnect']) {
      t.equal(readlinkSync(join(dir, link)), 'pv-ctrl', `${target.name}/${link} is a symlink to pv-ctrl`);
    }
  }
});

t.test('the one file answers as pv-ctrl, pvcontrol and pv-xconnect', async (t) => {
  const dist = join(DIST_DIR, 'linux-x64');
  const exe = join(dist, 'pv-ctrl');
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-multicall-'));
  const socket = join(dir, 'run', 'pv-ctrl');
  const logFile = join(dir, 'pv-ctrl.log');
  const fd = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PVCTRL_NATIVE_ADDON;
  delete env.PV_XCONNECT_BIN;
  for (const name of Object.keys(DAEMON_RUNTIME_ENV)) delete env[name];
  const daemon = spawn(exe, ['--storage', join(dir, 'storage'), '--rundir', join(dir, 'run'), '--log-level', 'debug'], { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  t.teardown(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const waitFor = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (daemon.exitCode !== null || Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return true;
  };
  t.ok(await waitFor(() => log().includes('listening on'), 30_000), 'as pv-ctrl: the daemon starts');
  const daemonImage = statSync(`/proc/${daemon.pid}/exe`);
  const runtimeFile = statSync(join(dist, runtimeFileOf(linuxX64)));
  t.equal(`${daemonImage.dev}:${daemonImage.ino}`, `${runtimeFile.dev}:${runtimeFile.ino}`, 'the pid started as pv-ctrl runs the runtime-sized file (exec, not a child)');
  const environ = readFileSync(`/proc/${daemon.pid}/environ`, 'utf8').split('\0');
  for (const [name, value] of Object.entries(DAEMON_RUNTIME_ENV)) t.ok(environ.includes(`${name}=${value}`), `with ${name}=${value}, from a caller without it`);
  const buildinfo = await rawRequest(socket, 'GET', '/buildinfo');
  t.equal(buildinfo.status, 200, 'and answers GET /buildinfo');
  const steps = await rawRequest(socket, 'GET', '/steps');

  const pvcontrol = (command: string, args: string[]): { status: number | null; stdout: string } => {
    const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, env });
    if (result.status !== 0) t.comment(`${command} ${args.join(' ')}: ${result.stderr}`);
    return { status: result.status, stdout: result.stdout };
  };
  const byName = pvcontrol(join(dist, 'pvcontrol'), ['-s', socket, 'steps', 'ls']);
  t.equal(byName.status, 0, 'as pvcontrol (by its name): steps ls');
  t.same(JSON.parse(byName.stdout), JSON.parse(steps.body), 'shows what /steps shows');
  const byArgument = pvcontrol(exe, ['pvcontrol', '-s', socket, 'steps', 'ls']);
  t.equal(byArgument.status, 0, 'as pvcontrol (pv-ctrl pvcontrol …): steps ls');
  t.same(JSON.parse(byArgument.stdout), JSON.parse(steps.body), 'shows what /steps shows');
  t.match(pvcontrol(exe, ['pv-xconnect', '--help']).stdout, /^Usage: pv-xconnect/, 'pv-ctrl pv-xconnect --help answers as pv-xconnect');

  // The supervised pv-xconnect is the native one shipped next to it (issue 10: not a second
  // runtime); the multicall name stays for `pv-ctrl pv-xconnect` and PV_XCONNECT_BIN.
  let helper: number | undefined;
  const children = (): number[] =>
    readdirSync(`/proc/${daemon.pid}/task`).flatMap((task) => {
      const text = readFileSync(`/proc/${daemon.pid}/task/${task}/children`, 'utf8').trim();
      return text === '' ? [] : text.split(/\s+/).map(Number);
    });
  const isXconnect = (pid: number): boolean => {
    try {
      return (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '').endsWith('/pvctrl-xconnect');
    } catch {
      return false;
    }
  };
  t.ok(await waitFor(() => (helper = children().find(isXconnect)) !== undefined, 30_000), 'the daemon started pv-xconnect');
  if (helper !== undefined) {
    const real = statSync(join(dirname(exe), 'pvctrl-xconnect'));
    const running = statSync(`/proc/${helper}/exe`);
    t.equal(`${running.dev}:${running.ino}`, `${real.dev}:${real.ino}`, 'pv-xconnect runs the native helper next to pv-ctrl');
  }

  daemon.kill('SIGTERM');
  const timer = setTimeout(() => daemon.kill('SIGKILL'), 20_000);
  t.equal(await exited, 0, 'stops cleanly');
  clearTimeout(timer);
});
