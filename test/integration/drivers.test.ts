/**
 * Drivers through the real daemon (spec §7.10): a running revision whose BSP declares driver
 * aliases and whose mgmt container declares drivers, the module tree given by
 * PVCTRL_MODULES_DIR, and the API called from inside that container's cgroup. The test kernel
 * cannot load modules, so loads answer 400 and the daemon log names the module and errno.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { CLIENT, SERVER, prepareStorage, renamed, unpackExamples } from '../helpers/examples.ts';
import { waitFor, waitForStatus } from '../helpers/containers.ts';
import { unifiedCgroupMount } from '../helpers/cgroups.ts';
import { buildModuleTree } from '../helpers/module-tree.ts';
import { pvc, pvctl } from '../helpers/plan.ts';

const examples = unpackExamples();
const modules = mkdtempSync(join(tmpdir(), 'pvctrl-modules-'));
t.teardown(() => {
  rmSync(dirname(examples.objectsDir), { recursive: true, force: true });
  rmSync(modules, { recursive: true, force: true });
});
const tree = buildModuleTree(modules, {
  modules: [{ name: 'pvi_cfg80211' }, { name: 'pvi_wifi', depends: ['pvi_cfg80211'], aliases: ['sdio:c*v02D0d4345*'] }, { name: 'pvi_serial' }],
});

/** curl on the daemon socket from the container's cgroup, where the daemon identifies callers. */
function curlAs(container: string, socket: string, method: string, path: string): { status: number; body: string } {
  const procs = join(unifiedCgroupMount(), 'lxc', container, 'cgroup.procs');
  const result = spawnSync(
    'sh',
    ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', procs, 'curl', '-sS', '--max-time', '60', '-X', method, '--unix-socket', socket, '-w', '\n%{http_code}', `http://localhost${path}`],
    { encoding: 'utf8', timeout: 90_000 },
  );
  const cut = result.stdout.lastIndexOf('\n');
  return { status: Number(result.stdout.slice(cut + 1)), body: result.stdout.slice(0, cut) };
}

const CONTAINER = 'pvdrv-unix-client';

let daemon: TestDaemon;
t.before(async () => {
  const state = renamed(renamed(examples.state, CLIENT, CONTAINER), SERVER, 'pvdrv-unix-server');
  state['bsp/drivers.json'] = {
    '#spec': 'driver-aliases@1',
    all: { wifi: ['pvi_wifi ${user-meta:drivers.wifi.opts}'], serial: ['pvi_serial'] },
  };
  const client = { ...(state[`${CONTAINER}/run.json`] as Record<string, unknown>) };
  client.drivers = { optional: ['serial'], manual: ['wifi', 'gps'] };
  state[`${CONTAINER}/run.json`] = client;
  const server = { ...(state['pvdrv-unix-server/run.json'] as Record<string, unknown>) };
  server.drivers = { required: ['serial'] };
  state['pvdrv-unix-server/run.json'] = server;
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-drivers-'));
  prepareStorage(dir, 'drivers', state, examples.objectsDir);
  daemon = await startTestDaemon({ dir, env: { PVCTRL_MODULES_DIR: tree.dir } });
  await waitForStatus(daemon.socket, CONTAINER, ['READY']);
});
t.teardown(async () => {
  await daemon?.stop();
  if (daemon !== undefined) rmSync(daemon.dir, { recursive: true, force: true });
});

t.test('required and optional drivers load when a container starts', async (t) => {
  await waitFor('start attempts', async () => (/required drivers failed to load: serial/.test(daemon.log()) ? true : undefined), 30_000);
  t.match(daemon.log(), /container pvdrv-unix-server: cannot start: required drivers failed to load: serial/, 'a required driver that fails keeps the container down');
  t.match(daemon.log(), /container pvdrv-unix-client: optional drivers failed to load: serial/, 'an optional one only warns');
  t.match(daemon.log(), /pvi_serial/, 'the module is named in the log');
  const server = JSON.parse(pvc(daemon.socket, ['http://localhost/containers']).body) as { name: string; status: string }[];
  t.ok(['STOPPED', 'RECOVERING'].includes(server.find((item) => item.name === 'pvdrv-unix-server')?.status ?? ''), 'server not running');
});

t.test('GET /drivers from the container lists its drivers; the host has none', async (t) => {
  const listed = curlAs(CONTAINER, daemon.socket, 'GET', '/drivers');
  t.equal(listed.status, 200);
  t.same(JSON.parse(listed.body), [
    { name: 'serial', type: 'OPTIONAL', status: 'UNLOADED' },
    { name: 'wifi', type: 'MANUAL', status: 'UNLOADED' },
    { name: 'gps', type: 'MANUAL', status: 'UNKNOWN' },
  ], 'declaration order; gps is not in the BSP table');
  const host = pvc(daemon.socket, ['http://localhost/drivers']);
  t.equal(host.status, 200);
  t.equal(host.body, '{}');
  t.equal(pvc(daemon.socket, ['-X', 'PUT', 'http://localhost/drivers/load']).status, 200, 'the host: nothing to load');
});

t.test('PUT /drivers/load from the container: the kernel refuses, 400, the module named in the log', async (t) => {
  t.equal(pvctl(daemon.socket, ['usrmeta', 'save', 'drivers.wifi.opts', 'country=DE']).code, 0);
  const bulk = curlAs(CONTAINER, daemon.socket, 'PUT', '/drivers/load');
  t.equal(bulk.status, 400);
  t.equal(bulk.body, '{"Error":"Error loading drivers"}');
  const line = await waitFor('the load error in the log', async () => /driver wifi: cannot load .*/.exec(daemon.log())?.[0], 10_000);
  t.match(line, /^driver wifi: cannot load "pvi_wifi country=DE": insert "pvi_wifi": dependency "pvi_cfg80211": .+ \((ENOSYS|ENOEXEC|EPERM)\)$/, 'user meta substituted; module and errno named');
  t.match(daemon.log(), new RegExp(`drivers: kernel modules from ${tree.dir}`), 'PVCTRL_MODULES_DIR used');

  const named = curlAs(CONTAINER, daemon.socket, 'PUT', '/drivers/wifi/load');
  t.equal(named.status, 400);
  t.equal(named.body, '{"Error":"Error loading driver"}');
  t.equal(curlAs(CONTAINER, daemon.socket, 'PUT', '/drivers/gps/load').status, 200, 'alias not in the BSP: nothing matched');
  t.equal(curlAs(CONTAINER, daemon.socket, 'PUT', '/drivers/serial/load').status, 200, 'optional drivers are not loaded through the API');
  t.equal(curlAs(CONTAINER, daemon.socket, 'PUT', '/drivers/nosuch/load').status, 200);
});

t.test('PUT /drivers/unload: always 200; nothing was loaded', async (t) => {
  t.equal(curlAs(CONTAINER, daemon.socket, 'PUT', '/drivers/unload').status, 200);
  t.equal(curlAs(CONTAINER, daemon.socket, 'PUT', '/drivers/wifi/unload').status, 200);
  t.same(JSON.parse(curlAs(CONTAINER, daemon.socket, 'GET', '/drivers').body).map((driver: { status: string }) => driver.status), ['UNLOADED', 'UNLOADED', 'UNKNOWN']);
});
