/**
 * Container status has one owner: every change, including one a container asks for through
 * `POST /signal` (`ready`), goes through the runtime, so the revision status in device meta
 * (`pantavisor.status`) follows it; an `alive` signal, which changes nothing persisted, writes
 * nothing, and reads no cgroup (the init is watched by the kernel already). Real daemon, real LXC
 * containers from the examples.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { CLIENT, SERVER, prepareStorage, unpackExamples } from '../helpers/examples.ts';
import { waitFor, waitForStatus } from '../helpers/containers.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { pvctlAs } from '../helpers/plan.ts';
import { attachStrace, stopTracer } from '../reliability/crash-helpers.ts';

const examples = unpackExamples();
t.teardown(() => rmSync(dirname(examples.objectsDir), { recursive: true, force: true }));

async function revisionStatus(socket: string): Promise<string | undefined> {
  const meta = JSON.parse((await rawRequest(socket, 'GET', '/device-meta')).body) as Record<string, string>;
  return meta['pantavisor.status'];
}

t.test('a ready signal updates device meta pantavisor.status', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-status-'));
  prepareStorage(dir, 'custom', examples.state, examples.objectsDir);
  const daemon = await startTestDaemon({ dir });
  t.teardown(async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  // Both examples have goal READY, which only a `ready` signal from inside the container reaches.
  await waitForStatus(daemon.socket, SERVER, ['READY']);
  await waitForStatus(daemon.socket, CLIENT, ['READY']);
  const seen = await waitFor('pantavisor.status READY', async () => ((await revisionStatus(daemon.socket)) === 'READY' ? 'READY' : undefined), 10_000).catch(
    async () => revisionStatus(daemon.socket),
  );
  t.equal(seen, 'READY', 'the revision status in device meta follows the ready signals');
  t.match(daemon.log(), /container pv-example-unix-server: READY/, 'the change is logged like every other status change');

  // An `alive` signal moves the liveness deadline only: nothing of the persisted status changes,
  // so nothing is written (it came with two fsyncs every 20 s at idle).
  const statusFile = join(dirname(daemon.runDir), 'containers', SERVER, 'status.json');
  const before = statSync(statusFile);
  const alive = pvctlAs(SERVER, daemon.socket, ['signal', 'alive']);
  t.equal(alive.code, 0, alive.stderr);
  const after = statSync(statusFile);
  t.same([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'status.json is not written again');
  t.match(readFileSync(statusFile, 'utf8'), /"status":"READY"/);

  // Nor does it look for the container's init again: the kernel watches it (a pidfd) since the
  // container went up. Looking meant reading /proc/1/cgroup, mountinfo, /proc/cgroups, 20
  // cgroup folders and cgroup.procs on the event loop at every alive signal (every 20 s at idle).
  const traceFile = join(dir, 'alive.strace');
  const tracer = await attachStrace(daemon.process.pid ?? 0, ['-e', 'trace=openat,access,faccessat,faccessat2'], traceFile);
  try {
    const again = pvctlAs(SERVER, daemon.socket, ['signal', 'alive']);
    t.equal(again.code, 0, again.stderr);
  } finally {
    tracer.kill('SIGINT');
    await stopTracer(tracer);
  }
  const traced = readFileSync(traceFile, 'utf8');
  t.match(traced, /\/proc\/\d+\/cgroup/, 'the trace saw the request (its caller identified from its cgroup)');
  t.notMatch(traced, /cgroup\.procs|\/sys\/fs\/cgroup|\/proc\/cgroups/, 'an alive signal reads no cgroup folder');
});
