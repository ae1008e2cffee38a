/**
 * Garbage collection (spec §11.2): drop every revision that is not kept, then every object no
 * trail links to. Shared by `POST /storage/gc` and the RUN_GC command.
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_PREFIX, fsyncDirectory } from './durable.ts';
import { faultPoint } from './fault-points.ts';
import type { ObjectStore } from './objects.ts';
import type { StepStore } from './steps.ts';

export interface GcPolicy {
  /** Revisions that must survive: running, updating, last committed (and factory when configured). */
  keep: ReadonlySet<string>;
  /** Objects referenced by an update in progress, kept although not linked yet. */
  pinnedObjects?: ReadonlySet<string>;
}

export interface GcReport {
  removedRevisions: string[];
  removedObjects: number;
  reclaimed: number;
}

export function runGarbageCollector(steps: StepStore, objects: ObjectStore, policy: GcPolicy): GcReport {
  const removedRevisions: string[] = [];
  for (const revision of steps.revisions()) {
    if (policy.keep.has(revision)) continue;
    steps.removeRevision(revision);
    removedRevisions.push(revision);
  }
  let reclaimed = 0;
  let removedObjects = 0;
  for (const name of readdirSync(objects.directory)) {
    if (name.startsWith(TEMP_PREFIX) && objects.isInFlight(name)) continue;
    if (policy.pinnedObjects?.has(name)) continue;
    const path = join(objects.directory, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isFile() || stats.nlink > 1) continue;
      rmSync(path, { force: true });
      faultPoint('gc.object:unlinked');
      reclaimed += stats.size;
      removedObjects++;
    } catch {
      // vanished meanwhile
    }
  }
  if (removedObjects > 0) fsyncDirectory(objects.directory);
  return { removedRevisions, removedObjects, reclaimed };
}
