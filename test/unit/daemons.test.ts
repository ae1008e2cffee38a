/**
 * The helper-process supervisor with fake commands (sh): respawn timing and backoff, stop /
 * start / restart semantics and the pid values the API shows, output forwarding, shutdown.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.ts';
import { DaemonSupervisor, type DaemonEvent, type DaemonSpec, type RespawnPolicy } from '../../src/runtime/daemons.ts';
import { PvError } from '../../src/errors.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Harness {
  supervisor: DaemonSupervisor;
  events: (DaemonEvent & { at: number })[];
  lines: string[];
  spawns(name: string): (DaemonEvent & { at: number })[];
  waitFor(what: string, test: () => boolean, timeoutMs?: number): Promise<void>;
}

function harness(t: Tap.Test, specs: DaemonSpec[], policy: Partial<RespawnPolicy> = {}): Harness {
  const events: (DaemonEvent & { at: number })[] = [];
  const lines: string[] = [];
  const supervisor = new DaemonSupervisor({
    log: createLogger('debug', (line) => lines.push(line)),
    policy: { firstDelayMs: 200, maxDelayMs: 800, stableAfterMs: 5000, stopGraceMs: 500, ...policy },
    onEvent: (event) => events.push({ ...event, at: Date.now() }),
  });
  for (const spec of specs) supervisor.register(spec);
  t.teardown(() => supervisor.stopAll());
  return {
    supervisor,
    events,
    lines,
    spawns: (name) => events.filter((event) => event.type === 'spawn' && event.name === name),
    waitFor: async (what, test, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!test()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
      }
    },
  };
}

const view = (supervisor: DaemonSupervisor, name: string): { name: string; pid: number; respawn: boolean } => {
  const found = supervisor.list().find((item) => item.name === name);
  if (found === undefined) throw new Error(`no daemon ${name}`);
  return found;
};

t.test('registration order, pid 0 before start, unknown names', async (t) => {
  const h = harness(t, [
    { name: 'b-first', command: 'sleep', args: ['30'] },
    { name: 'a-second', command: 'sleep', args: ['30'] },
  ]);
  t.same(h.supervisor.list(), [
    { name: 'b-first', pid: 0, respawn: true },
    { name: 'a-second', pid: 0, respawn: true },
  ]);
  t.ok(h.supervisor.has('a-second'));
  t.notOk(h.supervisor.has('nope'));
  await t.rejects(h.supervisor.control('nope', 'stop'), { kind: 'not-found', message: 'Daemon not found' });
  const error = await h.supervisor.control('nope', 'start').catch((caught: unknown) => caught);
  t.ok(error instanceof PvError, 'a PvError the router turns into 404');
  t.throws(() => h.supervisor.register({ name: 'b-first', command: 'true' }), /registered twice/);
});

t.test('a crashing helper respawns: first at once, then 200, 400, 800 (cap), 800 ms', async (t) => {
  const h = harness(t, [{ name: 'crasher', command: 'sh', args: ['-c', 'exit 3'] }]);
  h.supervisor.startAll();
  await h.waitFor('6 exits', () => h.events.filter((event) => event.type === 'exit').length >= 6);
  await h.supervisor.control('crasher', 'stop');
  const exits = h.events.filter((event) => event.type === 'exit').slice(0, 5);
  t.same(
    exits.map((event) => (event.type === 'exit' ? event.respawnInMs : -1)),
    [0, 200, 400, 800, 800],
    'planned delays double and stop at the cap',
  );
  t.ok(exits.every((event) => event.type === 'exit' && event.code === 3), 'exit code seen');
  const spawns = h.spawns('crasher');
  const gaps = spawns.slice(1, 6).map((spawn, index) => spawn.at - (exits[index]?.at ?? 0));
  t.ok((gaps[0] ?? Infinity) < 150, `first respawn immediate (${gaps[0]} ms)`);
  for (const [index, planned] of [200, 400, 800, 800].entries()) {
    const gap = gaps[index + 1] ?? -1;
    t.ok(gap >= planned - 20 && gap < planned + 300, `respawn ${index + 2} after ~${planned} ms (${gap} ms)`);
  }
  const count = h.spawns('crasher').length;
  await sleep(1200);
  t.equal(h.spawns('crasher').length, count, 'stop cancels the pending respawn');
  t.match(view(h.supervisor, 'crasher'), { pid: 0, respawn: false }, 'stopped between runs: pid stays 0');
  t.match(h.lines.join(''), /daemon crasher \(pid \d+\) exited with 3; respawning in 200 ms/);
});

t.test('a helper that ran long enough counts as healthy: the backoff resets', async (t) => {
  const h = harness(t, [{ name: 'steady', command: 'sh', args: ['-c', 'sleep 0.3; exit 1'] }], { stableAfterMs: 200 });
  h.supervisor.startAll();
  await h.waitFor('4 spawns', () => h.spawns('steady').length >= 4);
  await h.supervisor.control('steady', 'stop');
  const delays = h.events.filter((event) => event.type === 'exit').map((event) => (event.type === 'exit' ? event.respawnInMs : -1));
  t.same(delays.slice(0, 3), [0, 0, 0], 'every respawn immediate');
});

t.test('stop, start, restart: respawn flag and pid values (0, > 0, -1)', async (t) => {
  const h = harness(t, [{ name: 'sleeper', command: 'sleep', args: ['30'] }]);
  h.supervisor.startAll();
  await h.waitFor('running', () => view(h.supervisor, 'sleeper').pid > 0);
  const first = view(h.supervisor, 'sleeper');
  t.match(first, { respawn: true }, 'running: pid > 0, respawn true');
  t.ok(alive(first.pid));

  await h.supervisor.control('sleeper', 'stop');
  t.same(view(h.supervisor, 'sleeper'), { name: 'sleeper', pid: -1, respawn: false }, 'after an API stop, once it exited: pid -1, respawn false');
  t.notOk(alive(first.pid), 'process gone');
  await sleep(300);
  t.equal(h.spawns('sleeper').length, 1, 'not respawned');

  await h.supervisor.control('sleeper', 'stop');
  t.same(view(h.supervisor, 'sleeper'), { name: 'sleeper', pid: -1, respawn: false }, 'stopping a stopped daemon changes nothing');

  await h.supervisor.control('sleeper', 'start');
  const second = view(h.supervisor, 'sleeper');
  t.ok(second.pid > 0 && second.pid !== first.pid && second.respawn, `start: new pid ${second.pid}, respawn true`);
  await h.supervisor.control('sleeper', 'start');
  t.equal(view(h.supervisor, 'sleeper').pid, second.pid, 'start while running: same process');

  await h.supervisor.control('sleeper', 'restart');
  const third = view(h.supervisor, 'sleeper');
  t.ok(third.pid > 0 && third.pid !== second.pid && third.respawn, 'restart: a new process');
  t.notOk(alive(second.pid), 'the old one is gone');
});

t.test('killed from outside (SIGKILL): respawned at once with a new pid', async (t) => {
  const h = harness(t, [{ name: 'victim', command: 'sleep', args: ['30'] }]);
  h.supervisor.startAll();
  await h.waitFor('running', () => view(h.supervisor, 'victim').pid > 0);
  const before = view(h.supervisor, 'victim').pid;
  const killedAt = Date.now();
  process.kill(before, 'SIGKILL');
  await h.waitFor('respawn', () => view(h.supervisor, 'victim').pid > 0 && view(h.supervisor, 'victim').pid !== before);
  t.ok(Date.now() - killedAt < 1000, 'promptly');
  t.match(view(h.supervisor, 'victim'), { respawn: true });
  t.match(h.lines.join(''), /daemon victim \(pid \d+\) killed by SIGKILL; respawning/);
});

t.test('stop escalates to SIGKILL after the grace, for the whole process group', async (t) => {
  const h = harness(t, [{ name: 'stubborn', command: 'sh', args: ['-c', 'trap "" TERM; sleep 30 & wait; sleep 30'] }], { stopGraceMs: 400 });
  h.supervisor.startAll();
  await h.waitFor('running', () => view(h.supervisor, 'stubborn').pid > 0);
  await sleep(100);
  const pid = view(h.supervisor, 'stubborn').pid;
  const started = Date.now();
  await h.supervisor.control('stubborn', 'stop');
  const took = Date.now() - started;
  t.ok(took >= 350, `waited for the grace (${took} ms)`);
  t.ok(took < 3000, 'then killed');
  t.notOk(alive(pid));
  t.same(view(h.supervisor, 'stubborn'), { name: 'stubborn', pid: -1, respawn: false });
  t.match(h.lines.join(''), /no exit 400 ms after SIGTERM, sending SIGKILL/);
});

t.test('missing binary: listed with respawn false and pid 0, never run', async (t) => {
  const h = harness(t, [{ name: 'absent', command: '/nonexistent/helper', requires: ['/nonexistent/helper'] }]);
  h.supervisor.startAll();
  await sleep(100);
  t.same(view(h.supervisor, 'absent'), { name: 'absent', pid: 0, respawn: false });
  await h.supervisor.control('absent', 'start');
  t.same(view(h.supervisor, 'absent'), { name: 'absent', pid: 0, respawn: false }, 'start checks again and gives up again');
  t.equal(h.spawns('absent').length, 0);
  t.match(h.lines.join(''), /\/nonexistent\/helper missing; not starting it/);
});

t.test('an exec failure goes through the same backoff', async (t) => {
  const h = harness(t, [{ name: 'broken', command: '/nonexistent/helper' }]);
  h.supervisor.startAll();
  await h.waitFor('3 failures', () => h.events.filter((event) => event.type === 'exit').length >= 3);
  await h.supervisor.control('broken', 'stop');
  const delays = h.events.filter((event) => event.type === 'exit').map((event) => (event.type === 'exit' ? event.respawnInMs : -1));
  t.same(delays.slice(0, 3), [0, 200, 400]);
  t.match(view(h.supervisor, 'broken'), { pid: 0, respawn: false });
});

t.test('a disabled daemon is listed, never spawned', async (t) => {
  const h = harness(t, [{ name: 'off', command: 'sleep', args: ['30'], enabled: false }]);
  h.supervisor.startAll();
  await sleep(100);
  t.same(view(h.supervisor, 'off'), { name: 'off', pid: 0, respawn: true });
});

t.test('stdout and stderr lines reach the daemon log as <name>-out / <name>-err', async (t) => {
  const h = harness(t, [{ name: 'talker', command: 'sh', args: ['-c', 'echo hello; echo oops >&2; printf partial; sleep 30'], env: { EXTRA: 'x' } }]);
  h.supervisor.startAll();
  await h.waitFor('output', () => h.lines.some((line) => line.includes('talker-err: oops')) && h.lines.some((line) => line.includes('talker-out: hello')));
  await h.supervisor.control('talker', 'stop');
  await sleep(50);
  t.ok(h.lines.some((line) => / INFO talker-out: hello\n$/.test(line)));
  t.ok(h.lines.some((line) => / INFO talker-err: oops\n$/.test(line)));
  t.ok(h.lines.some((line) => line.includes('talker-out: partial')), 'an unterminated last line is flushed at exit');
});

t.test('or to a log file (e.g. <storage>/logs/<rev>/pantavisor/<name>.log)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-daemons-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'logs', '0', 'pantavisor', 'writer.log');
  const h = harness(t, [{ name: 'writer', command: 'sh', args: ['-c', 'echo to-file; echo to-err >&2; sleep 30'], output: { kind: 'file', path: () => file } }]);
  h.supervisor.startAll();
  await h.waitFor('file', () => existsSync(file) && readFileSync(file, 'utf8').split('\n').length >= 3);
  const text = readFileSync(file, 'utf8');
  t.match(text, /\[writer-out\] to-file/);
  t.match(text, /\[writer-err\] to-err/);
  t.notOk(h.lines.some((line) => line.includes('to-file')), 'not in the daemon log');
});

t.test('the helper gets the extra environment', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-daemons-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const h = harness(t, [{ name: 'env', command: 'sh', args: ['-c', `echo "$PV_TEST_VALUE" > ${dir}/out; sleep 30`], env: { PV_TEST_VALUE: 'from-spec' } }]);
  h.supervisor.startAll();
  await h.waitFor('written', () => existsSync(join(dir, 'out')) && readFileSync(join(dir, 'out'), 'utf8') !== '');
  t.equal(readFileSync(join(dir, 'out'), 'utf8'), 'from-spec\n');
});

t.test('concurrent API calls are applied in order', async (t) => {
  const h = harness(t, [{ name: 'busy', command: 'sleep', args: ['30'] }]);
  h.supervisor.startAll();
  await h.waitFor('running', () => view(h.supervisor, 'busy').pid > 0);
  await Promise.all([h.supervisor.control('busy', 'stop'), h.supervisor.control('busy', 'start'), h.supervisor.control('busy', 'stop')]);
  t.same(view(h.supervisor, 'busy'), { name: 'busy', pid: -1, respawn: false }, 'last word: stop');
  await Promise.all([h.supervisor.control('busy', 'restart'), h.supervisor.control('busy', 'start')]);
  t.match(view(h.supervisor, 'busy'), { respawn: true });
  t.ok(view(h.supervisor, 'busy').pid > 0);
  t.equal(h.events.filter((event) => event.type === 'spawn').length, 3, 'one process per start, none extra');
});

t.test('stopAll (daemon shutdown) stops running helpers and pending respawns', async (t) => {
  const h = harness(t, [
    { name: 'one', command: 'sleep', args: ['30'] },
    { name: 'two', command: 'sleep', args: ['30'] },
    { name: 'flaky', command: 'sh', args: ['-c', 'exit 1'] },
  ]);
  h.supervisor.startAll();
  await h.waitFor('all up', () => view(h.supervisor, 'one').pid > 0 && view(h.supervisor, 'two').pid > 0 && h.spawns('flaky').length >= 3);
  const pids = [view(h.supervisor, 'one').pid, view(h.supervisor, 'two').pid];
  await h.supervisor.stopAll();
  t.ok(pids.every((pid) => !alive(pid)), 'all gone');
  t.same(
    h.supervisor.list().map((item) => item.respawn),
    [false, false, false],
  );
  const count = h.events.length;
  await sleep(1000);
  t.equal(h.events.length, count, 'nothing spawned after shutdown');
});
