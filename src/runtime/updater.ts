/**
 * Running another installed revision (LOCAL_RUN, LOCAL_RUN_COMMIT, TRY_ONCE, MAKE_FACTORY):
 * check the state and its objects, deploy the trail, switch containers, test that every goal
 * is reached and nothing fails for the commit delay, then commit — or roll back to the revision
 * that ran before and say why in the progress file (spec §5.5, §8.3).
 */
import type { Logger } from '../log.ts';
import { parseState, type ParseOptions, type State } from '../state/index.ts';
import { readBootEnv, writeBootEnv } from '../storage/boot-env.ts';
import { deployInstalledRevision, verifyRevisionObjects } from '../storage/deploy.ts';
import { faultPoint } from '../storage/fault-points.ts';
import { setCurrentRevision, type StorageLayout } from '../storage/layout.ts';
import type { MetadataStore } from '../storage/metadata.ts';
import type { Progress, StepStore } from '../storage/steps.ts';
import type { ContainerRuntime } from './containers.ts';
import { CONTAINER_FAILED, becomesRollbackPoint, testVerdict } from './decisions.ts';
import type { RunningSystem } from './running-system.ts';

export type RunMode = 'run' | 'commit' | 'try';

export interface UpdaterOptions {
  layout: StorageLayout;
  steps: StepStore;
  system: RunningSystem;
  runtime: () => ContainerRuntime | undefined;
  deviceMeta: MetadataStore;
  parseOptions: () => ParseOptions;
  /** Seconds a new revision must stay healthy before it counts as good (PV_UPDATER_COMMIT_DELAY). */
  commitDelay: () => number;
  log: Logger;
}

const progress = (status: string, message: string, percent: number): Progress => ({ status, 'status-msg': message, progress: percent, retries: 0 });

export class Updater {
  /** The revision being installed or tested; admission refuses some commands meanwhile. */
  active: string | undefined;

  constructor(private readonly options: UpdaterOptions) {}

  /**
   * At start-up: a revision still marked as being tried means the daemon died while testing it.
   * Point `current` back at the rollback point before anything runs.
   */
  recoverInterruptedTry(): void {
    const { layout, steps, log } = this.options;
    const current = steps.currentRevision() ?? '0';
    const env = readBootEnv(layout, current);
    if (env.trying === undefined) return;
    faultPoint('updater.recover');
    if (env.tryOnce) {
      log.info(`try-once revision ${env.trying} ends; back to ${env.done}`);
    } else {
      log.warn(`revision ${env.trying} was being tested when the daemon stopped: rolling back to ${env.done}`);
      if (steps.exists(env.trying)) steps.writeProgress(env.trying, progress('ERROR', 'Unexpected rollback', 100));
    }
    setCurrentRevision(layout, env.done);
    writeBootEnv(layout, { done: env.done });
  }

  async run(revision: string, mode: RunMode): Promise<boolean> {
    const { steps, system, log } = this.options;
    const previousRevision = system.revision ?? '0';
    const previousState = system.state;
    if (previousState === undefined) throw new Error('no running state');
    this.active = revision;
    try {
      const text = this.readState(revision);
      if (text === undefined) return false;
      const parsed = parseState(text, this.options.parseOptions());
      if (!parsed.ok) {
        log.error(`run ${revision}: ${parsed.reason}`);
        steps.writeProgress(revision, progress('WONTGO', 'State JSON has bad format', 100));
        return false;
      }
      const problems = await verifyRevisionObjects(this.options.layout, text, { hash: true });
      if (problems.missing.length > 0 || problems.corrupt.length > 0) {
        log.error(`run ${revision}: missing objects ${problems.missing.map((item) => item.key).join(', ') || '-'}; corrupt ${problems.corrupt.map((item) => item.key).join(', ') || '-'}`);
        steps.writeProgress(revision, progress('ERROR', 'Object validation went wrong', 100));
        return false;
      }
      await deployInstalledRevision(this.options.layout, revision);
      faultPoint('updater.deployed');
      const rebootLike = mode !== 'run' || needsReboot(previousState, parsed.state);
      steps.writeProgress(revision, progress('INPROGRESS', rebootLike ? 'Rebooting' : 'Transitioning to new revision without rebooting', 50));
      const env = readBootEnv(this.options.layout, previousRevision);
      writeBootEnv(this.options.layout, { done: env.done, trying: revision });
      setCurrentRevision(this.options.layout, revision);

      const failure = await this.switchAndTest(revision, parsed.state, previousState);
      if (failure === undefined) {
        faultPoint('updater.commit');
        const committed = becomesRollbackPoint(mode, rebootLike);
        steps.writeProgress(
          revision,
          committed ? progress('DONE', 'Update finished, revision set as rollback point', 100) : progress('UPDATED', 'Update finished, revision not set as rollback point', 100),
        );
        if (committed) steps.markDone(revision);
        // A try-once revision is forgotten at the next start; a run one stays, a commit is the new rollback point.
        writeBootEnv(this.options.layout, mode === 'try' ? { done: env.done, trying: revision, tryOnce: true } : { done: committed ? revision : env.done });
        this.options.deviceMeta.set('pantavisor.revision', revision);
        log.info(`revision ${revision} ${committed ? 'committed' : 'running (not a rollback point)'}`);
        return true;
      }
      log.error(`revision ${revision} failed: ${failure}; rolling back to ${previousRevision}`);
      faultPoint('updater.rollback');
      steps.writeProgress(revision, progress('ERROR', failure, 100));
      setCurrentRevision(this.options.layout, previousRevision);
      writeBootEnv(this.options.layout, { done: env.done });
      await this.switchAndTest(previousRevision, previousState, parsed.state);
      return false;
    } finally {
      this.active = undefined;
    }
  }

  private readState(revision: string): string | undefined {
    try {
      return this.options.steps.readState(revision);
    } catch {
      this.options.log.error(`run ${revision}: no state JSON`);
      if (this.options.steps.exists(revision)) this.options.steps.writeProgress(revision, progress('WONTGO', 'State JSON not found', 100));
      return undefined;
    }
  }

  /** Returns why the new revision is not good, or undefined when it is. */
  private async switchAndTest(revision: string, state: State, previous: State): Promise<string | undefined> {
    const runtime = this.options.runtime();
    if (runtime === undefined) {
      this.options.system.load(revision, state);
      return state.platforms.length > 0 ? CONTAINER_FAILED : undefined;
    }
    this.options.steps.writeProgress(revision, progress('TESTING', 'Awaiting to see if update is stable', 75));
    const late = await runtime.switchRevision(revision, state, previous);
    const names = state.platforms.map((platform) => platform.name);
    const deadline = Date.now() + this.options.commitDelay() * 1000;
    for (;;) {
      // failedSince throws once the daemon stops; a goal timeout is a verdict before that.
      const failed = late.length > 0 ? 0 : runtime.failedSince(names).length;
      const verdict = testVerdict({ goalTimeouts: late.length, failed, now: Date.now(), deadline });
      if (verdict.kind === 'roll-back') return verdict.reason;
      if (verdict.kind === 'commit') return undefined;
      // A failure is a status change: sleep until one comes or the commit delay is over.
      await runtime.nextStatusChange(deadline);
    }
  }
}

/**
 * A change to a `system` container, the BSP, or anything outside container folders needs a
 * reboot transition on a real device (spec §6.3); container-only changes are applied live.
 */
export function needsReboot(previous: State, next: State): boolean {
  const containerDirs = new Map<string, string>();
  for (const platform of [...previous.platforms, ...next.platforms]) containerDirs.set(platform.dir, platform.restartPolicy);
  const keys = new Set([...Object.keys(previous.json), ...Object.keys(next.json)]);
  for (const key of keys) {
    if (key === '#spec') continue;
    if (JSON.stringify(previous.json[key]) === JSON.stringify(next.json[key])) continue;
    const dir = key.split('/')[0] ?? '';
    const policy = containerDirs.get(dir);
    if (policy !== 'container') return true;
  }
  return false;
}
