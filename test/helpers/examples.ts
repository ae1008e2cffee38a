/**
 * The example containers (examples/pvtx.d), unpacked for tests that need custom revisions made
 * of the same objects: a storage is prepared with those objects and a revision set as current.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './daemon.ts';

export const EXAMPLES = join(REPO, 'examples', 'pvtx.d');
export const SERVER = 'pv-example-unix-server';
export const CLIENT = 'pv-example-unix-client';

export interface Unpacked {
  /** Merged partial states of every example. */
  state: Record<string, unknown>;
  objectsDir: string;
}

export function unpackExamples(): Unpacked {
  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-examples-'));
  const state: Record<string, unknown> = { '#spec': 'pantavisor-service-system@1' };
  for (const file of readdirSync(EXAMPLES).filter((name) => name.endsWith('.pvrexport.tgz')).sort()) {
    const target = join(dir, file);
    mkdirSync(target);
    execFileSync('tar', ['xzf', join(EXAMPLES, file), '-C', target]);
    Object.assign(state, JSON.parse(readFileSync(join(target, 'json'), 'utf8')) as Record<string, unknown>);
    mkdirSync(join(dir, 'objects'), { recursive: true });
    for (const object of readdirSync(join(target, 'objects'))) copyFileSync(join(target, 'objects', object), join(dir, 'objects', object));
    rmSync(target, { recursive: true, force: true });
  }
  return { state, objectsDir: join(dir, 'objects') };
}

/** A storage folder whose current revision is `locals/<name>` with `state`, objects in place. */
export function prepareStorage(root: string, revisionName: string, state: Record<string, unknown>, objectsDir: string): void {
  const storage = join(root, 'storage');
  mkdirSync(join(storage, 'objects'), { recursive: true });
  for (const object of readdirSync(objectsDir)) copyFileSync(join(objectsDir, object), join(storage, 'objects', object));
  const revision = join(storage, 'trails', 'locals', revisionName);
  mkdirSync(join(revision, '.pvr'), { recursive: true });
  mkdirSync(join(revision, '.pv'), { recursive: true });
  const sorted = Object.fromEntries(Object.entries(state).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  writeFileSync(join(revision, '.pvr', 'json'), JSON.stringify(sorted));
  writeFileSync(join(revision, '.pv', 'progress'), '{"status":"DONE","status-msg":"Update finished, revision set as rollback point","progress":100,"retries":0}');
  symlinkSync(`locals/${revisionName}`, join(storage, 'trails', 'current'));
}

/**
 * The state with container `from` renamed `to`: container names are host-wide (cgroups
 * `lxc/<name>`), so a suite running the examples next to another one gives them names of its own.
 */
export function renamed(state: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(state).map(([key, value]) => {
      if (!key.startsWith(`${from}/`)) return [key, value];
      const moved = typeof value === 'object' && value !== null && (value as { name?: unknown }).name === from ? { ...value, name: to } : value;
      return [`${to}/${key.slice(from.length + 1)}`, moved];
    }),
  );
}
