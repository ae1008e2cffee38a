/**
 * Device and user metadata (spec §10): one file per key in a persistent folder, kept in memory
 * for listing, plus per-container projections in the run dir for keys named `<container>.<subkey>`.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_PREFIX, fsyncDirectory, writeFileAtomic, writeFileDurable } from './durable.ts';
import { escapeLikeReference } from './steps.ts';
import { faultPoint } from './fault-points.ts';
import { NO_EVENTS, type EventPublisher } from '../events/index.ts';

export const META_VALUE_LIMIT = 4096;
/** Values above this many bytes are published by key and size only (GET /events `meta`). */
export const META_EVENT_VALUE_LIMIT = 1024;
const KEY_LIMIT = 255;

export type MetaKind = 'user-meta' | 'device-meta';

/** A key must stay inside its folder: no slash, no dot names, no control characters. */
export function isValidMetaKey(key: string): boolean {
  return (
    key.length > 0 &&
    Buffer.byteLength(key) <= KEY_LIMIT &&
    key !== '.' &&
    key !== '..' &&
    !key.startsWith(TEMP_PREFIX) &&
    !/[/\u0000-\u001f\u007f]/.test(key)
  );
}

export interface MetaChange {
  key: string;
  value: string | undefined;
}

export class MetadataStore {
  private readonly entries = new Map<string, string>();

  constructor(
    readonly kind: MetaKind,
    /** Persistent folder (e.g. `<storage>/cache/meta`). */
    private readonly directory: string,
    /** Run dir, where `<kind>.<container>/<subkey>` projections live. */
    private readonly runDir: string,
    private readonly onChange: (change: MetaChange) => void = () => {},
    private readonly events: EventPublisher = NO_EVENTS,
  ) {}

  /** Load the persisted keys back (spec §10.2: files up to 4096 bytes). */
  load(): void {
    for (const name of readdirSync(this.directory).sort()) {
      if (!isValidMetaKey(name)) continue;
      const path = join(this.directory, name);
      try {
        const stats = statSync(path);
        if (!stats.isFile() || stats.size > META_VALUE_LIMIT) continue;
        const value = readFileSync(path, 'utf8');
        this.entries.set(name, value);
        this.project(name, value);
        this.onChange({ key: name, value });
      } catch {
        // unreadable entries are skipped, as the reference does
      }
    }
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Returns false when the value was already the same (still a success for the API). */
  set(key: string, value: string): boolean {
    if (!isValidMetaKey(key)) throw new Error(`invalid ${this.kind} key`);
    if (this.entries.get(key) === value) return false;
    writeFileDurable(join(this.directory, key), value, undefined, 'metadata.set');
    this.entries.set(key, value);
    this.project(key, value);
    this.onChange({ key, value });
    const size = Buffer.byteLength(value);
    this.events.publish({ meta: { store: this.kind, key, action: 'set', size, ...(size <= META_EVENT_VALUE_LIMIT ? { value } : {}) } });
    return true;
  }

  /** Returns false when the key did not exist. */
  delete(key: string): boolean {
    if (!this.entries.has(key)) return false;
    rmSync(join(this.directory, key), { force: true });
    faultPoint('metadata.delete:unlinked');
    fsyncDirectory(this.directory);
    this.entries.delete(key);
    const projection = this.projectionPath(key);
    if (projection !== undefined) rmSync(projection.file, { force: true });
    this.onChange({ key, value: undefined });
    this.events.publish({ meta: { store: this.kind, key, action: 'deleted' } });
    return true;
  }

  /**
   * `GET /user-meta` text (spec §10.3): JSON objects and arrays are embedded as they are, every
   * other value becomes a string; empty values are skipped. Keys are escaped (the reference
   * inserted them raw).
   */
  listingJson(): string {
    const parts: string[] = [];
    for (const [key, value] of this.entries) {
      if (value === '') continue;
      parts.push(`${JSON.stringify(key)}:${encodeMetaValue(value)}`);
    }
    return `{${parts.join(',')}}`;
  }

  private projectionPath(key: string): { directory: string; file: string } | undefined {
    const dot = key.indexOf('.');
    if (dot <= 0 || dot === key.length - 1) return undefined;
    const directory = join(this.runDir, `${this.kind}.${key.slice(0, dot)}`);
    return { directory, file: join(directory, key.slice(dot + 1)) };
  }

  private project(key: string, value: string): void {
    const projection = this.projectionPath(key);
    if (projection === undefined) return;
    try {
      mkdirSync(projection.directory, { recursive: true, mode: 0o755 });
      // Atomic, not durable: the run dir does not outlive a boot. Two fsyncs per key made a
      // restart spend about 30 ms here before the socket answered (docs/footprint.md).
      writeFileAtomic(projection.file, value);
    } catch {
      // projections are a convenience view in the run dir; the canonical file is already safe
    }
  }
}

export function encodeMetaValue(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      JSON.parse(trimmed);
      return trimmed;
    } catch {
      // not JSON after all: fall through to a string
    }
  }
  return `"${escapeLikeReference(value)}"`;
}
