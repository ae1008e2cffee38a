/**
 * The upload fast path (docs/native-ingest.md): `PUT /objects/{sha}` bodies of 1 MiB and more
 * are read natively from the connection fd. Against the real daemon: byte-exact storage whatever
 * the client's write pattern, `Connection: close` after such an upload, client disconnects,
 * wrong digests, full disks, idle clients, concurrency, a loop that keeps answering, and the
 * switch that turns it off. Also the native entry point's argument checks.
 */
import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PVCONTROL, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { parseResponse, rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { createFdIngest } from '../../src/native/index.ts';

const MiB = 1024 * 1024;
const THRESHOLD = MiB;
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const work = mkdtempSync(join(tmpdir(), 'pvctrl-fastpath-'));
// No tap call before this await: an early teardown lets the root test end while we wait.
const daemon = await startTestDaemon({ env: { PVCTRL_UPLOAD_IDLE_TIMEOUT_MS: '1500' } }).catch((error: unknown) => {
  rmSync(work, { recursive: true, force: true });
  throw error;
});
t.teardown(async () => {
  await daemon.dispose();
  rmSync(work, { recursive: true, force: true });
});

const objectsOf = (d: TestDaemon): string => join(d.storage, 'objects');
const tempFiles = (d: TestDaemon): string[] => readdirSync(objectsOf(d)).filter((name) => name.startsWith('.'));
const stored = (d: TestDaemon, digest: string): Buffer | undefined => {
  const path = join(objectsOf(d), digest);
  return existsSync(path) ? readFileSync(path) : undefined;
};

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `curl -T file` as pvcontrol users do; headers of the final response are parsed. */
function curlUpload(d: TestDaemon, data: Buffer, name: string, extra: string[] = []): Promise<CurlResult> {
  const file = join(work, `${name}.${randomBytes(4).toString('hex')}.bin`);
  writeFileSync(file, data);
  const headerFile = `${file}.headers`;
  const bodyFile = `${file}.body`;
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--unix-socket', d.socket, '-T', file, '-D', headerFile, '-o', bodyFile, ...extra, `http://localhost/objects/${name}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`curl exited ${code}: ${stderr}`);
        // -D keeps every head (100 Continue first): take the last one.
        const heads = readFileSync(headerFile, 'latin1').split('\r\n\r\n').filter((head) => head.startsWith('HTTP/'));
        const last = (heads[heads.length - 1] ?? '').split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of last.slice(1)) {
          const colon = line.indexOf(':');
          if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        resolve({ status: Number((last[0] ?? '').split(' ')[1]), headers, body: readFileSync(bodyFile, 'utf8') });
      } catch (error) {
        reject(error);
      } finally {
        for (const path of [file, headerFile, bodyFile]) rmSync(path, { force: true });
      }
    });
  });
}

type Step = Buffer | string | { pause: number } | { waitFor: RegExp } | { end: true };

interface Exchange {
  response: RawResponse;
  /**
   * The server closed the connection on its own: a FIN, or a reset when it closed with bytes
   * of ours still unread (what AF_UNIX reports then).
   */
  serverClosed: boolean;
}

/** Run `steps` on one raw connection, then read until the server closes or `idleMs` passes. */
function exchange(d: TestDaemon, steps: Step[], idleMs = 3000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection(d.socket);
    const received: Buffer[] = [];
    let serverClosed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: { pattern: RegExp; resolve: () => void } | undefined;
    const text = (): string => Buffer.concat(received).toString('latin1');
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve({ response: parseResponse(text()), serverClosed });
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      if (waiter?.pattern.test(text())) {
        const { resolve: done } = waiter;
        waiter = undefined;
        done();
      }
      arm();
    });
    socket.on('end', () => {
      serverClosed = true;
      finish();
    });
    socket.on('close', () => {
      serverClosed ||= !done;
      finish();
    });
    socket.on('error', (error) => {
      serverClosed = true;
      if (received.length > 0) finish();
      else reject(error);
    });
    socket.once('connect', async () => {
      for (const step of steps) {
        if (typeof step === 'string' || Buffer.isBuffer(step)) {
          if (!socket.write(step)) await new Promise((done) => socket.once('drain', done));
        } else if ('pause' in step) {
          await sleep(step.pause);
        } else if ('waitFor' in step) {
          const pattern = step.waitFor;
          if (!pattern.test(text())) await new Promise<void>((done) => (waiter = { pattern, resolve: done }));
        } else {
          socket.end();
        }
      }
      arm();
    });
  });
}

const head = (name: string, length: number, extra: Record<string, string> = {}): string =>
  `PUT /objects/${name} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${length}\r\n${Object.entries(extra)
    .map(([key, value]) => `${key}: ${value}\r\n`)
    .join('')}\r\n`;

/** Split `data` into pieces of the given sizes, cycling through them. */
function pieces(data: Buffer, sizes: number[], pauseEvery = 0, pauseMs = 0): Step[] {
  const steps: Step[] = [];
  let offset = 0;
  let index = 0;
  while (offset < data.length) {
    const size = sizes[index % sizes.length] as number;
    steps.push(data.subarray(offset, offset + size));
    offset += size;
    index++;
    if (pauseEvery > 0 && index % pauseEvery === 0) steps.push({ pause: pauseMs });
  }
  return steps;
}

t.test('sizes around the threshold and 64 MiB of random data via curl -T', async (t) => {
  for (const size of [THRESHOLD - 1, THRESHOLD, THRESHOLD + 1, 64 * MiB]) {
    const data = randomBytes(size);
    const digest = sha(data);
    const result = await curlUpload(daemon, data, digest);
    t.equal(result.status, 200, `${size} bytes: 200`);
    t.equal(result.body, '', `${size} bytes: empty answer`);
    // The JS path keeps the connection; only the fast path has to close it.
    t.equal(result.headers.connection, size >= THRESHOLD ? 'close' : 'keep-alive', `${size} bytes: Connection header`);
    t.ok(stored(daemon, digest)?.equals(data), `${size} bytes stored byte for byte`);
  }
  t.same(tempFiles(daemon), [], 'no temp files');
});

t.test('raw client: head and first body bytes in one write, the rest in odd pieces with pauses', async (t) => {
  const data = randomBytes(5 * MiB + 12_345);
  const digest = sha(data);
  const first = Buffer.concat([Buffer.from(head(digest, data.length)), data.subarray(0, 100_003)]);
  const rest = pieces(data.subarray(100_003), [1, 7, 4093, 65_537, 300_007, 13], 7, 15);
  const { response, serverClosed } = await exchange(daemon, [first, { pause: 50 }, ...rest]);
  t.equal(response.status, 200);
  t.equal(response.headers.connection, 'close');
  t.ok(serverClosed, 'the server closes the connection after the answer');
  t.ok(stored(daemon, digest)?.equals(data), 'stored byte for byte');
});

t.test('raw client: the whole request in a single write', async (t) => {
  const data = randomBytes(3 * MiB);
  const digest = sha(data);
  const { response } = await exchange(daemon, [Buffer.concat([Buffer.from(head(digest, data.length)), data])]);
  t.equal(response.status, 200);
  t.ok(stored(daemon, digest)?.equals(data));
});

t.test('raw client: an upload after a keep-alive request on the same connection', async (t) => {
  const data = randomBytes(2 * MiB + 3);
  const digest = sha(data);
  const { response } = await exchange(daemon, [
    'GET /objects HTTP/1.1\r\nHost: localhost\r\n\r\n',
    { waitFor: /HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n\[/ },
    head(digest, data.length),
    ...pieces(data, [777_777]),
  ]);
  const answers = response.raw.match(/HTTP\/1\.1 \d+ [^\r]*/g) ?? [];
  t.same(answers, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], 'both requests answered');
  t.match(response.raw.slice(response.raw.lastIndexOf('HTTP/1.1')), /Connection: close/);
  t.ok(stored(daemon, digest)?.equals(data));
});

t.test('Expect: 100-continue: the body is sent only after 100 Continue', async (t) => {
  const data = randomBytes(4 * MiB + 1);
  const digest = sha(data);
  const { response } = await exchange(daemon, [
    head(digest, data.length, { Expect: '100-continue' }),
    { waitFor: /^HTTP\/1\.1 100 Continue\r\n\r\n/ },
    ...pieces(data, [65_536, 1_000_000]),
  ]);
  t.match(response.raw, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  t.ok(stored(daemon, digest)?.equals(data));
});

t.test('Transfer-Encoding: identity next to Content-Length (pvcontrol)', async (t) => {
  const data = randomBytes(2 * MiB);
  const digest = sha(data);
  const { response } = await exchange(daemon, [
    head(digest, data.length, { 'Transfer-Encoding': 'identity', 'Content-Type': 'application/octet-stream' }),
    ...pieces(data, [123_457]),
  ]);
  t.equal(response.status, 200);
  t.ok(stored(daemon, digest)?.equals(data));
});

t.test('pvcontrol objects put (Transfer-Encoding: identity, one connection per upload)', async (t) => {
  const data = randomBytes(9 * MiB + 5);
  const file = join(work, 'pvcontrol.bin');
  writeFileSync(file, data);
  const pvcontrol = (args: string[]) =>
    spawnSync(PVCONTROL, args, { encoding: 'utf8', env: { ...process.env, PVCTRL_SOCKET: daemon.socket }, timeout: 60_000 });
  const put = pvcontrol(['objects', 'put', file, sha(data)]);
  t.equal(put.status, 0, `stored (${put.stderr.trim()})`);
  t.ok(stored(daemon, sha(data))?.equals(data));
  const wrong = sha(Buffer.from('not this'));
  const bad = pvcontrol(['objects', 'put', file, wrong]);
  t.equal(bad.status, 60, 'pvcontrol reports the bad checksum (HTTP 422)');
  t.match(bad.stderr, '{"Error":"Object has bad checksum"}');
  t.equal(stored(daemon, wrong), undefined);
  t.same(tempFiles(daemon), []);
});

t.test('a pipelined request after the body is not answered: the connection closes', async (t) => {
  const data = randomBytes(2 * MiB);
  const digest = sha(data);
  const { response, serverClosed } = await exchange(daemon, [
    Buffer.concat([Buffer.from(head(digest, data.length)), data, Buffer.from('GET /objects HTTP/1.1\r\nHost: localhost\r\n\r\n')]),
  ]);
  t.equal(response.status, 200);
  t.equal(response.raw.match(/HTTP\/1\.1 /g)?.length, 1, 'one answer');
  t.ok(serverClosed);
  t.ok(stored(daemon, digest)?.equals(data));
});

t.test('a client that disconnects mid-upload leaves no temp file and nothing stored', async (t) => {
  const data = randomBytes(16 * MiB);
  const digest = sha(data);
  const socket = createConnection(daemon.socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(head(digest, data.length));
  socket.write(data.subarray(0, 5 * MiB + 17));
  await sleep(300);
  t.equal(tempFiles(daemon).length, 1, 'the upload is under way');
  socket.destroy();
  await sleep(300);
  t.same(tempFiles(daemon), [], 'temp file removed');
  t.equal(stored(daemon, digest), undefined);
  t.equal((await rawRequest(daemon.socket, 'GET', '/objects')).status, 200, 'still serving');
  t.match(daemon.log(), /client closed the connection|client disconnected|aborted/, 'logged as a client disconnect');
});

t.test('a client that half-closes before sending the whole body', async (t) => {
  const data = randomBytes(3 * MiB);
  const digest = sha(data);
  const { response } = await exchange(daemon, [head(digest, data.length + 1000), data, { end: true }], 2000);
  t.ok(response.closedWithoutAnswer, 'no answer, connection closed');
  await sleep(100);
  t.same(tempFiles(daemon), []);
  t.equal(stored(daemon, digest), undefined);
});

t.test('an idle client is dropped after the idle timeout (1.5 s here)', async (t) => {
  const data = randomBytes(2 * MiB);
  const digest = sha(data);
  const started = Date.now();
  const { response } = await exchange(daemon, [head(digest, data.length), data.subarray(0, MiB)], 5000);
  const elapsed = Date.now() - started;
  t.ok(response.closedWithoutAnswer, 'connection closed without an answer');
  t.ok(elapsed >= 1400 && elapsed < 4500, `closed after the timeout (${elapsed} ms)`);
  await sleep(100);
  t.same(tempFiles(daemon), []);
  t.equal(stored(daemon, digest), undefined);
});

t.test('a wrong digest is 422 and stores nothing', async (t) => {
  const data = randomBytes(3 * MiB);
  const wrong = sha(Buffer.from('something else'));
  const result = await curlUpload(daemon, data, wrong);
  t.equal(result.status, 422);
  t.equal(result.body, '{"Error":"Object has bad checksum"}');
  t.equal(result.headers.connection, 'close');
  t.equal(stored(daemon, wrong), undefined);
  t.equal(stored(daemon, sha(data)), undefined);
  t.same(tempFiles(daemon), []);
});

t.test('concurrent uploads: distinct objects and the same object several times', async (t) => {
  const distinct = Array.from({ length: 4 }, (_, index) => randomBytes(8 * MiB + index));
  const same = randomBytes(6 * MiB);
  const results = await Promise.all([
    ...distinct.map((data) => curlUpload(daemon, data, sha(data))),
    ...Array.from({ length: 3 }, () => curlUpload(daemon, same, sha(same))),
  ]);
  t.same(results.map((result) => result.status), [200, 200, 200, 200, 200, 200, 200]);
  for (const data of [...distinct, same]) t.ok(stored(daemon, sha(data))?.equals(data), 'stored byte for byte');
  t.same(tempFiles(daemon), []);
});

t.test('beyond 8 fast-path uploads at once, the next one takes the JS path', async (t) => {
  const bodies = Array.from({ length: 8 }, () => randomBytes(2 * MiB));
  const sockets = await Promise.all(
    bodies.map(async (data) => {
      const socket = createConnection(daemon.socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(head(sha(data), data.length));
      socket.write(data.subarray(0, MiB));
      return socket;
    }),
  );
  await sleep(300);
  t.equal(tempFiles(daemon).length, 8, 'eight native uploads under way');
  const ninth = randomBytes(2 * MiB);
  const result = await curlUpload(daemon, ninth, sha(ninth));
  t.equal(result.status, 200);
  t.equal(result.headers.connection, 'keep-alive', 'the ninth went through the parser');
  const answers = sockets.map(
    (socket) => new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.once('close', () => resolve(text));
    }),
  );
  sockets.forEach((socket, index) => socket.write((bodies[index] as Buffer).subarray(MiB)));
  for (const answer of await Promise.all(answers)) t.match(answer, /^HTTP\/1\.1 200 OK\r\nConnection: close\r\n/);
  for (const data of [...bodies, ninth]) t.ok(stored(daemon, sha(data))?.equals(data));
  t.same(tempFiles(daemon), []);
});

t.test('GETs are answered while a large upload runs and while it stalls', async (t) => {
  const data = randomBytes(64 * MiB);
  const digest = sha(data);
  let uploading = true;
  const latencies: number[] = [];
  const prober = (async () => {
    while (uploading) {
      const started = Date.now();
      const answer = await rawRequest(daemon.socket, 'GET', '/containers');
      if (answer.status !== 200) throw new Error(`GET answered ${answer.status}`);
      latencies.push(Date.now() - started);
      await sleep(10);
    }
  })();
  const upload = exchange(daemon, [head(digest, data.length), data.subarray(0, 32 * MiB), { pause: 800 }, data.subarray(32 * MiB)]);
  const { response } = await upload;
  uploading = false;
  await prober;
  t.equal(response.status, 200);
  t.ok(stored(daemon, digest)?.equals(data));
  t.ok(latencies.length >= 20, `${latencies.length} GETs answered during the upload`);
  t.ok(Math.max(...latencies) < 500, `slowest GET ${Math.max(...latencies)} ms`);
});

t.test('PVCTRL_UPLOAD_FASTPATH=0 keeps uploads on the JS path', async (t) => {
  const plain = await startTestDaemon({ env: { PVCTRL_UPLOAD_FASTPATH: '0' } });
  t.teardown(() => plain.dispose());
  const data = randomBytes(4 * MiB);
  const result = await curlUpload(plain, data, sha(data));
  t.equal(result.status, 200);
  t.equal(result.headers.connection, 'keep-alive', 'the parser read the body');
  t.ok(stored(plain, sha(data))?.equals(data));
});

t.test('disk full during fast-path uploads: 507 to the client, nothing left behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-fastpath-full-'));
  mkdirSync(join(dir, 'storage'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', join(dir, 'storage')]);
  const full = await startTestDaemon({ dir });
  t.teardown(async () => {
    await full.stop();
    execFileSync('umount', [join(dir, 'storage')]);
    rmSync(dir, { recursive: true, force: true });
  });
  // Each one fits on its own (so none is refused up front); together they do not.
  const uploads = Array.from({ length: 3 }, () => randomBytes(3 * MiB + 512 * 1024));
  const results = await Promise.all(uploads.map((data) => curlUpload(full, data, sha(data))));
  const statuses = results.map((result) => result.status);
  t.ok(statuses.every((status) => status === 200 || status === 507), `statuses ${statuses.join(', ')}`);
  t.ok(statuses.includes(507), 'at least one ran out of space');
  for (const [index, result] of results.entries()) {
    if (result.status === 507) t.equal(result.body, '{"Error":"Not enough disk space available"}', 'the client read the 507');
    const data = uploads[index] as Buffer;
    if (result.status === 200) t.ok(stored(full, sha(data))?.equals(data), 'the upload that fit is intact');
    else t.equal(stored(full, sha(data)), undefined);
  }
  t.same(tempFiles(full), [], 'no temp files');
  t.equal((await rawRequest(full.socket, 'GET', '/objects')).status, 200, 'still serving');
});

t.test('the byte ledger balanced on every fast-path upload', async (t) => {
  t.notMatch(daemon.log(), /upload fast path:/, 'no ledger failure logged');
  t.notMatch(daemon.log(), /unexpected failure/, 'no unexpected failure logged');
});

t.test('FdIngest validates its arguments', async (t) => {
  const path = join(work, 'fd-ingest.tmp');
  t.throws(() => createFdIngest(''), /FdIngest: path must be a non-empty string/);
  t.throws(() => createFdIngest(path, { buffers: 1 }), /FdIngest: options.buffers must be an integer between 2 and 64/);
  t.throws(() => createFdIngest(path, { idleTimeoutMs: 0.5 }), /options.idleTimeoutMs must be an integer/);
  t.throws(() => createFdIngest(path, { earlyWriteback: 'yes' as unknown as boolean }), /options.earlyWriteback must be a boolean/);
  const ingest = createFdIngest(path);
  t.ok(existsSync(path), 'temp file created');
  t.throws(() => createFdIngest(path), { code: 'EEXIST' }, 'O_EXCL');
  const run = ingest.run.bind(ingest) as (...args: unknown[]) => unknown;
  t.throws(() => run(-1, new Uint8Array(0), 1), /fdIngest.run: fd must be a non-negative integer/);
  t.throws(() => run(0, 'abc', 1), /fdIngest.run: prefix must be a Uint8Array/);
  t.throws(() => run(0, new Uint8Array(0), -1), /fdIngest.run: length must be a non-negative safe integer/);
  t.throws(() => run(0, new Uint8Array(0)), /fdIngest.run: expected 3 arguments, got 2/);
  const { openSync, closeSync } = await import('node:fs');
  const regular = openSync(path, 'r');
  t.throws(() => run(regular, new Uint8Array(0), 1), { code: 'ENOTSOCK' }, 'only sockets');
  closeSync(regular);
  await ingest.abort();
  t.notOk(existsSync(path), 'abort removes the temp file');
  await ingest.abort();
  t.throws(() => run(0, new Uint8Array(0), 1), { code: 'ERR_INGEST_CLOSED' }, 'no run after abort');
  t.equal(ingest.received, 0);
});
