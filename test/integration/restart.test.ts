/**
 * What must survive a restart does: metadata, objects, revisions and commit messages come back,
 * and temp files left by a crash (kill -9 mid-upload) are swept at start-up.
 */
import t from 'tap';
import { createConnection } from 'node:net';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';

let first: TestDaemon;
let dir = '';
t.before(async () => {
  first = await startTestDaemon();
  dir = first.dir;
});
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const data = Buffer.from('kept across restarts');
const sha = createHash('sha256').update(data).digest('hex');

t.test('state written before a crash is there after it', async (t) => {
  t.equal((await rawRequest(first.socket, 'PUT', '/user-meta/color', { body: 'blue' })).status, 200);
  t.equal((await rawRequest(first.socket, 'PUT', '/device-meta/site', { body: 'lab' })).status, 200);
  t.equal((await rawRequest(first.socket, 'PUT', `/objects/${sha}`, { body: data })).status, 200);
  t.equal((await rawRequest(first.socket, 'PUT', '/steps/locals/kept', { body: '{"#spec":"pantavisor-service-system@1"}' })).status, 200);
  t.equal((await rawRequest(first.socket, 'PUT', '/steps/locals/kept/commitmsg', { body: 'survives' })).status, 200);
  // An upload in flight when the daemon dies hard.
  const socket = createConnection(first.socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`PUT /objects/${'c'.repeat(64)} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50000000\r\n\r\n`);
  socket.write(Buffer.alloc(2 * 1024 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.ok(readdirSync(join(first.storage, 'objects')).some((name) => name.startsWith('.pvctrl-tmp-')), 'temp file exists mid-upload');
  first.process.kill('SIGKILL');
  await first.stop();
  socket.destroy();
});

t.test('after restart', async (t) => {
  const second = await startTestDaemon({ dir });
  t.teardown(() => second.dispose());
  t.match(second.log(), /swept [1-9]\d* stale temp files/);
  t.same(readdirSync(join(second.storage, 'objects')), [sha], 'only the published object remains');
  t.equal((await rawRequest(second.socket, 'GET', '/user-meta')).body, '{"color":"blue"}');
  t.equal((JSON.parse((await rawRequest(second.socket, 'GET', '/device-meta')).body) as Record<string, string>).site, 'lab');
  t.equal((await rawRequest(second.socket, 'GET', `/objects/${sha}`)).body, data.toString());
  t.match((await rawRequest(second.socket, 'GET', '/steps')).body, /"name":"locals\/kept", "date":"[^"]+", "commitmsg":"survives"/);
  t.ok(existsSync(join(second.storage, 'trails', '0', '.pvr', 'json')));
});
