/**
 * pv-xconnect for real: the daemon with the example containers, the supervisor running our
 * pv-xconnect, and the client container reaching the server container's "raw" service through
 * it, as the client's own console log tells. Then the supervisor's API (stop, start, 404/400),
 * a SIGKILLed pv-xconnect, a restarted provider container, and the daemon's shutdown.
 */
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { CLIENT, EXAMPLES, SERVER } from '../helpers/examples.ts';
import { lxcInfo, lxcPathOf, waitFor, waitForStatus } from '../helpers/containers.ts';
import { pvc } from '../helpers/plan.ts';

interface DaemonView {
  name: string;
  pid: number;
  respawn: boolean;
}

let daemon: TestDaemon;
let S = '';
let LXC = '';
t.before(async () => {
  daemon = await startTestDaemon({ args: ['--pvtx-dir', EXAMPLES] });
  S = daemon.socket;
  LXC = lxcPathOf(daemon.runDir);
  await waitForStatus(S, SERVER, ['READY']);
  await waitForStatus(S, CLIENT, ['READY']);
});
t.teardown(() => daemon?.dispose());

const xconnect = (): DaemonView => {
  const list = JSON.parse(pvc(S, ['http://localhost/daemons']).body) as DaemonView[];
  const found = list.find((item) => item.name === 'pv-xconnect');
  if (found === undefined) throw new Error(`no pv-xconnect in ${JSON.stringify(list)}`);
  return found;
};
const put = (name: string, body: string): { status: number; body: string } =>
  pvc(S, ['-X', 'PUT', '-H', 'Content-Type: application/json', '--data-binary', body, `http://localhost/daemons/${name}`]);
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** The client's console log, wherever the running revision's logs are. */
function clientLog(): string {
  const logs = join(daemon.storage, 'logs');
  for (const revision of existsSync(logs) ? readdirSync(logs) : []) {
    const file = join(logs, revision, CLIENT, 'lxc', 'console.log');
    if (existsSync(file)) return readFileSync(file, 'utf8');
  }
  return '';
}

/** Wait for a client log line matching `pattern` written after `from` (a length of the log). */
async function clientSays(pattern: RegExp, from: number, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    `client log ${pattern} after offset ${from}`,
    async () => clientLog().slice(from).split('\n').find((line) => pattern.test(line)),
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nclient log:\n${clientLog().slice(from)}\ndaemon log (xconnect):\n${xconnectLines()}`);
  });
}
const xconnectLines = (): string =>
  daemon
    .log()
    .split('\n')
    .filter((line) => line.includes('pv-xconnect'))
    .join('\n');

t.test('GET /daemons: pv-xconnect runs, supervised, in the daemon cgroup', async (t) => {
  const view = await waitFor('pv-xconnect running', async () => (xconnect().pid > 0 ? xconnect() : undefined));
  t.match(view, { name: 'pv-xconnect', respawn: true });
  t.match(readFileSync(`/proc/${view.pid}/cmdline`, 'utf8'), /native\/build\/Release\/pvctrl-xconnect\0--socket/, 'the native pv-xconnect next to the addon, not a second Bun');
  t.equal(readFileSync(`/proc/${view.pid}/cgroup`, 'utf8'), readFileSync(`/proc/${daemon.process.pid}/cgroup`, 'utf8'), 'same cgroup as pv-ctrl: a host caller');
  t.match(daemon.log(), /pv-xconnect-out: following .*pv-ctrl \(GET \/events\?types=xconnect\)/, 'its output in the daemon log, tagged: it follows the event stream');
});

t.test('the client reaches the server through pv-xconnect', async (t) => {
  const line = await clientSays(/ok: hello from pv-example-unix-server/, 0, 40_000);
  t.match(line, /ok: hello from pv-example-unix-server \d+/);
  const clientPid = lxcInfo(LXC, CLIENT).pid;
  const socket = `/proc/${clientPid}/root/run/pv/services/raw.sock`;
  t.ok(existsSync(socket), 'the socket sits inside the client at the required target');
  t.match(xconnectLines(), /pv-xconnect-out: link raw: pv-example-unix-client:\/run\/pv\/services\/raw\.sock -> pv-example-unix-server:\/run\/example\/raw\.sock up/);
});

t.test('PUT stop: respawn false, pid 0 or -1, the process is gone and the client fails', async (t) => {
  const before = xconnect().pid;
  const mark = clientLog().length;
  const answer = put('pv-xconnect', '{"action":"stop"}');
  t.equal(answer.status, 200);
  const view = xconnect();
  t.equal(view.respawn, false);
  t.ok(view.pid === 0 || view.pid === -1, `pid ${view.pid}`);
  t.notOk(alive(before), 'process gone');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.equal(xconnect().pid, view.pid, 'not respawned');
  const clientPid = lxcInfo(LXC, CLIENT).pid;
  t.notOk(existsSync(`/proc/${clientPid}/root/run/pv/services/raw.sock`), 'socket removed on a clean stop');
  t.match(await clientSays(/failed:/, mark), /failed: /, 'the client notices');
});

t.test('PUT start: running again and the link restored', async (t) => {
  const mark = clientLog().length;
  t.equal(put('pv-xconnect', '{"action":"start"}').status, 200);
  const view = xconnect();
  t.ok(view.pid > 0 && view.respawn, `pid ${view.pid}, respawn ${view.respawn}`);
  t.match(await clientSays(/ok: hello from pv-example-unix-server/, mark), /ok: /);
});

t.test('SIGKILL: respawned with a new pid, stale socket replaced, link restored', async (t) => {
  const before = xconnect().pid;
  process.kill(before, 'SIGKILL');
  const mark = clientLog().length;
  const after = await waitFor('respawn', async () => {
    const view = xconnect();
    return view.pid > 0 && view.pid !== before ? view : undefined;
  }, 10_000);
  t.ok(after.respawn, `respawned as ${after.pid}`);
  t.match(daemon.log(), new RegExp(`daemon pv-xconnect \\(pid ${before}\\) killed by SIGKILL; respawning`));
  t.match(await clientSays(/ok: hello from pv-example-unix-server/, mark), /ok: /);
});

t.test('restarting the server container re-links to its new pid', async (t) => {
  const before = lxcInfo(LXC, SERVER).pid;
  const answer = pvc(S, ['-X', 'PUT', '--data-binary', '{"action":"restart"}', `http://localhost/containers/${SERVER}`]);
  t.equal(answer.status, 200);
  await waitFor('new server pid', async () => {
    const pid = lxcInfo(LXC, SERVER).pid;
    return pid > 0 && pid !== before ? pid : undefined;
  });
  await waitForStatus(S, SERVER, ['READY']);
  const graph = JSON.parse(pvc(S, ['http://localhost/xconnect-graph']).body) as { provider_pid: number }[];
  t.not(graph[0]?.provider_pid, before, 'the graph has the new provider pid');
  const mark = clientLog().length;
  // Following the stream, pv-xconnect sees the STOPPED (link down) and then the new pid (link up).
  const relinked = new RegExp(`link raw: .* up \\(pids \\d+ -> ${graph[0]?.provider_pid ?? 0},`);
  await waitFor('re-link', async () => (relinked.test(xconnectLines()) ? true : undefined), 20_000);
  t.match(xconnectLines(), /link raw: .* down \((a container restarted|no longer in the graph or a container stopped)/, 'the old link went down');
  // A figure, not an assertion: from the provider's status change to the link being up.
  const lines = daemon.log().split('\n');
  const stamp = (line: string | undefined): number => Date.parse(line?.split(' ')[0] ?? '');
  const started = lines.filter((line) => line.includes(`container ${SERVER}: STARTED`)).at(-1);
  const up = lines.filter((line) => relinked.test(line)).at(-1);
  t.comment(`provider STARTED -> link up: ${stamp(up) - stamp(started)} ms (daemon log timestamps)`);
  t.match(await clientSays(/ok: hello from pv-example-unix-server/, mark), /ok: /, 'the client reaches the new server');
});

t.test('API errors', async (t) => {
  const missing = put('nonexistent-daemon', '{"action":"stop"}');
  t.equal(missing.status, 404);
  t.equal(missing.body, '{"Error":"Daemon not found"}');
  t.equal(put('pv-xconnect', 'not json').status, 400);
  t.equal(put('pv-xconnect', '{"action":"explode"}').status, 400);
  t.equal(put('pv-xconnect', '').status, 400, 'an empty body is answered (the reference hangs)');
  t.match(xconnect(), { respawn: true }, 'none of that touched it');
  t.ok(xconnect().pid > 0);
});

t.test('daemon shutdown stops pv-xconnect', async (t) => {
  const pid = xconnect().pid;
  t.ok(alive(pid));
  t.equal(await daemon.stop(), 0);
  t.notOk(alive(pid), 'gone with the daemon');
  t.match(daemon.log(), new RegExp(`daemon pv-xconnect \\(pid ${pid}\\) exited with 0; respawn off`));
});
