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
import { FACTORY_REVISION } from './layout.ts';
import { NO_EVENTS, type EventPublisher } from '../events/index.ts';

export interface GcPolicy {
  /** Revisions that must survive: running, updating, last committed (and factory when configured). */
  keep: ReadonlySet<string>;
  /** Objects referenced by an update in progress, kept although not linked yet. */
  pinnedObjects?: ReadonlySet<string>;
}

/** What decides which revisions a collection keeps (spec §11.2). */
export interface GcKeepFacts {
  /** The revision the containers run. */
  running: string;
  /** The last revision set as rollback point (boot environment `done`). */
  rollbackPoint: string;
  /** A revision being installed or tested right now, if any. */
  updating: string | undefined;
  /** PV_STORAGE_GC_KEEP_FACTORY: revision 0 stays even when nothing else needs it. */
  keepFactory: boolean;
}

/** Kept: the running revision, the one being installed or tested, the rollback point (and factory when configured). */
export function revisionsToKeep(facts: GcKeepFacts): Set<string> {
  const keep = new Set<string>([facts.running, facts.rollbackPoint]);
  if (facts.updating !== undefined) keep.add(facts.updating);
  if (facts.keepFactory) keep.add(FACTORY_REVISION);
  return keep;
}

export interface GcReport {
  removedRevisions: string[];
  removedObjects: number;
  reclaimed: number;
}

export function runGarbageCollector(steps: StepStore, objects: ObjectStore, policy: GcPolicy, events: EventPublisher = NO_EVENTS): GcReport {
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
      if (!name.startsWith(TEMP_PREFIX)) events.publish({ object: { sha: name, action: 'removed', size: stats.size } });
    } catch {
      // vanished meanwhile
    }
  }
  if (removedObjects > 0) fsyncDirectory(objects.directory);
  return { removedRevisions, removedObjects, reclaimed };
}
