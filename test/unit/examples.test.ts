/**
 * The example containers in examples/pvtx.d: the committed tarballs are what the build
 * script produces, they have the pvrexport layout the first-boot code consumes, the state
 * keys follow the agreed contract, and the pv-example program and both init scripts behave
 * as the containers need (run here on the host, from the shipped root filesystems).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Subprocess } from 'bun';
import { buildExamples, DEFAULT_OUT_DIR, EXAMPLES_DIR, TOOLCHAIN_FILE, sha256, toolchainFingerprint } from '../../scripts/build-examples.ts';

const SERVER = 'pv-example-unix-server';
const CLIENT = 'pv-example-unix-client';
const NAMES = [SERVER, CLIENT];
const tarballPath = (name: string): string => join(DEFAULT_OUT_DIR, `${name}.pvrexport.tgz`);
const SHA_RE = /^[0-9a-f]{64}$/;

const work = mkdtempSync(join(tmpdir(), 'pv-examples-test-'));
const running = new Set<Subprocess>();
t.teardown(() => {
  for (const proc of running) proc.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

// --- tarball reading -----------------------------------------------------------------

interface TarMember {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  type: string;
  magic: string;
  data: Buffer;
}

const octal = (field: Buffer): number => {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
};
const cstring = (field: Buffer): string => field.toString('utf8').replace(/\0.*$/s, '');

/** A plain ustar reader: the format the daemon side is expected to parse. */
function readTarball(path: string): TarMember[] {
  const tar = gunzipSync(readFileSync(path));
  const members: TarMember[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const prefix = cstring(header.subarray(345, 500));
    const name = cstring(header.subarray(0, 100));
    const size = octal(header.subarray(124, 136));
    members.push({
      name: prefix ? `${prefix}/${name}` : name,
      mode: octal(header.subarray(100, 108)),
      uid: octal(header.subarray(108, 116)),
      gid: octal(header.subarray(116, 124)),
      mtime: octal(header.subarray(136, 148)),
      type: String.fromCharCode(header[156] ?? 0),
      magic: header.subarray(257, 263).toString('latin1'),
      data: Buffer.from(tar.subarray(offset + 512, offset + 512 + size)),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return members;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function loadExport(name: string): { members: TarMember[]; state: Record<string, Json>; objects: Map<string, Buffer> } {
  const members = readTarball(tarballPath(name));
  const json = members.find((m) => m.name === 'json');
  if (!json) throw new Error(`${name}: no json member`);
  const objects = new Map<string, Buffer>();
  for (const m of members) if (m.name.startsWith('objects/')) objects.set(m.name.slice('objects/'.length), m.data);
  return { members, state: JSON.parse(json.data.toString('utf8')) as Record<string, Json>, objects };
}

// --- the contract, written out independently of the build script ----------------------

const EXPECTED_RUN: Record<string, Record<string, Json>> = {
  [SERVER]: {
    '#spec': 'service-manifest-run@1',
    name: SERVER,
    type: 'lxc',
    config: 'lxc.container.conf',
    'root-volume': 'root.squashfs',
    volumes: [],
    storage: { 'lxc-overlay': { persistence: 'boot' } },
    group: 'app',
    restart_policy: 'container',
    status_goal: 'READY',
    roles: [],
    alive: { timeout: 60 },
  },
  [CLIENT]: {
    '#spec': 'service-manifest-run@1',
    name: CLIENT,
    type: 'lxc',
    config: 'lxc.container.conf',
    'root-volume': 'root.squashfs',
    volumes: [],
    storage: { 'lxc-overlay': { persistence: 'boot' } },
    group: 'app',
    restart_policy: 'container',
    status_goal: 'READY',
    roles: ['mgmt'],
    services: { required: [{ name: 'raw', type: 'unix', target: '/run/pv/services/raw.sock' }] },
  },
};
const INIT = { [SERVER]: 'usr/bin/pv-example-server', [CLIENT]: 'usr/bin/pv-example-client' } as Record<string, string>;
const INIT_SOURCE = { [SERVER]: 'pv-example-server.sh', [CLIENT]: 'pv-example-client.sh' } as Record<string, string>;

// --- helpers for processes and sockets ------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const isSocket = (path: string): boolean => existsSync(path) && statSync(path).isSocket();

interface Spawned {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number>;
}

function start(cmd: string[], env: Record<string, string> = {}): Spawned {
  const proc = Bun.spawn(cmd, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...env } });
  running.add(proc);
  let out = '';
  let err = '';
  const pump = async (stream: ReadableStream<Uint8Array>, push: (s: string) => void): Promise<void> => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) push(decoder.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([pump(proc.stdout, (s) => (out += s)), pump(proc.stderr, (s) => (err += s))]);
  const exited = proc.exited.then(async (code) => {
    await pumps;
    running.delete(proc);
    return code;
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}

async function runToEnd(cmd: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const p = start(cmd, env);
  const code = await p.exited;
  return { code, out: p.stdout(), err: p.stderr() };
}

/** A raw HTTP/1.0 responder on a Unix socket that records the exact request bytes. */
interface FakeCtrl {
  path: string;
  requests: string[];
  stop: () => void;
}

function fakeCtrl(path: string, statusFor: (index: number) => number, body = ''): FakeCtrl {
  const requests: string[] = [];
  const buffers = new Map<object, string>();
  const listener = Bun.listen<undefined>({
    unix: path,
    socket: {
      data(socket, chunk) {
        const text = (buffers.get(socket) ?? '') + Buffer.from(chunk).toString('latin1');
        buffers.set(socket, text);
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? '0');
        if (text.length < end + 4 + length) return;
        buffers.delete(socket);
        const status = statusFor(requests.length);
        requests.push(text);
        const reason = status === 200 ? 'OK' : 'Internal Server Error';
        // Like pv-ctrl for plain HTTP/1.0: no length, the close delimits the body.
        socket.end(`HTTP/1.0 ${status} ${reason}\r\nContent-Type: application/json\r\n\r\n${body}`);
      },
    },
  });
  return { path, requests, stop: () => listener.stop(true) };
}

function parseRequest(raw: string): { line: string; headers: Map<string, string[]>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [line = '', ...headerLines] = raw.slice(0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const h of headerLines) {
    const colon = h.indexOf(':');
    const key = h.slice(0, colon).toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), h.slice(colon + 1).trim()]);
  }
  return { line, headers, body: raw.slice(end + 4) };
}

// --- reproducibility ------------------------------------------------------------------

t.test('the committed tarballs are exactly what a fresh build produces', async (t) => {
  const out = join(work, 'fresh');
  const built = buildExamples({ outDir: out });
  t.same(
    built.map((b) => b.name),
    NAMES,
    'builds both examples',
  );
  const committedToolchain = existsSync(TOOLCHAIN_FILE) ? readFileSync(TOOLCHAIN_FILE, 'utf8') : '';
  const sameTools = committedToolchain === toolchainFingerprint();
  for (const name of NAMES) {
    t.ok(existsSync(tarballPath(name)), `${name}: committed tarball exists`);
    const fresh = readFileSync(join(out, `${name}.pvrexport.tgz`));
    if (!sameTools) {
      t.skip(`${name}: byte comparison needs the toolchain recorded in examples/toolchain.txt`);
      continue;
    }
    t.ok(fresh.equals(readFileSync(tarballPath(name))), `${name}: fresh build is byte-identical to the committed one`);
  }
  // A second build must not depend on anything the first left behind (time, temp names).
  const again = join(work, 'again');
  buildExamples({ outDir: again });
  for (const name of NAMES) {
    const a = readFileSync(join(out, `${name}.pvrexport.tgz`));
    const b = readFileSync(join(again, `${name}.pvrexport.tgz`));
    t.ok(a.equals(b), `${name}: two builds are byte-identical`);
  }
  t.same(
    readdirSync(DEFAULT_OUT_DIR).sort(),
    NAMES.map((n) => `${n}.pvrexport.tgz`).sort(),
    'pvtx.d holds only the packages (pvtx adds every regular file there)',
  );
});

// --- the pvrexport layout -------------------------------------------------------------

for (const name of NAMES) {
  t.test(`${name}: tarball layout`, async (t) => {
    const { members, objects } = loadExport(name);
    const names = members.map((m) => m.name);
    t.equal(names[0], 'json', 'json comes first');
    t.same(names.slice(1), [...names.slice(1)].sort(), 'objects are in sorted order');
    for (const m of members) {
      t.ok(m.name === 'json' || /^objects\/[0-9a-f]{64}$/.test(m.name), `${m.name}: only json and objects/<sha256>`);
      t.equal(m.type, '0', `${m.name}: regular file`);
      t.equal(m.magic, 'ustar\0', `${m.name}: ustar header`);
      t.same([m.uid, m.gid, m.mtime, m.mode], [0, 0, 0, 0o644], `${m.name}: owner 0:0, mtime 0, mode 0644`);
    }
    for (const [digest, data] of objects) t.equal(sha256(data), digest, `objects/${digest} has its digest`);
    const gz = readFileSync(tarballPath(name));
    t.same([gz[0], gz[1]], [0x1f, 0x8b], 'gzip compressed');
    t.equal(gz.readUInt32LE(4), 0, 'gzip header carries no timestamp');
  });

  t.test(`${name}: state keys and values`, async (t) => {
    const { state, objects } = loadExport(name);
    const expectedKeys = [`${name}/lxc.container.conf`, `${name}/root.squashfs`, `${name}/run.json`, `${name}/src.json`];
    if (name === SERVER) expectedKeys.push(`${name}/services.json`);
    t.same(Object.keys(state).sort(), expectedKeys.sort(), 'exactly the container keys');
    t.same(Object.keys(state), Object.keys(state).sort(), 'keys are stored sorted');

    const referenced = new Set<string>();
    for (const [key, value] of Object.entries(state)) {
      if (typeof value === 'string') {
        t.match(value, SHA_RE, `${key} is a sha256`);
        t.ok(objects.has(value), `${key}: object present`);
        referenced.add(value);
      }
    }
    t.same([...objects.keys()].sort(), [...referenced].sort(), 'no unreferenced objects');

    t.same(state[`${name}/run.json`], EXPECTED_RUN[name], 'run.json');
    const src = state[`${name}/src.json`] as Record<string, Json>;
    t.equal(src['#spec'], 'service-manifest-src@1', 'src.json #spec');
    t.equal(src.template, 'builtin-busybox', 'src.json template');
    if (name === SERVER) {
      t.same(
        state[`${name}/services.json`],
        { '#spec': 'service-manifest-xconnect@1', services: [{ name: 'raw', type: 'unix', socket: '/run/example/raw.sock' }] },
        'services.json exports raw',
      );
    }

    const config = objects.get(state[`${name}/lxc.container.conf`] as string)?.toString('utf8') ?? '';
    const lines = config.split('\n').filter((l) => l.trim() !== '');
    t.ok(lines.includes(`lxc.init.cmd = /${INIT[name]}`), 'lxc.init.cmd runs the init script');
    t.ok(lines.includes(`lxc.uts.name = ${name}`), 'lxc.uts.name is the container name');
    t.ok(
      lines.some((l) => l.startsWith('lxc.environment = PATH=')),
      'PATH is set',
    );
    for (const line of lines) {
      t.match(line, /^lxc\.(init\.cmd|uts\.name|environment|mount\.entry) = /, `only container-specific settings: ${line}`);
    }
  });
}

t.test('the server (which signals) is not mgmt, the client is', async (t) => {
  const runs = NAMES.map((n) => loadExport(n).state[`${n}/run.json`] as Record<string, Json>);
  t.same(
    runs.map((r) => [r.name, r.status_goal, r.roles]),
    [
      [SERVER, 'READY', []],
      [CLIENT, 'READY', ['mgmt']],
    ],
  );
  const readme = readFileSync(join(EXAMPLES_DIR, 'README.md'), 'utf8');
  t.match(readme, /mgmt/, 'README records the role decision');
});

// --- root filesystems -----------------------------------------------------------------

/** Extracts a squashfs object (all of it, or the given paths) and returns the directory. */
function unsquash(name: string, paths: string[] = []): string {
  const { state, objects } = loadExport(name);
  const image = join(work, `${name}.squashfs`);
  writeFileSync(image, objects.get(state[`${name}/root.squashfs`] as string) ?? Buffer.alloc(0));
  const dest = join(work, `${name}-root-${paths.length}`);
  rmSync(dest, { recursive: true, force: true });
  const res = spawnSync('unsquashfs', ['-n', '-d', dest, image, ...paths]);
  if (res.status !== 0) throw new Error(`unsquashfs: ${res.stderr.toString()}`);
  return dest;
}

for (const name of NAMES) {
  t.test(`${name}: root filesystem`, async (t) => {
    const { state, objects } = loadExport(name);
    const image = join(work, `${name}-list.squashfs`);
    writeFileSync(image, objects.get(state[`${name}/root.squashfs`] as string) ?? Buffer.alloc(0));
    const res = spawnSync('unsquashfs', ['-lls', image]);
    t.equal(res.status, 0, 'unsquashfs -lls succeeds');
    const entries = new Map<string, string>();
    const notRoot: string[] = [];
    const notEpoch: string[] = [];
    for (const line of res.stdout.toString().split('\n')) {
      const match = /^(\S+) (\S+)\s+\d+ (\S+ \S+) squashfs-root(\/\S*)?(?: -> (\S+))?$/.exec(line);
      if (!match) continue;
      const path = (match[4] ?? '/').slice(1);
      entries.set(path, line);
      if (match[2] !== 'root/root') notRoot.push(path);
      if (match[3] !== '1970-01-01 00:00') notEpoch.push(path);
    }
    t.ok(entries.size > 250, `lists the whole tree (${entries.size} entries)`);
    t.same(notRoot, [], 'everything is owned by root');
    t.same(notEpoch, [], 'every timestamp is 0');
    t.match(entries.get('bin/busybox') ?? '', /^-rwxr-xr-x /, 'bin/busybox is an executable file');
    t.match(entries.get('usr/bin/pv-example') ?? '', /^-rwxr-xr-x /, 'usr/bin/pv-example is an executable file');
    t.match(entries.get(INIT[name] ?? '') ?? '', /^-rwxr-xr-x /, `${INIT[name]} is an executable file`);
    t.match(entries.get('bin/sh') ?? '', /-> \/bin\/busybox$/, 'bin/sh is a busybox applet link');
    t.match(entries.get('bin/usleep') ?? '', /-> \/bin\/busybox$/, 'applets used by the init scripts are present');
    for (const dir of ['dev', 'proc', 'sys', 'run', 'etc']) t.match(entries.get(dir) ?? '', /^drwxr-xr-x /, `/${dir} exists`);
    t.match(entries.get('tmp') ?? '', /^drwxrwxrwt /, '/tmp is sticky and world-writable');

    const root = unsquash(name, ['etc', INIT[name] ?? '']);
    t.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), `${name}\n`, 'etc/hostname');
    t.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^root:x:0:0:/, 'etc/passwd has root');
    t.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^root:x:0:/, 'etc/group has root');
    t.same(
      readFileSync(join(root, INIT[name] ?? '')),
      readFileSync(join(EXAMPLES_DIR, 'src', INIT_SOURCE[name] ?? '')),
      'init script is the source in examples/src',
    );
  });
}

// --- pv-example on the host -----------------------------------------------------------

const serverRoot = unsquash(SERVER);
const clientRoot = unsquash(CLIENT);
const program = join(serverRoot, 'usr/bin/pv-example');
const rootPath = (root: string): string => ['usr/bin', 'usr/sbin', 'bin', 'sbin'].map((d) => join(root, d)).join(':');

t.test('both images carry the same pv-example binary', async (t) => {
  t.ok(readFileSync(program).equals(readFileSync(join(clientRoot, 'usr/bin/pv-example'))));
  const file = spawnSync('file', [program]).stdout?.toString() ?? '';
  if (file) t.match(file, /statically linked/, 'statically linked');
});

t.test('pv-example serve + connect', async (t) => {
  const sock = join(work, 'serve', 'nested', 'raw.sock');
  const server = start([program, 'serve', sock]);
  await waitFor('the server socket', () => isSocket(sock));
  t.equal(statSync(sock).mode & 0o777, 0o666, 'socket is connectable by anyone');

  const first = await runToEnd([program, 'connect', sock]);
  t.equal(first.code, 0, 'connect exits 0');
  t.match(first.out, /^hello from pv-example-unix-server 1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/, 'hello line with counter and UTC time');
  const second = await runToEnd([program, 'connect', sock]);
  t.match(second.out, /^hello from pv-example-unix-server 2 /, 'counter increments per connection');

  server.proc.kill('SIGTERM');
  await server.exited;
  const gone = await runToEnd([program, 'connect', sock]);
  t.not(gone.code, 0, 'connect fails when nobody listens');
  t.match(gone.err, /connect .*raw\.sock/, 'and says why');

  // The killed server left its socket file behind; a new one must replace it.
  t.ok(isSocket(sock), 'stale socket file is still there');
  const restarted = start([program, 'serve', sock]);
  await waitFor('the restarted server', () => restarted.stdout().includes('serving on'));
  const again = await runToEnd([program, 'connect', sock]);
  t.equal(again.code, 0, 'a new server takes over the stale socket path');
  restarted.proc.kill('SIGTERM');
  await restarted.exited;

  const missing = await runToEnd([program, 'connect', join(work, 'absent.sock')]);
  t.not(missing.code, 0, 'connect to an absent socket fails');
  const usage = await runToEnd([program, 'bogus', 'x']);
  t.equal(usage.code, 2, 'unknown subcommand is a usage error');
});

t.test('pv-example signal', async (t) => {
  const ctrlPath = join(work, 'ctrl-signal.sock');
  let status = 200;
  const ctrl = fakeCtrl(ctrlPath, () => status);
  t.teardown(ctrl.stop);

  const ok = await runToEnd([program, 'signal', 'ready'], { PV_CTRL_SOCKET: ctrlPath });
  t.equal(ok.code, 0, 'exit 0 on 200');
  t.equal(ok.out, 'HTTP/1.0 200 OK\n', 'prints the status line');
  t.equal(ctrl.requests.length, 1, 'one request');
  const req = parseRequest(ctrl.requests[0] ?? '');
  t.equal(req.line, 'POST /signal HTTP/1.0', 'POST /signal over HTTP/1.0');
  t.same(req.headers.get('host'), ['localhost'], 'Host: localhost');
  t.same(req.headers.get('content-type'), ['application/json'], 'JSON content type');
  t.same(req.headers.get('content-length'), [String(Buffer.byteLength(req.body))], 'Content-Length matches the body');
  t.equal(req.body, '{"type":"ready","payload":""}', 'body');

  status = 500;
  const rejected = await runToEnd([program, 'signal', 'alive'], { PV_CTRL_SOCKET: ctrlPath });
  t.not(rejected.code, 0, 'non-zero on 500');
  t.equal(rejected.out, 'HTTP/1.0 500 Internal Server Error\n', 'prints the 500 status line');
  t.same(JSON.parse(parseRequest(ctrl.requests[1] ?? '').body), { type: 'alive', payload: '' }, 'type is passed through');

  status = 200;
  await runToEnd([program, 'signal', 'we"ird\\'], { PV_CTRL_SOCKET: ctrlPath });
  t.same(JSON.parse(parseRequest(ctrl.requests[2] ?? '').body), { type: 'we"ird\\', payload: '' }, 'type is JSON-escaped');

  const absent = await runToEnd([program, 'signal', 'ready'], { PV_CTRL_SOCKET: join(work, 'no-ctrl.sock') });
  t.not(absent.code, 0, 'non-zero when pv-ctrl is not there');
});

t.test('pv-example get', async (t) => {
  const ctrlPath = join(work, 'ctrl-get.sock');
  const ctrl = fakeCtrl(ctrlPath, () => 200, '[{"name":"x"}]');
  t.teardown(ctrl.stop);
  const res = await runToEnd([program, 'get', '/containers'], { PV_CTRL_SOCKET: ctrlPath });
  t.equal(res.code, 0);
  t.equal(res.out, 'HTTP/1.0 200 OK\n[{"name":"x"}]\n', 'status line, then the body');
  t.equal(parseRequest(ctrl.requests[0] ?? '').line, 'GET /containers HTTP/1.0');
});

// --- the init scripts on the host -----------------------------------------------------

t.test('server init: serves, retries the ready signal until 200, stops on SIGTERM', async (t) => {
  const ctrlPath = join(work, 'ctrl-init.sock');
  // pv-ctrl refuses the first attempts (e.g. the container is not registered yet).
  const ctrl = fakeCtrl(ctrlPath, (index) => (index < 2 ? 500 : 200));
  t.teardown(ctrl.stop);
  const sock = join(work, 'init-server', 'raw.sock');
  const logfile = join(work, 'init-server.log');
  const init = start(['/bin/busybox', 'sh', join(serverRoot, INIT[SERVER] ?? '')], {
    PATH: rootPath(serverRoot),
    PV_EXAMPLE_SOCKET: sock,
    PV_EXAMPLE_LOG: logfile,
    PV_CTRL_SOCKET: ctrlPath,
  });
  await waitFor('three signal attempts', () => ctrl.requests.length >= 3, 15_000);
  await waitFor('the first alive report', () => ctrl.requests.length >= 4, 15_000);
  await waitFor('the ready log line', () => init.stdout().includes('ready signal accepted'));
  const readies = (): string[] => ctrl.requests.filter((r) => parseRequest(r).body !== '{"type":"alive","payload":""}');
  t.ok(
    readies().every((r) => parseRequest(r).body === '{"type":"ready","payload":""}'),
    'every attempt is a ready signal (besides the opted-in alive reports)',
  );
  t.match(init.stdout(), /ready signal attempt 1: HTTP\/1\.0 500 /, 'refused attempts are logged with the status line');
  // The example prints a line, then appends it to its log file: wait for the file (bounded) too.
  await waitFor('the ready line in the log file', () => existsSync(logfile) && /pv-example-server: ready signal accepted\n/.test(readFileSync(logfile, 'utf8')), 5_000);
  t.match(readFileSync(logfile, 'utf8'), /pv-example-server: ready signal accepted\n/, 'the log file gets the same lines');
  await sleep(1500);
  t.equal(readies().length, 3, 'stops signalling ready after the 200');
  t.ok(ctrl.requests.some((r) => parseRequest(r).body === '{"type":"alive","payload":""}'), 'then reports alive (run.json opts in)');
  const hello = await runToEnd([program, 'connect', sock]);
  t.match(hello.out, /^hello from pv-example-unix-server 1 /, 'the service answers');

  init.proc.kill('SIGTERM');
  const code = await Promise.race([init.exited, sleep(5000).then(() => -1)]);
  t.equal(code, 0, 'init exits 0 promptly on SIGTERM');
  const after = await runToEnd([program, 'connect', sock]);
  t.not(after.code, 0, 'and takes the server down with it');
});

t.test('client init: keeps going without the socket, logs the hello once it appears', async (t) => {
  const sock = join(work, 'init-client', 'raw.sock');
  const logfile = join(work, 'init-client', 'client.log');
  mkdirSync(join(work, 'init-client'), { recursive: true });
  const init = start(['/bin/busybox', 'sh', join(clientRoot, INIT[CLIENT] ?? '')], {
    PATH: rootPath(clientRoot),
    PV_EXAMPLE_SOCKET: sock,
    PV_EXAMPLE_LOG: logfile,
    PV_EXAMPLE_INTERVAL: '1',
  });
  await waitFor('two failed attempts', () => (init.stdout().match(/ failed: /g) ?? []).length >= 2, 10_000);
  t.equal(init.proc.exitCode, null, 'still running without the socket');

  const server = start([program, 'serve', sock]);
  await waitFor('a successful attempt', () => / ok: hello from pv-example-unix-server \d+ /.test(init.stdout()), 10_000);
  t.match(init.stdout(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /m, 'log lines are timestamped');
  await waitFor('the hello in the log file', () => existsSync(logfile) && / ok: hello from pv-example-unix-server /.test(readFileSync(logfile, 'utf8')), 5_000);
  t.match(readFileSync(logfile, 'utf8'), / ok: hello from pv-example-unix-server /, 'the log file gets the same lines');

  server.proc.kill('SIGTERM');
  await server.exited;
  const failuresBefore = (init.stdout().match(/ failed: /g) ?? []).length;
  await waitFor('a failure after the server went away', () => (init.stdout().match(/ failed: /g) ?? []).length > failuresBefore, 10_000);

  init.proc.kill('SIGTERM');
  const code = await Promise.race([init.exited, sleep(3000).then(() => -1)]);
  t.equal(code, 0, 'exits 0 promptly on SIGTERM, even mid-sleep');
});
