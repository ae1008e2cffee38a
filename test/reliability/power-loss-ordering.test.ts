/**
 * Power-loss ordering: kill -9 keeps the page cache, so only the syscall order shows that a
 * durable write survives a power cut. strace -f (native ingest writes on its own threads)
 * records each write, and the test asserts: data written to the temp file, fsync of that
 * file, rename onto the name, fsync of the directory — in that order.
 */
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { CONFIG_TEXT, attachStrace, stateText, stopTracer } from './crash-helpers.ts';

const SYSCALLS = 'write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,rename,renameat,renameat2';

let daemon: TestDaemon;
t.before(async () => {
  daemon = await startTestDaemon({ configText: CONFIG_TEXT });
});
t.teardown(() => daemon.dispose());

/** The strace lines (resumed calls joined to their start) of one operation. */
async function traced(operation: () => Promise<unknown>): Promise<string[]> {
  const output = join(daemon.dir, `strace.${Date.now()}.out`);
  let tracer: ChildProcess | undefined;
  try {
    tracer = await attachStrace(daemon.process.pid ?? 0, ['-y', '-s', '0', '-e', `trace=${SYSCALLS}`], output);
    await operation();
  } finally {
    tracer?.kill('SIGINT');
    if (tracer !== undefined) await stopTracer(tracer);
  }
  const text = readFileSync(output, 'utf8');
  rmSync(output, { force: true });
  return text.split('\n');
}

/** Index of the first line at or after `from` matching `pattern`, or -1. */
const find = (lines: string[], pattern: RegExp, from = 0): number => {
  for (let i = from; i < lines.length; i++) if (pattern.test(lines[i] ?? '')) return i;
  return -1;
};
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const onFd = (syscall: string, path: string): RegExp => new RegExp(`\\b${syscall}\\(\\d+<${escape(path)}>`);

/** Assert the four steps for the file published at `target` with data from `temp`'s writes. */
function assertOrder(t: Tap.Test, lines: string[], target: string, what: string, dataFile?: (temp: string) => string): void {
  const renameAt = find(lines, new RegExp(`rename[a-z0-9]*\\(.*"([^"]*\\.pvctrl-tmp-[^"]*)".*"${escape(target)}"`));
  t.ok(renameAt >= 0, `${what}: rename onto ${target}`);
  if (renameAt < 0) return;
  const temp = /"([^"]*\.pvctrl-tmp-[^"]*)"/.exec(lines[renameAt] ?? '')?.[1] ?? '';
  const file = dataFile?.(temp) ?? temp;
  const firstWrite = find(lines, new RegExp(`\\b(p?writev?2?|pwrite64)\\(\\d+<${escape(file)}>`));
  const fsyncFile = find(lines, new RegExp(`\\b(fsync|fdatasync)\\(\\d+<${escape(file)}>`), Math.max(firstWrite, 0));
  const fsyncDir = find(lines, onFd('fsync', dirname(target)), renameAt);
  t.ok(firstWrite >= 0 && firstWrite < renameAt, `${what}: data written before the rename`);
  t.ok(fsyncFile > firstWrite && fsyncFile < renameAt, `${what}: file fsync'ed after its data, before the rename`);
  t.ok(fsyncDir > renameAt, `${what}: directory fsync'ed after the rename`);
}

t.test('object ingest, JS path', async (t) => {
  const body = Buffer.from('power-loss ordering, small object');
  const sha = createHash('sha256').update(body).digest('hex');
  const lines = await traced(() => rawRequest(daemon.socket, 'PUT', `/objects/${sha}`, { body }));
  assertOrder(t, lines, join(daemon.storage, 'objects', sha), 'JS ingest');
});

t.test('object ingest, native fast path', async (t) => {
  const body = Buffer.alloc(2 * 1024 * 1024, 3);
  const sha = createHash('sha256').update(body).digest('hex');
  const lines = await traced(() => rawRequest(daemon.socket, 'PUT', `/objects/${sha}`, { body }));
  assertOrder(t, lines, join(daemon.storage, 'objects', sha), 'fast path');
});

t.test('revision install', async (t) => {
  const lines = await traced(() => rawRequest(daemon.socket, 'PUT', '/steps/locals/ordered', { body: stateText('ordered') }));
  const target = join(daemon.storage, 'trails', 'locals', 'ordered');
  // The state file inside the staging tree carries the data; the tree is renamed as a whole.
  assertOrder(t, lines, target, 'install', (staging) => join(staging, '.pvr', 'json'));
  const renameAt = find(lines, new RegExp(`rename[a-z0-9]*\\(.*"${escape(target)}"`));
  const staging = /"([^"]*\.pvctrl-tmp-[^"]*)"/.exec(lines[renameAt] ?? '')?.[1] ?? '';
  const stagingSynced = find(lines, onFd('fsync', staging));
  t.ok(stagingSynced >= 0 && stagingSynced < renameAt, 'install: staging directory fsync\'ed before the rename');
});

t.test('metadata', async (t) => {
  const lines = await traced(() => rawRequest(daemon.socket, 'PUT', '/user-meta/ordered', { body: 'value' }));
  assertOrder(t, lines, join(daemon.storage, 'cache', 'meta', 'ordered'), 'user-meta');
});
