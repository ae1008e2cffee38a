/**
 * The user's acceptance plan (pv-ctrl-testplan.txt), each test as the plan writes it, against the
 * real daemon on a temp socket with pvcontrol and curl. `pvctl` = pvcontrol, `pvc` = curl.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pvc, pvctl, pvctlAs, recordPlanTraffic, sh } from '../helpers/plan.ts';
import { tcpBanner } from '../helpers/net.ts';
import { lxcPathOf, waitFor, waitForStatus } from '../helpers/containers.ts';
import { CLIENT, SERVER } from '../helpers/examples.ts';

const SSH_PORT = 20000 + Math.floor(Math.random() * 20000);
// The contract check validates every answer of this plan (no-op unless the runner records).
recordPlanTraffic();

// The plan's appengine: a fresh storage, the two example containers in pvtx.d. Set up in
// t.before: tap ends a root test that has no subtests yet when the loop waits too long.
let daemon: TestDaemon;
let S = '';
let LXC = '';
t.before(async () => {
  daemon = await startTestDaemon({ args: ['--pvtx-dir', join(REPO, 'examples', 'pvtx.d')], env: { PVCTRL_SSH_PORT: String(SSH_PORT) } });
  S = daemon.socket;
  LXC = lxcPathOf(daemon.runDir);
  await waitForStatus(S, SERVER, ['READY']);
  await waitForStatus(S, CLIENT, ['READY']);
});
t.teardown(() => daemon?.dispose());
const lxcLs = (): string => sh(`lxc-ls -f -P ${LXC}`).stdout;
const lxcLine = (name: string): string => lxcLs().split('\n').find((line) => line.startsWith(`${name} `)) ?? '';
const tmp = mkdtempSync(join(tmpdir(), 'pvctrl-plan-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const sha256sum = (path: string): string => sh(`sha256sum ${path} | awk '{print $1}'`).stdout.trim();

t.test('Test 1: Build Info', async (t) => {
  const result = pvctl(S, ['buildinfo']);
  t.equal(result.code, 0, 'HTTP 200 (exit 0)');
  t.type(result.stdout, 'string', 'plain text manifest');
  t.equal(pvc(S, ['-i', 'http://localhost/buildinfo']).status, 200);
});

t.test('Test 2: Containers List', async (t) => {
  const listed = pvctl(S, ['container', 'ls']);
  t.equal(listed.code, 0);
  const containers = JSON.parse(pvc(S, ['http://localhost/containers']).body) as Record<string, unknown>[];
  t.same(JSON.parse(listed.stdout), containers, 'pvcontrol and curl agree');
  for (const container of containers) {
    for (const field of ['name', 'group', 'status', 'restart_policy', 'roles']) t.ok(field in container, `${String(container.name)} has ${field}`);
  }
  t.same(containers.map((container) => container.name).sort(), [CLIENT, SERVER], 'both unix examples present');
  t.ok(containers.every((container) => container.status === 'READY'), 'running containers are READY');
});

t.test('Test 3: Groups List', async (t) => {
  const listed = pvctl(S, ['groups', 'ls']);
  t.equal(listed.code, 0);
  const groups = JSON.parse(pvc(S, ['http://localhost/groups']).body) as { name: string }[];
  const names = groups.map((group) => group.name);
  for (const name of ['data', 'root', 'platform', 'app']) t.ok(names.includes(name), `group ${name}`);
});

t.test('Test 4: Steps List', async (t) => {
  const result = pvctl(S, ['steps', 'ls']);
  t.equal(result.code, 0);
  const steps = JSON.parse(result.stdout) as { name: string }[];
  t.ok(Array.isArray(steps), 'JSON array');
  t.ok(steps.some((step) => step.name === '0'), 'includes revision 0');
});

t.test('Test 5: Steps Get State', async (t) => {
  const current = pvctl(S, ['steps', 'get', 'current']);
  t.equal(current.code, 0);
  t.match(JSON.parse(current.stdout), { '#spec': 'pantavisor-service-system@1' }, 'current returns the active state.json');
  const zero = pvctl(S, ['steps', 'get', '0']);
  t.equal(zero.code, 0);
  t.same(JSON.parse(zero.stdout), JSON.parse(current.stdout));
});

t.test('Test 6: Steps Show Progress', async (t) => {
  const result = pvctl(S, ['steps', 'show-progress', '0']);
  t.equal(result.code, 0);
  t.equal((JSON.parse(result.stdout) as { status: string }).status, 'DONE');
});

t.test('Test 7: Configuration', async (t) => {
  const legacy = pvctl(S, ['config', 'ls']);
  t.equal(legacy.code, 0);
  const aliased = JSON.parse(legacy.stdout) as Record<string, unknown>;
  t.ok('system.init.mode' in aliased && 'log.level' in aliased, '/config uses aliased key names');
  const full = pvctl(S, ['conf', 'ls']);
  t.equal(full.code, 0);
  const entries = JSON.parse(full.stdout) as { key: string; value: string; modified: string }[];
  t.ok(entries.some((entry) => entry.key === 'PV_SYSTEM_INIT_MODE'), '/config2 lists the full configuration');
  t.ok(entries.some((entry) => entry.key === 'PV_LOG_LEVEL'));
});

t.test('Test 8: Device Metadata CRUD', async (t) => {
  const initial = pvctl(S, ['devmeta', 'ls']);
  t.equal(initial.code, 0);
  t.ok('pantavisor.arch' in (JSON.parse(initial.stdout) as object), 'auto-populated keys like pantavisor.arch');
  t.equal(pvctl(S, ['devmeta', 'save', 'test-key', 'test-value-123']).code, 0);
  t.equal((JSON.parse(pvctl(S, ['devmeta', 'ls']).stdout) as Record<string, unknown>)['test-key'], 'test-value-123');
  t.equal(pvctl(S, ['devmeta', 'save', 'test-key', 'updated-value-456']).code, 0);
  t.equal((JSON.parse(pvc(S, ['http://localhost/device-meta']).body) as Record<string, unknown>)['test-key'], 'updated-value-456');
  t.equal(pvctl(S, ['devmeta', 'delete', 'test-key']).code, 0);
  t.notOk('test-key' in (JSON.parse(pvctl(S, ['devmeta', 'ls']).stdout) as object), 'deleted');
});

t.test('Test 9: User Metadata CRUD', async (t) => {
  t.same(JSON.parse(pvctl(S, ['usrmeta', 'ls']).stdout), {}, 'empty in a fresh device');
  t.equal(pvctl(S, ['usrmeta', 'save', 'my-key', 'my-value']).code, 0);
  t.equal((JSON.parse(pvctl(S, ['usrmeta', 'ls']).stdout) as Record<string, unknown>)['my-key'], 'my-value');
  t.equal(pvctl(S, ['usrmeta', 'save', 'my-key', 'new-value']).code, 0);
  t.equal((JSON.parse(pvc(S, ['http://localhost/user-meta']).body) as Record<string, unknown>)['my-key'], 'new-value');
  t.equal(pvctl(S, ['usrmeta', 'delete', 'my-key']).code, 0);
  t.notOk('my-key' in (JSON.parse(pvctl(S, ['usrmeta', 'ls']).stdout) as object));
});

t.test('Test 10: Device Metadata - Delete Non-Existent Key', async (t) => {
  t.equal(pvc(S, ['-X', 'DELETE', 'http://localhost/device-meta/nonexistent-key-xyz']).status, 404);
});

t.test('Test 11: Objects List', async (t) => {
  const result = pvctl(S, ['objects', 'ls']);
  t.equal(result.code, 0);
  const objects = JSON.parse(result.stdout) as { sha256: string }[];
  t.ok(Array.isArray(objects), 'JSON array');
  t.ok(objects.length >= 4, `with containers loaded, multiple object hashes (${objects.length})`);
});

t.test('Test 12: Objects PUT - Small File', async (t) => {
  sh(`echo "hello pvctrl test" > ${tmp}/test-small.txt`);
  const sha = sha256sum(`${tmp}/test-small.txt`);
  t.equal(pvctl(S, ['objects', 'put', `${tmp}/test-small.txt`, sha]).code, 0, 'HTTP 200');
  t.match(pvctl(S, ['objects', 'ls']).stdout, sha, 'hash in the listing');
});

t.test('Test 13: Objects PUT - Large File (Chunked Upload)', async (t) => {
  sh(`dd if=/dev/urandom of=${tmp}/test-2mb.bin bs=1024 count=2048 2>/dev/null`);
  const sha = sha256sum(`${tmp}/test-2mb.bin`);
  t.equal(pvctl(S, ['objects', 'put', `${tmp}/test-2mb.bin`, sha]).code, 0);
  t.match(pvctl(S, ['objects', 'ls']).stdout, sha);
  t.match(daemon.log(), new RegExp(`${sha}: incoming data: \\d+`), 'log shows incoming data');
  t.match(daemon.log(), new RegExp(`${sha} stored .*upload done`), 'followed by upload done');
});

t.test('Test 14: Objects GET - Download and Verify Integrity', async (t) => {
  const sha = sha256sum(`${tmp}/test-2mb.bin`);
  const result = pvctl(S, ['-f', `${tmp}/test-2mb-downloaded.bin`, 'objects', 'get', sha]);
  t.equal(result.code, 0);
  t.equal(sha256sum(`${tmp}/test-2mb-downloaded.bin`), sha, 'checksums match');
  const head = pvc(S, ['-D', '-', '-o', '/dev/null', `http://localhost/objects/${sha}`]);
  t.match(head.stdout, /content-type: application\/octet-stream/i);
});

t.test('Test 15: Objects PUT - Wrong Hash (Checksum Validation)', async (t) => {
  sh(`echo "checksum test" > ${tmp}/test-badsha.txt`);
  const bad = 'a'.repeat(64);
  const result = pvctl(S, ['objects', 'put', `${tmp}/test-badsha.txt`, bad]);
  t.not(result.code, 0, 'upload fails');
  t.equal(result.code, 60, 'pvcontrol reports a bad checksum (HTTP 422)');
  t.match(result.stderr, '{"Error":"Object has bad checksum"}');
  const status = pvc(S, ['-X', 'PUT', '--data-binary', `@${tmp}/test-badsha.txt`, `http://localhost/objects/${bad}`]).status;
  t.equal(status, 422, 'HTTP 422 UNPROCESSABLE ENTITY');
  t.notMatch(pvctl(S, ['objects', 'ls']).stdout, bad, 'object NOT stored');
  t.notOk(existsSync(join(daemon.storage, 'objects', bad)));
});

t.test('Test 16: Objects PUT - Duplicate Upload (Idempotency)', async (t) => {
  sh(`echo "duplicate test" > ${tmp}/test-dup.txt`);
  const sha = sha256sum(`${tmp}/test-dup.txt`);
  t.equal(pvctl(S, ['objects', 'put', `${tmp}/test-dup.txt`, sha]).code, 0, 'first upload');
  t.equal(pvctl(S, ['objects', 'put', `${tmp}/test-dup.txt`, sha]).code, 0, 'second upload');
  t.equal(readFileSync(join(daemon.storage, 'objects', sha), 'utf8'), 'duplicate test\n');
});

// pv-xconnect processes of this daemon (the host may run other daemons' helpers).
const xconnectPids = (): number[] =>
  sh(`pgrep -f -- '(xconnect/main.ts|pvctrl-xconnect) --socket ${S}$'`)
    .stdout.split('\n')
    .filter((line) => line !== '')
    .map(Number);
const daemonsLs = (): { name: string; pid: number; respawn: boolean }[] => {
  const result = pvctl(S, ['daemons', 'ls']);
  if (result.code !== 0) throw new Error(`pvctl daemons ls: ${result.stderr}`);
  return JSON.parse(result.stdout) as { name: string; pid: number; respawn: boolean }[];
};
const xconnectEntry = (): { name: string; pid: number; respawn: boolean } | undefined => daemonsLs().find((entry) => entry.name === 'pv-xconnect');

t.test('Test 17: Daemons List', async (t) => {
  const result = pvctl(S, ['daemons', 'ls']);
  t.equal(result.code, 0);
  const daemons = JSON.parse(result.stdout) as Record<string, unknown>[];
  t.ok(Array.isArray(daemons), 'JSON array of daemon objects');
  for (const entry of daemons) {
    for (const field of ['name', 'pid', 'respawn']) t.ok(field in entry, `${String(entry.name)} has ${field}`);
  }
  const xconnect = await waitFor('pv-xconnect with a pid', async () => {
    const entry = xconnectEntry();
    return entry !== undefined && entry.pid > 0 ? entry : undefined;
  }, 10_000);
  t.ok(xconnect.pid > 0 && xconnect.respawn === true, `pv-xconnect present with pid ${xconnect.pid} > 0 and respawn: true`);
});

t.test('Test 18: Daemon Stop', async (t) => {
  const before = xconnectEntry();
  t.ok(before !== undefined && before.pid > 0 && xconnectPids().includes(before.pid), 'before stop: pv-xconnect process running');
  t.equal(pvctl(S, ['daemons', 'stop', 'pv-xconnect']).code, 0, 'stop response: HTTP 200 OK');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const after = xconnectEntry();
  t.same(xconnectPids(), [], 'after stop: no pv-xconnect process');
  t.equal(after?.respawn, false, 'API status: respawn false');
  t.ok(after !== undefined && after.pid <= 0, `API status: pid ${after?.pid} is 0 or negative`);
});

t.test('Test 19: Daemon Start', async (t) => {
  t.equal(pvctl(S, ['daemons', 'start', 'pv-xconnect']).code, 0, 'start response: HTTP 200 OK');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const after = xconnectEntry();
  t.ok(after !== undefined && after.pid > 0 && xconnectPids().includes(after.pid), 'after start: pv-xconnect process running again');
  t.equal(after?.respawn, true, 'API status: respawn true');
  t.ok(after !== undefined && after.pid > 0, `API status: pid ${after?.pid} > 0`);
});

t.test('Test 20: Daemon Stop/Start - Non-Existent Daemon', async (t) => {
  const result = pvctl(S, ['daemons', 'stop', 'nonexistent-daemon']);
  t.not(result.code, 0, 'pvcontrol fails');
  t.match(result.stderr, '{"Error":"Daemon not found"}');
  const direct = pvc(S, ['-X', 'PUT', '--data-binary', '{"action":"stop"}', 'http://localhost/daemons/nonexistent-daemon']);
  t.equal(direct.status, 404, 'HTTP 404 NOT FOUND');
  t.equal(direct.body, '{"Error":"Daemon not found"}');
});

t.test('Test 21: XConnect Graph', async (t) => {
  const result = pvctl(S, ['graph', 'ls']);
  t.equal(result.code, 0);
  const graph = JSON.parse(result.stdout) as Record<string, unknown>[];
  t.ok(Array.isArray(graph), 'JSON structure describing the service mesh graph');
  const link = graph.find((item) => item.type === 'unix');
  t.ok(link !== undefined, 'with the unix examples loaded: a unix link');
  t.match(link, { consumer: CLIENT, provider: SERVER, name: 'raw', target: '/run/pv/services/raw.sock', socket: '/run/example/raw.sock' }, 'between server and client');
  t.ok(Number(link?.consumer_pid) > 0 && Number(link?.provider_pid) > 0, 'provider and consumer information (running pids)');
});

t.test('Test 22: Drivers List', async (t) => {
  // pvc http://localhost/drivers | jq .
  const result = pvc(S, ['http://localhost/drivers']);
  t.equal(result.status, 200);
  t.same(JSON.parse(result.body), {}, 'JSON; empty in appengine: the host has no platform, the examples manage no drivers');
});

t.test('Test 23: Drivers Load/Unload', async (t) => {
  t.equal(pvc(S, ['-X', 'PUT', 'http://localhost/drivers/load']).status, 200, 'load all: HTTP 200 with nothing to load');
  t.equal(pvc(S, ['-X', 'PUT', 'http://localhost/drivers/unload']).status, 200, 'unload all: HTTP 200 with nothing to unload');
});

t.test('Test 24: Signal - Ready', async (t) => {
  const result = pvctlAs(SERVER, S, ['signal', 'ready']);
  t.equal(result.code, 0, `HTTP 200 from the server container (${result.stderr.trim()})`);
  t.match(daemon.log(), /signal ready from pv-example-unix-server/, 'processed (visible in logs)');
  t.not(pvctl(S, ['signal', 'ready']).code, 0, 'the host is no container: the reference 500 is kept');
});

t.test('Test 25: Signal - Alive', async (t) => {
  const result = pvctlAs(SERVER, S, ['signal', 'alive']);
  t.equal(result.code, 0, 'HTTP 200 from a container that opted into liveness');
  const server = (JSON.parse(pvctl(S, ['container', 'ls']).stdout) as { name: string; alive?: { last_signal_secs: number } }[]).find(
    (container) => container.name === SERVER,
  );
  t.ok(server?.alive !== undefined && server.alive.last_signal_secs <= 2, 'keepalive recorded in /containers');
});

t.test('Test 27: Commands - Run GC', async (t) => {
  const unused = sha256sum(`${tmp}/test-2mb.bin`);
  const result = pvctl(S, ['cmd', 'run-gc']);
  t.ok(result.code === 0 || result.code === 75, `HTTP 200 OK or 503 with Retry-After (exit ${result.code})`);
  await waitFor('garbage collected', async () => (JSON.parse(pvctl(S, ['objects', 'ls']).stdout) as { sha256: string }[]).some((object) => object.sha256 === unused) ? undefined : true, 30_000);
  const objects = JSON.parse(pvctl(S, ['objects', 'ls']).stdout) as { sha256: string }[];
  t.ok(objects.length >= 4, 'objects of the running revision are kept');
  t.notOk(objects.some((object) => object.sha256 === unused), 'unused objects removed from storage');
  t.equal(pvctl(S, ['storage', 'gc']).code, 0, 'POST /storage/gc too');
});

t.test('Test 28: Container Start/Stop/Restart', async (t) => {
  t.equal(pvctl(S, ['container', 'stop', CLIENT]).code, 0);
  await waitForStatus(S, CLIENT, ['STOPPED']);
  t.match(lxcLine(CLIENT), /\bSTOPPED\b/, 'after stop: STOPPED');
  t.equal(pvctl(S, ['container', 'start', CLIENT]).code, 0);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  t.match(lxcLine(CLIENT), /\bRUNNING\b/, 'after start: RUNNING');
  const before = sh(`lxc-info -P ${LXC} -n ${SERVER} -p -H`).stdout.trim();
  t.equal(pvctl(S, ['container', 'restart', SERVER]).code, 0);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  t.match(lxcLine(SERVER), /\bRUNNING\b/, 'after restart: RUNNING');
  t.not(sh(`lxc-info -P ${LXC} -n ${SERVER} -p -H`).stdout.trim(), before, 'restarted (new init pid)');
  await waitForStatus(S, SERVER, ['READY']);
  await waitForStatus(S, CLIENT, ['READY']);
});

t.test('Test 29: Steps Install (Local Revision)', async (t) => {
  t.equal(pvctl(S, ['-f', `${tmp}/current-state.json`, 'steps', 'get', 'current']).code, 0);
  t.equal(sh(`cd ${tmp} && mkdir -p test-step && cp ${tmp}/current-state.json test-step/state.json && tar czf test-step.tgz -C test-step .`).code, 0);
  const result = pvctl(S, ['-m', 'test install', 'steps', 'install', `${tmp}/test-step.tgz`, 'locals/test-rev']);
  t.equal(result.code, 0, `valid state.json: HTTP 200 (${result.stderr.trim()})`);
  const steps = JSON.parse(pvctl(S, ['steps', 'ls']).stdout) as { name: string; commitmsg: string }[];
  t.ok(steps.some((step) => step.name === 'locals/test-rev' && step.commitmsg === 'test install'), 'steps ls shows the new revision');

  sh(`cd ${tmp} && mkdir -p bad-step && echo '{"#spec":"nope@1"}' > bad-step/state.json && tar czf bad-step.tgz -C bad-step .`);
  const bad = pvctl(S, ['steps', 'install', `${tmp}/bad-step.tgz`, 'locals/bad-rev']);
  t.equal(bad.code, 70, 'invalid state.json: HTTP 422 reported');
  t.match(bad.stderr, 'Parser: State JSON has bad format');
});

t.test('Test 30: Steps Put State JSON', async (t) => {
  t.equal(pvctl(S, ['-f', `${tmp}/state.json`, 'steps', 'get', 'current']).code, 0);
  t.equal(pvctl(S, ['-m', 'test put', 'steps', 'put', `${tmp}/state.json`, 'locals/test-put-rev']).code, 0, 'HTTP 200');
  const steps = JSON.parse(pvctl(S, ['steps', 'ls']).stdout) as { name: string; commitmsg: string }[];
  t.ok(steps.some((step) => step.name === 'locals/test-put-rev' && step.commitmsg === 'test put'), 'new revision visible');
});

t.test('Test 31: Commands - Enable/Disable SSH', async (t) => {
  const enable = await waitFor('enable-ssh accepted', async () => (pvctl(S, ['cmd', 'enable-ssh']).code === 0 ? true : undefined), 30_000);
  t.ok(enable, 'enable-ssh: HTTP 200');
  await waitFor('ssh listening', async () => ((await tcpBanner(SSH_PORT)).startsWith('SSH-2.0') ? true : undefined), 20_000);
  t.pass('SSH server answers');
  const disable = await waitFor('disable-ssh accepted', async () => (pvctl(S, ['cmd', 'disable-ssh']).code === 0 ? true : undefined), 30_000);
  t.ok(disable, 'disable-ssh: HTTP 200');
  await waitFor('ssh closed', async () => ((await tcpBanner(SSH_PORT)).startsWith('error') ? true : undefined), 20_000);
  t.pass('SSH server stopped (temporary, until reboot)');
});
