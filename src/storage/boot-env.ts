/**
 * What the bootloader environment records on a real device: the last committed revision (the
 * rollback point) and the revision being tried. On an appengine it is a small durable file in
 * the storage's boot folder; a try still recorded at start-up means the daemon died testing it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurable } from './durable.ts';
import type { StorageLayout } from './layout.ts';

export interface BootEnv {
  /** Last revision set as rollback point. */
  done: string;
  /** Revision under test, if any. */
  trying?: string;
  /** The try is a TRY_ONCE that passed: at the next start it just ends (no error). */
  tryOnce?: boolean;
}

const FILE = 'pvctrl-boot.json';

export function readBootEnv(layout: StorageLayout, fallback: string): BootEnv {
  try {
    const parsed = JSON.parse(readFileSync(join(layout.boot, FILE), 'utf8')) as Partial<BootEnv>;
    return {
      done: typeof parsed.done === 'string' ? parsed.done : fallback,
      ...(typeof parsed.trying === 'string' ? { trying: parsed.trying } : {}),
      ...(parsed.tryOnce === true ? { tryOnce: true } : {}),
    };
  } catch {
    return { done: fallback };
  }
}

export function writeBootEnv(layout: StorageLayout, env: BootEnv): void {
  writeFileDurable(join(layout.boot, FILE), JSON.stringify(env), undefined, 'bootenv.write');
}
