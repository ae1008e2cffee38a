/**
 * Start-up after a run that left things behind (issue 8, defect 7): the previous daemon was
 * SIGKILLed while its containers ran; then one container was stopped behind its back (its mounts
 * stay) and a process of that container's run sits in its cgroup `lxc/<name>` without a monitor
 * (LXC refused to start it again: "stale cgroups still in use"); the running revision no longer
 * has the other container, which still runs; a loop device of the storage is attached with
 * nothing mounted on it. The next daemon kills the orphan, unmounts, stops the container that is
 * not in its revision, detaches the loop device, says each in the log, and brings its revision
 * up; its SIGTERM then leaves nothing at all. (Adopting healthy running containers is
 * test/integration/runtime.test.ts.)
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLIENT, SERVER, prepareStorage, unpackExamples } from '../helpers/examples.ts';
import { lxcInfo, lxcPathOf, waitFor, waitForStatus } from '../helpers/containers.ts';
import { createContainerCgroup, movePid } from '../helpers/cgroups.ts';
import { busyContainerCgroups, forceClean, leftoversOf, loopsBackedUnder, spawnDaemon } from '../helpers/leftovers.ts';

const examples = unpackExamples();
const serverOnly = Object.fromEntries(Object.entries(examples.state).filter(([key]) => !key.startsWith(`${CLIENT}/`)));
const dir = mkdtempSync(join(tmpdir(), 'pvctrl-leftovers-'));
prepareStorage(dir, 'base', examples.state, examples.objectsDir);
t.teardown(() => {
  forceClean(dir);
  rmSync(dir, { recursive: true, force: true });
  rmSync(dirname(examples.objectsDir), { recursive: true, force: true });
});

const listening = (log: () => string): Promise<true> => waitFor('daemon listening', async () => (log().includes('listening on') ? true : undefined), 20_000);

t.test('a daemon finds a killed run: cleans up or adopts, and the log says which', async (t) => {
  const storage = join(dir, 'storage');
  const runDir = join(dir, 'run');
  const socket = join(runDir, 'pv-ctrl');
  const lxc = lxcPathOf(runDir);

  const first = spawnDaemon(dir);
  t.teardown(() => {
    first.process.kill('SIGKILL');
  });
  await listening(first.log);
  await waitForStatus(socket, SERVER, ['READY']);
  await waitForStatus(socket, CLIENT, ['READY']);
  first.process.kill('SIGKILL');
  t.not(await first.exit(10_000), 'timeout', 'first daemon killed');

  // The server is stopped behind the daemon's back: its mounts stay. A process of its run (own
  // mount namespace, seeing this run's mounts) is left in its cgroup, with no monitor to ask.
  execFileSync('lxc-stop', ['-P', lxc, '-n', SERVER, '-k']);
  t.equal(lxcInfo(lxc, SERVER).state, 'STOPPED', 'server stopped by hand');
  const orphan = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '600'], { stdio: 'ignore', detached: true });
  orphan.unref();
  const orphanPid = orphan.pid as number;
  await waitFor('orphan in its own mount namespace', async () => (readFileSync(`/proc/${orphanPid}/cmdline`, 'utf8').startsWith('sleep') ? true : undefined), 5000);
  movePid(createContainerCgroup(SERVER).path, orphanPid);
  t.teardown(() => {
    try {
      process.kill(orphanPid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  });
  t.ok(busyContainerCgroups().some((line) => line.includes(`/lxc/${SERVER}: ${orphanPid}`)), 'the orphan holds lxc/<server>');

  // The revision to run next has only the server: the client is a leftover of another revision.
  const only = join(storage, 'trails', 'locals', 'only-server');
  mkdirSync(join(only, '.pvr'), { recursive: true });
  mkdirSync(join(only, '.pv'), { recursive: true });
  writeFileSync(join(only, '.pvr', 'json'), JSON.stringify(serverOnly));
  writeFileSync(join(only, '.pv', 'progress'), '{"status":"DONE","status-msg":"Update finished, revision set as rollback point","progress":100,"retries":0}');
  unlinkSync(join(storage, 'trails', 'current'));
  symlinkSync('locals/only-server', join(storage, 'trails', 'current'));

  // A loop device of the storage that nothing mounts (a crash between losetup and mount).
  const image = join(storage, 'trails', 'locals', 'base', CLIENT, 'root.squashfs');
  const loop = execFileSync('losetup', ['-r', '-f', '--show', image], { encoding: 'utf8' }).trim();
  t.ok(loopsBackedUnder(dir).some((line) => line.startsWith(`${loop} `)), `stray ${loop} attached`);

  const second = spawnDaemon(dir);
  t.teardown(() => {
    second.process.kill('SIGKILL');
  });
  await listening(second.log);
  await waitForStatus(socket, SERVER, ['READY'], 30_000);
  const log = second.log();
  t.match(log, new RegExp(`leftover from a previous run: container ${SERVER}: killed 1 processes left in its cgroups`), 'orphan killed, and said so');
  t.match(log, new RegExp(`leftover from a previous run: cleaned up mounts of ${SERVER}: `), 'its mounts cleaned up, and said so');
  t.match(log, new RegExp(`leftover from a previous run: cleaned up container ${CLIENT}`), 'container of another revision stopped, and said so');
  t.match(log, new RegExp(`leftover from a previous run: detached loop devices .*${loop} \\(`), 'stray loop device detached, and said so');
  t.notOk(log.includes('stale cgroups still in use'), 'no stale-cgroup refusal');
  t.throws(() => process.kill(orphanPid, 0), 'the orphan is gone');
  t.equal(lxcInfo(lxc, CLIENT).state, 'STOPPED', 'the client is stopped');
  t.notOk(busyContainerCgroups().some((line) => line.includes(`/${CLIENT}:`)), 'nothing left in the client cgroups');
  t.notOk(loopsBackedUnder(dir).some((line) => line.startsWith(`${loop} `)), `${loop} detached`);

  second.process.kill('SIGTERM');
  const exit = await second.exit(60_000);
  t.same(exit, { code: 0, signal: null }, 'SIGTERM: exit 0');
  t.same(leftoversOf(dir), [], 'nothing of either run is left');
});
