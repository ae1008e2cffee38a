/**
 * Helper processes (supervised daemons such as pv-xconnect, the debug SSH server) outlive a
 * pv-ctrl that is killed (SIGKILL, a crash, the OOM killer): nothing makes the kernel end them
 * with their parent. A restarted pv-ctrl would then start second copies beside them — a dropbear
 * that cannot bind its port and retries for ever, a second relay for every link.
 *
 * So each helper is recorded in the run dir while it runs (pid and the kernel's start time of
 * that pid, which tells a reused pid apart), and start-up ends whatever an earlier instance left
 * recorded before it starts its own. The run dir lives in tmpfs on a device: after a reboot
 * there is nothing to find, which is right, since nothing can have survived.
 *
 * This module is the only writer of `<runDir>/helpers/`.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { sleep } from './deadlines.ts';

/** What a record holds: enough to find the same process again, and nothing else. */
export interface HelperRecord {
  readonly name: string;
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): differs for a reused pid. */
  readonly startTime: string;
}

/** The live process behind a pid, as far as a sweep needs to know. */
export interface ProcessFacts {
  readonly startTime: string;
  /** A zombie has ended; only its parent's wait is missing. */
  readonly zombie: boolean;
}

/** Pure: the recorded helpers that are still the very processes we started (same pid, same start). */
export function survivingHelpers(records: readonly HelperRecord[], lookUp: (pid: number) => ProcessFacts | undefined): HelperRecord[] {
  return records.filter((record) => {
    const facts = lookUp(record.pid);
    return facts !== undefined && !facts.zombie && facts.startTime === record.startTime;
  });
}

/** Pure: parse /proc/<pid>/stat; the command name may hold spaces and parentheses, so cut at the last ')'. */
export function parseProcStat(text: string): ProcessFacts | undefined {
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  // Fields after the name start at field 3 (state); the start time is field 22.
  const fields = text.slice(end + 2).split(' ');
  const state = fields[0];
  const startTime = fields[22 - 3];
  if (state === undefined || startTime === undefined) return undefined;
  return { startTime, zombie: state === 'Z' || state === 'X' };
}

export function processFacts(pid: number): ProcessFacts | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** What supervisors tell the records; kept apart so they need no file system. */
export interface HelperRegistry {
  started(name: string, pid: number): void;
  ended(name: string, pid: number): void;
}

const RECORD_SUFFIX = '.json';

export class HelperRecords implements HelperRegistry {
  private readonly directory: string;

  constructor(
    runDir: string,
    private readonly log: Logger,
  ) {
    this.directory = join(runDir, 'helpers');
  }

  started(name: string, pid: number): void {
    const facts = processFacts(pid);
    if (facts === undefined) return;
    const record: HelperRecord = { name, pid, startTime: facts.startTime };
    try {
      mkdirSync(this.directory, { recursive: true });
      // Written whole then renamed: a sweep never reads half a record. No fsync: the run dir is
      // tmpfs on a device, and a record only matters until the next boot.
      const temp = join(this.directory, `.${name}.${pid}.tmp`);
      writeFileSync(temp, JSON.stringify(record));
      renameSync(temp, this.pathOf(name));
    } catch (error) {
      this.log.warn(`helper ${name} (pid ${pid}): cannot record it: ${(error as Error).message}`);
    }
  }

  ended(name: string, pid: number): void {
    const current = this.read(this.pathOf(name));
    // A newer run of the same helper may already have replaced this record.
    if (current !== undefined && current.pid !== pid) return;
    rmSync(this.pathOf(name), { force: true });
  }

  /**
   * Start-up: end every helper an earlier instance left running (SIGTERM to its process group,
   * SIGKILL after `graceMs`), then forget all records. Returns what was ended.
   */
  async sweep(graceMs = 2000): Promise<HelperRecord[]> {
    const records = this.readAll();
    const survivors = survivingHelpers(records, processFacts);
    for (const helper of survivors) {
      this.log.warn(`helper ${helper.name} (pid ${helper.pid}) survived an earlier pv-ctrl; ending it`);
      signalProcessGroup(helper.pid, 'SIGTERM');
    }
    const deadline = Date.now() + graceMs;
    while (survivingHelpers(survivors, processFacts).length > 0 && Date.now() < deadline) await sleep(50);
    for (const helper of survivingHelpers(survivors, processFacts)) {
      this.log.warn(`helper ${helper.name} (pid ${helper.pid}): no exit ${graceMs} ms after SIGTERM, sending SIGKILL`);
      signalProcessGroup(helper.pid, 'SIGKILL');
    }
    rmSync(this.directory, { recursive: true, force: true });
    return survivors;
  }

  private pathOf(name: string): string {
    return join(this.directory, `${encodeURIComponent(name)}${RECORD_SUFFIX}`);
  }

  private readAll(): HelperRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.directory);
    } catch {
      return [];
    }
    return names.filter((name) => name.endsWith(RECORD_SUFFIX)).flatMap((name) => this.read(join(this.directory, name)) ?? []);
  }

  private read(path: string): HelperRecord | undefined {
    try {
      const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<HelperRecord>;
      if (typeof value.name !== 'string' || typeof value.pid !== 'number' || typeof value.startTime !== 'string') return undefined;
      return { name: value.name, pid: value.pid, startTime: value.startTime };
    } catch {
      return undefined;
    }
  }
}

/**
 * Signal a helper and whatever it forked: helpers started detached lead their own process group.
 * Falls back to the process alone when it leads none.
 */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone in between: nothing to end.
    }
  }
}
