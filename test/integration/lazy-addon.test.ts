/**
 * Issue 10, start-up: the daemon answers its first request with only the core addon loaded
 * (pvctrl_native.node: libc, and libstdc++ only when the toolchain could not link it statically);
 * libcrypto, liblxc and libkmod come with pvctrl_native_lazy.node on the first upload or
 * container operation (docs/footprint.md "Start-up"). Observed in /proc/<pid>/maps, and for
 * containers, which start right after the first answer, in the order of the daemon's syscalls.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ADDON_FILES } from '../../src/native/index.ts';
import { PV_CTRL, REPO, startTestDaemon } from '../helpers/daemon.ts';
import { CLIENT, SERVER, prepareStorage, unpackExamples } from '../helpers/examples.ts';
import { waitForStatus } from '../helpers/containers.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: REPO, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

/** Libraries only the lazy addon needs: none may be mapped before the first answer. */
const LAZY_LIBRARIES = [ADDON_FILES.lazy, 'libcrypto.so', 'liblxc.so', 'libkmod.so'];
const coreAddon = join(REPO, 'native', 'build', 'Release', ADDON_FILES.core);
const coreNeedsLibstdcxx = /\(NEEDED\).*libstdc\+\+/.test(spawnSync('readelf', ['-d', coreAddon], { encoding: 'utf8' }).stdout);

const mappedFiles = (pid: number): string[] => [
  ...new Set(
    readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/).slice(5).join(' '))
      .filter((path) => path.startsWith('/')),
  ),
];
const mapsName = (files: string[], name: string): boolean => files.some((file) => file.split('/').pop()?.startsWith(name) === true);

t.test('a restart answers with the core addon only; the first upload loads the lazy one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-lazy-addon-'));
  const first = await startTestDaemon({ dir });
  await first.stop();
  const daemon = await startTestDaemon({ dir });
  // One teardown, in order: the daemon stops (unmounting its metadata views), then the folder
  // goes. Two, registered folder first, removed the folder under a running daemon: its bind
  // mounts refused, and its run dir stayed behind.
  t.teardown(async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const pid = daemon.process.pid as number;

  t.equal((await rawRequest(daemon.socket, 'GET', '/buildinfo')).status, 200, 'GET /buildinfo');
  const atStart = mappedFiles(pid);
  t.ok(atStart.includes(coreAddon), `the core addon is loaded (${coreAddon})`);
  for (const name of LAZY_LIBRARIES) t.notOk(mapsName(atStart, name), `${name} is not mapped after the first answers`);
  if (!coreNeedsLibstdcxx) t.notOk(mapsName(atStart, 'libstdc++.so'), 'nor libstdc++ (the core links it statically)');

  const body = Buffer.from('the first upload after a restart\n');
  const put = await rawRequest(daemon.socket, 'PUT', `/objects/${createHash('sha256').update(body).digest('hex')}`, { body });
  t.equal(put.status, 200, 'PUT /objects');
  const afterUpload = mappedFiles(pid);
  t.ok(afterUpload.includes(join(dirname(coreAddon), ADDON_FILES.lazy)), 'the lazy addon is loaded, from next to the core one');
  for (const name of LAZY_LIBRARIES.slice(1)) t.ok(mapsName(afterUpload, name), `${name} is mapped after the upload`);
});

const lxcSkip =
  process.getuid?.() !== 0 ? 'containers need root' : !existsSync('/usr/bin/strace') ? 'needs strace' : false;

t.test('a restart with containers: the first answer comes before the lazy addon, the containers load it', { skip: lxcSkip }, async (t) => {
  const examples = unpackExamples();
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-lazy-addon-lxc-'));
  // One teardown, in order: the daemon stops (unmounting its metadata views), then the folders go.
  let stopDaemon = async (): Promise<void> => undefined;
  t.teardown(async () => {
    await stopDaemon();
    rmSync(dirname(examples.objectsDir), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  prepareStorage(dir, 'custom', examples.state, examples.objectsDir);
  // The first start deploys the revision (hashing its objects: the lazy addon before the socket).
  const first = await startTestDaemon({ dir });
  await waitForStatus(first.socket, SERVER, ['READY']);
  await first.stop();

  const runDir = join(dir, 'run');
  const socket = join(runDir, 'pv-ctrl');
  const trace = join(dir, 'trace');
  const logFile = join(dir, 'restart.log');
  const logFd = openSync(logFile, 'a');
  const args = ['--storage', join(dir, 'storage'), '--rundir', runDir, '--log-level', 'debug'];
  // -f: the daemon's threads; the trace is one file, in the order the calls happened.
  const tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=accept,accept4,openat', '-o', trace, PV_CTRL, ...args], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const traced = new Promise((resolve) => tracer.once('exit', resolve));
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let daemonPid: number | undefined;
  stopDaemon = async (): Promise<void> => {
    // SIGTERM to strace would only detach it: the daemon is signalled, strace follows it out.
    if (daemonPid !== undefined && Number.isInteger(daemonPid)) process.kill(daemonPid, 'SIGTERM');
    else tracer.kill('SIGKILL');
    await traced;
  };
  const deadline = Date.now() + 60_000;
  while (!log().includes('listening on') && tracer.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(log().includes('listening on'), 'the traced daemon listens');
  daemonPid = Number(/^(\d+)\s/.exec(readFileSync(trace, 'utf8'))?.[1]);
  await waitForStatus(socket, SERVER, ['READY']);
  await waitForStatus(socket, CLIENT, ['READY']);

  const calls = readFileSync(trace, 'utf8').split('\n');
  // The first connection accepted on the API socket: the daemon's own self-check GET /buildinfo,
  // answered before it logs "listening on" and before any container starts.
  const firstAccept = calls.findIndex((line) => /\baccept4?\(\d+, .*\) = \d+$/.test(line));
  const lazyOpened = calls.findIndex((line) => line.includes(`openat(`) && line.includes(ADDON_FILES.lazy) && !/= -1 /.test(line));
  const lxcOpened = calls.findIndex((line) => /openat\(.*liblxc\.so[^"]*", .*\) = \d+$/.test(line));
  t.ok(firstAccept >= 0, `the first accept: ${calls[firstAccept] ?? 'none'}`);
  t.ok(lazyOpened > firstAccept, `the lazy addon is opened after it: ${calls[lazyOpened] ?? 'never'}`);
  t.ok(lxcOpened > lazyOpened, `and liblxc with it: ${calls[lxcOpened] ?? 'never'}`);
  t.ok(mapsName(mappedFiles(daemonPid), 'liblxc.so'), 'liblxc is mapped once the containers run');
});
