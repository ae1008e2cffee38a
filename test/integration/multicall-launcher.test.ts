/**
 * dist/<target>/pv-ctrl is a small native launcher (native/src/multicall_launcher.cpp, issue 10):
 * it puts Bun's exec-time settings (DAEMON_RUNTIME_ENV) in the environment unless the caller
 * set them, and executes the runtime-sized pvctrl-bun next to it, argv whole. So the runtime
 * starts once; without it the daemon executed itself a second time for the settings.
 *
 * The launcher is taken from the linux-x64 build (built or reused) and, for its own behaviour,
 * put in a temp folder beside a stand-in runtime: the plain Bun executable (a symlink named
 * pvctrl-bun) running a script that reports what it was given. The real build is then run
 * under strace to count how often the runtime-sized file is executed. Not a timing test.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_DIR, REPO_ROOT, runtimeBinary, TARGETS } from '../../scripts/build-targets.ts';
import { DAEMON_RUNTIME_ENV } from '../../src/util/runtime-env.ts';

const BUN = join(REPO_ROOT, 'node_modules', '.bin', 'bun');
/** The file the launcher executes, next to its own real path (its contract; build-targets RUNTIME_FILE). */
const RUNTIME_FILE = 'pvctrl-bun';
const dist = join(DIST_DIR, 'linux-x64');
const target = TARGETS.find((candidate) => candidate.name === 'linux-x64');

const build = spawnSync(BUN, [join(REPO_ROOT, 'scripts', 'build-targets.ts'), 'linux-x64'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10 * 60 * 1000 });
if (build.status !== 0) throw new Error(`build-targets failed:\n${build.stdout}${build.stderr}`);

/** What the stand-in runtime reports about the process it runs in. */
interface Report {
  argv0: string;
  args: string[];
  pid: number;
  exe: string;
  env: Record<string, string | undefined>;
}

const work = mkdtempSync(join(tmpdir(), 'pvctrl-launcher-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const folder = join(work, 'bin');
mkdirSync(folder);
copyFileSync(join(dist, 'pv-ctrl'), join(folder, 'pv-ctrl'));
symlinkSync('pv-ctrl', join(folder, 'pvcontrol'));
symlinkSync('pv-ctrl', join(folder, 'pv-xconnect'));
symlinkSync(realpathSync(BUN), join(folder, RUNTIME_FILE));
const script = join(work, 'report.js');
writeFileSync(
  script,
  [
    "const fs = require('node:fs');",
    `const names = ${JSON.stringify(Object.keys(DAEMON_RUNTIME_ENV))};`,
    'const report = { argv0: process.argv0, args: process.argv.slice(2), pid: process.pid, exe: fs.readlinkSync("/proc/self/exe"),',
    '  env: Object.fromEntries(names.map((name) => [name, process.env[name]])) };',
    'console.log(JSON.stringify(report));',
    // `wait`: stay until a signal comes; `exit N`: end with that status.
    "if (process.argv[2] === 'wait') setInterval(() => undefined, 1000);",
    "if (process.argv[2] === 'exit') process.exit(Number(process.argv[3]));",
  ].join('\n'),
);

/** The caller's environment without the settings, plus `extra`. */
function callerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(DAEMON_RUNTIME_ENV)) delete env[name];
  return { ...env, ...extra };
}

function launch(command: string, args: string[], env = callerEnv()): { status: number | null; report: Report | undefined; stderr: string } {
  const result = spawnSync(command, [script, ...args], { encoding: 'utf8', timeout: 30_000, env });
  const line = result.stdout.trim().split('\n')[0] ?? '';
  return { status: result.status, report: line.startsWith('{') ? (JSON.parse(line) as Report) : undefined, stderr: result.stderr };
}

t.test('the runtime gets argv whole, argv[0] as invoked, under each program name', async (t) => {
  for (const name of ['pv-ctrl', 'pvcontrol', 'pv-xconnect']) {
    const invoked = join(folder, name);
    const { status, report } = launch(invoked, ['show', 'two words', '', '--flag=x']);
    t.equal(status, 0, `${name}: exits 0`);
    t.equal(report?.argv0, invoked, `${name}: argv[0] is the name it was invoked as`);
    t.same(report?.args, ['show', 'two words', '', '--flag=x'], `${name}: arguments unchanged, empty and spaced ones too`);
    t.equal(report?.exe, realpathSync(BUN), `${name}: the process runs the runtime next to the launcher (${RUNTIME_FILE})`);
  }
});

t.test('Bun settings: set when the caller has none, the caller\'s own value kept', async (t) => {
  const none = launch(join(folder, 'pv-ctrl'), []);
  t.same(none.report?.env, DAEMON_RUNTIME_ENV, 'every DAEMON_RUNTIME_ENV setting, with its value');
  for (const value of ['0', '']) {
    const own = launch(join(folder, 'pv-ctrl'), [], callerEnv(Object.fromEntries(Object.keys(DAEMON_RUNTIME_ENV).map((name) => [name, value]))));
    t.same(own.report?.env, Object.fromEntries(Object.keys(DAEMON_RUNTIME_ENV).map((name) => [name, value])), `the caller's ${JSON.stringify(value)} stays`);
  }
});

t.test('an exec, not a fork: same pid, exit status and signals are the runtime\'s', async (t) => {
  t.equal(launch(join(folder, 'pvcontrol'), ['exit', '60']).status, 60, 'exit status 60 comes through');
  const child = spawn(join(folder, 'pv-ctrl'), [script, 'wait'], { env: callerEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('no report within 30 s')), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.split('\n')[0] ?? '');
      }
    });
  });
  const report = JSON.parse(firstLine) as Report;
  t.equal(report.pid, child.pid, 'the runtime has the pid the caller started');
  t.equal(realpathSync(`/proc/${child.pid}/exe`), realpathSync(BUN), "and that pid's executable is the runtime");
  child.kill('SIGTERM');
  const bound = setTimeout(() => child.kill('SIGKILL'), 15_000);
  t.equal(await exited, 'SIGTERM', 'a SIGTERM to that pid reaches the runtime and ends it (no process in between)');
  clearTimeout(bound);
});

t.test('without the runtime next to it: a clear error, status 127', async (t) => {
  const alone = join(work, 'alone');
  mkdirSync(alone);
  copyFileSync(join(dist, 'pv-ctrl'), join(alone, 'pv-ctrl'));
  const result = spawnSync(join(alone, 'pv-ctrl'), ['--version'], { encoding: 'utf8', timeout: 30_000, env: callerEnv() });
  t.equal(result.status, 127, 'exit status 127');
  t.match(result.stderr, `cannot execute ${join(alone, RUNTIME_FILE)}: No such file or directory`, 'names the file it looked for');
});

t.test('the built pv-ctrl executes the runtime-sized file once (no second exec for the settings)', { skip: !existsSync('/usr/bin/strace') && 'strace is not installed' }, async (t) => {
  if (target === undefined) throw new Error('no linux-x64 target');
  const runtimeBytes = statSync(runtimeBinary(target)).size;
  const trace = join(work, 'execve.trace');
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', trace, join(dist, 'pv-ctrl'), '--version'], { encoding: 'utf8', timeout: 60_000, env: callerEnv() });
  t.equal(result.status, 0, 'pv-ctrl --version exits 0');
  t.match(result.stdout, /\d+\.\d+\.\d+/, 'and prints a version');
  // Successful execve calls: `execve("/path", [...], ...) = 0`.
  const executed = readFileSync(trace, 'utf8')
    .split('\n')
    .map((line) => /execve\("([^"]+)".* = 0$/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
  const runtimeSized = executed.filter((path) => lstatSync(path).isFile() && statSync(path).size >= runtimeBytes / 2);
  t.same(runtimeSized, [join(dist, RUNTIME_FILE)], `one exec of a runtime-sized file, ${RUNTIME_FILE} (all: ${executed.join(', ')})`);
});
