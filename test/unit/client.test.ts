import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { DownloadWriter, type DownloadFlow, type DownloadSink } from '../../src/client/download-writer.ts';
import { Uploader } from '../../src/client/uploader.ts';
import {
  encodeRevision,
  errorMessage,
  parseObjectList,
  parseStepList,
  PvClient,
  PvTransportError,
  type PvResponse,
} from '../../src/client/pv-client.ts';
import { errorResponse, jsonResponse, startFakeServer, type FakeServer } from '../helpers/fake-server.ts';

const MiB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'pvclient-test-'));
const bigPath = join(work, 'big.bin');
const big = randomBytes(20 * MiB);
writeFileSync(bigPath, big);
const bigSha = createHash('sha256').update(big).digest('hex');

let server: FakeServer;
let client: PvClient;

t.before(async () => {
  server = await startFakeServer();
  client = new PvClient({ socketPath: server.socketPath });
});
t.teardown(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});
t.beforeEach(() => server.reset());

const lastRequest = () => {
  const req = server.requests[server.requests.length - 1];
  if (!req) throw new Error('no request recorded');
  return req;
};

interface Case {
  name: string;
  call: (c: PvClient) => Promise<PvResponse>;
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

const SHA = 'a'.repeat(64);
const cases: Case[] = [
  { name: 'listContainers', call: (c) => c.listContainers(), method: 'GET', path: '/containers' },
  {
    name: 'containerAction',
    call: (c) => c.containerAction('my-app', 'restart'),
    method: 'PUT',
    path: '/containers/my-app',
    body: '{"action":"restart"}',
    contentType: 'application/json',
  },
  { name: 'listGroups', call: (c) => c.listGroups(), method: 'GET', path: '/groups' },
  { name: 'signal', call: (c) => c.signal('ready'), method: 'POST', path: '/signal', body: '{"type":"ready","payload":""}', contentType: 'application/json' },
  { name: 'listObjects', call: (c) => c.listObjects(), method: 'GET', path: '/objects' },
  { name: 'listSteps', call: (c) => c.listSteps(), method: 'GET', path: '/steps' },
  { name: 'getStep', call: (c) => c.getStep('locals/a'), method: 'GET', path: '/steps/locals/a' },
  { name: 'getStep current', call: (c) => c.getStep('current'), method: 'GET', path: '/steps/current' },
  { name: 'putStep text', call: (c) => c.putStep('locals/a', '{"x":1}'), method: 'PUT', path: '/steps/locals/a', body: '{"x":1}', contentType: 'application/json' },
  { name: 'putStep value', call: (c) => c.putStep('locals/a', { '#spec': 'x' }), method: 'PUT', path: '/steps/locals/a', body: '{"#spec":"x"}' },
  { name: 'stepProgress', call: (c) => c.stepProgress('0'), method: 'GET', path: '/steps/0/progress' },
  { name: 'putCommitMessage', call: (c) => c.putCommitMessage('locals/a', 'my change'), method: 'PUT', path: '/steps/locals/a/commitmsg', body: 'my change' },
  { name: 'listUserMeta', call: (c) => c.listUserMeta(), method: 'GET', path: '/user-meta' },
  { name: 'putUserMeta', call: (c) => c.putUserMeta('k', 'v 1'), method: 'PUT', path: '/user-meta/k', body: 'v 1' },
  { name: 'deleteUserMeta', call: (c) => c.deleteUserMeta('k'), method: 'DELETE', path: '/user-meta/k' },
  { name: 'listDeviceMeta', call: (c) => c.listDeviceMeta(), method: 'GET', path: '/device-meta' },
  { name: 'putDeviceMeta', call: (c) => c.putDeviceMeta('cfg', '{"a":1}'), method: 'PUT', path: '/device-meta/cfg', body: '{"a":1}' },
  { name: 'deleteDeviceMeta', call: (c) => c.deleteDeviceMeta('cfg'), method: 'DELETE', path: '/device-meta/cfg' },
  { name: 'buildinfo', call: (c) => c.buildinfo(), method: 'GET', path: '/buildinfo' },
  { name: 'listDrivers', call: (c) => c.listDrivers(), method: 'GET', path: '/drivers' },
  { name: 'loadDrivers', call: (c) => c.loadDrivers(), method: 'PUT', path: '/drivers/load' },
  { name: 'loadDrivers named', call: (c) => c.loadDrivers('wifi'), method: 'PUT', path: '/drivers/wifi/load' },
  { name: 'unloadDrivers', call: (c) => c.unloadDrivers(), method: 'PUT', path: '/drivers/unload' },
  { name: 'unloadDrivers named', call: (c) => c.unloadDrivers('wifi'), method: 'PUT', path: '/drivers/wifi/unload' },
  { name: 'command', call: (c) => c.command('RUN_GC'), method: 'POST', path: '/commands', body: '{"op":"RUN_GC","payload":""}', contentType: 'application/json' },
  {
    name: 'command with object payload',
    call: (c) => c.command('UPDATE_METADATA', { k: 'v' }),
    method: 'POST',
    path: '/commands',
    body: '{"op":"UPDATE_METADATA","payload":{"k":"v"}}',
  },
  { name: 'config', call: (c) => c.config(), method: 'GET', path: '/config' },
  { name: 'config2', call: (c) => c.config2(), method: 'GET', path: '/config2' },
  { name: 'xconnectGraph', call: (c) => c.xconnectGraph(), method: 'GET', path: '/xconnect-graph' },
  { name: 'listDaemons', call: (c) => c.listDaemons(), method: 'GET', path: '/daemons' },
  { name: 'daemonAction', call: (c) => c.daemonAction('pv-xconnect', 'stop'), method: 'PUT', path: '/daemons/pv-xconnect', body: '{"action":"stop"}' },
  { name: 'storageGc', call: (c) => c.storageGc(), method: 'POST', path: '/storage/gc' },
  { name: 'wakelocks', call: (c) => c.wakelocks(), method: 'GET', path: '/wakelocks' },
  { name: 'putObject bytes', call: (c) => c.putObject(SHA, Buffer.from('abc')), method: 'PUT', path: `/objects/${SHA}`, body: 'abc', contentType: 'application/octet-stream' },
];

t.test('every convenience method sends the documented request', async (t) => {
  for (const c of cases) {
    server.reset();
    const res = await c.call(client);
    t.equal(res.status, 200, `${c.name}: status`);
    const req = lastRequest();
    t.equal(server.requests.length, 1, `${c.name}: one request`);
    t.equal(req.method, c.method, `${c.name}: method`);
    t.equal(req.path, c.path, `${c.name}: path`);
    t.equal(req.headers.host, 'localhost', `${c.name}: Host header`);
    t.equal(req.body.toString('utf8'), c.body ?? '', `${c.name}: body`);
    if (c.body === undefined) t.notOk(req.headers['transfer-encoding'], `${c.name}: no chunked body`);
    else t.equal(req.headers['content-length'], String(Buffer.byteLength(c.body)), `${c.name}: content-length`);
    if (c.contentType) t.equal(req.headers['content-type'], c.contentType, `${c.name}: content-type`);
  }
});

t.test('responses come back raw: status, lower-cased headers, body bytes', async (t) => {
  server.route('GET /groups', { status: 503, body: '{"Error":"busy"}', headers: { 'Retry-After': '120', 'X-Custom': 'a' } });
  const res = await client.listGroups();
  t.equal(res.status, 503);
  t.equal(res.headers['retry-after'], '120');
  t.equal(res.headers['x-custom'], 'a');
  t.equal(res.headers['content-type'], 'application/json');
  t.ok(Buffer.isBuffer(res.body));
  t.equal(res.body.toString(), '{"Error":"busy"}');

  server.route('POST /commands', { status: 204 });
  const empty = await client.command('GO_REMOTE');
  t.equal(empty.status, 204);
  t.equal(empty.body.length, 0);
});

t.test('user strings are JSON-encoded and path parts percent-encoded', async (t) => {
  await client.command('REBOOT_DEVICE', 'say "hi"\\ now');
  t.same(JSON.parse(lastRequest().body.toString()), { op: 'REBOOT_DEVICE', payload: 'say "hi"\\ now' });
  await client.putDeviceMeta('a b/c', 'v');
  t.equal(lastRequest().path, '/device-meta/a%20b%2Fc');
  await client.containerAction('x?y', 'stop');
  t.equal(lastRequest().path, '/containers/x%3Fy');
  await client.getStep('locals/x y');
  t.equal(lastRequest().path, '/steps/locals/x%20y');
  t.equal(encodeRevision('locals/pvtx-1-ab-0'), 'locals/pvtx-1-ab-0');
  await client.rawRequest('GET', '/steps/locals/../x?q=%2F');
  t.equal(lastRequest().path, '/steps/locals/../x?q=%2F', 'rawRequest sends the target untouched');
  const injected = await client.rawRequest('GET', '/a\r\nX-Evil: 1').catch((e: unknown) => e);
  t.ok(injected instanceof TypeError, 'CR/LF in the target are refused');
});

t.test('rawRequest: any method, extra headers, Host can be replaced', async (t) => {
  const res = await client.rawRequest('DELETE', '/objects', { headers: { Host: 'example.com', 'X-A': '1' }, body: 'zz' });
  t.equal(res.status, 200);
  const req = lastRequest();
  t.equal(req.method, 'DELETE');
  t.equal(req.headers.host, 'example.com');
  t.equal(req.headers['x-a'], '1');
  t.equal(req.body.toString(), 'zz');
});

t.test('putObject streams a 20 MiB file with exact bytes and progress', async (t) => {
  const seen: Array<[number, number | undefined]> = [];
  const res = await client.putObject(bigSha, bigPath, { onProgress: (n, total) => seen.push([n, total]) });
  t.equal(res.status, 200);
  const req = lastRequest();
  t.equal(req.path, `/objects/${bigSha}`);
  t.equal(req.headers['content-length'], String(20 * MiB));
  t.equal(req.headers['content-type'], 'application/octet-stream');
  t.notOk(req.headers['transfer-encoding']);
  t.equal(req.body.length, 20 * MiB);
  t.equal(req.bodySha256, bigSha);
  t.ok(seen.length > 2, 'several progress reports');
  t.same(seen[seen.length - 1], [20 * MiB, 20 * MiB], 'progress ends at the total');
  t.ok(seen.every(([n], i) => i === 0 || n >= (seen[i - 1] as [number, number | undefined])[0]), 'progress is monotonic');
});

t.test('putObject from an async iterable without size is sent chunked', async (t) => {
  async function* parts(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 10; i++) yield big.subarray(i * MiB, (i + 1) * MiB);
  }
  const res = await client.putObject(SHA, parts());
  t.equal(res.status, 200);
  const req = lastRequest();
  t.equal(req.headers['transfer-encoding'], 'chunked');
  t.notOk(req.headers['content-length']);
  t.ok(req.body.equals(big.subarray(0, 10 * MiB)));
});

t.test('putObject from a web ReadableStream with a size', async (t) => {
  const data = big.subarray(0, 3 * MiB);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 3; i++) controller.enqueue(data.subarray(i * MiB, (i + 1) * MiB));
      controller.close();
    },
  });
  const res = await client.putObject(SHA, stream, { size: data.length });
  t.equal(res.status, 200);
  t.equal(lastRequest().headers['content-length'], String(data.length));
  t.ok(lastRequest().body.equals(data));
});

t.test('putObject sends exactly `size` bytes and leaves the rest of the source unread', async (t) => {
  const source = new PassThrough();
  source.write(Buffer.from('0123456789'));
  source.end(Buffer.from('abcdef'));
  const res = await client.putObject(SHA, source, { size: 12 });
  t.equal(res.status, 200);
  t.equal(lastRequest().body.toString(), '0123456789ab');
});

t.test('putObject fails with a source error when the source is shorter than size', async (t) => {
  const source = new PassThrough();
  source.end(Buffer.from('short'));
  const error = await client.putObject(SHA, source, { size: 100 }).catch((e: unknown) => e);
  t.ok(error instanceof PvTransportError);
  t.equal((error as PvTransportError).code, 'source');
  const missing = await client.putObject(SHA, join(work, 'does-not-exist')).catch((e: unknown) => e);
  t.ok(missing instanceof PvTransportError);
  t.equal((missing as PvTransportError).code, 'source');
});

t.test('putObject returns an answer given before the upload finished', async (t) => {
  server.route(`PUT /objects/${SHA}`, { ...errorResponse(400, 'Request has bad object name'), early: true });
  const res = await client.putObject(SHA, bigPath);
  t.equal(res.status, 400);
  t.equal(errorMessage(res.body), 'Request has bad object name');
  t.ok(lastRequest().answeredEarly);
});

t.test('putObject applies back-pressure instead of reading the whole source', async (t) => {
  // A server that reads nothing for a while: a streaming client must stall, not buffer.
  const dir = mkdtempSync(join(tmpdir(), 'pvstall-'));
  const sock = join(dir, 'sock');
  const sockets: Socket[] = [];
  const stall = createNetServer((conn) => {
    sockets.push(conn);
    conn.pause();
  });
  await new Promise<void>((done) => stall.listen(sock, () => done()));
  let produced = 0;
  async function* endless(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 1024; i++) {
      produced += 64 * 1024;
      yield new Uint8Array(64 * 1024);
    }
  }
  const stalled = new PvClient({ socketPath: sock, transferTimeoutMs: 400 });
  const error = await stalled.putObject(SHA, endless(), { size: 64 * MiB }).catch((e: unknown) => e);
  t.ok(error instanceof PvTransportError && error.code === 'timeout', 'times out while the server reads nothing');
  t.ok(produced < 16 * MiB, `only ${produced} of ${64 * MiB} bytes were pulled from the source`);
  for (const s of sockets) s.destroy();
  await new Promise<void>((done) => stall.close(() => done()));
  rmSync(dir, { recursive: true, force: true });
});

t.test('getObject streams a 20 MiB object into a file', async (t) => {
  server.route(`GET /objects/${bigSha}`, { status: 200, file: bigPath, headers: { 'Content-Type': 'application/octet-stream' } });
  const dest = join(work, 'download.bin');
  const seen: number[] = [];
  const res = await client.getObject(bigSha, dest, { onProgress: (n) => seen.push(n) });
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'application/octet-stream');
  t.equal(res.body.length, 0, 'the body went to the file, not to memory');
  t.equal(res.bytes, 20 * MiB);
  t.equal(res.sha256, bigSha);
  t.equal(createHash('sha256').update(readFileSync(dest)).digest('hex'), bigSha);
  t.equal(seen[seen.length - 1], 20 * MiB);
});

t.test('getObject streams into an open Writable', async (t) => {
  server.route(`GET /objects/${SHA}`, { status: 200, body: 'object bytes' });
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const res = await client.getObject(SHA, sink);
  t.equal(res.status, 200);
  t.equal(Buffer.concat(chunks).toString(), 'object bytes');
  t.notOk(sink.writableEnded, 'the caller keeps ownership of the stream');
});

t.test('getObject on an error status writes nothing and returns the error body', async (t) => {
  server.route(`GET /objects/${SHA}`, errorResponse(400, 'Request has bad object name'));
  const dest = join(work, 'never.bin');
  const res = await client.getObject(SHA, dest);
  t.equal(res.status, 400);
  t.equal(res.body.toString(), '{"Error":"Request has bad object name"}');
  t.equal(res.bytes, 0);
  t.equal(res.sha256, undefined);
  t.notOk(existsSync(dest), 'destination not created');
});

t.test('getObject removes a partial file when the transfer breaks', async (t) => {
  server.route(`GET /objects/${SHA}`, { status: 200, body: Buffer.alloc(100_000, 7), truncateAfter: 1000 });
  const dest = join(work, 'partial.bin');
  const error = await client.getObject(SHA, dest).catch((e: unknown) => e);
  t.ok(error instanceof PvTransportError);
  t.equal((error as PvTransportError).code, 'reset');
  t.notOk(existsSync(dest));
});

t.test('transport failures raise PvTransportError, never a fake status', async (t) => {
  server.route('GET /containers', { status: 200, drop: true });
  const dropped = await client.listContainers().catch((e: unknown) => e);
  t.ok(dropped instanceof PvTransportError);
  t.equal((dropped as PvTransportError).code, 'reset');

  server.route('GET /groups', { status: 200, body: '[1,2,3,4,5,6]', truncateAfter: 3 });
  const truncated = await client.listGroups().catch((e: unknown) => e);
  t.ok(truncated instanceof PvTransportError);

  const nowhere = new PvClient({ socketPath: join(work, 'no-such-socket') });
  const refused = await nowhere.listContainers().catch((e: unknown) => e);
  t.ok(refused instanceof PvTransportError);
  t.equal((refused as PvTransportError).code, 'connect');

  server.route('GET /steps', { status: 200, body: '[]', delayMs: 500 });
  const impatient = new PvClient({ socketPath: server.socketPath, timeoutMs: 100 });
  const late = await impatient.listSteps().catch((e: unknown) => e);
  t.ok(late instanceof PvTransportError);
  t.equal((late as PvTransportError).code, 'timeout');
});

t.test('trace receives curl -v style lines', async (t) => {
  const lines: string[] = [];
  const traced = new PvClient({ socketPath: server.socketPath, trace: (line) => lines.push(line) });
  server.route('GET /daemons', jsonResponse(200, []));
  await traced.listDaemons();
  t.ok(lines.includes('> GET /daemons HTTP/1.1'));
  t.ok(lines.includes('> Host: localhost'));
  t.ok(lines.some((l) => /^< HTTP\/1\.1 200/.test(l)));
  t.ok(lines.some((l) => /^< Content-Type: application\/json$/i.test(l)));
});

t.test('errorMessage understands every error body shape', async (t) => {
  t.equal(errorMessage('{"Error":"Object has bad checksum"}'), 'Object has bad checksum');
  t.equal(errorMessage('{"Error": "Unsupported protocol"}'), 'Unsupported protocol');
  t.equal(errorMessage('{"Error":"unknown endpoint: /a"b"}'), 'unknown endpoint: /a"b', 'unescaped legacy text');
  t.equal(errorMessage('{"error":{"code":"no_space","message":"Not enough disk space available"}}'), 'Not enough disk space available');
  t.equal(errorMessage(''), undefined);
  t.equal(errorMessage('[]'), undefined);
  t.equal(errorMessage('plain text'), undefined);
});

t.test('listing parsers', async (t) => {
  t.same(parseObjectList(`[{"sha256":"${SHA}","size":"12"}]`), [{ sha256: SHA, size: '12' }]);
  t.same(parseObjectList('[]'), []);
  t.equal(parseObjectList(']'), undefined);
  t.equal(parseObjectList('[{"size":"1"}]'), undefined);
  const steps = parseStepList('[{"name":"0", "date":"2026-05-26T10:00:50Z", "commitmsg":"", "progress":{"status":"DONE"}}]');
  t.same(steps, [{ name: '0', date: '2026-05-26T10:00:50Z', commitmsg: '', progress: { status: 'DONE' } }]);
  t.equal(parseStepList('{}'), undefined);
});

/** A server that answers every connection with fixed raw bytes, then behaves as told. */
async function rawServer(
  reply: string | Buffer,
  after: 'end' | 'destroy' = 'end',
  when: 'head' | 'now' = 'head',
): Promise<{ socketPath: string; received: () => string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pvraw-'));
  const socketPath = join(dir, 'sock');
  let seen = '';
  const conns: Socket[] = [];
  const srv = createNetServer((conn) => {
    conns.push(conn);
    conn.on('error', () => undefined);
    let answered = false;
    const answer = (): void => {
      if (answered) return;
      answered = true;
      conn.write(reply, () => (after === 'destroy' ? conn.destroy() : conn.end()));
    };
    conn.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (when === 'head' && seen.includes('\r\n\r\n')) answer();
    });
    if (when === 'now') answer();
  });
  await new Promise<void>((done) => srv.listen(socketPath, () => done()));
  return {
    socketPath,
    received: () => seen,
    close: async () => {
      for (const c of conns) c.destroy();
      await new Promise<void>((done) => srv.close(() => done()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

t.test('response framing: chunked, close-delimited HTTP/1.0, interim 100, HEAD, 204', async (t) => {
  const chunked = await rawServer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n');
  const a = await new PvClient({ socketPath: chunked.socketPath }).listSteps();
  t.equal(a.body.toString(), 'hello world');
  await chunked.close();

  const http10 = await rawServer('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[1,2,3]');
  const b = await new PvClient({ socketPath: http10.socketPath }).listSteps();
  t.equal(b.status, 200);
  t.equal(b.body.toString(), '[1,2,3]');
  await http10.close();

  const interim = await rawServer('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 422 Unprocessable Content\r\nContent-Length: 35\r\n\r\n{"Error":"Object has bad checksum"}');
  const c = await new PvClient({ socketPath: interim.socketPath }).putObject(SHA, Buffer.from('x'));
  t.equal(c.status, 422);
  t.equal(c.body.toString(), '{"Error":"Object has bad checksum"}');
  await interim.close();

  const head = await rawServer('HTTP/1.1 400 Bad Request\r\nContent-Length: 40\r\n\r\n', 'destroy');
  const d = await new PvClient({ socketPath: head.socketPath }).rawRequest('HEAD', '/containers');
  t.equal(d.status, 400);
  t.equal(d.body.length, 0, 'no body expected after HEAD despite Content-Length');
  await head.close();

  const noContent = await rawServer('HTTP/1.1 204 No Content\r\nX-A: 1\r\nX-A: 2\r\n\r\n');
  const e = await new PvClient({ socketPath: noContent.socketPath }).command('GO_REMOTE');
  t.equal(e.status, 204);
  t.equal(e.headers['x-a'], '1, 2');
  await noContent.close();

  const garbage = await rawServer('SSH-2.0-OpenSSH\r\n\r\n');
  const f = await new PvClient({ socketPath: garbage.socketPath }).listSteps().catch((x: unknown) => x);
  t.ok(f instanceof PvTransportError && f.code === 'reset', 'a non-HTTP reply is a transport error');
  await garbage.close();
});

t.test('an early answer followed by an abrupt close is still delivered', async (t) => {
  // The case node:http loses on Bun: the server rejects at header time and drops the
  // connection while the client is still writing a large body.
  const body = '{"Error":"Request has bad object name"}';
  const srv = await rawServer(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'destroy');
  const res = await new PvClient({ socketPath: srv.socketPath }).putObject('abc', bigPath);
  t.equal(res.status, 400);
  t.equal(res.body.toString(), body);
  t.match(srv.received(), /^PUT \/objects\/abc HTTP\/1\.1\r\nHost: localhost\r\nContent-Type: application\/octet-stream\r\nContent-Length: 20971520\r\nConnection: close\r\n\r\n/);
  await srv.close();
});

t.test('a download into a slow destination keeps every byte', async (t) => {
  const data = big.subarray(0, 4 * MiB);
  server.route(`GET /objects/${SHA}`, { status: 200, body: data });
  const { Writable } = await import('node:stream');
  const got: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, done) {
      got.push(Buffer.from(chunk));
      setTimeout(done, 1);
    },
  });
  const res = await client.getObject(SHA, slow);
  t.equal(res.status, 200);
  t.equal(res.bytes, data.length);
  t.ok(Buffer.concat(got).equals(data));
});

// ---- the exchange's pieces, each state on its own (no socket: the state machine is the unit) ----

interface FlowLog {
  events: string[];
  failures: PvTransportError[];
}

function fakeFlow(): FlowLog & DownloadFlow {
  const log: FlowLog = { events: [], failures: [] };
  return {
    ...log,
    pause: () => log.events.push('pause'),
    resume: () => log.events.push('resume'),
    fail: (error) => log.failures.push(error),
  };
}

/** A sink whose open() the test resolves; records what happened to it. */
function fakeSink(options: { closeError?: Error } = {}): { sink: DownloadSink; written: Buffer[]; calls: string[]; open: (out?: Writable) => void } {
  const written: Buffer[] = [];
  const calls: string[] = [];
  let resolveOpen: ((out: Writable) => void) | undefined;
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(Buffer.from(chunk));
      done();
    },
  });
  const sink: DownloadSink = {
    open: () => {
      calls.push('open');
      return new Promise<Writable>((resolve) => {
        resolveOpen = resolve;
      });
    },
    close: async () => {
      calls.push('close');
      if (options.closeError) throw options.closeError;
    },
    abort: async () => {
      calls.push('abort');
    },
    onProgress: undefined,
  };
  return { sink, written, calls, open: (given = out) => resolveOpen?.(given) };
}

const head200 = { httpVersion: '1.1', status: 200, reason: 'OK', rawHeaders: [], headers: { 'content-length': '6' } };

t.test('DownloadWriter: an error status stays in memory and never opens the sink', async (t) => {
  const flow = fakeFlow();
  const { sink, calls } = fakeSink();
  const writer = new DownloadWriter(sink, flow);
  writer.start({ ...head200, status: 404, reason: 'Not Found' });
  t.equal(writer.stateName, 'memory');
  writer.write(Buffer.from('{"Error":"x"}'));
  const done = await writer.finish();
  t.equal(done?.body.toString(), '{"Error":"x"}');
  t.same([done?.received, done?.sinkBytes, done?.sinkSha256], [13, 0, undefined]);
  t.same(calls, [], 'the destination was never touched');
});

t.test('DownloadWriter: bytes that arrive while the sink opens wait, paused, and go out in order', async (t) => {
  const flow = fakeFlow();
  const { sink, written, calls, open } = fakeSink();
  const writer = new DownloadWriter(sink, flow);
  writer.start(head200);
  t.equal(writer.stateName, 'opening');
  t.same(flow.events, ['pause'], 'reading stops until the destination is open');
  const received = Buffer.from('abc');
  writer.write(received);
  received.fill(0); // Bun may reuse its receive buffer
  t.same(written, [], 'nothing written before open() resolved');
  open();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(writer.stateName, 'writing');
  t.same(flow.events, ['pause', 'resume']);
  writer.write(Buffer.from('def'));
  const done = await writer.finish();
  t.equal(writer.stateName, 'closed');
  t.equal(Buffer.concat(written).toString(), 'abcdef');
  t.same([done?.sinkBytes, done?.sinkSha256], [6, createHash('sha256').update('abcdef').digest('hex')]);
  t.equal(done?.body.length, 0, 'a sink download keeps no body in memory');
  t.same(calls, ['open', 'close']);
  t.same(flow.failures, []);
});

t.test('DownloadWriter: abandoned while the sink opens, the sink is aborted once open and gets nothing', async (t) => {
  const flow = fakeFlow();
  const { sink, written, calls, open } = fakeSink();
  const writer = new DownloadWriter(sink, flow);
  writer.start(head200);
  writer.write(Buffer.from('abc'));
  await writer.abandon();
  t.equal(writer.stateName, 'abandoned');
  t.same(calls, ['open'], 'no abort before open() resolved: there is nothing to abort yet');
  open();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(calls, ['open', 'abort']);
  t.same(written, []);
  t.equal(await writer.finish(), undefined, 'an abandoned download has no result');
});

t.test('DownloadWriter: a failing close() fails the exchange as a sink error', async (t) => {
  const flow = fakeFlow();
  const { sink, open } = fakeSink({ closeError: new Error('EIO on flush') });
  const writer = new DownloadWriter(sink, flow);
  writer.start(head200);
  open();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(await writer.finish(), undefined);
  t.equal(flow.failures.length, 1);
  t.same([flow.failures[0]?.code, flow.failures[0]?.message], ['sink', 'writing the download failed: EIO on flush']);
});

t.test('Uploader: waits for drain on a short write, and stop() ends it without reading the source further', async (t) => {
  const accepted: Buffer[] = [];
  // The socket takes at most 4 bytes per write.
  const target = { write: (data: Uint8Array, offset: number, length: number) => {
    const n = Math.min(4, length);
    accepted.push(Buffer.from(data.subarray(offset, offset + n)));
    return n;
  } };
  let pulled = 0;
  async function* source(): AsyncGenerator<Uint8Array> {
    for (;;) {
      pulled++;
      yield Buffer.from('0123456789');
    }
  }
  const uploader = new Uploader(target, { kind: 'stream', source: source(), size: undefined }, false, undefined, undefined);
  const sending = uploader.send(Buffer.from('HEAD'));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(Buffer.concat(accepted).toString(), 'HEAD0123', 'head, then the first 4 bytes of the first piece; now waiting for drain');
  uploader.drained();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(Buffer.concat(accepted).toString(), 'HEAD01234567');
  uploader.stop();
  await sending;
  t.ok(uploader.stopped);
  t.equal(Buffer.concat(accepted).toString(), 'HEAD01234567', 'nothing written after stop()');
  t.equal(pulled, 1, 'the source was not read past the piece in flight');
});

t.test('Uploader: a sized source that ends early is a source error; chunked framing ends with the last chunk', async (t) => {
  const sink: Buffer[] = [];
  const target = { write: (data: Uint8Array, offset: number, length: number) => {
    sink.push(Buffer.from(data.subarray(offset, offset + length)));
    return length;
  } };
  async function* three(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('abc');
  }
  const short = new Uploader(target, { kind: 'stream', source: three(), size: 5 }, false, undefined, undefined);
  const error = await short.send(Buffer.alloc(0)).then(() => undefined, (caught: unknown) => caught);
  t.type(error, PvTransportError);
  t.same([(error as PvTransportError).code, (error as PvTransportError).message], ['source', 'upload source ended after 3 of 5 announced bytes']);

  sink.length = 0;
  const progress: Array<[number, number | undefined]> = [];
  const chunked = new Uploader(target, { kind: 'stream', source: three(), size: undefined }, true, (sent, total) => progress.push([sent, total]), undefined);
  await chunked.send(Buffer.alloc(0));
  t.equal(Buffer.concat(sink).toString(), '3\r\nabc\r\n0\r\n\r\n');
  t.same(progress, [[0, undefined], [3, undefined]]);
});
