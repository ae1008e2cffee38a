/**
 * Typed facade over the pvctrl_native addon (native/src/*.cpp).
 *
 * The addon is loaded lazily on first use so that code paths which never need
 * it (the JS ingest, most unit tests) work on a checkout where it is not built.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NATIVE_ADDON_FILE = 'pvctrl_native.node';
export const NATIVE_ADDON_ENV = 'PVCTRL_NATIVE_ADDON';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
  /** pidfd pinned to the peer process (close it with closeFd), or -1 when the kernel cannot provide one. */
  pidfd: number;
}

export interface NativeIngestResult {
  sha256: string;
  size: number;
}

export interface NativeIngestOptions {
  /** write() returns a pending promise once this many bytes wait for the worker (default 2 MiB). */
  highWaterMark?: number;
  /** Bytes buffered before a thread-pool job is started, unless finishing (default 256 KiB). */
  batchBytes?: number;
  /** sync_file_range(WRITE) after each batch so finish()'s fsync has little left to do (default true). */
  earlyWriteback?: boolean;
}

/** The addon's NativeIngest instance; src/storage/ingest.ts adapts it to ObjectIngest. */
export interface NativeIngestHandle {
  /** undefined when the chunk was accepted and there is room for more; otherwise resolves on drain. */
  write(chunk: Uint8Array): Promise<void> | undefined;
  finish(): Promise<NativeIngestResult>;
  abort(): Promise<void>;
  /** Bytes copied in but not yet written (both buffers); for tests and diagnostics. */
  readonly bufferedBytes: number;
}

export interface FdIngestOptions {
  /** Size of each buffer between the reader and the writer thread (default 512 KiB). */
  bufferBytes?: number;
  /** Number of those buffers: memory per upload is bufferBytes × buffers (default 4). */
  buffers?: number;
  /** The run fails with ETIMEDOUT after this long without a body byte (default 60 000). */
  idleTimeoutMs?: number;
  /**
   * Bytes the upload may use; counted down per write and re-measured every 8 MiB as
   * statfs free − spaceReserve, like the JS path. Exceeding it fails with ENOSPC.
   * Without it only the file system's own ENOSPC stops the upload.
   */
  spaceBudget?: number;
  /** Bytes of free space that must stay free (the configured reserve); see spaceBudget. */
  spaceReserve?: number;
  /** sync_file_range(WRITE) after each buffer (default true). */
  earlyWriteback?: boolean;
}

/**
 * The addon's FdIngest instance (native/src/fd_ingest.cpp): hashes and writes a body read
 * straight from a connection fd, on two threads of its own.
 */
export interface FdIngestHandle {
  /**
   * Ingest `prefix`, then exactly `length` bytes read from `fd` (dup'ed; the caller keeps
   * its fd). Resolves after fsync + close. Rejects with code ECONNRESET when the peer
   * closes early, ETIMEDOUT when idle, ENOSPC/EDQUOT when out of space (only after the rest
   * of the body was drained, so the client can read the answer), ECANCELED after abort().
   */
  run(fd: number, prefix: Uint8Array, length: number): Promise<NativeIngestResult>;
  /** Stop a running read and unlink the temp file (also after success); idempotent. */
  abort(): Promise<void>;
  /** Body bytes taken in so far (prefix included); safe to poll while running. */
  readonly received: number;
}

export interface NativeAddon {
  peerCredentials(fd: number): PeerCredentials;
  closeFd(fd: number): void;
  NativeIngest: new (path: string, options?: NativeIngestOptions) => NativeIngestHandle;
  sha256File(path: string): Promise<string>;
  FdIngest: new (path: string, options?: FdIngestOptions) => FdIngestHandle;
}

/**
 * Every export of the addon, by the facade that relies on it: this file (core), ./lxc.ts,
 * ./kmod.ts, ./pidfd.ts, ./systemd.ts and ./stream-writer.ts. Each facade checks only its own through concernExports(), so a build without the
 * liblxc or libkmod part fails only for the code that needs it; the gyp build test and
 * scripts/build-targets.ts check the whole list (missingAddonExports()).
 */
export const ADDON_EXPORTS = {
  core: ['peerCredentials', 'closeFd', 'NativeIngest', 'sha256File', 'FdIngest'],
  lxc: ['LxcContainer', 'lxcVersion', 'lxcConfigItemSupported'],
  kmod: ['kmodResolve', 'kmodPlan', 'kmodInsert', 'kmodRemove'],
  pidfd: ['PidfdWatcher'],
  systemd: ['sdNotify', 'listenSocketPath', 'unsetEnv'],
  memory: ['pageOutImage'],
  streams: ['StreamWriter'],
} as const;

export type AddonConcern = keyof typeof ADDON_EXPORTS;
type ExportOf<C extends AddonConcern> = (typeof ADDON_EXPORTS)[C][number];

/** Names of `concerns`' exports that `value` lacks as functions (classes are functions too). */
export function missingAddonExports(value: unknown, concerns: readonly AddonConcern[] = Object.keys(ADDON_EXPORTS) as AddonConcern[]): string[] {
  const record: Record<string, unknown> = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return concerns.flatMap((concern) => ADDON_EXPORTS[concern].filter((name) => typeof record[name] !== 'function'));
}

/**
 * `value` (default: the loaded addon) as the facade of `concern` types it, once its exports are
 * all there; otherwise an Error naming the missing ones. `Shape` must declare every listed name.
 */
export function concernExports<C extends AddonConcern, Shape extends Record<ExportOf<C>, unknown>>(concern: C, value: unknown = nativeAddon()): Shape {
  const missing = missingAddonExports(value, [concern]);
  if (missing.length > 0) {
    throw new Error(`native addon lacks the ${concern} exports ${missing.join(', ')} (stale build? rebuild with: bash scripts/build-native.sh)`);
  }
  return value as Shape;
}

/** Where the addon is looked for, in order. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const candidates: string[] = [];
  const override = env[NATIVE_ADDON_ENV];
  if (override !== undefined && override !== '') candidates.push(override);
  // Compiled single-file executables ship the addon next to the binary.
  candidates.push(join(dirname(process.execPath), NATIVE_ADDON_FILE));
  candidates.push(fileURLToPath(new URL(`../../native/build/Release/${NATIVE_ADDON_FILE}`, import.meta.url)));
  return candidates;
}

/** dlopen one file; returns the exports or throws with the reason. */
export function loadAddonFrom(path: string): NativeAddon {
  const module: { exports: unknown } = { exports: {} };
  process.dlopen(module, path);
  return concernExports<'core', NativeAddon>('core', module.exports);
}

let loaded: { addon: NativeAddon; path: string } | undefined;

/** Load (once) and return the addon, or throw naming every path tried and why it failed. */
export function nativeAddon(): NativeAddon {
  if (loaded !== undefined) return loaded.addon;
  const failures: string[] = [];
  for (const path of addonCandidates()) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    try {
      loaded = { addon: loadAddonFrom(path), path };
      return loaded.addon;
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(
    `cannot load native addon ${NATIVE_ADDON_FILE} (build it with: bash scripts/build-native.sh); tried:\n  ${failures.join('\n  ')}`,
  );
}

/** Path the addon was loaded from, or undefined if not loaded yet. */
export function nativeAddonPath(): string | undefined {
  return loaded?.path;
}

/** True when the addon can be loaded; never throws. */
export function nativeAvailable(): boolean {
  try {
    nativeAddon();
    return true;
  } catch {
    return false;
  }
}

/** SO_PEERCRED + SO_PEERPIDFD of a connected Unix socket (under Bun: `socket._handle.fd`). */
export function peerCredentials(fd: number): PeerCredentials {
  return nativeAddon().peerCredentials(fd);
}

export function closeFd(fd: number): void {
  nativeAddon().closeFd(fd);
}

/**
 * The kernel's word on who is behind each connection, in the shape the listener takes
 * (src/server/http-server.ts PeerCredentialSource): read once at accept, pidfd closed with it.
 */
export const kernelPeerCredentials = {
  read: (fd: number): PeerCredentials => peerCredentials(fd),
  release(identity: PeerCredentials): void {
    if (identity.pidfd >= 0) closeFd(identity.pidfd);
  },
};

/**
 * Pid the kernel reports for a pidfd: the original pid while the process
 * lives, -1 once it has exited (0 if it lives in a pid namespace we cannot
 * see). Comparing this with the SO_PEERCRED pid after reading /proc/<pid>/...
 * proves the pid was not recycled in between.
 */
export function pidfdPid(pidfd: number): number {
  if (!Number.isInteger(pidfd) || pidfd < 0) throw new TypeError('pidfdPid: pidfd must be a non-negative integer');
  let text: string;
  try {
    text = readFileSync(`/proc/self/fdinfo/${pidfd}`, 'utf8');
  } catch (error) {
    throw new Error(`pidfdPid: fd ${pidfd} is not open`, { cause: error });
  }
  const match = /^Pid:\s*(-?\d+)\s*$/m.exec(text);
  if (match === null) throw new Error(`pidfdPid: fd ${pidfd} is not a pidfd`);
  return Number(match[1]);
}

export function createNativeIngest(path: string, options?: NativeIngestOptions): NativeIngestHandle {
  const { NativeIngest } = nativeAddon();
  return options === undefined ? new NativeIngest(path) : new NativeIngest(path, options);
}

/** O_CREAT|O_EXCL temp file for a body read straight from a connection fd (see FdIngestHandle). */
export function createFdIngest(path: string, options?: FdIngestOptions): FdIngestHandle {
  const { FdIngest } = nativeAddon();
  return options === undefined ? new FdIngest(path) : new FdIngest(path, options);
}

/** SHA-256 of a file, read and hashed on the thread pool. */
export function nativeSha256File(path: string): Promise<string> {
  return nativeAddon().sha256File(path);
}
