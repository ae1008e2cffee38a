import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NATIVE_ADDON_FILE,
  addonCandidates,
  closeFd,
  nativeAddon,
  nativeAddonPath,
  peerCredentials,
  pidfdAlive,
  readProcessCgroup,
  type PeerCredentials,
} from '../../src/native/index.ts';

// A no-op when the addon is current; keeps this file runnable on a fresh checkout.
const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

const O_CLOEXEC = 0o2000000;
const repoAddon = fileURLToPath(new URL(`../../native/build/Release/${NATIVE_ADDON_FILE}`, import.meta.url));

/** What the daemon does: the connection fd under Bun is socket._handle.fd. */
function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number') throw new Error('socket has no _handle.fd');
  return fd;
}

function fdFlags(fd: number): number {
  const match = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (match === null) throw new Error(`no flags in fdinfo of ${fd}`);
  return parseInt(match[1] as string, 8);
}

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-native-creds-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('facade: candidate order and the loaded path', async (t) => {
  const candidates = addonCandidates({ PVCTRL_NATIVE_ADDON: '/opt/x.node' });
  t.same(candidates, ['/opt/x.node', join(dirname(process.execPath), NATIVE_ADDON_FILE), repoAddon]);
  t.same(addonCandidates({}), [join(dirname(process.execPath), NATIVE_ADDON_FILE), repoAddon], 'empty env is skipped');
  t.same(
    addonCandidates({ PVCTRL_NATIVE_ADDON: '/opt/x.node' }, 'lazy'),
    ['/opt/pvctrl_native_lazy.node', join(dirname(process.execPath), 'pvctrl_native_lazy.node'), join(dirname(repoAddon), 'pvctrl_native_lazy.node')],
    'the lazy addon is looked for next to the overridden core first',
  );
  nativeAddon();
  t.equal(nativeAddonPath(), repoAddon, 'loads the cmake-js build from the repo');
});

t.test('facade: clear error naming every path tried, env override honoured', async (t) => {
  // A copy of the facade two levels below a temp dir has no repo build next
  // to it, so only the env override can make it load.
  const copy = join(dir, 'a', 'b', 'index.ts');
  mkdirSync(dirname(copy), { recursive: true });
  copyFileSync(fileURLToPath(new URL('../../src/native/index.ts', import.meta.url)), copy);
  const saved = process.env.PVCTRL_NATIVE_ADDON;
  try {
    process.env.PVCTRL_NATIVE_ADDON = join(dir, 'missing.node');
    const isolated = (await import(`${copy}?first`)) as typeof import('../../src/native/index.ts');
    let message = '';
    try {
      isolated.nativeAddon();
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    t.match(message, /cannot load native addon pvctrl_native\.node/);
    t.ok(message.includes(join(dir, 'missing.node')), 'names the env path');
    t.ok(message.includes(join(dirname(process.execPath), NATIVE_ADDON_FILE)), 'names the execPath candidate');
    t.ok(message.includes(join(dir, 'native', 'build', 'Release', NATIVE_ADDON_FILE)), 'names the repo candidate');

    process.env.PVCTRL_NATIVE_ADDON = repoAddon;
    const second = (await import(`${copy}?second`)) as typeof import('../../src/native/index.ts');
    t.equal(typeof second.nativeAddon().peerCredentials, 'function');
    t.equal(second.nativeAddonPath(), repoAddon, 'env override wins');
  } finally {
    if (saved === undefined) delete process.env.PVCTRL_NATIVE_ADDON;
    else process.env.PVCTRL_NATIVE_ADDON = saved;
  }
});

t.test('argument validation throws clear errors', async (t) => {
  const addon = nativeAddon();
  const call = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const untyped = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const bad of [-1, 1.5, Number.NaN, '3', null, 2 ** 40]) {
    const error = call(() => untyped.peerCredentials!(bad));
    t.type(error, TypeError, `peerCredentials(${String(bad)})`);
    t.match(error, { message: 'peerCredentials: fd must be a non-negative integer' });
  }
  t.match(call(() => untyped.peerCredentials!()), { message: 'peerCredentials: expected 1 argument, got 0' });
  t.match(call(() => untyped.closeFd!(3, 4)), { message: 'closeFd: expected 1 argument, got 2' });
  t.match(call(() => untyped.closeFd!('x')), { message: 'closeFd: fd must be a non-negative integer' });

  const file = join(dir, 'plain');
  const fd = openSync(file, 'w');
  try {
    t.match(call(() => peerCredentials(fd)), {
      message: 'peerCredentials: getsockopt(SO_PEERCRED) failed: Socket operation on non-socket',
      code: 'ENOTSOCK',
      syscall: 'getsockopt(SO_PEERCRED)',
    });
  } finally {
    closeSync(fd);
  }
  t.match(call(() => closeFd(1_000_000)), { code: 'EBADF', message: /^closeFd: close failed: Bad file descriptor/ });
  t.throws(() => pidfdAlive(-2), /pidfdAlive: pidfd must be a non-negative integer/);
  t.match(call(() => pidfdAlive(1_000_000)), { code: 'EBADF' }, 'not open');
  t.match(call(() => pidfdAlive(0)), { code: 'EBADF' }, 'stdin is not a pidfd');
  t.throws(() => readProcessCgroup(0), /readProcessCgroup: pid must be a positive integer/);
  t.throws(() => readProcessCgroup(1.5), /readProcessCgroup: pid must be a positive integer/);
  t.equal(readProcessCgroup(process.pid), readFileSync(`/proc/${process.pid}/cgroup`, 'utf8'), 'the same text as readFileSync');
  t.match(call(() => readProcessCgroup(2 ** 22 + 1)), { code: 'ENOENT' }, 'no such process: ENOENT');
});

/** node:net accepts, reads credentials from the raw fd, then hands the socket to node:http. */
function credentialServer(path: string) {
  const seen: { creds: PeerCredentials; fd: number }[] = [];
  const http = createHttpServer((request, response) => {
    const peer = seen.at(-1);
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ url: request.url, pid: peer?.creds.pid }));
  });
  const server = createServer((socket) => {
    const fd = socketFd(socket);
    seen.push({ creds: peerCredentials(fd), fd });
    http.emit('connection', socket);
  });
  const listening = new Promise<void>((resolve) => server.listen(path, resolve));
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      http.close();
      server.close(() => resolve());
    });
  return { seen, listening, close };
}

t.test('in-process client: our own pid, uid, gid and a CLOEXEC pidfd', async (t) => {
  const path = join(dir, 'self.sock');
  const server = credentialServer(path);
  await server.listening;
  const client = connect(path);
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  while (server.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const { creds } = server.seen[0]!;
  t.equal(creds.pid, process.pid);
  t.equal(creds.uid, process.getuid!());
  t.equal(creds.gid, process.getgid!());
  t.ok(creds.pidfd >= 0, `pidfd ${creds.pidfd}`);
  t.ok((fdFlags(creds.pidfd) & O_CLOEXEC) !== 0, 'pidfd has O_CLOEXEC');
  t.equal(pidfdAlive(creds.pidfd), true, 'pidfd names this live process');
  closeFd(creds.pidfd);
  client.destroy();
  await server.close();
});

t.test('child-process client over node:http: its pid; its pidfd is not alive once it exited', async (t) => {
  const path = join(dir, 'child.sock');
  const server = credentialServer(path);
  await server.listening;

  // The child speaks HTTP over the socket and holds the connection open until
  // told to exit on stdin, so the pidfd check runs while it is alive.
  const script = `
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true });
    http.get({ socketPath: ${JSON.stringify(path)}, path: '/whoami', agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        process.stdout.write(body + '\\n');
        process.stdin.once('data', () => process.exit(0));
      });
    });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (data: Buffer) => {
      buffered += data.toString();
      if (buffered.includes('\n')) resolve(buffered.trim());
    });
    child.once('exit', () => reject(new Error(`child exited before answering: ${buffered}`)));
  });

  const body = JSON.parse(line) as { url: string; pid: number };
  t.equal(body.url, '/whoami', 'node:http served the handed-over socket');
  t.equal(server.seen.length, 1, 'one connection');
  const { creds } = server.seen[0]!;
  t.equal(creds.pid, child.pid, 'pid is the child, not us');
  t.not(creds.pid, process.pid);
  t.equal(body.pid, child.pid, 'the HTTP handler saw the same identity');
  t.equal(creds.uid, process.getuid!());
  t.equal(creds.gid, process.getgid!());
  t.ok(creds.pidfd >= 0, 'pidfd provided (SO_PEERPIDFD)');
  t.equal(pidfdAlive(creds.pidfd), true, 'pidfd still names the live child');

  child.stdin.write('bye\n');
  t.equal(await exited, 0, 'child exited cleanly');
  t.equal(pidfdAlive(creds.pidfd), false, 'not alive once the process is gone (reaped)');
  closeFd(creds.pidfd);
  await server.close();
});
