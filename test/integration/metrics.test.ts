/**
 * GET /metrics of the real daemon (docs/operations.md "Metrics"): after some traffic its text is
 * checked by Prometheus' own `promtool check metrics`, and its figures against what was done —
 * requests by route pattern (never the raw path) and status, uploads on both ingest paths,
 * objects, revision, containers, a helper's restart. Host and mgmt containers may scrape; a
 * non-mgmt container gets the router's 403. PV_METRICS=0 turns it off.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { folderRunning, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { createContainerCgroup, requestsFromCgroup } from '../helpers/cgroups.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const dir = folderRunning('metrics', {
  '#spec': 'pantavisor-service-system@1',
  'metrics-manager/run.json': { name: 'metrics-manager', type: 'lxc', group: 'app', status_goal: 'STARTED' },
  'metrics-plain/run.json': { name: 'metrics-plain', type: 'lxc', group: 'app', roles: [], status_goal: 'STARTED' },
});

let daemon: TestDaemon;
t.before(async () => {
  daemon = await startTestDaemon({ dir, disposeDir: true });
});
t.teardown(() => daemon?.dispose());

/** One sample's value, by exact series text (name and labels as written), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(): Promise<string> {
  const response = await rawRequest(daemon.socket, 'GET', '/metrics');
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status} ${response.body}`);
  return response.body;
}

t.test('after traffic, promtool accepts the exposition and the figures match what was done', async (t) => {
  const small = randomBytes(10_000);
  const large = randomBytes(2 * 1024 * 1024);
  for (const key of ['a', 'b', 'c']) t.equal((await rawRequest(daemon.socket, 'PUT', `/user-meta/${key}`, { body: 'v' })).status, 200);
  t.equal((await rawRequest(daemon.socket, 'DELETE', '/user-meta/never-set')).status, 404);
  t.equal((await rawRequest(daemon.socket, 'GET', '/containers')).status, 200);
  t.equal((await rawRequest(daemon.socket, 'GET', '/no-such-thing')).status, 400);
  t.equal((await rawRequest(daemon.socket, 'PUT', `/objects/${sha(small)}`, { body: small })).status, 200, 'small upload (JS path)');
  t.equal((await rawRequest(daemon.socket, 'PUT', `/objects/${sha(large)}`, { body: large })).status, 200, 'large upload (native path)');
  t.equal((await rawRequest(daemon.socket, 'PUT', `/objects/${'0'.repeat(64)}`, { body: small })).status, 422, 'bad checksum');

  const response = await rawRequest(daemon.socket, 'GET', '/metrics');
  t.equal(response.status, 200);
  t.equal(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const text = response.body;

  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  t.equal(promtool.error, undefined, 'promtool runs (Debian package prometheus, scripts/setup.sh)');
  t.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);
  t.equal(`${promtool.stdout}${promtool.stderr}`.trim(), '', 'no lint findings');

  t.equal(sample(text, 'pvctrl_http_requests_total{route="/user-meta/{}",method="PUT",status="200"}'), 3, 'by route pattern');
  t.equal(sample(text, 'pvctrl_http_requests_total{route="/user-meta/{}",method="DELETE",status="404"}'), 1, 'failures by status');
  t.equal(sample(text, 'pvctrl_http_requests_total{route="/containers",method="GET",status="200"}'), 1);
  t.equal(sample(text, 'pvctrl_http_requests_total{route="unmatched",method="GET",status="400"}'), 1);
  t.equal(sample(text, 'pvctrl_http_requests_total{route="/objects/{}",method="PUT",status="200"}'), 2);
  t.equal(sample(text, 'pvctrl_http_requests_total{route="/objects/{}",method="PUT",status="422"}'), 1);
  t.notMatch(text, /route="\/user-meta\/a"|no-such-thing|route="\/objects\/[0-9a-f]{64}"/, 'no raw path is a label');
  t.equal(sample(text, 'pvctrl_http_request_duration_seconds_count{route="/user-meta/{}",method="PUT"}'), 3);
  t.equal(sample(text, 'pvctrl_http_request_duration_seconds_bucket{route="/user-meta/{}",method="PUT",le="+Inf"}'), 3);

  t.equal(sample(text, 'pvctrl_object_ingest_bytes_total{path="js"}'), small.length);
  t.equal(sample(text, 'pvctrl_object_ingest_bytes_total{path="native"}'), large.length);
  t.equal(sample(text, 'pvctrl_object_ingest_duration_seconds_count{path="js"}'), 1);
  t.equal(sample(text, 'pvctrl_object_ingest_duration_seconds_count{path="native"}'), 1);
  t.equal(sample(text, 'pvctrl_objects'), 2);
  t.equal(sample(text, 'pvctrl_objects_size_bytes'), small.length + large.length);

  t.equal(sample(text, 'pvctrl_revision_info{revision="locals/metrics"}'), 1);
  for (const name of ['metrics-manager', 'metrics-plain']) {
    const current = text.split('\n').filter((line) => line.startsWith(`pvctrl_container_status{container="${name}",`) && line.endsWith(' 1'));
    t.equal(current.length, 1, `${name}: one current status`);
  }
  t.equal(sample(text, 'pvctrl_daemon_up{daemon="pv-xconnect"}'), 1);
  t.ok((sample(text, 'pvctrl_open_connections') ?? 0) >= 1, 'the scrape itself is a connection');
  t.ok((sample(text, 'pvctrl_event_subscribers') ?? 0) >= 1, "pv-xconnect's GET /events");
  t.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 10 * 1024 * 1024);
  t.ok((sample(text, 'process_cpu_seconds_total') ?? 0) > 0);
});

t.test("a helper's respawn is a restart", async (t) => {
  const listing = JSON.parse((await rawRequest(daemon.socket, 'GET', '/daemons')).body) as { name: string; pid: number }[];
  const pid = listing.find((entry) => entry.name === 'pv-xconnect')?.pid ?? 0;
  t.ok(pid > 0, 'pv-xconnect runs');
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 15_000;
  let restarts: number | undefined;
  while (Date.now() < deadline) {
    restarts = sample(await scrape(), 'pvctrl_daemon_restarts_total{daemon="pv-xconnect"}');
    if (restarts === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(restarts, 1);
});

t.test('a mgmt container may scrape; a non-mgmt container gets 403', async (t) => {
  const manager = createContainerCgroup('metrics-manager');
  const plain = createContainerCgroup('metrics-plain');
  t.teardown(() => {
    manager.remove();
    plain.remove();
  });
  const [allowed] = requestsFromCgroup(manager.path, daemon.socket, [['GET', '/metrics']]);
  t.equal(allowed?.status, 200);
  t.match(allowed?.body, /^# TYPE pvctrl_http_requests_total counter$/m);
  t.same(requestsFromCgroup(plain.path, daemon.socket, [['GET', '/metrics']]), [{ status: 403, body: '{"Error":"Request not sent from a mgmt platform"}' }]);
  const text = await scrape();
  t.equal(sample(text, 'pvctrl_http_requests_total{route="/metrics",method="GET",status="403"}'), 1, 'the refusal is counted under its route');
});

t.test('PV_METRICS=0: GET /metrics is a 404, everything else works', async (t) => {
  const off = await startTestDaemon({ env: { PV_METRICS: '0' } });
  t.teardown(() => off.dispose());
  t.equal((await rawRequest(off.socket, 'GET', '/containers')).status, 200);
  t.same(await rawRequest(off.socket, 'GET', '/metrics').then((response) => [response.status, response.body]), [404, '{"Error":"Metrics are disabled (PV_METRICS=0)"}']);
});
