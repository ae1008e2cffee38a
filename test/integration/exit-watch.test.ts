/**
 * Issue 9: a container's exit is noticed from the kernel, not from a timer. The daemon watches
 * each running container's init through a pidfd on a thread of the addon's own
 * (`pvctrl-pidfd`); a SIGKILLed init is reported by the kernel and auto-recovery starts the
 * container again. On SIGTERM the watcher's thread is joined.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { CLIENT, SERVER, prepareStorage, unpackExamples } from '../helpers/examples.ts';
import { lxcInfo, lxcPathOf, waitFor, waitForStatus } from '../helpers/containers.ts';

const examples = unpackExamples();
t.teardown(() => rmSync(dirname(examples.objectsDir), { recursive: true, force: true }));

/** Thread names of a process, from /proc. */
function threadNames(pid: number): string[] {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return [];
  return readdirSync(tasks).map((task) => {
    try {
      return readFileSync(join(tasks, task, 'comm'), 'utf8').trim();
    } catch {
      return '';
    }
  });
}

let daemon: TestDaemon;
t.before(async () => {
  const state: Record<string, unknown> = { ...examples.state };
  const server = { ...(state[`${SERVER}/run.json`] as Record<string, unknown>) };
  server.auto_recovery = { policy: 'on-failure', max_retries: 3, retry_delay: 1, backoff_factor: 1, backoff_policy: 'never' };
  state[`${SERVER}/run.json`] = server;
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-exitwatch-'));
  prepareStorage(dir, 'custom', state, examples.objectsDir);
  daemon = await startTestDaemon({ dir, disposeDir: true });
  await waitForStatus(daemon.socket, SERVER, ['READY']);
  await waitForStatus(daemon.socket, CLIENT, ['READY']);
});
t.teardown(() => daemon?.dispose());

t.test('running containers are watched by the kernel: the daemon has its pidfd watcher thread', async (t) => {
  const pid = daemon.process.pid ?? 0;
  t.ok(threadNames(pid).includes('pvctrl-pidfd'), `thread pvctrl-pidfd in ${threadNames(pid).join(', ')}`);
});

t.test('kill -9 of an init: the kernel reports it, auto-recovery brings the container back', async (t) => {
  const lxc = lxcPathOf(daemon.runDir);
  const before = lxcInfo(lxc, SERVER).pid;
  t.ok(before > 0, `server init ${before}`);
  process.kill(before, 'SIGKILL');
  await waitFor('the exit reported', async () => (/container pv-example-unix-server: init exited \(reported by the kernel\)/.test(daemon.log()) ? true : undefined), 20_000);
  const back = await waitFor(
    'server READY with a new init',
    async () => {
      const view = await waitForStatus(daemon.socket, SERVER, ['READY'], 30_000);
      const now = lxcInfo(lxc, SERVER).pid;
      return now > 0 && now !== before ? { view, now } : undefined;
    },
    40_000,
  );
  t.not(back.now, before, `a new init ${back.now}`);
  t.equal(back.view.auto_recovery?.current_retries, 1, 'one recovery');
  t.match(daemon.log(), /container pv-example-unix-server: RECOVERING/);
  t.notMatch(daemon.log(), /pv-example-unix-client: init exited/, 'the other container untouched');
  // The new init is watched too: a second kill is reported the same way.
  process.kill(back.now, 'SIGKILL');
  await waitFor('the second exit reported', async () => (daemon.log().split('init exited (reported by the kernel)').length - 1 >= 2 ? true : undefined), 20_000);
  await waitForStatus(daemon.socket, SERVER, ['READY'], 40_000);
});

t.test('SIGTERM joins the watcher thread and stops cleanly', async (t) => {
  const pid = daemon.process.pid ?? 0;
  const code = await daemon.stop();
  t.equal(code, 0, 'clean exit');
  t.notOk(existsSync(`/proc/${pid}`), 'process gone');
});
