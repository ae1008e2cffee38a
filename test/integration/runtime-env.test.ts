/**
 * Bun's settings the daemon needs at exec (src/util/runtime-env.ts): the re-exec decision, the
 * source launcher setting the same variables, and the real daemon (both ways it starts) running
 * with them, whatever the caller's environment.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_RUNTIME_ENV, reexecArguments } from '../../src/util/runtime-env.ts';

const REPO = join(import.meta.dir, '..', '..');

t.test('exec again only when a setting is missing; the program and its arguments stay', async (t) => {
  t.same(reexecArguments('bun', ['/usr/bin/bun', '/app/src/entry.ts', '--storage', '/s'], {}), ['bun', '/app/src/entry.ts', '--storage', '/s'], 'bun running a script');
  t.same(reexecArguments('pv-xconnect', ['bun', '/$bunfs/root/pv-ctrl', '--socket', 'x'], {}), ['pv-xconnect', '--socket', 'x'], 'a compiled executable: its embedded entry is not an argument');
  t.equal(reexecArguments('pv-ctrl', ['bun', '/$bunfs/root/pv-ctrl'], { BUN_GC_TIMER_DISABLE: '1' }), undefined, 'set: nothing to do');
  t.equal(reexecArguments('pv-ctrl', ['bun', '/$bunfs/root/pv-ctrl'], { BUN_GC_TIMER_DISABLE: '0' }), undefined, "the caller's own value is kept");
});

t.test('bin/pv-ctrl sets every variable of DAEMON_RUNTIME_ENV', async (t) => {
  const launcher = readFileSync(join(REPO, 'bin', 'pv-ctrl'), 'utf8');
  for (const [name, value] of Object.entries(DAEMON_RUNTIME_ENV)) {
    t.match(launcher, `: "\${${name}=${value}}"`, `${name} defaults to ${value}`);
    t.match(launcher, new RegExp(`^export ${name}$`, 'm'));
  }
});

/** Start a daemon with `command`, read its environment from /proc once it listens, stop it. */
async function environmentOf(t: Tap.Test, command: string[]): Promise<Map<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-runtime-env-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env };
  for (const name of Object.keys(DAEMON_RUNTIME_ENV)) delete env[name];
  const child = spawn(command[0] as string, [...command.slice(1), '--storage', join(dir, 'storage'), '--rundir', join(dir, 'run'), '--log-level', 'warn'], { stdio: 'ignore', env });
  try {
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(dir, 'run', 'pv-ctrl'))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${command.join(' ')} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const entries = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0').filter((entry) => entry.includes('='));
    return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  } finally {
    child.kill('SIGTERM');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const bound = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(bound);
  }
}

t.test('the daemon runs with the settings from a caller environment without them', async (t) => {
  const bun = join(REPO, 'node_modules', '.bin', 'bun');
  for (const command of [[join(REPO, 'bin', 'pv-ctrl')], [bun, join(REPO, 'src', 'entry.ts'), 'pv-ctrl']]) {
    const environment = await environmentOf(t, command);
    for (const [name, value] of Object.entries(DAEMON_RUNTIME_ENV)) t.equal(environment.get(name), value, `${command.map((part) => part.replace(REPO, '.')).join(' ')}: ${name}`);
  }
});
