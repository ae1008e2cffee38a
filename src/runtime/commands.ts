/**
 * `POST /commands` (spec §8): admission into the single pending-command slot, then execution in
 * the background. Ops match exactly (the reference matched prefixes, quirk 24).
 */
import { PvError, badRequest, conflict, insufficientStorage, unavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { EventPublisher } from '../events/index.ts';
import type { MetadataStore } from '../storage/metadata.ts';
import type { StepStore } from '../storage/steps.ts';
import { isAddressableRevision } from '../storage/revisions.ts';
import { parseJsonObjectBody } from '../state/json-body.ts';
import type { RunMode, Updater } from './updater.ts';

export const COMMAND_OPS = [
  'UPDATE_METADATA',
  'REBOOT_DEVICE',
  'POWEROFF_DEVICE',
  'TRY_ONCE',
  'LOCAL_RUN',
  'MAKE_FACTORY',
  'RUN_GC',
  'ENABLE_SSH',
  'DISABLE_SSH',
  'GO_REMOTE',
  'DEFER_REBOOT',
  'LOCAL_RUN_COMMIT',
  'LOCAL_APPLY',
  'XCONNECT_GRAPH',
  'UNCLAIM',
] as const;
export type CommandOp = (typeof COMMAND_OPS)[number];

/** Ops we refuse as unsupported rather than accept and ignore (decision in docs/decisions.md). */
const UNSUPPORTED: ReadonlySet<CommandOp> = new Set(['LOCAL_APPLY', 'XCONNECT_GRAPH']);
/** Ops refused while an update is installing or testing (spec §8.2 rule 2). */
const BLOCKED_BY_UPDATE: ReadonlySet<CommandOp> = new Set(['REBOOT_DEVICE', 'POWEROFF_DEVICE', 'LOCAL_RUN', 'LOCAL_RUN_COMMIT', 'MAKE_FACTORY', 'UNCLAIM', 'TRY_ONCE']);

const BODY_LIMIT = 4096;
const BAD_FORMAT = 'Command has bad format';

export interface Command {
  op: CommandOp;
  payload: string;
}

export interface CommandEffects {
  log: Logger;
  updater: Updater;
  steps: StepStore;
  deviceMeta: MetadataStore;
  collectGarbage(): void;
  setSsh(enabled: boolean): Promise<void>;
  power(kind: 'reboot' | 'poweroff', message: string): Promise<void>;
  remoteAllowed(): boolean;
  debugShell(): boolean;
  /** Where `command` accepted/finished events go (GET /events). */
  events?: EventPublisher;
}

export function parseCommand(text: string): Command {
  const { op, payload } = parseJsonObjectBody(text, BAD_FORMAT);
  if (typeof op !== 'string' || !(COMMAND_OPS as readonly string[]).includes(op) || payload === undefined) throw badRequest(BAD_FORMAT);
  const payloadText = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return { op: op as CommandOp, payload: payloadText };
}

export class CommandQueue {
  private pending: Command | undefined;
  /** Mode is local: this daemon has no Hub connection, and remote mode is off by config. */
  private remote = false;

  constructor(private readonly effects: CommandEffects) {}

  static readonly bodyLimit = BODY_LIMIT;

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Admission (spec §8.2, in order); throws the refusal, or returns 'accepted' | 'no-content'. */
  submit(text: string): 'accepted' | 'no-content' {
    if (Buffer.byteLength(text) > BODY_LIMIT) throw insufficientStorage();
    const command = parseCommand(text);
    const { op } = command;
    if (UNSUPPORTED.has(op)) throw badRequest(BAD_FORMAT);
    if (op === 'UPDATE_METADATA' && !this.remote) throw conflict('Cannot do this operation while on local mode');
    if (this.effects.updater.active !== undefined && BLOCKED_BY_UPDATE.has(op)) {
      throw unavailable('Cannot do this operation while update is ongoing', 600);
    }
    if (op === 'GO_REMOTE' && !this.effects.remoteAllowed()) throw conflict('Cannot do this operation when remote mode is disabled by config');
    if (op === 'DEFER_REBOOT' && !this.effects.debugShell()) throw conflict('Cannot do this operation when debug shell is not active');
    if (op === 'GO_REMOTE' && this.remote) return 'no-content';
    // Without a Hub client the device is never claimed.
    if (op === 'UNCLAIM') return 'no-content';
    if ((op === 'LOCAL_RUN' || op === 'LOCAL_RUN_COMMIT' || op === 'TRY_ONCE') && !isAddressableRevision(command.payload)) {
      throw badRequest(BAD_FORMAT);
    }
    if (this.pending !== undefined) throw unavailable('A command is already in progress. Try again', 120);
    this.pending = command;
    this.effects.log.info(`command ${op} accepted${command.payload ? ` (payload ${JSON.stringify(command.payload)})` : ''}`);
    this.effects.events?.publish({ command: { op, action: 'accepted', ok: true } });
    setImmediate(() => void this.execute(command));
    return 'accepted';
  }

  private async execute(command: Command): Promise<void> {
    const { effects } = this;
    const release = (): void => {
      this.pending = undefined;
    };
    let failure: string | undefined;
    try {
      switch (command.op) {
        case 'RUN_GC':
          effects.collectGarbage();
          break;
        case 'ENABLE_SSH':
        case 'DISABLE_SSH':
          await effects.setSsh(command.op === 'ENABLE_SSH');
          break;
        case 'GO_REMOTE':
          this.remote = true;
          effects.deviceMeta.set('pantavisor.mode', 'remote');
          break;
        case 'DEFER_REBOOT':
          effects.log.info(`DEFER_REBOOT ${command.payload}: no reboot countdown is running`);
          break;
        case 'REBOOT_DEVICE':
        case 'POWEROFF_DEVICE':
          release();
          await effects.power(command.op === 'REBOOT_DEVICE' ? 'reboot' : 'poweroff', command.payload);
          return;
        case 'LOCAL_RUN':
        case 'LOCAL_RUN_COMMIT':
        case 'TRY_ONCE': {
          const mode: RunMode = command.op === 'LOCAL_RUN' ? 'run' : command.op === 'TRY_ONCE' ? 'try' : 'commit';
          // The slot frees once the update owns the work; the update itself blocks conflicting ops.
          const run = effects.updater.run(command.payload, mode);
          release();
          await run;
          return;
        }
        case 'MAKE_FACTORY': {
          const source = command.payload === '' ? (effects.steps.currentRevision() ?? '0') : command.payload;
          effects.steps.copyStateInto(source, '0');
          const run = effects.updater.run('0', 'commit');
          release();
          await run;
          return;
        }
        default:
          effects.log.warn(`command ${command.op} has nothing to do on this device`);
      }
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      effects.log.error(`command ${command.op} failed: ${error instanceof PvError ? error.message : ((error as Error).stack ?? String(error))}`);
    } finally {
      release();
      effects.events?.publish({ command: { op: command.op, action: 'finished', ok: failure === undefined, error: failure ?? '' } });
    }
  }
}
