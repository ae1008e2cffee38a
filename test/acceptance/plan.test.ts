/**
 * The user's acceptance plan (pv-ctrl-testplan.txt), each test as the plan writes it, against the
 * real daemon on a temp socket with pvcontrol and curl. `pvctl` = pvcontrol, `pvc` = curl.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pvc, pvctl, sh } from '../helpers/plan.ts';

const daemon = await startTestDaemon();
t.teardown(() => daemon.dispose());
const S = daemon.socket;
const tmp = mkdtempSync(join(tmpdir(), 'pvctrl-plan-'));
const sha256sum = (path: string): string => sh(`sha256sum ${path} | awk '{print $1}'`).stdout.trim();

t.test('Test 1: Build Info', async (t) => {
  const result = pvctl(S, ['buildinfo']);
  t.equal(result.code, 0, 'HTTP 200 (exit 0)');
  t.type(result.stdout, 'string', 'plain text manifest');
  t.equal(pvc(S, ['-i', 'http://localhost/buildinfo']).status, 200);
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
  t.ok(Array.isArray(JSON.parse(result.stdout)), 'JSON array');
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

t.test('Test 27: Commands - Run GC (POST /storage/gc until the commands queue exists)', async (t) => {
  const result = pvctl(S, ['storage', 'gc']);
  t.equal(result.code, 0, 'HTTP 200');
  t.match(result.stdout, /^\{"reclaimed": \d+\}/);
  const objects = JSON.parse(pvctl(S, ['objects', 'ls']).stdout) as unknown[];
  t.equal(objects.length, 0, 'unused objects removed from storage');
});
