/**
 * The real daemon on a temp socket, driven over raw HTTP: routing, gate errors, the reference's
 * exact bodies (reference-transcript.md), and the HTTP dialect of spec §2.2.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawExchange, parseResponse, rawRequest } from '../helpers/raw-http.ts';

// Started in t.before: tap may end a root test that has no subtests yet while top-level awaits run.
let daemon: TestDaemon;
let sock = '';
t.before(async () => {
  daemon = await startTestDaemon();
  sock = daemon.socket;
});
t.teardown(() => daemon?.dispose());
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

t.test('GET /containers and /groups on the factory revision match the reference', async (t) => {
  const containers = await rawRequest(sock, 'GET', '/containers');
  t.equal(containers.status, 200);
  t.equal(containers.headers['content-type'], 'application/json');
  t.equal(containers.body, '[]');
  const groups = await rawRequest(sock, 'GET', '/groups');
  t.equal(
    groups.body,
    '[{"name":"data","status_goal":"MOUNTED","restart_policy":"system","status":"READY"},{"name":"root","status_goal":"STARTED","restart_policy":"system","status":"READY"},{"name":"platform","status_goal":"STARTED","restart_policy":"system","status":"READY"},{"name":"app","status_goal":"STARTED","restart_policy":"container","status":"READY","auto_recovery":{"max_retries":5,"stable_timeout":30,"backoff_policy":"reboot"}}]',
  );
});

t.test('steps: listing, state, progress, 404', async (t) => {
  const list = await rawRequest(sock, 'GET', '/steps');
  t.match(list.body, /^\[\{"name":"0", "date":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "commitmsg":"", "progress":\{"status":"DONE","status-msg":"Factory revision","progress":100,"retries":0\}\}\]$/);
  for (const path of ['/steps/current', '/steps/0']) {
    const state = await rawRequest(sock, 'GET', path);
    t.equal(state.body, '{"#spec":"pantavisor-service-system@1"}', path);
    t.equal(state.headers['content-type'], 'application/json');
  }
  for (const path of ['/steps/0/progress', '/steps/current/progress']) {
    t.equal((await rawRequest(sock, 'GET', path)).body, '{"status":"DONE","status-msg":"Factory revision","progress":100,"retries":0}');
  }
  for (const path of ['/steps/999', '/steps/locals/nope', '/steps/locals', '/steps/..', '/steps/locals/%2e%2e']) {
    const missing = await rawRequest(sock, 'GET', path);
    t.equal(missing.status, 404, path);
    t.equal(missing.body, '{"Error":"Resource does not exist"}');
  }
});

t.test('local revisions: put, validation, commit message, traversal', async (t) => {
  const state = '{"#spec":"pantavisor-service-system@1"}';
  const put = await rawRequest(sock, 'PUT', '/steps/locals/my-rev', { body: state, headers: { 'Content-Type': 'application/json' } });
  t.equal(put.status, 200);
  t.equal(put.body, '');
  t.equal(
    (await rawRequest(sock, 'GET', '/steps/locals/my-rev/progress')).body,
    '{"status":"NEW","status-msg":"Update ready to be run","progress":0,"retries":0}',
  );
  t.equal((await rawRequest(sock, 'GET', '/steps/locals/my-rev')).body, state);
  t.equal((await rawRequest(sock, 'PUT', '/steps/locals/my-rev/commitmsg', { body: 'my "change"' })).status, 200);
  const list = (await rawRequest(sock, 'GET', '/steps')).body;
  t.match(list, /\{"name":"locals\/my-rev", "date":"[^"]+", "commitmsg":"my \\u0022change\\u0022", "progress":\{"status":"NEW"/);
  t.doesNotThrow(() => JSON.parse(list), 'listing is valid JSON');

  const bad = await rawRequest(sock, 'PUT', '/steps/locals/bad', {
    body: '{"#spec":"pantavisor-service-system@1","x/run.json":{"name":"x","group":"nope"}}',
  });
  t.equal(bad.status, 422);
  t.equal(bad.reason, 'Unprocessable Content');
  t.equal(bad.body, '{"Error":"Parser: State JSON has bad format"}');
  t.notOk(existsSync(join(daemon.storage, 'trails', 'locals', 'bad')), 'rejected revision left nothing');
  t.same(readdirSync(join(daemon.storage, 'trails', 'locals')), ['my-rev'], 'no staging leftovers');

  t.equal((await rawRequest(sock, 'PUT', '/steps/5', { body: state })).body, '{"Error":"Method not supported for this endpoint"}');
  t.equal((await rawRequest(sock, 'PUT', '/steps/locals/a/b', { body: state })).body, '{"Error":"unknown endpoint: /steps/locals/a/b"}');
  const long = await rawRequest(sock, 'PUT', `/steps/locals/${'x'.repeat(65)}`, { body: state });
  t.equal(long.status, 400);
  t.equal(long.body, '{"Error":"Request has bas step name"}');
  for (const name of ['..', '.', '%2e%2e', 'a%2Fb', 'a%00b']) {
    const response = await rawRequest(sock, 'PUT', `/steps/locals/${name}`, { body: state });
    t.equal(response.status, 400, `locals/${name} refused`);
  }
  // `locals/..` would have written trails/.pvr/json had the name reached the file system.
  t.notOk(existsSync(join(daemon.storage, 'trails', '.pvr')), 'nothing escaped trails/locals/');
  t.notOk(existsSync(join(daemon.storage, 'trails', 'locals', '.pvr')), 'nothing written as locals/.');
  const phantom = await rawRequest(sock, 'PUT', '/steps/77/commitmsg', { body: 'x' });
  t.equal(phantom.status, 404, 'commit message for an unknown revision');
  t.notOk(existsSync(join(daemon.storage, 'trails', '77')), 'no phantom revision directory');
  const empty = await rawRequest(sock, 'PUT', '/steps/locals/my-rev/commitmsg', { body: '' });
  t.equal(empty.status, 200, 'empty commit message answers (the reference hung)');
  const tooLong = await rawRequest(sock, 'PUT', '/steps/locals/my-rev/commitmsg', { body: 'm'.repeat(257) });
  t.equal(tooLong.status, 507);
  t.equal(tooLong.body, '{"Error":"Not enough disk space available"}');
  const running = await rawRequest(sock, 'PUT', '/steps/locals/../0', { body: state });
  t.equal(running.status, 400, 'traversal through the route is refused');
});

t.test('objects: upload, duplicate, checksum, names, listing, download', async (t) => {
  const small = 'hello pantavisor reference\n';
  const smallSha = sha(small);
  t.equal(smallSha, 'adcf4e07ee968d2da39549e7b9ad817f7177b38d454bfcc78270a12db4103671');
  const first = await rawRequest(sock, 'PUT', `/objects/${smallSha}`, {
    body: small,
    headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'identity', 'Content-Length': String(small.length) },
  });
  t.equal(first.status, 200);
  t.equal(first.headers['content-type'], 'application/json');
  t.equal((await rawRequest(sock, 'PUT', `/objects/${smallSha}`, { body: small })).status, 200, 'duplicate upload is a no-op');
  const wrong = await rawRequest(sock, 'PUT', `/objects/${'0'.repeat(64)}`, { body: small });
  t.equal(wrong.status, 422);
  t.equal(wrong.body, '{"Error":"Object has bad checksum"}');
  t.notOk(existsSync(join(daemon.storage, 'objects', '0'.repeat(64))));
  const short = await rawRequest(sock, 'PUT', '/objects/abc', { body: 'x' });
  t.equal(short.status, 400);
  t.equal(short.body, '{"Error":"Request has bad object name"}');
  t.equal((await rawRequest(sock, 'PUT', `/objects/${'A'.repeat(64)}`, { body: 'x' })).status, 400, 'upper-case names refused');
  const missing = await rawRequest(sock, 'GET', `/objects/${'1'.repeat(64)}`);
  t.equal(missing.status, 400);
  t.equal(missing.body, '{"Error":"Request has bad object name"}');
  const got = await rawRequest(sock, 'GET', `/objects/${smallSha}`);
  t.equal(got.status, 200);
  t.equal(got.headers['content-type'], 'application/octet-stream');
  t.equal(got.body, small);
  t.equal((await rawRequest(sock, 'GET', '/objects')).body, `[{"sha256":"${smallSha}","size":"27"}]`);
  t.same(readdirSync(join(daemon.storage, 'objects')), [smallSha], 'no temp files left');
});

t.test('concurrent uploads of the same object all succeed and leave one correct file', async (t) => {
  const data = Buffer.alloc(3 * 1024 * 1024, 7);
  const digest = sha(data);
  const results = await Promise.all(
    Array.from({ length: 5 }, () => rawRequest(sock, 'PUT', `/objects/${digest}`, { body: data })),
  );
  t.same(results.map((result) => result.status), [200, 200, 200, 200, 200]);
  t.equal(sha(readFileSync(join(daemon.storage, 'objects', digest))), digest);
  t.notOk(readdirSync(join(daemon.storage, 'objects')).some((name) => name.startsWith('.')), 'no temp files');
});

t.test('metadata CRUD and encodings', async (t) => {
  t.equal((await rawRequest(sock, 'GET', '/user-meta')).body, '{}');
  t.equal((await rawRequest(sock, 'PUT', '/user-meta/test-key', { body: 'hello' })).status, 200);
  t.equal((await rawRequest(sock, 'PUT', '/user-meta/json-key', { body: '{"a":1}' })).status, 200);
  t.equal((await rawRequest(sock, 'GET', '/user-meta')).body, '{"test-key":"hello","json-key":{"a":1}}');
  t.equal(readFileSync(join(daemon.storage, 'cache', 'meta', 'test-key'), 'utf8'), 'hello', 'persisted as one file per key');
  const empty = await rawRequest(sock, 'PUT', '/user-meta/greeting', { body: '' });
  t.equal(empty.status, 400);
  t.equal(empty.body, '{"Error":"Cannot add or update user meta"}');
  const chunked = await rawRequest(sock, 'PUT', '/user-meta/greeting', { body: '5\r\nhello\r\n0\r\n\r\n', headers: { 'Transfer-Encoding': 'chunked' } });
  t.equal(chunked.status, 400, 'chunked values are refused like the reference');
  t.equal((await rawRequest(sock, 'PUT', '/user-meta/big', { body: 'x'.repeat(4097) })).status, 507);
  t.equal((await rawRequest(sock, 'DELETE', '/user-meta/test-key')).status, 200);
  const gone = await rawRequest(sock, 'DELETE', '/user-meta/test-key');
  t.equal(gone.status, 404);
  t.equal(gone.body, '{"Error":"User meta does not exist"}');
  t.equal((await rawRequest(sock, 'PUT', '/user-meta/app.color', { body: 'blue' })).status, 200);
  t.equal(readFileSync(join(daemon.runDir, 'user-meta.app', 'color'), 'utf8'), 'blue', 'per-container projection');
  t.equal((await rawRequest(sock, 'DELETE', '/user-meta/app.color')).status, 200);
  t.notOk(existsSync(join(daemon.runDir, 'user-meta.app', 'color')), 'projection removed');
  t.equal((await rawRequest(sock, 'DELETE', '/user-meta/..')).status, 404, 'dot keys never touch the folder');

  const device = JSON.parse((await rawRequest(sock, 'GET', '/device-meta')).body) as Record<string, unknown>;
  for (const key of ['pantavisor.arch', 'pantavisor.version', 'pantavisor.revision', 'pantavisor.mode', 'storage', 'interfaces', 'sysinfo', 'time', 'pantavisor.uname']) {
    t.ok(key in device, `device meta has ${key}`);
  }
  t.equal(device['pantavisor.arch'], 'x86_64/64/EL');
  t.equal(device['pantavisor.revision'], '0');
  t.equal((await rawRequest(sock, 'PUT', '/device-meta/test-key', { body: 'test-value' })).status, 200);
  t.equal((JSON.parse((await rawRequest(sock, 'GET', '/device-meta')).body) as Record<string, unknown>)['test-key'], 'test-value');
  t.equal((await rawRequest(sock, 'DELETE', '/device-meta/test-key')).status, 200);
  const missing = await rawRequest(sock, 'DELETE', '/device-meta/nonexistent');
  t.equal(missing.status, 404);
  t.equal(missing.body, '{"Error":"Device meta does not exist"}');
  const itemGet = await rawRequest(sock, 'GET', '/device-meta/test-key');
  t.equal(itemGet.status, 400);
  t.equal(itemGet.body, '{"Error":"Method not supported for this endpoint"}');
});

t.test('config, buildinfo, wakelocks, drivers, daemons, signal from the host', async (t) => {
  const build = await rawRequest(sock, 'GET', '/buildinfo');
  t.equal(build.status, 200);
  t.equal(build.headers['content-type'], 'text/plain');
  const config2 = JSON.parse((await rawRequest(sock, 'GET', '/config2')).body) as { key: string; value: string; modified: string }[];
  t.equal(config2[0]?.key, 'PH_CREDS_HOST');
  t.ok(config2.some((entry) => entry.key === 'PV_STORAGE_MNTPOINT' && entry.value === daemon.storage && entry.modified === 'args'));
  const config = JSON.parse((await rawRequest(sock, 'GET', '/config')).body) as Record<string, unknown>;
  t.equal(config['storage.mntpoint'], daemon.storage);
  t.ok('system.init.mode' in config && 'log.level' in config);
  t.match(JSON.parse((await rawRequest(sock, 'GET', '/wakelocks')).body), { mode: 'locks', count: 0, held: { boot: false } });
  t.equal((await rawRequest(sock, 'GET', '/drivers')).body, '{}');
  t.equal((await rawRequest(sock, 'PUT', '/drivers/load')).status, 200);
  t.equal((await rawRequest(sock, 'PUT', '/drivers/unload')).status, 200);
  t.equal((await rawRequest(sock, 'PUT', '/drivers/x/load')).status, 200);
  const daemonMissing = await rawRequest(sock, 'PUT', '/daemons/nonexistent', { body: '{"action":"stop"}' });
  t.equal(daemonMissing.status, 404);
  t.equal(daemonMissing.body, '{"Error":"Daemon not found"}');
  const containerMissing = await rawRequest(sock, 'PUT', '/containers/nonexistent', { body: '{"action":"stop"}' });
  t.equal(containerMissing.status, 404);
  t.equal(containerMissing.body, '{"Error":"Container not found"}');
  const signal = await rawRequest(sock, 'POST', '/signal', { body: '{"type":"ready","payload":""}' });
  t.equal(signal.status, 500);
  t.equal(signal.body, '{"Error":"Signal not expected from this platform"}');
  t.equal((await rawRequest(sock, 'POST', '/signal', { body: '{}' })).body, '{"Error":"Signal has bad format"}');
  t.equal((await rawRequest(sock, 'GET', '/xconnect-graph')).body, '[]');
});

t.test('storage gc reclaims unlinked objects and not-run revisions', async (t) => {
  const gc = await rawRequest(sock, 'POST', '/storage/gc');
  t.equal(gc.status, 200);
  t.match(gc.body, /^\{"reclaimed": \d+\}$/);
  t.ok(Number(/\d+/.exec(gc.body)?.[0]) >= 27 + 3 * 1024 * 1024);
  t.equal((await rawRequest(sock, 'GET', '/objects')).body, '[]');
  t.notOk(existsSync(join(daemon.storage, 'trails', 'locals', 'my-rev')), 'never-run local revision collected');
  t.ok(existsSync(join(daemon.storage, 'trails', '0', '.pvr', 'json')), 'running revision kept');
});

t.test('HTTP dialect', async (t) => {
  const patch = await rawRequest(sock, 'PATCH', '/objects');
  t.equal(patch.status, 501);
  t.equal(patch.body, '{"Error": "Unsupported protocol"}');
  t.equal(patch.headers['content-type'], 'text/html');
  const garbage = parseResponse(await rawExchange(sock, 'garbage\r\n\r\n'));
  t.equal(garbage.body, '{"Error": "Unsupported protocol"}');
  t.equal((await rawRequest(sock, 'DELETE', '/objects')).body, '{"Error":"Method not supported for this endpoint"}');
  t.equal((await rawRequest(sock, 'POST', '/containers', { body: '' })).status, 400);
  const unknown = await rawRequest(sock, 'GET', '/nope?x="1"');
  t.equal(unknown.status, 400);
  t.equal(unknown.body, '{"Error":"unknown endpoint: /nope?x=\\"1\\""}', 'URI escaped so the body stays JSON');
  t.equal((await rawRequest(sock, 'GET', '/containers?x=1')).status, 200, 'query ignored on exact routes');
  t.equal((await rawRequest(sock, 'GET', '/steps/0?x=1')).status, 200, 'query stripped on pattern routes');
  const foreign = await rawRequest(sock, 'GET', '/containers', { headers: { Host: 'example.com' } });
  t.ok(foreign.closedWithoutAnswer, 'foreign Host: connection dropped without an answer');
  t.equal((await rawRequest(sock, 'GET', '/containers', { headers: { Host: 'localhost:80' } })).status, 200);
  const http10 = await rawRequest(sock, 'GET', '/containers', { version: '1.0', headers: { Host: '' } });
  t.equal(http10.status, 200);
  t.equal(http10.headers.connection, 'close', 'HTTP/1.0 closes after the answer');
  const pvcurlStyle = await rawRequest(sock, 'GET', '/containers', { version: '1.0', headers: { 'Content-Length': '0', 'Content-Type': 'application/json' } });
  t.equal(pvcurlStyle.body, '[]', 'pvcurl style GET with Content-Length: 0');
  const keepAlive = await rawExchange(
    sock,
    'GET /containers HTTP/1.1\r\nHost: localhost\r\n\r\nGET /groups HTTP/1.1\r\nHost: localhost\r\n\r\n\r\n',
  );
  t.equal(keepAlive.match(/HTTP\/1\.1 200 OK/g)?.length, 2, 'two answers on one keep-alive connection');
  const continued = await rawExchange(
    sock,
    `PUT /objects/${sha('abc')} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc`,
  );
  t.match(continued, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  const chunkedBody = '{"#spec":"pantavisor-service-system@1"}';
  const chunked = await rawRequest(sock, 'PUT', '/steps/locals/chunked', {
    body: `${chunkedBody.length.toString(16)}\r\n${chunkedBody}\r\n0\r\n\r\n`,
    headers: { 'Transfer-Encoding': 'chunked' },
  });
  t.equal(chunked.status, 200, 'chunked request bodies');
  const early = await rawExchange(sock, `PUT /objects/abc HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n`);
  t.notMatch(early, /100 Continue/, 'no 100-continue for a request refused before its body');
  t.match(early, /400 Bad Request/);
});

t.test('a client that disconnects mid-upload leaves nothing behind and others are served', async (t) => {
  const { createConnection } = await import('node:net');
  const socket = createConnection(sock);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`PUT /objects/${'b'.repeat(64)} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000000\r\n\r\n`);
  socket.write(Buffer.alloc(1024 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal((await rawRequest(sock, 'GET', '/containers')).status, 200, 'served while an upload stalls');
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(
    readdirSync(join(daemon.storage, 'objects')).filter((name) => name.startsWith('.')),
    [],
    'temp file removed after the disconnect',
  );
});

t.test('SIGTERM removes the socket and exits 0', async (t) => {
  const code = await daemon.stop();
  t.equal(code, 0);
  t.notOk(existsSync(sock));
});
