/**
 * Every named fault point (src/storage/fault-points.ts) of every storage operation: the daemon
 * kills itself there (PVCTRL_CRASH_AT), restarts on the same storage, and the invariants of
 * docs/reliability.md must hold. A trace run of each operation (PVCTRL_FAULT_TRACE) tells
 * which points it passes; a listed point that no operation passes fails the test, so a point
 * cannot silently go stale. Containers are never started: the states have none, and the
 * rollback case runs a revision with containers on a daemon that has no container runtime.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRASH_AT_ENV, FAULT_POINTS, FAULT_TRACE_ENV, TRACE_ARMED_MARK } from '../../src/storage/fault-points.ts';
import { PV_CTRL, startTestDaemon } from '../helpers/daemon.ts';
import { unpackExamples } from '../helpers/examples.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { CONFIG_TEXT, copyOfTemplate, exited, restartAndCheck, stateText, waitFor, type Expectations } from './crash-helpers.ts';

const OLD = stateText('old');
const NEW = stateText('new');
const FACTORY_TEXT = '{"#spec":"pantavisor-service-system@1"}';
const GC_REVISIONS = 4;
const small = Buffer.from('a small object, JS ingest path');
const big = Buffer.alloc(2 * 1024 * 1024, 7);
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

type Socket = string;
interface Operation {
  name: string;
  /** Passes count from process start (the operation is start-up itself). */
  boot?: boolean;
  /** Storage to start from: the shared template unless told otherwise. */
  prepare?: (dir: string) => void;
  /** Run the operation to its end (trace run) or until the daemon dies (crash run). */
  run?: (socket: Socket) => Promise<unknown>;
  expect: Expectations;
}

const progressOf = async (socket: Socket, revision: string): Promise<string | undefined> => {
  const response = await rawRequest(socket, 'GET', `/steps/${revision}/progress`);
  return response.status === 200 ? (JSON.parse(response.body) as { status: string }).status : undefined;
};
const command = async (socket: Socket, op: string, payload: string, revision: string, done: string[]): Promise<void> => {
  const response = await rawRequest(socket, 'POST', '/commands', { body: JSON.stringify({ op, payload }) });
  if (response.status !== 200) throw new Error(`${op}: ${response.status} ${response.body}`);
  await waitFor(`${revision} ${done.join('/')}`, async () => {
    const status = await progressOf(socket, revision);
    return status !== undefined && done.includes(status) ? true : undefined;
  }, 30_000);
};

const kept: Expectations['revisions'] = { 'locals/kept': [OLD] };
const operations: Operation[] = [
  { name: 'object upload (JS path)', run: (s) => rawRequest(s, 'PUT', `/objects/${sha(small)}`, { body: small }), expect: { revisions: kept } },
  { name: 'object upload (native fast path)', run: (s) => rawRequest(s, 'PUT', `/objects/${sha(big)}`, { body: big }), expect: { revisions: kept } },
  { name: 'revision install', run: (s) => rawRequest(s, 'PUT', '/steps/locals/fresh', { body: NEW }), expect: { revisions: { ...kept, 'locals/fresh': [NEW, undefined] } } },
  { name: 'revision overwrite', run: (s) => rawRequest(s, 'PUT', '/steps/locals/kept', { body: NEW }), expect: { revisions: { 'locals/kept': [OLD, NEW] } } },
  { name: 'commit message', run: (s) => rawRequest(s, 'PUT', '/steps/locals/kept/commitmsg', { body: 'why' }), expect: { revisions: kept } },
  { name: 'user-meta set', run: (s) => rawRequest(s, 'PUT', '/user-meta/color', { body: 'green' }), expect: { userMeta: { color: ['blue', 'green'] } } },
  { name: 'user-meta delete', run: (s) => rawRequest(s, 'DELETE', '/user-meta/color'), expect: { userMeta: { color: ['blue', undefined] } } },
  {
    name: 'garbage collection',
    run: (s) => rawRequest(s, 'POST', '/storage/gc'),
    expect: { revisions: Object.fromEntries(Array.from({ length: GC_REVISIONS }, (_, i) => [`locals/g${i}`, [stateText(`g${i}`), undefined]])) },
  },
  { name: 'LOCAL_RUN_COMMIT', run: (s) => command(s, 'LOCAL_RUN_COMMIT', 'locals/kept', 'locals/kept', ['DONE', 'ERROR']), expect: { revisions: kept } },
  { name: 'MAKE_FACTORY', run: (s) => command(s, 'MAKE_FACTORY', 'locals/kept', '0', ['DONE', 'ERROR']), expect: { revisions: { ...kept, '0': [OLD, FACTORY_TEXT] } } },
  { name: 'LOCAL_RUN rolled back', run: (s) => command(s, 'LOCAL_RUN', 'locals/withct', 'locals/withct', ['ERROR', 'DONE', 'UPDATED']), expect: { revisions: kept } },
  {
    name: 'start-up rollback of an interrupted try',
    boot: true,
    prepare: (dir) => writeFileSync(join(dir, 'storage', 'boot', 'pvctrl-boot.json'), JSON.stringify({ done: '0', trying: 'locals/kept' })),
    expect: { revisions: kept },
  },
  { name: 'first start (storage initialisation)', boot: true, prepare: (dir) => rmSync(join(dir, 'storage'), { recursive: true, force: true }), expect: {} },
];
let template = '';
let examplesDir = '';
t.before(async () => {
  const examples = unpackExamples();
  examplesDir = join(examples.objectsDir, '..');
  template = mkdtempSync(join(tmpdir(), 'pvctrl-crash-template-'));
  mkdirSync(join(template, 'storage', 'objects'), { recursive: true });
  for (const name of readdirSync(examples.objectsDir)) copyFileSync(join(examples.objectsDir, name), join(template, 'storage', 'objects', name));
  const daemon = await startTestDaemon({ dir: template, configText: CONFIG_TEXT });
  const put = async (path: string, body: string): Promise<void> => {
    const response = await rawRequest(daemon.socket, 'PUT', path, { body });
    if (response.status !== 200) throw new Error(`PUT ${path}: ${response.status} ${response.body}`);
  };
  await put('/steps/locals/kept', OLD);
  await put('/steps/locals/withct', JSON.stringify(examples.state));
  for (let i = 0; i < GC_REVISIONS; i++) await put(`/steps/locals/g${i}`, stateText(`g${i}`));
  await put('/user-meta/color', 'blue');
  await daemon.stop();
  rmSync(join(template, 'run'), { recursive: true, force: true });
});
t.teardown(() => {
  rmSync(template, { recursive: true, force: true });
  rmSync(examplesDir, { recursive: true, force: true });
});

function prepared(operation: Operation): string {
  const dir = copyOfTemplate(template);
  operation.prepare?.(dir);
  return dir;
}

/** Run `operation` with extra env; for a crash run, resolve once the daemon died (or report that it did not). */
async function runOnce(operation: Operation, dir: string, env: Record<string, string>, expectDeath: boolean): Promise<string | undefined> {
  if (operation.boot === true) {
    const child = spawn(PV_CTRL, ['--storage', join(dir, 'storage'), '--rundir', join(dir, 'run'), '--config', writeConfig(dir)], {
      stdio: 'ignore',
      env: { ...process.env, ...env },
    });
    if (expectDeath) {
      const end = await exited(child, 20_000).catch(() => undefined);
      if (end?.signal === 'SIGKILL') return undefined;
      child.kill('SIGKILL');
      return 'daemon did not die at the point';
    }
    await waitFor('boot trace armed', async () => (readFileSync(env[FAULT_TRACE_ENV] ?? '', 'utf8').includes(TRACE_ARMED_MARK) ? true : undefined), 20_000);
    child.kill('SIGTERM');
    await exited(child, 20_000);
    return undefined;
  }
  const daemon = await startTestDaemon({ dir, configText: CONFIG_TEXT, env });
  try {
    const finished = operation.run?.(daemon.socket).then(
      () => 'finished',
      (error: unknown) => (expectDeath ? 'finished' : Promise.reject(error)),
    );
    if (!expectDeath) {
      await finished;
      return undefined;
    }
    const end = await exited(daemon.process, 30_000).catch(() => undefined);
    return end?.signal === 'SIGKILL' ? undefined : 'daemon did not die at the point';
  } finally {
    await daemon.stop();
  }
}

function writeConfig(dir: string): string {
  const file = join(dir, 'pantavisor.config');
  writeFileSync(file, CONFIG_TEXT);
  return file;
}

/** point → passes during the operation, in the order first passed. */
function passesOf(trace: string, boot: boolean): Map<string, number> {
  const lines = trace.split('\n').filter((line) => line !== '');
  const armedAt = lines.indexOf(TRACE_ARMED_MARK);
  const relevant = boot ? lines.slice(0, armedAt === -1 ? lines.length : armedAt) : lines.slice(armedAt + 1);
  const counts = new Map<string, number>();
  for (const point of relevant) counts.set(point, (counts.get(point) ?? 0) + 1);
  return counts;
}

const covered = new Set<string>();
let crashRuns = 0;

for (const operation of operations) {
  t.test(operation.name, async (t) => {
    const traceDir = prepared(operation);
    const traceFile = join(traceDir, 'fault-trace');
    writeFileSync(traceFile, '');
    try {
      await runOnce(operation, traceDir, { [FAULT_TRACE_ENV]: traceFile }, false);
      const passes = passesOf(readFileSync(traceFile, 'utf8'), operation.boot === true);
      t.ok(passes.size > 0, 'the operation passes fault points');
      for (const [point, count] of passes) {
        covered.add(point);
        // The first pass, and one in the middle where a step repeats (GC of several revisions).
        const which = count > 2 ? [1, Math.ceil(count / 2)] : [1];
        for (const pass of which) {
          const dir = prepared(operation);
          try {
            const spec = `${point}:${pass}${operation.boot === true ? '@boot' : ''}`;
            const failure = await runOnce(operation, dir, { [CRASH_AT_ENV]: spec }, true);
            crashRuns++;
            if (failure !== undefined) {
              t.fail(`${spec}: ${failure}`);
              continue;
            }
            const { problems } = await restartAndCheck(dir, operation.expect);
            t.same(problems, [], `crash at ${spec}`);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
    } finally {
      rmSync(traceDir, { recursive: true, force: true });
    }
  });
}

t.test('every listed fault point is passed by some operation', async (t) => {
  const missing = FAULT_POINTS.filter((point) => !covered.has(point));
  t.same(missing, [], 'points no operation passes (a stale name, or an operation missing above)');
  t.comment(`covered ${covered.size} of ${FAULT_POINTS.length} fault points with ${crashRuns} crash runs`);
});
