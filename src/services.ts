/**
 * What the API handlers may use: domain objects only, no HTTP types. Built once by
 * src/daemon.ts (the only place that wires layers together); tests can build one around a
 * temp storage.
 *
 * Neutral ground between the layers: the server never sees this type (it passes an opaque
 * services object to handlers), and the runtime does not import it — its classes satisfy the
 * narrow interfaces below by shape, which the assignment in src/daemon.ts checks at compile time.
 */
import type { StorageLayout } from './storage/layout.ts';
import type { ObjectStore } from './storage/objects.ts';
import type { StepStore, StateVerdict } from './storage/steps.ts';
import type { MetadataStore } from './storage/metadata.ts';
import type { GcReport } from './storage/gc.ts';
import type { RunningSystem } from './runtime/running-system.ts';
import type { PvConfig } from './config/index.ts';
import type { Logger } from './log.ts';
import type { CommandQueue } from './runtime/commands.ts';
import type { DaemonView } from './runtime/daemons.ts';
import type { EventBus } from './events/index.ts';
import type { PvCtrlMetrics } from './metrics/pvctrl.ts';

export type { DaemonView };

export interface DriverManager {
  status(alias: string): 'LOADED' | 'UNLOADED' | 'UNKNOWN';
  /** Load or unload the aliases in order; false when any module failed. */
  apply(action: 'load' | 'unload', aliases: readonly string[]): Promise<boolean>;
}

export interface DaemonControl {
  list(): DaemonView[];
  has(name: string): boolean;
  control(name: string, action: 'start' | 'stop' | 'restart'): Promise<void>;
}

export interface Services {
  readonly layout: StorageLayout;
  readonly config: PvConfig;
  readonly objects: ObjectStore;
  readonly steps: StepStore;
  readonly userMeta: MetadataStore;
  readonly deviceMeta: MetadataStore;
  readonly system: RunningSystem;
  readonly drivers: DriverManager;
  readonly daemons: DaemonControl;
  readonly commands: CommandQueue;
  /** The event stream (GET /events) and where every change is published. */
  readonly events: EventBus;
  /** GET /metrics, and what handlers count (object uploads). */
  readonly metrics: PvCtrlMetrics;
  readonly buildInfo: string;
  readonly log: Logger;
  /** Validate a state JSON the way `PUT /steps/locals/{}` must (spec §6.5). */
  verifyState(text: string): StateVerdict;
  collectGarbage(): GcReport;
  /** Bytes an upload may still use (spec §11.1). */
  realFree(): number;
}
