/**
 * The documented statuses, produced against the real daemon: the 403 of every mgmt operation for
 * a container without the mgmt role (from a cgroup named like one, no LXC needed), the
 * body-size caps, the refusals of each route the other tests do not reach, and GET /openapi.json.
 * Every answer is recorded for the contract check (test/contract/responses.check.ts).
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { createContainerCgroup, requestsFromCgroup } from '../helpers/cgroups.ts';
import { buildModuleTree } from '../helpers/module-tree.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { ROUTES } from '../../src/api/routes.ts';
import { renderOpenApi } from '../../src/api/openapi.ts';

const ADMIN = 'contract-admin';
const GUEST = 'contract-guest';
const RUNNING = 'contract';

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-contract-'));
const revision = join(dir, 'storage', 'trails', 'locals', RUNNING);
mkdirSync(join(revision, '.pvr'), { recursive: true });
writeFileSync(
  join(revision, '.pvr', 'json'),
  JSON.stringify({
    '#spec': 'pantavisor-service-system@1',
    'bsp/drivers.json': { '#spec': 'driver-aliases@1', all: { wifi: ['pvi_wifi'] } },
    // No roles: mgmt. Group platform: restart_policy system. Its manual driver cannot load here.
    [`${ADMIN}/run.json`]: { name: ADMIN, type: 'lxc', group: 'platform', drivers: { manual: ['wifi'] } },
    [`${GUEST}/run.json`]: { name: GUEST, type: 'lxc', group: 'app', roles: [], status_goal: 'STARTED' },
  }),
);
symlinkSync(`locals/${RUNNING}`, join(dir, 'storage', 'trails', 'current'));
// Stub modules the test kernel refuses: every load fails, deterministically.
const modules = buildModuleTree(join(dir, 'modules'), { modules: [{ name: 'pvi_wifi' }] });

let daemon: TestDaemon;
t.before(async () => {
  daemon = await startTestDaemon({ dir, env: { PVCTRL_MODULES_DIR: modules.dir } });
});
t.teardown(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Call = [method: string, path: string, body?: string];

const callFrom = (cgroupPath: string, requests: Call[]): { status: number; body: string }[] =>
  requestsFromCgroup(cgroupPath, daemon.socket, requests, 60_000);

async function asHost(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  const response = await rawRequest(daemon.socket, method, path, body === undefined ? {} : { body });
  return { status: response.status, body: response.body };
}

t.test('a container without the mgmt role gets 403 on every mgmt operation, and may read the document', async (t) => {
  const cgroup = createContainerCgroup(GUEST);
  t.teardown(() => cgroup.remove());
  const mgmtCalls: Call[] = ROUTES.filter((route) => route.mgmt).flatMap((route) => route.methods.map((method): Call => [method, route.path.replaceAll('{}', 'x')]));
  const results = callFrom(cgroup.path, [...mgmtCalls, ['GET', `/events?container=${ADMIN}`], ['GET', '/openapi.json']]);
  mgmtCalls.forEach(([method, path], index) => t.equal(results[index]?.status, 403, `${method} ${path}`));
  t.same(results[mgmtCalls.length], { status: 403, body: '{"Error":"Request not sent from a mgmt platform"}' }, 'another container\'s events');
  const document = results[mgmtCalls.length + 1];
  t.equal(document?.status, 200, 'GET /openapi.json is open to every caller');
  // raw-http reads bytes as latin1; the document is UTF-8.
  t.equal(Buffer.from(document?.body ?? '', 'latin1').toString('utf8'), renderOpenApi(ROUTES), 'and serves the generator\'s document (docs/openapi.json)');
});

t.test('drivers: a manual driver that cannot load, and the reserved names', async (t) => {
  const cgroup = createContainerCgroup(ADMIN);
  t.teardown(() => cgroup.remove());
  const [list, all, one, unloadAll, unloadOne] = callFrom(cgroup.path, [
    ['GET', '/drivers'],
    ['PUT', '/drivers/load'],
    ['PUT', '/drivers/wifi/load'],
    ['PUT', '/drivers/unload'],
    ['PUT', '/drivers/wifi/unload'],
  ]);
  t.same(JSON.parse(list?.body ?? ''), [{ name: 'wifi', type: 'MANUAL', status: 'UNLOADED' }]);
  t.same(all, { status: 400, body: '{"Error":"Error loading drivers"}' });
  t.same(one, { status: 400, body: '{"Error":"Error loading driver"}' });
  t.equal(unloadAll?.status, 200);
  t.equal(unloadOne?.status, 200);
  t.same(await asHost('PUT', '/drivers/load/load'), { status: 400, body: '{"Error":"No driver name"}' }, 'a driver named load');
  t.same(await asHost('PUT', '/drivers/unload/unload'), { status: 400, body: '{"Error":"No driver name"}' }, 'a driver named unload');
});

t.test('bodies over a route\'s cap are answered 507', async (t) => {
  const daemons = JSON.parse((await asHost('GET', '/daemons')).body) as { name: string }[];
  const helper = daemons[0]?.name ?? 'hwrngd';
  const cases: [string, string, number][] = [
    ['PUT', `/containers/${GUEST}`, 1024],
    ['POST', '/signal', 4096],
    ['PUT', `/daemons/${helper}`, 1024],
    ['PUT', '/user-meta/too-long', 4096],
    ['PUT', '/device-meta/too-long', 4096],
    ['PUT', '/steps/current/commitmsg', 256],
    ['PUT', `/steps/locals/${RUNNING}/commitmsg`, 256],
    ['POST', '/commands', 4096],
  ];
  for (const [method, path, limit] of cases) {
    const response = await asHost(method, path, 'x'.repeat(limit + 1));
    t.same(response, { status: 507, body: '{"Error":"Not enough disk space available"}' }, `${method} ${path}`);
  }
});

t.test('each route\'s own refusals', async (t) => {
  const expect = async (method: string, path: string, body: string | undefined, status: number, error: string): Promise<void> => {
    const response = await asHost(method, path, body);
    t.same(response, { status, body: JSON.stringify({ Error: error }) }, `${method} ${path}`);
  };
  await expect('PUT', '/containers/nope', '{"action":"stop"}', 404, 'Container not found');
  await expect('PUT', `/containers/${ADMIN}`, '{"action":"stop"}', 403, "Container has restart_policy 'system' and cannot be controlled via API");
  await expect('PUT', `/containers/${GUEST}`, 'not json', 400, 'Invalid JSON');
  await expect('POST', '/signal', '{"payload":""}', 400, 'Signal has bad format');
  await expect('POST', '/signal', '{"type":"ready","payload":""}', 500, 'Signal not expected from this platform');
  await expect('PUT', '/daemons/nope', '{"action":"stop"}', 404, 'Daemon not found');
  await expect('PUT', '/user-meta/empty', '', 400, 'Cannot add or update user meta');
  await expect('PUT', '/device-meta/empty', '', 400, 'Cannot add or update device meta');
  await expect('PUT', '/steps/999/commitmsg', 'message', 404, 'Resource does not exist');
  await expect('PUT', '/steps/locals/nope/commitmsg', 'message', 404, 'Resource does not exist');
  await expect('GET', '/steps/locals/nope/progress', undefined, 404, 'Resource does not exist');
  await expect('PUT', `/steps/locals/${'n'.repeat(65)}`, '{}', 400, 'Request has bas step name');
  await expect('PUT', `/steps/locals/${RUNNING}`, '{"#spec":"pantavisor-service-system@1"}', 409, 'Cannot overwrite the running revision');
  await expect('GET', '/events?types=nope', undefined, 400, 'unknown event type "nope"');
  await expect('GET', '/steps/999/progress', undefined, 404, 'Resource does not exist');
  const helper = (JSON.parse((await asHost('GET', '/daemons')).body) as { name: string }[])[0]?.name ?? 'hwrngd';
  await expect('PUT', `/daemons/${helper}`, '{"action":"bogus"}', 400, "Invalid action. Use 'start', 'stop', or 'restart'");
  t.same(await asHost('PUT', `/daemons/${helper}`, '{"action":"start"}'), { status: 200, body: '' }, 'starting a running helper is accepted');
  t.same(await asHost('PUT', '/steps/current/commitmsg', 'fits'), { status: 200, body: '' });
  t.equal((await asHost('PUT', `/steps/locals/${RUNNING}/commitmsg`, 'fits')).status, 200);
  t.equal((await asHost('GET', `/steps/locals/${RUNNING}`)).status, 200);
});

t.test('GET /events answers 200 and streams NDJSON', async (t) => {
  // The stream never ends: the read stops after a short silence, with the head and first events in.
  const response = await rawRequest(daemon.socket, 'GET', '/events?types=epoch', { idleMs: 300 });
  t.equal(response.status, 200);
  t.equal(response.headers['content-type'], 'application/x-ndjson');
});
