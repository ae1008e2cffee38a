/**
 * The aarch64 build under emulation: dist/linux-arm64 (built by scripts/build-targets.ts, or reused
 * when up to date) runs under qemu-aarch64-static on a temp socket and storage. The daemon loads
 * the shipped addon (and refuses to start without it), answers /buildinfo and /steps, stores an
 * object and returns it with the right hash, and the aarch64 pvcontrol talks to it. Start-up
 * time under qemu is reported as a TAP comment.
 *
 * No `-L` for qemu: with Debian's arm64 libraries installed (scripts/setup.sh) the guest finds
 * /lib/ld-linux-aarch64.so.1 and its libraries at their normal paths; -L would mix two glibc
 * builds. This machine has no binfmt_misc entry for aarch64, so an aarch64 process started by
 * the guest (pv-xconnect) goes through a tiny wrapper that runs it under qemu too, and the
 * programs run as the runtime-sized pvctrl-bun under their names (`qemu -0 NAME`), as the pv-ctrl
 * launcher would start them (scripts/build-targets.ts programCommand): the launcher's own exec
 * of pvctrl-bun needs binfmt_misc here.
 *
 * Skipped (with the reason) where qemu-user-static, the cross compiler or the arm64 libraries
 * are missing; scripts/setup.sh installs all three.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_DIR, elfInfo, neededLibraries, programCommand, REPO_ROOT, RUNTIME_FILE, runtimeBinary, TARGETS, WORK_DIR } from '../../scripts/build-targets.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const QEMU = '/usr/bin/qemu-aarch64-static';
const target = TARGETS.find((candidate) => candidate.name === 'linux-arm64');
const dist = join(DIST_DIR, 'linux-arm64');
const BUN = join(REPO_ROOT, 'node_modules', '.bin', 'bun');

function skipReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'needs an x86_64 Linux build machine';
  if (!existsSync(QEMU)) return 'qemu-user-static is not installed (bash scripts/setup.sh)';
  if (!existsSync('/usr/bin/aarch64-linux-gnu-g++')) return 'g++-aarch64-linux-gnu is not installed (bash scripts/setup.sh)';
  if (!existsSync('/lib/ld-linux-aarch64.so.1') || !existsSync('/usr/lib/aarch64-linux-gnu/liblxc.so.1')) {
    return "Debian's arm64 libraries are not installed (bash scripts/setup.sh)";
  }
  return undefined;
}

interface Guest {
  child: ChildProcess;
  log(): string;
  exited: Promise<number | null>;
}

/** Run program `name` of `folder` under qemu with its output in a file (never a pipe that could fill). */
function startGuest(folder: string, name: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): Guest {
  if (target === undefined) throw new Error('no linux-arm64 target');
  const program = programCommand(target, folder, name);
  if (program === undefined || program.command !== QEMU) throw new Error(`cannot run ${name} under qemu`);
  const fd = openSync(logFile, 'a');
  const child = spawn(program.command, [...program.args, ...args], { stdio: ['ignore', fd, fd], env: { ...env, ...program.env } });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') };
}

async function waitFor(condition: () => boolean, guest: Guest, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (guest.child.exitCode !== null || guest.child.signalCode !== null || Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

function guestEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.PVCTRL_NATIVE_ADDON;
  delete env.PV_XCONNECT_BIN;
  return env;
}

const reason = skipReason();
if (reason !== undefined || target === undefined) {
  t.plan(0, reason ?? 'no linux-arm64 target');
} else {
  let work = '';

  t.before(() => {
    // Builds, or reuses dist/linux-arm64 when its inputs did not change (a few seconds).
    const started = Date.now();
    const build = spawnSync(BUN, [join(REPO_ROOT, 'scripts', 'build-targets.ts'), 'linux-arm64'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 8 * 60 * 1000,
    });
    if (build.status !== 0) throw new Error(`build-targets failed:\n${build.stdout}${build.stderr}`);
    t.comment(`build-targets linux-arm64: ${((Date.now() - started) / 1000).toFixed(1)} s (${build.stderr.split('\n').filter((line) => line.includes('linux-arm64:')).pop() ?? ''})`);
    // Next to dist/ so the daemon can be hard-linked (same file system) without its addon.
    mkdirSync(WORK_DIR, { recursive: true });
    work = mkdtempSync(join(WORK_DIR, 'smoke-'));
  });
  t.teardown(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  t.test('the artefacts are aarch64 glibc executables with the addon next to them', async (t) => {
    for (const file of ['pv-ctrl', 'pvcontrol', RUNTIME_FILE]) {
      const info = elfInfo(join(dist, file));
      t.equal(info.machine, 183, `${file} is EM_AARCH64`);
      t.equal(info.interpreter, '/lib/ld-linux-aarch64.so.1', `${file} uses the glibc loader`);
    }
    t.equal(elfInfo(join(dist, 'pvctrl_native.node')).machine, 183, 'pvctrl_native.node (the core addon) is aarch64');
    t.equal(elfInfo(join(dist, 'pvctrl_native_lazy.node')).machine, 183, 'pvctrl_native_lazy.node (loaded on first use) is aarch64');
    const coreNeeds = neededLibraries(join(dist, 'pvctrl_native.node'));
    t.notOk(coreNeeds.some((library) => /^(libcrypto|liblxc|libkmod)\./.test(library)), `the core addon needs none of the lazy libraries (${coreNeeds.join(', ')})`);
    t.equal(elfInfo(join(dist, 'pvctrl-lxc-start')).machine, 183, 'pvctrl-lxc-start is aarch64');
    t.equal(elfInfo(join(dist, 'pvctrl-xconnect')).machine, 183, 'pvctrl-xconnect (the native pv-xconnect) is aarch64');
    if (existsSync(join(REPO_ROOT, 'src', 'xconnect', 'main.ts'))) {
      t.equal(readlinkSync(join(dist, 'pv-xconnect')), 'pv-ctrl', 'pv-xconnect is the multi-call daemon under another name');
    }
  });

  t.test('the aarch64 launcher hands over to the pvctrl-bun next to its real path', async (t) => {
    // Through the pvcontrol symlink. Without binfmt_misc the kernel cannot execute the aarch64
    // runtime, and the launcher says which file it tried; with binfmt_misc the program answers.
    const result = spawnSync(QEMU, [join(dist, 'pvcontrol'), '--help'], { encoding: 'utf8', timeout: 90_000, env: guestEnv() });
    if (result.status === 0) t.match(result.stdout, /^Usage: pvcontrol/, 'pvcontrol --help answers (binfmt_misc runs the aarch64 runtime)');
    else t.match(result.stderr, `cannot execute ${join(dist, RUNTIME_FILE)}: Exec format error`, 'it tried the runtime next to it (no binfmt_misc here)');
  });

  t.test('without its addon the aarch64 daemon refuses to start', async (t) => {
    const bare = join(work, 'bare');
    mkdirSync(bare);
    linkSync(join(dist, RUNTIME_FILE), join(bare, RUNTIME_FILE));
    const guest = startGuest(bare, 'pv-ctrl', ['--storage', join(bare, 'storage'), '--rundir', join(bare, 'run')], join(bare, 'log'), guestEnv());
    const timer = setTimeout(() => guest.child.kill('SIGKILL'), 60_000);
    const code = await guest.exited;
    clearTimeout(timer);
    t.not(code, 0, 'exits with an error');
    t.match(guest.log(), /cannot load native addon pvctrl_native\.node/, 'says the addon is missing');
    if (code === 0) t.comment(guest.log());
    t.notOk(guest.log().includes('listening on'), 'never serves');
  });

  t.test('SO_PEERCRED and SO_PEERPIDFD under qemu-user', async (t) => {
    // The aarch64 Bun runtime (the one compiled into pv-ctrl) loads the shipped addon and asks
    // it for the peer of a connection to itself: the self-check pv-ctrl makes at start-up.
    const probe = join(work, 'peer-probe.js');
    writeFileSync(
      probe,
      [
        "const net = require('node:net'); const fs = require('node:fs');",
        'const m = { exports: {} }; process.dlopen(m, process.argv[2]);',
        'const path = process.argv[3];',
        'const server = net.createServer((socket) => {',
        '  const c = m.exports.peerCredentials(socket._handle.fd);',
        "  const pidOfFd = c.pidfd >= 0 ? Number((/Pid:\\s*(-?\\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${c.pidfd}`, 'utf8')) || [])[1]) : null;",
        '  console.log(JSON.stringify({ ...c, self: process.pid, pidOfFd }));',
        '  socket.destroy(); server.close();',
        '});',
        'server.listen(path, () => net.createConnection(path));',
      ].join('\n'),
    );
    const aarch64Bun = runtimeBinary(target);
    t.ok(existsSync(aarch64Bun), `aarch64 runtime at ${aarch64Bun}`);
    const result = spawnSync(QEMU, [aarch64Bun, probe, join(dist, 'pvctrl_native.node'), join(work, 'probe.sock')], { encoding: 'utf8', timeout: 60_000 });
    t.equal(result.status, 0, 'the probe ran under qemu');
    if (result.status !== 0) t.comment(result.stderr);
    const peer = JSON.parse(result.stdout.trim()) as { pid: number; uid: number; pidfd: number; self: number; pidOfFd: number | null };
    t.equal(peer.pid, peer.self, 'SO_PEERCRED names our own (emulated) process');
    t.equal(peer.uid, process.getuid?.() ?? peer.uid, 'with our uid');
    if (peer.pidfd >= 0) {
      t.equal(peer.pidOfFd, peer.self, 'SO_PEERPIDFD: the pidfd pins the same process');
      t.comment('qemu-user passes SO_PEERPIDFD through: the aarch64 daemon gets pidfds, like on hardware');
    } else {
      t.comment('qemu-user does not pass SO_PEERPIDFD through here: the addon reports pidfd -1 and caller identity falls back to SO_PEERCRED alone');
      t.pass('SO_PEERPIDFD unavailable under this qemu; pidfd -1, no error');
    }
  });

  t.test('the aarch64 daemon under qemu', async (t) => {
    const dir = join(work, 'device');
    const storage = join(dir, 'storage');
    const runDir = join(dir, 'run');
    const socket = join(runDir, 'pv-ctrl');
    mkdirSync(dir, { recursive: true });
    // What binfmt_misc would do on a machine with it set up: run the aarch64 pv-xconnect the
    // daemon picks on a device (the native one next to the addon) under qemu.
    const xconnect = join(dir, 'pv-xconnect-qemu');
    writeFileSync(xconnect, `#!/bin/sh\nexec ${QEMU} ${join(dist, 'pvctrl-xconnect')} "$@"\n`);
    chmodSync(xconnect, 0o755);
    const started = process.hrtime.bigint();
    const guest = startGuest(dist, 'pv-ctrl', ['--storage', storage, '--rundir', runDir, '--log-level', 'debug'], join(dir, 'pv-ctrl.log'), {
      ...guestEnv(),
      PV_XCONNECT_BIN: xconnect,
    });
    t.teardown(async () => {
      if (guest.child.exitCode === null && guest.child.signalCode === null) {
        guest.child.kill('SIGKILL');
        await guest.exited;
      }
    });
    const up = await waitFor(() => guest.log().includes('listening on'), guest, 90_000);
    const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
    t.ok(up, 'listening');
    if (!up) {
      t.comment(guest.log());
      return;
    }
    t.comment(`start-up under qemu-aarch64-static: ${startupMs.toFixed(0)} ms from exec to "listening on" (addon loaded, self-check passed)`);
    t.ok(startupMs < 60_000, 'starts within a minute under emulation');
    t.match(guest.log(), /GET \/buildinfo/, 'the start-up self-check identified its own connection through the addon');
    t.ok(readlinkSync(`/proc/${guest.child.pid}/exe`).endsWith('qemu-aarch64-static'), 'it is the emulated aarch64 build that answers');

    // Under emulation on a busy machine an answer can take seconds; every request here closes
    // its connection, so the long silence cut-off only bounds a hang.
    const EMULATED = { idleMs: 15_000 };
    const buildinfo = await rawRequest(socket, 'GET', '/buildinfo', EMULATED);
    t.equal(buildinfo.status, 200, 'GET /buildinfo');
    t.match(buildinfo.body, /^pv-ctrl \d+\.\d+\.\d+\nruntime: bun \d+\.\d+\.\d+/, 'names pv-ctrl and its runtime');
    // qemu-user maps the guest's files with the host's mmap, so the emulator's maps list them.
    const mapped = (): string => readFileSync(`/proc/${guest.child.pid}/maps`, 'utf8');
    t.ok(mapped().includes(join(dist, 'pvctrl_native.node')), 'the core addon is loaded');
    t.notOk(mapped().includes('pvctrl_native_lazy.node'), 'the lazy addon is not, before the first upload');

    const steps = await rawRequest(socket, 'GET', '/steps', EMULATED);
    t.equal(steps.status, 200, 'GET /steps');
    t.ok(Array.isArray(JSON.parse(steps.body)), '/steps is a JSON array');

    const data = randomBytes(3 * 1024 * 1024 + 17);
    const sha = createHash('sha256').update(data).digest('hex');
    const put = await rawRequest(socket, 'PUT', `/objects/${sha}`, { ...EMULATED, body: data });
    t.equal(put.status, 200, `PUT /objects/<sha256> of ${data.length} bytes`);
    t.ok(mapped().includes(join(dist, 'pvctrl_native_lazy.node')), 'the upload loaded the lazy addon (libcrypto) from next to the core');
    const got = await rawRequest(socket, 'GET', `/objects/${sha}`, EMULATED);
    t.equal(got.status, 200, 'GET /objects/<sha256>');
    const back = Buffer.from(got.body, 'latin1');
    t.equal(back.length, data.length, 'same length');
    t.equal(createHash('sha256').update(back).digest('hex'), sha, 'same sha256');
    const wrong = await rawRequest(socket, 'PUT', `/objects/${'0'.repeat(64)}`, { ...EMULATED, body: Buffer.from('not that') });
    t.not(wrong.status, 200, 'a body that does not match its name is refused');

    // The aarch64 pvcontrol, also under qemu, against the aarch64 daemon.
    const pvcontrolCommand = programCommand(target, dist, 'pvcontrol');
    if (pvcontrolCommand === undefined) throw new Error('cannot run pvcontrol under qemu');
    const pvcontrol = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const result = spawnSync(pvcontrolCommand.command, [...pvcontrolCommand.args, '-s', socket, ...args], { encoding: 'utf8', timeout: 90_000, env: { ...guestEnv(), ...pvcontrolCommand.env } });
      if (result.status !== 0) t.comment(`pvcontrol ${args.join(' ')}: ${result.stderr}`);
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    const ls = pvcontrol(['steps', 'ls']);
    t.equal(ls.status, 0, 'pvcontrol steps ls');
    t.same(JSON.parse(ls.stdout), JSON.parse(steps.body), 'pvcontrol steps ls shows what /steps shows');
    const copy = join(dir, 'copy.bin');
    const get = pvcontrol(['-f', copy, 'objects', 'get', sha]);
    t.equal(get.status, 0, 'pvcontrol objects get');
    t.equal(createHash('sha256').update(readFileSync(copy)).digest('hex'), sha, 'pvcontrol fetched the object intact');
    const second = randomBytes(100_000);
    const secondSha = createHash('sha256').update(second).digest('hex');
    const file = join(dir, 'second.bin');
    writeFileSync(file, second);
    const upload = pvcontrol(['objects', 'put', file, secondSha]);
    t.equal(upload.status, 0, 'pvcontrol objects put');
    t.equal(createHash('sha256').update(readFileSync(join(storage, 'objects', secondSha))).digest('hex'), secondSha, 'stored under its hash');
    const bad = pvcontrol(['objects', 'put', file, '1'.repeat(64)]);
    t.equal(bad.status, 60, 'pvcontrol exits 60 on a bad object checksum, as on the host');

    guest.child.kill('SIGTERM');
    const timer = setTimeout(() => guest.child.kill('SIGKILL'), 30_000);
    const code = await guest.exited;
    clearTimeout(timer);
    t.equal(code, 0, 'SIGTERM stops it cleanly');
    t.notOk(existsSync(socket), 'and removes the socket');
    t.match(guest.log(), /pv-xconnect-out: following .*pv-ctrl \(GET \/events\?types=xconnect\)/, 'the aarch64 native pv-xconnect followed the daemon');
    t.match(guest.log(), /pv-xconnect-out: SIGTERM: closing links/, 'and stopped with it');
  });
}
