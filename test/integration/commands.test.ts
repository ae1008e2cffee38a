/**
 * POST /commands with the real daemon and real containers: admission rules, SSH on and off,
 * and revision switching — a revision that adds a container is installed and run; one whose
 * container never reaches its goal is rolled back and the previous containers run again.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { CLIENT, SERVER, prepareStorage, unpackExamples } from '../helpers/examples.ts';
import { containers, lxcInfo, lxcPathOf, waitFor, waitForStatus } from '../helpers/containers.ts';
import { pvctl } from '../helpers/plan.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { tcpBanner } from '../helpers/net.ts';

const examples = unpackExamples();
const SSH_PORT = 20000 + Math.floor(Math.random() * 20000);
const serverOnly = Object.fromEntries(Object.entries(examples.state).filter(([key]) => !key.startsWith(`${CLIENT}/`)));
let daemon: TestDaemon;
let dir = '';

t.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pvctrl-commands-'));
  prepareStorage(dir, 'base', serverOnly, examples.objectsDir);
  daemon = await startTestDaemon({ dir, env: { PVCTRL_SSH_PORT: String(SSH_PORT) } });
  await waitForStatus(daemon.socket, SERVER, ['READY']);
});
t.teardown(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(dirname(examples.objectsDir), { recursive: true, force: true });
});

const command = (op: string, payload?: unknown) =>
  rawRequest(daemon.socket, 'POST', '/commands', { body: JSON.stringify(payload === undefined ? { op } : { op, payload }) });
const progressOf = async (revision: string): Promise<{ status: string; 'status-msg': string }> =>
  JSON.parse((await rawRequest(daemon.socket, 'GET', `/steps/${revision}/progress`)).body) as { status: string; 'status-msg': string };
const waitForProgress = (revision: string, statuses: string[], timeoutMs = 60_000) =>
  waitFor(`${revision} progress ${statuses.join('/')}`, async () => {
    const progress = await progressOf(revision);
    return statuses.includes(progress.status) ? progress : undefined;
  }, timeoutMs);

t.test('admission rules', async (t) => {
  t.same([(await command('RUN_GC')).status, (await command('RUN_GC')).body], [400, '{"Error":"Command has bad format"}'], 'payload is required');
  t.equal((await rawRequest(daemon.socket, 'POST', '/commands', { body: 'not json' })).status, 400);
  t.equal((await command('NOPE', '')).status, 400, 'unknown op');
  t.equal((await command('REBOOT', '')).status, 400, 'ops match exactly, not by prefix');
  t.equal((await command('LOCAL_APPLY', 'locals/x')).status, 400, 'LOCAL_APPLY is refused (unsupported)');
  const update = await command('UPDATE_METADATA', { a: 1 });
  t.same([update.status, update.body], [409, '{"Error":"Cannot do this operation while on local mode"}']);
  const remote = await command('GO_REMOTE', '');
  t.same([remote.status, remote.body], [409, '{"Error":"Cannot do this operation when remote mode is disabled by config"}']);
  const unclaim = await command('UNCLAIM', '');
  t.same([unclaim.status, unclaim.body], [204, ''], '204 without a body');
  t.equal((await command('DEFER_REBOOT', '30')).status, 200);
  t.equal((await rawRequest(daemon.socket, 'POST', '/commands', { body: 'x'.repeat(5000) })).status, 507);
  t.equal((await command('RUN_GC', '')).status, 200);
});

t.test('ENABLE_SSH starts dropbear, DISABLE_SSH stops it', async (t) => {
  const banner = (): Promise<string> => tcpBanner(SSH_PORT);
  t.match(await banner(), /ECONNREFUSED/, 'off by default');
  t.equal(pvctl(daemon.socket, ['cmd', 'enable-ssh']).code, 0);
  t.match(await waitFor('ssh banner', async () => ((await banner()).startsWith('SSH-') ? banner() : undefined), 15_000), /^SSH-2\.0-dropbear/);
  const config2 = JSON.parse((await rawRequest(daemon.socket, 'GET', '/config2')).body) as { key: string; value: string; modified: string }[];
  t.match(config2.find((entry) => entry.key === 'PV_DEBUG_SSH'), { value: '1', modified: 'metadata' });
  await waitFor('slot free', async () => ((await command('DISABLE_SSH', '')).status === 200 ? true : undefined), 10_000);
  await waitFor('ssh closed', async () => ((await banner()).startsWith('error') ? true : undefined), 20_000);
  t.pass('DISABLE_SSH stopped the server');
});

t.test('a revision that adds a container: steps install + cmd run', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'pvctrl-step-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, 'objects'));
  writeFileSync(join(work, 'json'), JSON.stringify(examples.state));
  for (const [key, value] of Object.entries(examples.state)) {
    if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value) && key.startsWith(`${CLIENT}/`)) copyFileSync(join(examples.objectsDir, value), join(work, 'objects', value));
  }
  execFileSync('tar', ['czf', join(work, 'both.tgz'), '-C', work, 'json', 'objects']);
  const serverPid = lxcInfo(lxcPathOf(daemon.runDir), SERVER).pid;
  const installed = pvctl(daemon.socket, ['-m', 'add the client', 'steps', 'install', join(work, 'both.tgz'), 'locals/both']);
  t.equal(installed.code, 0, installed.stderr);
  t.equal(pvctl(daemon.socket, ['cmd', 'run', 'locals/both']).code, 0, 'cmd run accepted');
  const reboot = await command('REBOOT_DEVICE', 'not now');
  t.same([reboot.status, reboot.body], [503, '{"Error":"Cannot do this operation while update is ongoing"}'], 'refused while the update runs');
  t.equal(reboot.headers['retry-after'], '600');
  const done = await waitForProgress('locals/both', ['UPDATED', 'DONE', 'ERROR']);
  t.same(done, { status: 'UPDATED', 'status-msg': 'Update finished, revision not set as rollback point', progress: 100, retries: 0 });
  t.equal((await rawRequest(daemon.socket, 'GET', '/steps/current')).body, readFileSync(join(daemon.storage, 'trails', 'locals', 'both', '.pvr', 'json'), 'utf8'));
  await waitForStatus(daemon.socket, CLIENT, ['READY']);
  t.equal(lxcInfo(lxcPathOf(daemon.runDir), SERVER).pid, serverPid, 'the unchanged server kept running');
  t.match(JSON.parse((await rawRequest(daemon.socket, 'GET', '/device-meta')).body), { 'pantavisor.revision': 'locals/both' });
});

t.test('a revision whose container never reaches its goal is rolled back', async (t) => {
  const sleeper = 'lxc.init.cmd = /bin/sleep 1000\nlxc.environment = PATH=/bin\n';
  const sha = createHash('sha256').update(sleeper).digest('hex');
  t.equal((await rawRequest(daemon.socket, 'PUT', `/objects/${sha}`, { body: sleeper })).status, 200);
  const broken = { ...examples.state, [`${CLIENT}/lxc.container.conf`]: sha, 'device.json': { groups: [{ name: 'app', status_goal: 'STARTED', restart_policy: 'container', timeout: 3 }] } };
  t.equal((await rawRequest(daemon.socket, 'PUT', '/steps/locals/broken', { body: JSON.stringify(broken) })).status, 200);
  t.equal(pvctl(daemon.socket, ['cmd', 'run', 'locals/broken']).code, 0);
  const failed = await waitForProgress('locals/broken', ['ERROR', 'UPDATED', 'DONE']);
  t.same([failed.status, failed['status-msg']], ['ERROR', 'Status goal not reached']);
  await waitFor('rollback', async () => ((await rawRequest(daemon.socket, 'GET', '/device-meta')).body.includes('"pantavisor.revision":"locals/both"') ? true : undefined), 30_000);
  await waitForStatus(daemon.socket, CLIENT, ['READY'], 60_000);
  await waitForStatus(daemon.socket, SERVER, ['READY'], 60_000);
  t.equal((await rawRequest(daemon.socket, 'GET', '/steps/current')).body, readFileSync(join(daemon.storage, 'trails', 'locals', 'both', '.pvr', 'json'), 'utf8'), 'current is the previous revision again');
  t.same((await containers(daemon.socket)).map((item) => item.status), ['READY', 'READY'], "the previous revision's containers run again");
});

t.test('LOCAL_RUN_COMMIT makes a rollback point that GC keeps', async (t) => {
  // 503 while the rollback above is still testing the previous revision: retry as told.
  await waitFor('run-commit accepted', async () => (pvctl(daemon.socket, ['cmd', 'run-commit', 'locals/both']).code === 0 ? true : undefined), 60_000);
  const done = await waitForProgress('locals/both', ['DONE', 'ERROR']);
  t.equal(done.status, 'DONE');
  t.ok(existsSync(join(daemon.storage, 'trails', 'locals', 'both', '.pv', 'done')));
  await waitFor('slot free', async () => ((await command('RUN_GC', '')).status === 200 ? true : undefined), 30_000);
  await waitFor('gc ran', async () => (existsSync(join(daemon.storage, 'trails', 'locals', 'broken')) ? undefined : true), 10_000);
  t.ok(existsSync(join(daemon.storage, 'trails', 'locals', 'both', '.pvr', 'json')), 'running, committed revision kept');
});

t.test('MAKE_FACTORY turns a revision into revision 0 and runs it', async (t) => {
  await waitFor('make-factory accepted', async () => (pvctl(daemon.socket, ['cmd', 'make-factory', 'locals/both']).code === 0 ? true : undefined), 60_000);
  const done = await waitForProgress('0', ['DONE', 'ERROR']);
  t.equal(done.status, 'DONE');
  t.equal(
    (await rawRequest(daemon.socket, 'GET', '/steps/0')).body,
    readFileSync(join(daemon.storage, 'trails', 'locals', 'both', '.pvr', 'json'), 'utf8'),
    "revision 0 holds the source's state",
  );
  await waitFor('running 0', async () => ((await rawRequest(daemon.socket, 'GET', '/device-meta')).body.includes('"pantavisor.revision":"0"') ? true : undefined), 30_000);
  t.same((await containers(daemon.socket)).map((item) => item.status), ['READY', 'READY'], 'unchanged containers kept running');
});
