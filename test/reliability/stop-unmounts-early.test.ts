/**
 * "Nothing left behind": the metadata bind mounts (`<rundir>/user-meta`, `<rundir>/device-meta`)
 * are the daemon's to remove on SIGTERM. They used to go last, after the server's close, which
 * waits up to its grace (10 s) for requests in flight; a supervisor that gives up before then
 * (the test helper at 15 s, systemd at TimeoutStopSec) SIGKILLs a daemon whose mounts are still
 * there. Now they go once the containers are stopped: while a stalled upload holds the server's
 * close, the mounts are already gone.
 */
import t from 'tap';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { mountsUnder } from '../helpers/leftovers.ts';
import { waitFor } from '../helpers/containers.ts';

t.test('SIGTERM with a stalled upload in flight: the metadata mounts go before the server grace ends', async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('needs root (bind mounts)');
    return;
  }
  const daemon = await startTestDaemon();
  t.teardown(() => daemon.dispose());
  const metaMounts = (): string[] => mountsUnder(daemon.runDir).filter((path) => path.endsWith('-meta'));
  await waitFor('metadata mounted', async () => (metaMounts().length === 2 ? true : undefined), 10_000);
  t.same(metaMounts().sort(), [join(daemon.runDir, 'device-meta'), join(daemon.runDir, 'user-meta')], 'both metadata folders mounted in the run dir');

  // An upload that announced 1 MiB and sent 10 bytes: in flight until the server's grace ends.
  const stalled = connect(daemon.socket);
  t.teardown(() => void stalled.destroy());
  stalled.on('error', () => undefined);
  await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
  stalled.write(`PUT /objects/${'a'.repeat(64)} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1048576\r\n\r\n0123456789`);
  await waitFor('upload reached the handler', async () => (daemon.log().includes(`PUT /objects/${'a'.repeat(64)}`) ? true : undefined), 5000);

  const signalled = Date.now();
  daemon.process.kill('SIGTERM');
  await waitFor('SIGTERM seen', async () => (daemon.log().includes('SIGTERM: finishing') ? true : undefined), 5000);
  await waitFor('metadata unmounted while the stop still runs', async () => (metaMounts().length === 0 ? true : undefined), 5000);
  t.equal(daemon.process.exitCode, null, `the daemon is still in its stop (the upload holds the server's close) ${Date.now() - signalled} ms after SIGTERM`);
  t.same(metaMounts(), [], 'no metadata mount left while the server waits for the upload');

  stalled.destroy();
  t.equal(await daemon.stop(), 0, 'clean exit once the upload is gone');
  t.same(mountsUnder(daemon.dir), [], 'nothing mounted under the test folder');
});
