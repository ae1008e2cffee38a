/**
 * Shared by the crash tests: start the real daemon on a copy of a prepared storage, wait for
 * it to die, restart it on the same storage and check the storage invariants
 * (docs/reliability.md "Invariants").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';

export const TEMP_PREFIX = '.pvctrl-tmp-';
/** No update waits on containers' health in these tests (the states have none). */
export const CONFIG_TEXT = 'PV_SYSTEM_INIT_MODE=appengine\nPV_UPDATER_COMMIT_DELAY=0\n';

export const stateText = (tag: string): string => JSON.stringify({ '#spec': 'pantavisor-service-system@1', [`${tag}.json`]: { tag } });

/** A fresh folder holding a copy of `template`'s storage (the run dir is not copied). */
export function copyOfTemplate(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-crash-'));
  cpSync(join(template, 'storage'), join(dir, 'storage'), { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** Resolve when the process exits, or reject after `timeoutMs` (the point was never reached). */
export function exited(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What the test knows was acknowledged: each revision or key with every value it may now hold. */
export interface Expectations {
  /** revision → acceptable state texts; `undefined` in the list means "absent is fine too". */
  revisions?: Record<string, (string | undefined)[]>;
  /** user-meta key → acceptable values (undefined: absent). */
  userMeta?: Record<string, (string | undefined)[]>;
  /** objects that must be listed (acknowledged uploads). */
  objects?: string[];
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function walk(directory: string, visit: (path: string, name: string) => void): void {
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    visit(path, name);
    const stats = lstatSync(path);
    if (stats.isDirectory()) walk(path, visit);
  }
}

/** Every invariant on a restarted daemon; returns the problems found (empty when all hold). */
export async function invariantProblems(daemon: TestDaemon, expect: Expectations = {}): Promise<string[]> {
  const problems: string[] = [];
  const objectsDir = join(daemon.storage, 'objects');
  for (const name of readdirSync(objectsDir)) {
    const actual = sha256(readFileSync(join(objectsDir, name)));
    if (actual !== name) problems.push(`objects/${name} hashes to ${actual}`);
  }
  const objects = await rawRequest(daemon.socket, 'GET', '/objects');
  if (objects.status !== 200) problems.push(`GET /objects: ${objects.status}`);
  const listedObjects = (JSON.parse(objects.body) as { sha256: string }[]).map((item) => item.sha256);
  for (const sha of expect.objects ?? []) if (!listedObjects.includes(sha)) problems.push(`acknowledged object ${sha} lost`);

  const steps = await rawRequest(daemon.socket, 'GET', '/steps');
  if (steps.status !== 200) problems.push(`GET /steps: ${steps.status}`);
  const listed = (JSON.parse(steps.body) as { name: string }[]).map((item) => item.name);
  for (const revision of listed) {
    const state = await rawRequest(daemon.socket, 'GET', `/steps/${revision}`);
    if (state.status !== 200) problems.push(`listed revision ${revision}: GET ${state.status}`);
    else {
      try {
        JSON.parse(state.body);
      } catch {
        problems.push(`listed revision ${revision}: state is not whole JSON`);
      }
    }
  }
  for (const [revision, allowed] of Object.entries(expect.revisions ?? {})) {
    const state = await rawRequest(daemon.socket, 'GET', `/steps/${revision}`);
    const value = state.status === 200 ? state.body : undefined;
    if (!allowed.includes(value)) problems.push(`revision ${revision}: ${value === undefined ? `GET ${state.status}` : 'unexpected state'} (allowed: ${allowed.map((item) => (item === undefined ? 'absent' : 'a known state')).join(', ')})`);
  }
  const meta = JSON.parse((await rawRequest(daemon.socket, 'GET', '/user-meta')).body) as Record<string, unknown>;
  for (const [key, allowed] of Object.entries(expect.userMeta ?? {})) {
    const value = meta[key];
    if (!allowed.includes(typeof value === 'string' ? value : undefined)) problems.push(`user-meta ${key} is ${JSON.stringify(value)}`);
  }
  walk(daemon.storage, (path, name) => {
    if (name.startsWith(TEMP_PREFIX)) problems.push(`temp file survived: ${path.slice(daemon.storage.length)}`);
  });
  const aside = join(daemon.storage, '.pvctrl-deploy-aside');
  if (existsSync(aside) && readdirSync(aside).length > 0) problems.push(`parked copies survived: ${readdirSync(aside).join(', ')}`);
  const build = await rawRequest(daemon.socket, 'GET', '/buildinfo');
  if (build.status !== 200) problems.push(`daemon does not serve: GET /buildinfo ${build.status}`);
  return problems;
}

/** Restart on `dir`, collect the invariant problems, stop. */
export async function restartAndCheck(dir: string, expect: Expectations): Promise<{ problems: string[]; log: string }> {
  const daemon = await startTestDaemon({ dir, configText: CONFIG_TEXT });
  try {
    return { problems: await invariantProblems(daemon, expect), log: daemon.log() };
  } finally {
    await daemon.stop();
  }
}

/**
 * Attach `strace -f` to a running process with extra arguments (e.g. a fault injection);
 * resolves once every thread is attached. The caller kills it by its pid when done.
 */
export async function attachStrace(pid: number, args: string[], outputFile: string): Promise<ChildProcess> {
  const tracer = spawn('strace', ['-f', '-o', outputFile, ...args, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  tracer.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // strace prints this once every thread of the process is attached.
  await waitFor('strace attached', async () => (/attached/.test(stderr) ? true : undefined), 10_000);
  return tracer;
}

/**
 * strace normally ends by itself once its tracee is gone. Under load it once stayed behind for
 * over 10 s after the daemon had been reaped (CI, 1 run in many); what the test checks is the
 * storage after the kill, so a tracer that lingers is stopped instead of failing the test.
 */
export async function stopTracer(tracer: ChildProcess): Promise<void> {
  try {
    await exited(tracer, 10_000);
  } catch {
    tracer.kill('SIGKILL');
    await exited(tracer, 5_000);
  }
}
