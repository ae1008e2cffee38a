/**
 * GET /events with the real daemon (no containers: see events-containers.test.ts for those):
 * events from real actions, the three formats (protobuf frames decoded by Debian's protoc,
 * independent of protobufjs), resume and reset, filters, and the overflow close of a reader
 * that stopped reading.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PVCONTROL, REPO, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pvctl } from '../helpers/plan.ts';
import { prepareStorage } from '../helpers/examples.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { openEventStream, type EventObject, type EventStream } from '../../src/client/event-stream.ts';

const PROTO = join(REPO, 'proto', 'pvctrl', 'events.proto');
let daemon: TestDaemon;
const emptyObjects = mkdtempSync(join(tmpdir(), 'pvctrl-events-objects-'));

t.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-events-'));
  // A revision without containers (container, group, signal and driver events: events-containers.test.ts).
  prepareStorage(dir, 'events', { '#spec': 'pantavisor-service-system@1' }, emptyObjects);
  daemon = await startTestDaemon({ dir });
});
t.teardown(async () => {
  await daemon?.dispose();
  if (daemon !== undefined) rmSync(daemon.dir, { recursive: true, force: true });
  rmSync(emptyObjects, { recursive: true, force: true });
});

/** Read events until `done` says so (or fail after the timeout); the stream is closed after. */
async function collect(stream: EventStream, done: (events: EventObject[]) => boolean, timeoutMs = 10_000): Promise<EventObject[]> {
  const seen: EventObject[] = [];
  const timer = setTimeout(() => stream.close(), timeoutMs);
  try {
    for await (const event of stream) {
      seen.push(event);
      if (done(seen)) break;
    }
  } finally {
    clearTimeout(timer);
    stream.close();
  }
  return seen;
}

const member = <T>(event: EventObject | undefined): T => (event === undefined ? undefined : event[event.type]) as T;

t.test('every event from a real action, in order, numbered', async (t) => {
  const stream = await openEventStream({ socketPath: daemon.socket });
  const big = 'x'.repeat(2000);
  t.equal((await rawRequest(daemon.socket, 'PUT', '/user-meta/events.small', { body: 'hello' })).status, 200);
  t.equal((await rawRequest(daemon.socket, 'PUT', '/user-meta/events.big', { body: big })).status, 200);
  t.equal((await rawRequest(daemon.socket, 'DELETE', '/user-meta/events.small')).status, 200);
  t.equal((await rawRequest(daemon.socket, 'PUT', '/device-meta/events.dev', { body: 'v' })).status, 200);
  const state = JSON.stringify({ '#spec': 'pantavisor-service-system@1' });
  t.equal((await rawRequest(daemon.socket, 'PUT', '/steps/locals/ev1', { body: state })).status, 200);
  const object = Buffer.from('an object for the event stream');
  const sha = createHash('sha256').update(object).digest('hex');
  t.equal((await rawRequest(daemon.socket, 'PUT', `/objects/${sha}`, { body: object })).status, 200);
  t.equal((await rawRequest(daemon.socket, 'PUT', '/daemons/pv-xconnect', { body: '{"action":"stop"}' })).status, 200);
  t.equal((await rawRequest(daemon.socket, 'POST', '/commands', { body: '{"op":"RUN_GC","payload":""}' })).status, 200);
  const events = await collect(stream, (seen) => seen.some((event) => event.type === 'command' && member<{ action: string }>(event).action === 'finished'));
  const find = (type: string, test: (body: Record<string, unknown>) => boolean = () => true): EventObject | undefined =>
    events.find((event) => event.type === type && test(event[type] as Record<string, unknown>));
  t.same(member(find('meta', (m) => m.key === 'events.small' && m.action === 'set')), { store: 'user-meta', key: 'events.small', action: 'set', value: 'hello', size: 5 });
  t.same(member(find('meta', (m) => m.key === 'events.big')), { store: 'user-meta', key: 'events.big', action: 'set', size: 2000 }, 'a large value: key and size only');
  t.same(member(find('meta', (m) => m.key === 'events.small' && m.action === 'deleted')), { store: 'user-meta', key: 'events.small', action: 'deleted', size: 0 });
  t.same(member(find('meta', (m) => m.key === 'events.dev')), { store: 'device-meta', key: 'events.dev', action: 'set', value: 'v', size: 1 });
  t.same(member(find('revision')), { revision: 'locals/ev1', progress: { status: 'NEW', statusMsg: 'Update ready to be run', progress: 0, retries: 0, extra: '' } });
  t.same(member(find('object', (o) => o.action === 'stored')), { sha, action: 'stored', size: object.length });
  t.match(member(find('daemon', (d) => d.action === 'stopped')), { name: 'pv-xconnect', action: 'stopped' });
  t.same(member(find('command', (c) => c.action === 'accepted')), { op: 'RUN_GC', action: 'accepted', ok: true, error: '' });
  t.same(member(find('command', (c) => c.action === 'finished')), { op: 'RUN_GC', action: 'finished', ok: true, error: '' });
  t.same(member(find('object', (o) => o.action === 'removed')), { sha, action: 'removed', size: object.length }, 'the GC removed the unreferenced object');
  const seqs = events.map((event) => event.seq);
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'in sequence order');
  t.equal(new Set(seqs).size, seqs.length, 'each seq once');
  t.equal((await rawRequest(daemon.socket, 'PUT', '/daemons/pv-xconnect', { body: '{"action":"start"}' })).status, 200);
});

t.test('resume with since, Last-Event-ID, and a reset when the position is not in the ring', async (t) => {
  const all = await collect(await openEventStream({ socketPath: daemon.socket, since: 0 }), (seen) => seen.length >= 5);
  t.same(all[0]?.type, 'epoch', 'the first event of the process names its epoch');
  t.equal(all[0]?.seq, 1);
  const resumed = await collect(await openEventStream({ socketPath: daemon.socket, since: 3 }), (seen) => seen.length >= 2);
  t.same(resumed.map((event) => event.seq), [4, 5], 'since=3 replays from 4');
  const sse = await rawRequest(daemon.socket, 'GET', '/events', { headers: { Accept: 'text/event-stream', 'Last-Event-ID': '4' }, idleMs: 300 });
  t.match(sse.raw, /\r\n\r\n[0-9a-f]+\r\nid: 5\nevent: meta\ndata: \{"seq":5,/, 'SSE: Last-Event-ID resumes; id is the seq, event the type');
  t.match(sse.headers['content-type'], /^text\/event-stream/);
  const ahead = await collect(await openEventStream({ socketPath: daemon.socket, since: 10_000_000 }), (seen) => seen.length >= 1);
  t.equal(ahead[0]?.type, 'reset', 'a position this epoch never reached: reset');
  t.match(member(ahead[0]), { since: 10_000_000, epoch: member<{ id: string }>(all[0]).id });
  const otherEpoch = await rawRequest(daemon.socket, 'GET', '/events?since=2&epoch=0000', { idleMs: 300 });
  t.match(otherEpoch.raw, /"type":"reset"/, 'a position of another epoch: reset');
  t.equal((await rawRequest(daemon.socket, 'GET', '/events?since=abc')).status, 400);
});

t.test('filters: types and container', async (t) => {
  const metaOnly = openEventStream({ socketPath: daemon.socket, types: ['meta'] });
  const containerOnly = openEventStream({ socketPath: daemon.socket, container: 'nobody', since: 0 });
  const [meta, other] = await Promise.all([metaOnly, containerOnly]);
  await rawRequest(daemon.socket, 'PUT', '/daemons/pv-xconnect', { body: '{"action":"stop"}' });
  await rawRequest(daemon.socket, 'PUT', '/user-meta/events.filter', { body: '1' });
  const seen = await collect(meta, (events) => events.length >= 1);
  t.same(seen.map((event) => event.type), ['meta'], 'the daemon event before it was filtered out');
  const aboutNobody = await collect(other, (events) => events.length >= 1);
  t.same(aboutNobody.map((event) => event.type), ['epoch'], 'only control events when no event concerns the container');
  await rawRequest(daemon.socket, 'PUT', '/daemons/pv-xconnect', { body: '{"action":"start"}' });
  const bad = await rawRequest(daemon.socket, 'GET', '/events?types=meta,bogus');
  t.equal(bad.status, 400);
  t.same(JSON.parse(bad.body), { Error: 'unknown event type "bogus"' });
});

t.test('a revision switch changes the xconnect graph: an xconnect event says so', async (t) => {
  // Two containers linked by a service; this daemon has no container runtime (its first revision
  // had none), so the switch loads the state, finds nothing to start and rolls back: two loads.
  const conf = Buffer.from('lxc.init.cmd = /bin/true\n');
  const root = Buffer.from('never mounted: this daemon starts no containers');
  const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  for (const object of [conf, root]) t.equal((await rawRequest(daemon.socket, 'PUT', `/objects/${sha(object)}`, { body: object })).status, 200);
  const container = (name: string, services: Record<string, unknown>): Record<string, unknown> => ({
    [`${name}/lxc.container.conf`]: sha(conf),
    [`${name}/root.squashfs`]: sha(root),
    [`${name}/run.json`]: { '#spec': 'service-manifest-run@1', name, type: 'lxc', config: 'lxc.container.conf', 'root-volume': 'root.squashfs', volumes: [], ...services },
  });
  const state = {
    '#spec': 'pantavisor-service-system@1',
    ...container('evx-server', {}),
    'evx-server/services.json': { '#spec': 'service-manifest-xconnect@1', services: [{ name: 'raw', type: 'unix', socket: '/run/example/raw.sock' }] },
    ...container('evx-client', { services: { required: [{ name: 'raw', type: 'unix', target: '/run/pv/services/raw.sock' }] } }),
  };
  t.equal((await rawRequest(daemon.socket, 'PUT', '/steps/locals/graph', { body: JSON.stringify(state) })).status, 200);
  const graphBefore = (await rawRequest(daemon.socket, 'GET', '/xconnect-graph')).body;
  const stream = await openEventStream({ socketPath: daemon.socket, types: ['xconnect'] });
  t.equal((await rawRequest(daemon.socket, 'POST', '/commands', { body: '{"op":"LOCAL_RUN","payload":"locals/graph"}' })).status, 200);
  const seen = await collect(stream, (events) => events.length >= 2);
  t.same(
    seen.map((event) => member(event)),
    [{ cause: 'revision' }, { cause: 'revision' }],
    'one when the new state was loaded (the graph got the evx link), one when the rollback loaded the previous state',
  );
  const progress = JSON.parse((await rawRequest(daemon.socket, 'GET', '/steps/locals/graph/progress')).body) as { status: string };
  t.equal(progress.status, 'ERROR', 'rolled back: no runtime to start the containers');
  t.equal((await rawRequest(daemon.socket, 'GET', '/xconnect-graph')).body, graphBefore, 'the graph is the previous one again');
});

/** Split varint length-delimited frames. */
function frames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    let length = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[at++] as number;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    if (at + length > bytes.length) break;
    out.push(bytes.subarray(at, at + length));
    at += length;
  }
  return out;
}

/** The body of a chunked response, de-chunked. */
function dechunk(raw: Buffer): Buffer {
  let at = raw.indexOf('\r\n\r\n') + 4;
  const parts: Buffer[] = [];
  while (at < raw.length) {
    const end = raw.indexOf('\r\n', at);
    if (end < 0) break;
    const size = Number.parseInt(raw.subarray(at, end).toString('latin1'), 16);
    if (!(size > 0) || end + 2 + size > raw.length) break;
    parts.push(raw.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function readRaw(request: string, quietMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = createConnection(daemon.socket);
    const parts: Buffer[] = [];
    let timer = setTimeout(() => socket.destroy(), 5000);
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), quietMs);
    });
    socket.on('close', () => resolve(Buffer.concat(parts)));
    socket.write(request);
  });
}

t.test('protobuf frames decode with protoc against the repository .proto', async (t) => {
  await rawRequest(daemon.socket, 'PUT', '/user-meta/events.proto', { body: 'über' });
  const raw = await readRaw('GET /events?since=0 HTTP/1.1\r\nHost: localhost\r\nAccept: application/x-protobuf\r\n\r\n', 400);
  t.match(raw.toString('latin1'), /Content-Type: application\/x-protobuf/i);
  const messages = frames(dechunk(raw));
  t.ok(messages.length > 10, `${messages.length} frames`);
  const decoded = messages.map((message) => {
    const result = spawnSync('protoc', [`--proto_path=${join(REPO, 'proto')}`, '--decode=pvctrl.Event', PROTO], { input: message, encoding: 'utf8', timeout: 20_000 });
    if (result.status !== 0) throw new Error(`protoc: ${result.stderr}`);
    return result.stdout;
  });
  t.match(decoded[0], /^seq: 1\ntime: \d+\nepoch \{\n {2}id: "[0-9a-f]{16}"\n\}\n$/, 'the epoch event');
  const meta = decoded.find((text) => text.includes('key: "events.proto"'));
  t.match(meta, /meta \{\n {2}store: "user-meta"\n {2}key: "events.proto"\n {2}action: "set"\n {2}value: "\\303\\274ber"\n {2}size: 5\n\}/, 'the meta event, byte for byte');
  t.match(decoded.find((text) => text.includes('daemon {')), /daemon \{\n {2}name: "pv-xconnect"\n {2}action: "(started|stopped)"/);
});

t.test('a reader that stops reading gets an overflow event and is closed; nobody else waits', async (t) => {
  // A raw connection that subscribes and then reads nothing.
  const stalled = createConnection(daemon.socket);
  const received: Buffer[] = [];
  let closed = false;
  stalled.on('close', () => (closed = true));
  stalled.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await new Promise((resolve) => stalled.once('data', (chunk: Buffer) => resolve(received.push(chunk))));
  stalled.pause();
  const watcher = await openEventStream({ socketPath: daemon.socket, types: ['meta'] });
  const value = 'v'.repeat(1000);
  const writes = 1200; // ~1.3 MB of events: far past the 256 KiB buffer plus the socket buffers
  for (let index = 0; index < writes; index++) {
    const answer = await rawRequest(daemon.socket, 'PUT', `/user-meta/events.flood`, { body: `${index}${value}` });
    if (answer.status !== 200) throw new Error(`PUT ${index}: ${answer.status}`);
  }
  const live = await collect(watcher, (events) => events.length >= writes);
  t.equal(live.length, writes, 'a reading subscriber got every event meanwhile');
  stalled.on('data', (chunk: Buffer) => received.push(chunk));
  stalled.resume();
  const deadline = Date.now() + 10_000;
  while (!closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(closed, 'the stalled connection was closed');
  const text = Buffer.concat(received).toString('utf8');
  const lines = text.split('\n').filter((line) => line.startsWith('{'));
  const last = JSON.parse(lines.at(-1) ?? '{}') as EventObject;
  t.equal(last.type, 'overflow', 'its stream ends with an overflow event');
  t.same(last.overflow, { limit: 256 * 1024 });
  const before = JSON.parse(lines.at(-2) ?? '{}') as EventObject;
  t.equal(last.seq, before.seq, 'the overflow names the last event it was sent: resume from there with since');
  t.ok(lines.length < writes, `only ${lines.length} of ${writes} events reached it`);
  t.equal((await rawRequest(daemon.socket, 'GET', '/buildinfo')).status, 200, 'the daemon keeps serving');
});

/** Run pvcontrol in the background; resolves with its exit status and output once it exits. */
function pvcontrolAsync(args: string[]): { exited: Promise<{ code: number | null; stdout: string; stderr: string }>; stdout: () => string; kill: () => void } {
  const child = spawn(PVCONTROL, args, { env: { ...process.env, PVCTRL_SOCKET: daemon.socket }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(bound);
      resolve({ code, stdout, stderr });
    }),
  );
  return { exited, stdout: () => stdout, kill: () => child.kill('SIGTERM') };
}

async function until(what: string, test: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

t.test('pvcontrol events prints readable lines, or JSON, as events come', async (t) => {
  const readable = pvcontrolAsync(['events', '--type', 'meta']);
  const json = pvcontrolAsync(['events', '--json', '--type', 'meta,daemon']);
  // Subscribed once the stream's first byte could arrive: poll with writes until both saw one.
  await until('both subscribed', () => {
    void rawRequest(daemon.socket, 'PUT', '/user-meta/events.cli', { body: String(Date.now()) });
    return readable.stdout().includes('events.cli') && json.stdout().includes('events.cli');
  });
  await rawRequest(daemon.socket, 'PUT', '/user-meta/events.cli', { body: 'final' });
  await until('the final line', () => readable.stdout().includes('"final"') && json.stdout().includes('"final"'));
  readable.kill();
  json.kill();
  const lines = (await readable.exited).stdout.trim().split('\n');
  t.match(lines.at(-1), /^#\d+ \d\d:\d\d:\d\d\.\d{3} meta user-meta events\.cli set = "final"$/);
  const objects = (await json.exited).stdout.trim().split('\n').map((line) => JSON.parse(line) as EventObject);
  t.match(objects.at(-1), { type: 'meta', meta: { store: 'user-meta', key: 'events.cli', action: 'set', value: 'final' } });
  const refused = pvctl(daemon.socket, ['events', '--type', 'bogus']);
  t.equal(refused.code, 255);
  t.same(JSON.parse(refused.stderr), { Error: 'unknown event type "bogus"' }, 'the error body on stderr, as for every command');
});

t.test('steps show-progress --follow draws the update from the stream and exits with its final status', async (t) => {
  const state = JSON.stringify({ '#spec': 'pantavisor-service-system@1' });
  t.equal((await rawRequest(daemon.socket, 'PUT', '/steps/locals/follow', { body: state })).status, 200);
  const follow = pvcontrolAsync(['steps', 'show-progress', '--follow', 'locals/follow']);
  await until('the current progress', () => follow.stdout().includes('NEW'));
  t.equal((await rawRequest(daemon.socket, 'POST', '/commands', { body: '{"op":"LOCAL_RUN","payload":"locals/follow"}' })).status, 200);
  const result = await follow.exited;
  const lines = result.stdout.trim().split('\n');
  t.equal(lines[0], 'locals/follow [....................]   0% NEW Update ready to be run');
  t.match(lines.at(-1), /^locals\/follow \[#{20}\] 100% (DONE|UPDATED) /);
  t.ok(lines.length >= 3, `the steps in between were drawn too: ${lines.join(' | ')}`);
  t.equal(result.code, 0, 'exit 0 for a finished update');
  const missing = pvctl(daemon.socket, ['steps', 'show-progress', '--follow', 'locals/nothing-here']);
  t.equal(missing.code, 255, 'a revision that does not exist: the GET error');
});

t.test('a quiet stream is not an idle connection: it outlives the idle timeout', async (t) => {
  const own = await startTestDaemon({ env: { PVCTRL_IDLE_TIMEOUT: '1' } });
  try {
    const stream = await openEventStream({ socketPath: own.socket, types: ['meta'] });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    t.equal((await rawRequest(own.socket, 'PUT', '/user-meta/events.quiet', { body: 'still here' })).status, 200);
    const seen = await collect(stream, (events) => events.length >= 1);
    t.match(seen[0], { type: 'meta', meta: { key: 'events.quiet', value: 'still here' } });
  } finally {
    await own.dispose();
  }
});

t.test('a daemon stop ends open streams', async (t) => {
  const own = await startTestDaemon();
  try {
    const stream = await openEventStream({ socketPath: own.socket, since: 0 });
    const stopping = own.stop();
    const seen: EventObject[] = [];
    // Bound only: a stream the stop did not end would be cut here, and fail the last check.
    let cutHere = false;
    const cut = setTimeout(() => {
      cutHere = true;
      stream.close();
    }, 30_000);
    for await (const event of stream) seen.push(event);
    clearTimeout(cut);
    t.equal(await stopping, 0, 'the daemon exits 0');
    t.ok(seen.some((event) => event.type === 'daemon' && member<{ action: string }>(event).action === 'stopped'), 'the stream saw the helper stop');
    t.notOk(cutHere, 'the stream ended with the daemon');
  } finally {
    await own.dispose();
  }
});

t.test('HTTP/1.0: the stream is the bytes as they are (no chunked framing), ended by the close', async (t) => {
  const own = await startTestDaemon();
  try {
    const connection = createConnection(own.socket);
    const received: Buffer[] = [];
    const text = (): string => Buffer.concat(received).toString('latin1');
    connection.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
    connection.write('GET /events?types=meta HTTP/1.0\r\n\r\n');
    await until('the head', () => text().includes('\r\n\r\n'));
    t.equal((await rawRequest(own.socket, 'PUT', '/user-meta/events.http10', { body: 'one' })).status, 200);
    t.equal((await rawRequest(own.socket, 'PUT', '/user-meta/events.http10', { body: 'two' })).status, 200);
    await until('both events', () => text().includes('"value":"two"'));
    const [head = '', body = ''] = text().split('\r\n\r\n');
    t.match(head, /^HTTP\/1\.0 200 OK\r\n/);
    t.notMatch(head, /transfer-encoding/i, 'HTTP/1.0 has no chunked encoding');
    t.match(head, /\r\nConnection: close(\r\n|$)/i);
    const lines = body.split('\n');
    t.match(lines[0], /^\{"seq":\d+,"time":\d+,"type":"meta","meta":\{"store":"user-meta","key":"events.http10","action":"set","size":3,"value":"one"\}\}$/, 'the first line right after the head');
    t.match(lines[1], /"value":"two"/, 'the next line right after it');
    const stopping = own.stop();
    const bound = setTimeout(() => connection.destroy(), 30_000);
    await closed;
    clearTimeout(bound);
    t.equal(await stopping, 0);
    t.notMatch(text().slice(text().indexOf('"value":"two"')), /\r\n0\r\n/, 'no last chunk: the close ends the body');
  } finally {
    await own.dispose();
  }
});
