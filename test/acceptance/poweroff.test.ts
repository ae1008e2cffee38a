/**
 * Test 26 of the user's plan, last and on its own daemon instance (the plan: "Run last"):
 * `pvcontrol cmd poweroff "test shutdown"` answers 200, every container stops before the daemon
 * exits, and the daemon exits with the poweroff code the appengine runner stays down on.
 */
import t from 'tap';
import { join } from 'node:path';
import { REPO, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pvctl } from '../helpers/plan.ts';
import { lxcInfo, lxcPathOf, waitForStatus } from '../helpers/containers.ts';
import { CLIENT, SERVER } from '../helpers/examples.ts';
import { EXIT_POWEROFF } from '../../src/exit-codes.ts';

let daemon: TestDaemon;
t.before(async () => {
  daemon = await startTestDaemon({ args: ['--pvtx-dir', join(REPO, 'examples', 'pvtx.d')] });
  await waitForStatus(daemon.socket, SERVER, ['READY']);
  await waitForStatus(daemon.socket, CLIENT, ['READY']);
});
t.teardown(() => daemon?.dispose());

t.test('Test 26: Commands - Poweroff', async (t) => {
  const result = pvctl(daemon.socket, ['cmd', 'poweroff', 'test shutdown']);
  t.equal(result.code, 0, 'HTTP 200 OK');
  const code = await new Promise<number | null>((resolve) => {
    if (daemon.process.exitCode !== null) resolve(daemon.process.exitCode);
    else daemon.process.once('exit', (exitCode) => resolve(exitCode));
  });
  t.equal(code, EXIT_POWEROFF, 'the daemon powered off (exit 3: the runner stays down)');
  const log = daemon.log();
  t.match(log, /POWEROFF_DEVICE requested: test shutdown/, 'graceful shutdown sequence logged');
  const stoppedAt = Math.max(log.indexOf(`container ${CLIENT}: STOPPED`), log.indexOf(`container ${SERVER}: STOPPED`));
  t.ok(log.indexOf(`container ${CLIENT}: STOPPED`) > 0 && log.indexOf(`container ${SERVER}: STOPPED`) > 0, 'all containers stopped');
  // The daemon wrote these lines itself, so they happened before it exited.
  t.ok(stoppedAt > log.indexOf('POWEROFF_DEVICE: finishing in-flight requests'), 'containers stopped during the shutdown sequence, before the exit');
  const lxc = lxcPathOf(daemon.runDir);
  t.same([lxcInfo(lxc, SERVER).state, lxcInfo(lxc, CLIENT).state], ['STOPPED', 'STOPPED']);
});
