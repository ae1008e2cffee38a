/**
 * The container runtime with real LXC containers built from the examples: identity from inside
 * real containers, goal timeouts, auto-recovery with backoff, adoption after a daemon crash, and
 * a clean stop (reverse group order, nothing left mounted, no cgroups left).
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { CLIENT, SERVER, prepareStorage, unpackExamples } from '../helpers/examples.ts';
import { attach, containers, lxcInfo, lxcPathOf, waitFor, waitForStatus } from '../helpers/containers.ts';
import { unifiedCgroupMount } from '../helpers/cgroups.ts';
import { buildRouter } from '../../src/api/routes.ts';

const examples = unpackExamples();
t.teardown(() => rmSync(dirname(examples.objectsDir), { recursive: true, force: true }));

const mountsBelow = (root: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((path) => path.startsWith(`${root}/`));

/** Store an extra object (e.g. an LXC config) and return its sha. */
function addObject(dir: string, text: string): string {
  const sha = createHash('sha256').update(text).digest('hex');
  writeFileSync(join(dir, sha), text);
  return sha;
}

async function startWith(state: Record<string, unknown>): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-runtime-'));
  prepareStorage(dir, 'custom', state, examples.objectsDir);
  return startTestDaemon({ dir });
}

t.test('identity from inside real containers: non-mgmt 403 everywhere but /signal, mgmt 200', async (t) => {
  const daemon = await startWith(examples.state);
  t.teardown(async () => {
    await daemon.stop();
    rmSync(daemon.dir, { recursive: true, force: true });
  });
  await waitForStatus(daemon.socket, SERVER, ['READY']);
  await waitForStatus(daemon.socket, CLIENT, ['READY']);
  const lxc = lxcPathOf(daemon.runDir);
  const fromServer = attach(lxc, SERVER, ['/usr/bin/pv-example', 'get', '/containers']);
  t.match(fromServer.stdout + fromServer.stderr, /403/, 'GET /containers from inside the non-mgmt server: 403');
  const fromClient = attach(lxc, CLIENT, ['/usr/bin/pv-example', 'get', '/containers']);
  t.match(fromClient.stdout, /200/, 'GET /containers from inside the mgmt client: 200');
  t.match(fromClient.stdout, /pv-example-unix-server/);
  const signal = attach(lxc, SERVER, ['/usr/bin/pv-example', 'signal', 'ready']);
  t.equal(signal.code, 0, 'POST /signal from inside the server: 200');
  t.ok(existsSync(join(daemon.runDir, `user-meta.${SERVER}`)), 'non-mgmt container has its own meta view');
  const view = attach(lxc, SERVER, ['/bin/ls', '/pantavisor']);
  t.same(view.stdout.trim().split(/\s+/).sort(), ['device-meta', 'logs', 'pv-ctrl', 'user-meta'], 'non-mgmt sees only its views');
  const mgmtView = attach(lxc, CLIENT, ['/bin/ls', '/pantavisor']);
  t.match(mgmtView.stdout, /pv-ctrl/);
  t.match(mgmtView.stdout, /user-meta\.pv-example-unix-server/, 'mgmt sees the whole run dir');

  // Every mgmt route, every method, from the server's cgroup (curl on the host, attributed by the kernel).
  const procs = join(unifiedCgroupMount(), 'lxc', SERVER, 'cgroup.procs');
  const routes = buildRouter().list();
  for (const route of routes) {
    for (const method of route.methods) {
      const path = route.path.replaceAll('{}', 'x');
      const body = route.path === '/signal' ? '{"type":"ready","payload":""}' : '{}';
      // GET /events never ends: curl's --max-time bounds every call, and its status line is still
      // reported (-w) once the head arrived.
      const result = spawnSync(
        'sh',
        ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', procs, 'curl', '-s', '--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '--unix-socket', daemon.socket, '--data', body, `http://localhost${path}`],
        { encoding: 'utf8', timeout: 10_000 },
      );
      if (route.mgmt) t.equal(result.stdout, '403', `${method} ${route.path}: 403 for a non-mgmt container`);
      else t.equal(result.stdout, '200', `${method} ${route.path}: open to it`);
    }
  }
});

t.test('a container that never signals ready: its goal times out and the daemon reports it', async (t) => {
  const objects = examples.objectsDir;
  const sleeper = addObject(objects, 'lxc.init.cmd = /bin/sleep 1000\nlxc.environment = PATH=/bin\n');
  const state: Record<string, unknown> = { ...examples.state, [`${CLIENT}/lxc.container.conf`]: sleeper };
  state['device.json'] = { groups: [{ name: 'app', status_goal: 'STARTED', restart_policy: 'container', timeout: 3 }] };
  const daemon = await startWith(state);
  t.teardown(async () => {
    await daemon.stop();
    rmSync(daemon.dir, { recursive: true, force: true });
  });
  await waitFor('goal timeout report', async () => (/status goal READY not reached within 3 s/.test(daemon.log()) ? true : undefined), 30_000);
  t.match(daemon.log(), /container pv-example-unix-client: status goal READY not reached within 3 s \(status STARTED\)/);
  const client = (await containers(daemon.socket)).find((item) => item.name === CLIENT);
  t.equal(client?.status, 'STARTED', 'still running, goal not reached');
  const device = JSON.parse((await (await fetch('http://localhost/device-meta', { unix: daemon.socket } as RequestInit)).text())) as Record<string, string>;
  t.equal(device['pantavisor.status'], 'STARTED', 'revision status shows the unreached goal');
});

t.test('killing init triggers auto-recovery with the configured backoff, then gives up', async (t) => {
  const state: Record<string, unknown> = { ...examples.state };
  const server = { ...(state[`${SERVER}/run.json`] as Record<string, unknown>) };
  server.auto_recovery = { policy: 'on-failure', max_retries: 2, retry_delay: 1, backoff_factor: 3, backoff_policy: 'never' };
  state[`${SERVER}/run.json`] = server;
  const daemon = await startWith(state);
  t.teardown(async () => {
    await daemon.stop();
    rmSync(daemon.dir, { recursive: true, force: true });
  });
  const lxc = lxcPathOf(daemon.runDir);
  await waitForStatus(daemon.socket, SERVER, ['READY']);
  const delays: number[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    const pid = lxcInfo(lxc, SERVER).pid;
    t.ok(pid > 0, `attempt ${attempt}: init pid ${pid}`);
    process.kill(pid, 'SIGKILL');
    const recovering = await waitForStatus(daemon.socket, SERVER, ['RECOVERING'], 10_000);
    const seenAt = Date.now();
    t.equal(recovering.auto_recovery?.current_retries, attempt, `retry counter ${attempt}`);
    await waitForStatus(daemon.socket, SERVER, ['READY'], 30_000);
    delays.push((Date.now() - seenAt) / 1000);
    t.not(lxcInfo(lxc, SERVER).pid, pid, 'a new init');
  }
  t.ok(delays[0]! >= 0.8 && delays[0]! < 3, `first retry after retry_delay 1 s (${delays[0]} s)`);
  t.ok(delays[1]! >= 2.8, `second retry after 1 × 3 s backoff (${delays[1]} s)`);
  process.kill(lxcInfo(lxc, SERVER).pid, 'SIGKILL');
  await waitForStatus(daemon.socket, SERVER, ['STOPPED'], 10_000);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  t.equal((await containers(daemon.socket)).find((item) => item.name === SERVER)?.status, 'STOPPED', 'retries exhausted, backoff never: stays stopped');
  t.match(daemon.log(), /2 retries exhausted; backoff policy never/);
});

t.test('a daemon crash leaves containers running; the next daemon adopts them; SIGTERM cleans up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-runtime-'));
  prepareStorage(dir, 'custom', examples.state, examples.objectsDir);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await startTestDaemon({ dir });
  await waitForStatus(first.socket, SERVER, ['READY']);
  await waitForStatus(first.socket, CLIENT, ['READY']);
  const lxc = lxcPathOf(first.runDir);
  const runtimeRoot = dirname(lxc);
  const pids = [lxcInfo(lxc, SERVER).pid, lxcInfo(lxc, CLIENT).pid];
  const mounts = mountsBelow(runtimeRoot).sort();
  first.process.kill('SIGKILL');
  await first.stop();
  t.same([lxcInfo(lxc, SERVER).state, lxcInfo(lxc, CLIENT).state], ['RUNNING', 'RUNNING'], 'containers outlive a crashed daemon');

  const second = await startTestDaemon({ dir });
  const server = await waitForStatus(second.socket, SERVER, ['READY']);
  t.equal(server.status, 'READY', 'adopted with its status');
  await waitForStatus(second.socket, CLIENT, ['READY']);
  t.same([lxcInfo(lxc, SERVER).pid, lxcInfo(lxc, CLIENT).pid], pids, 'same inits: adopted, not restarted');
  t.same(mountsBelow(runtimeRoot).sort(), mounts, 'no duplicate mounts');
  t.match(second.log(), /adopted running container/);

  const code = await second.stop();
  t.equal(code, 0);
  const log = second.log();
  t.ok(log.indexOf('pv-example-unix-client: STOPPED') > 0 && log.indexOf('pv-example-unix-server: STOPPED') > 0, 'both stopped');
  t.same([lxcInfo(lxc, SERVER).state, lxcInfo(lxc, CLIENT).state], ['STOPPED', 'STOPPED']);
  t.same(mountsBelow(runtimeRoot), [], 'nothing left mounted');
  t.same(mountsBelow(second.runDir), [], 'metadata views unmounted');
  const leftovers = execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '3', '-name', 'pv-example-*'], { encoding: 'utf8' }).trim();
  t.equal(leftovers, '', 'no cgroups left');
});
