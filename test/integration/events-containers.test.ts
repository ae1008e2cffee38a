/**
 * GET /events with real LXC containers (the examples, under names of their own): a container's
 * status sequence on start and restart, the `ready` signal sent from inside it, group and
 * xconnect changes, a driver load, and what a non-mgmt container may see from inside its cgroup.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { CLIENT, SERVER, prepareStorage, renamed, unpackExamples } from '../helpers/examples.ts';
import { waitForStatus } from '../helpers/containers.ts';
import { unifiedCgroupMount } from '../helpers/cgroups.ts';
import { buildModuleTree } from '../helpers/module-tree.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { openEventStream, type EventObject, type EventStream } from '../../src/client/event-stream.ts';

const MGMT = 'pvev-unix-client';
const PLAIN = 'pvev-unix-server';
const examples = unpackExamples();
const modules = mkdtempSync(join(tmpdir(), 'pvctrl-events-modules-'));
let daemon: TestDaemon;
/** Everything since the daemon started, read from its first moment (seq 0). */
let history: EventStream;
const seen: EventObject[] = [];

t.before(async () => {
  const tree = buildModuleTree(modules, { modules: [{ name: 'pvi_serial' }] });
  const state = renamed(renamed(examples.state, CLIENT, MGMT), SERVER, PLAIN);
  state['bsp/drivers.json'] = { '#spec': 'driver-aliases@1', all: { serial: ['pvi_serial'] } };
  state[`${MGMT}/run.json`] = { ...(state[`${MGMT}/run.json`] as Record<string, unknown>), drivers: { manual: ['serial'] } };
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-events-lxc-'));
  prepareStorage(dir, 'events', state, examples.objectsDir);
  daemon = await startTestDaemon({ dir, env: { PVCTRL_MODULES_DIR: tree.dir } });
  history = await openEventStream({ socketPath: daemon.socket, since: 0 });
  void (async () => {
    for await (const event of history) seen.push(event);
  })();
  await waitForStatus(daemon.socket, PLAIN, ['READY']);
  await waitForStatus(daemon.socket, MGMT, ['READY']);
});
t.teardown(async () => {
  history?.close();
  await daemon?.stop();
  if (daemon !== undefined) rmSync(daemon.dir, { recursive: true, force: true });
  rmSync(dirname(examples.objectsDir), { recursive: true, force: true });
  rmSync(modules, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const statusesOf = (events: readonly EventObject[], name: string): string[] =>
  events.filter((event) => event.type === 'container' && (event.container as { name: string }).name === name).map((event) => (event.container as { to: string }).to);

/** Run a command from inside a container's cgroup, where the daemon identifies callers. */
function runAs(container: string, command: string[]): { code: number | null; stdout: string } {
  const procs = join(unifiedCgroupMount(), 'lxc', container, 'cgroup.procs');
  const result = spawnSync('sh', ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', procs, ...command], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout };
}

t.test('start-up: each container goes through its statuses, signals ready from inside, groups and the graph follow', async (t) => {
  await until('the ready signal of the server', () => seen.find((event) => event.type === 'signal' && (event.signal as { container: string }).container === PLAIN));
  const plain = statusesOf(seen, PLAIN);
  t.same(plain.slice(-3), ['STARTING', 'STARTED', 'READY'], `${PLAIN}: ${plain.join(' → ')}`);
  const ready = seen.find((event) => event.type === 'container' && (event.container as { name: string; to: string }).name === PLAIN && (event.container as { to: string }).to === 'READY');
  t.match(ready?.container, { from: 'STARTED', to: 'READY', reason: 'ready signal' });
  const signal = seen.find((event) => event.type === 'signal' && (event.signal as { container: string }).container === PLAIN);
  t.same(signal?.signal, { container: PLAIN, signal: 'ready' }, 'the signal the container sent from inside');
  t.ok(seen.some((event) => event.type === 'group' && (event.group as { name: string; to: string }).to === 'READY'), 'the group reached READY');
  t.ok(seen.some((event) => event.type === 'xconnect' && (event.xconnect as { cause: string }).cause === PLAIN), 'the graph changed when the server came up');
  t.ok(seen.some((event) => event.type === 'meta' && (event.meta as { key: string }).key === 'pantavisor.status'), 'device meta follows');
});

t.test('a restart yields the status sequence, in order', async (t) => {
  const from = seen.length;
  t.equal((await rawRequest(daemon.socket, 'PUT', `/containers/${PLAIN}`, { body: '{"action":"restart"}' })).status, 200);
  await until('READY again', () => (statusesOf(seen.slice(from), PLAIN).at(-1) === 'READY' ? true : undefined));
  const sequence = statusesOf(seen.slice(from), PLAIN);
  t.same(sequence.slice(0, 2), ['STOPPING', 'STOPPED'], sequence.join(' → '));
  t.same(sequence.slice(-3), ['STARTING', 'STARTED', 'READY']);
});

t.test('a non-mgmt container sees only events about itself; it may not ask for another', async (t) => {
  // curl inside the server's cgroup reads its stream for a while, then the daemon produces
  // events about the other container, and about itself.
  const socket = daemon.socket;
  const reader = spawnSync(
    'sh',
    [
      '-c',
      'echo $$ > "$1" && exec curl -sN --max-time 4 --unix-socket "$2" "http://localhost/events?since=0"',
      'sh',
      join(unifiedCgroupMount(), 'lxc', PLAIN, 'cgroup.procs'),
      socket,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const events = reader.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as EventObject);
  t.ok(events.length > 3, `${events.length} events`);
  const foreign = events.filter((event) => {
    if (event.type === 'epoch' || event.type === 'reset') return false;
    if (event.type === 'container') return (event.container as { name: string }).name !== PLAIN;
    if (event.type === 'signal') return (event.signal as { container: string }).container !== PLAIN;
    return true;
  });
  t.same(foreign, [], 'nothing about anyone else');
  t.ok(events.some((event) => event.type === 'signal'), 'its own signal');
  t.ok(seen.some((event) => event.type === 'container' && (event.container as { name: string }).name === MGMT), 'while the full stream had the other container');
  const other = runAs(PLAIN, ['curl', '-sS', '--max-time', '10', '-w', '\n%{http_code}', '--unix-socket', socket, `http://localhost/events?container=${MGMT}`]);
  t.equal(other.stdout.split('\n').at(-1), '403');
  const mgmt = runAs(MGMT, ['curl', '-sN', '--max-time', '2', '--unix-socket', socket, 'http://localhost/events?since=0&types=container']);
  t.ok(mgmt.stdout.includes(`"name":"${PLAIN}"`), 'a mgmt container sees the others');
});

t.test('a driver load from a container is published', async (t) => {
  const load = runAs(MGMT, ['curl', '-sS', '--max-time', '30', '-X', 'PUT', '-w', '\n%{http_code}', '--unix-socket', daemon.socket, 'http://localhost/drivers/serial/load']);
  t.equal(load.stdout.split('\n').at(-1), '400', 'the test kernel cannot load modules');
  const event = await until('the driver event', () => seen.find((candidate) => candidate.type === 'driver'));
  t.same(event.driver, { alias: 'serial', action: 'loaded', ok: false });
});
