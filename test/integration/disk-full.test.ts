/**
 * A storage that fills up: uploads answer 507 and leave nothing behind, whether the size is
 * announced (refused before reading) or not (chunked, refused mid-write), and the daemon keeps
 * serving. The storage is a small tmpfs mounted for the test.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-full-'));
mkdirSync(join(dir, 'storage'));
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', join(dir, 'storage')]);
let daemon: TestDaemon;
t.before(async () => {
  daemon = await startTestDaemon({ dir });
});
t.teardown(async () => {
  await daemon?.stop();
  execFileSync('umount', [join(dir, 'storage')]);
  rmSync(dir, { recursive: true, force: true });
});
const leftovers = (): string[] => readdirSync(join(daemon.storage, 'objects'));

t.test('announced size larger than the free space: 507 before reading', async (t) => {
  const data = Buffer.alloc(12 * 1024 * 1024, 1);
  const digest = createHash('sha256').update(data).digest('hex');
  const response = await rawRequest(daemon.socket, 'PUT', `/objects/${digest}`, { body: data });
  t.equal(response.status, 507);
  t.equal(response.body, '{"Error":"Not enough disk space available"}');
  t.same(leftovers(), []);
});

t.test('chunked upload that runs out of space: 507 and cleanup', async (t) => {
  const data = Buffer.alloc(12 * 1024 * 1024, 2);
  const digest = createHash('sha256').update(data).digest('hex');
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += 256 * 1024) {
    const piece = data.subarray(offset, offset + 256 * 1024);
    chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  const response = await rawRequest(daemon.socket, 'PUT', `/objects/${digest}`, {
    body: Buffer.concat(chunks),
    headers: { 'Transfer-Encoding': 'chunked' },
  });
  t.equal(response.status, 507);
  t.same(leftovers(), [], 'partial file removed');
});

t.test('a state JSON that does not fit: 507 and no revision', async (t) => {
  const big = JSON.stringify({ '#spec': 'pantavisor-service-system@1', 'x.json': { pad: 'p'.repeat(12 * 1024 * 1024) } });
  const response = await rawRequest(daemon.socket, 'PUT', '/steps/locals/huge', { body: big });
  t.equal(response.status, 507);
  t.same(readdirSync(join(daemon.storage, 'trails', 'locals')), []);
});

t.test('the daemon keeps serving and small uploads still work', async (t) => {
  const data = Buffer.from('still fine');
  const digest = createHash('sha256').update(data).digest('hex');
  t.equal((await rawRequest(daemon.socket, 'PUT', `/objects/${digest}`, { body: data })).status, 200);
  t.equal((await rawRequest(daemon.socket, 'GET', '/objects')).status, 200);
});
