/**
 * Issue 8, defects 2 and 3, reproduced without the daemon's own fault points (so the test
 * fails on code that has none): strace attached to the running daemon kills it at the n-th
 * rename or unlink, the daemon restarts on the same storage, and the invariants must hold.
 */
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { CONFIG_TEXT, attachStrace, copyOfTemplate, exited, restartAndCheck, stateText, stopTracer } from './crash-helpers.ts';

const RENAMES = 'rename,renameat,renameat2';
const UNLINKS = 'unlink,unlinkat,rmdir';

/** Start on a copy of `template`, kill at the `nth` call of `syscalls` during `operation`, restart, check. */
async function killDuring(
  template: string,
  syscalls: string,
  nth: number,
  operation: (socket: string) => Promise<unknown>,
  expect: Parameters<typeof restartAndCheck>[1],
): Promise<string[]> {
  const dir = copyOfTemplate(template);
  const daemon = await startTestDaemon({ dir, configText: CONFIG_TEXT });
  let tracer: ChildProcess | undefined;
  try {
    tracer = await attachStrace(daemon.process.pid ?? 0, ['-e', `trace=${syscalls}`, '-e', `inject=${syscalls}:signal=KILL:when=${nth}`], join(dir, 'strace.out'));
    await operation(daemon.socket).catch(() => undefined);
    const end = await exited(daemon.process, 20_000);
    await stopTracer(tracer);
    if (end.signal !== 'SIGKILL') return [`daemon was not killed (exit ${end.code}); fewer than ${nth} calls of ${syscalls}?`];
    return (await restartAndCheck(dir, expect)).problems;
  } finally {
    if (tracer !== undefined && tracer.exitCode === null) tracer.kill('SIGKILL');
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const OLD = stateText('old');
const NEW = stateText('new');
const GC_REVISIONS = 12;
let template = '';

t.before(async () => {
  const daemon = await startTestDaemon({ configText: CONFIG_TEXT });
  template = daemon.dir;
  for (const name of ['kept', ...Array.from({ length: GC_REVISIONS }, (_, i) => `g${i}`)]) {
    const status = (await rawRequest(daemon.socket, 'PUT', `/steps/locals/${name}`, { body: name === 'kept' ? OLD : stateText(name) })).status;
    if (status !== 200) throw new Error(`install ${name}: ${status}`);
  }
  await daemon.stop();
});
t.teardown(() => rmSync(template, { recursive: true, force: true }));

t.test('defect 2: an overwrite killed between its renames keeps the old revision', async (t) => {
  // Renames of an overwrite: the progress file in staging, the old directory aside, the new one in.
  const problems = await killDuring(template, RENAMES, 3, (socket) => rawRequest(socket, 'PUT', '/steps/locals/kept', { body: NEW }), {
    revisions: { 'locals/kept': [OLD, NEW] },
  });
  t.same(problems, []);
});

t.test('defect 3: a GC killed mid-delete leaves no half-deleted revision', async (t) => {
  // A handful of kill points spread over the deletion of the first revisions.
  for (const nth of [2, 4, 7, 11]) {
    const problems = await killDuring(template, UNLINKS, nth, (socket) => rawRequest(socket, 'POST', '/storage/gc'), {
      revisions: Object.fromEntries(Array.from({ length: GC_REVISIONS }, (_, i) => [`locals/g${i}`, [stateText(`g${i}`), undefined]])),
    });
    t.same(problems, [], `killed at unlink #${nth}`);
  }
});
