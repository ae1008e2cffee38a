/**
 * Typed facade over the two native addons (native/src/*.cpp), each loaded lazily on first use so
 * that code paths which never need one (the JS ingest, most unit tests) work on a checkout where
 * it is not built:
 * - pvctrl_native.node, the core: what the daemon needs before its first answer (peer
 *   credentials, systemd notify, the stream writer) and the libc-only pidfd watch and image
 *   page-out. Its dlopen maps no library beyond libc.
 * - pvctrl_native_lazy.node: the SHA-256 ingests (libcrypto), LXC (liblxc and its chain) and kmod
 *   (libkmod), loaded by the first upload, container or driver operation, after the socket
 *   answers (docs/footprint.md "Start-up": those libraries took about 7 ms of every start).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AddonName = 'core' | 'lazy';

/** The file of each addon; both builds and dist/<target>/ put them side by side. */
export const ADDON_FILES: Readonly<Record<AddonName, string>> = {
  core: 'pvctrl_native.node',
  lazy: 'pvctrl_native_lazy.node',
};
/** The core addon's file name (the one a caller overrides with NATIVE_ADDON_ENV). */
export const NATIVE_ADDON_FILE = ADDON_FILES.core;
/**
 * Path of the core addon. The lazy addon is then looked for next to it first, so one variable
 * moves both (the Yocto launcher points it at /usr/lib/pv-ctrl/pvctrl_native.node).
 */
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

/** The core addon's own exports, which this file wraps. */
export interface CoreAddon {
  peerCredentials(fd: number): PeerCredentials;
  closeFd(fd: number): void;
  readProcessCgroup(pid: number): string;
  pidfdAlive(pidfd: number): boolean;
}

/** The lazy addon's ingest exports, which this file wraps. */
export interface IngestAddon {
  NativeIngest: new (path: string, options?: NativeIngestOptions) => NativeIngestHandle;
  sha256File(path: string): Promise<string>;
  FdIngest: new (path: string, options?: FdIngestOptions) => FdIngestHandle;
}

/**
 * Every export, by the facade that relies on it: this file (credentials, ingest), ./lxc.ts,
 * ./kmod.ts, ./pidfd.ts, ./systemd.ts, ./memory.ts and ./stream-writer.ts. Each facade checks
 * only its own through concernExports(), so a build without the liblxc or libkmod part fails only
 * for the code that needs it; the gyp build test and scripts/build-targets.ts check the whole
 * list (missingAddonExports()).
 */
export const ADDON_EXPORTS = {
  credentials: ['peerCredentials', 'closeFd', 'readProcessCgroup', 'pidfdAlive'],
  pidfd: ['PidfdWatcher'],
  systemd: ['sdNotify', 'listenSocketPath', 'unsetEnv'],
  memory: ['pageOutImage'],
  streams: ['StreamWriter'],
  ingest: ['NativeIngest', 'sha256File', 'FdIngest'],
  lxc: ['LxcContainer', 'lxcVersion', 'lxcConfigItemSupported'],
  kmod: ['kmodResolve', 'kmodPlan', 'kmodInsert', 'kmodRemove'],
} as const;

export type AddonConcern = keyof typeof ADDON_EXPORTS;
type ExportOf<C extends AddonConcern> = (typeof ADDON_EXPORTS)[C][number];

/** Which addon carries each concern (native/src/addon_core.cpp, native/src/addon_lazy.cpp). */
export const CONCERN_ADDON: Readonly<Record<AddonConcern, AddonName>> = {
  credentials: 'core',
  pidfd: 'core',
  systemd: 'core',
  memory: 'core',
  streams: 'core',
  ingest: 'lazy',
  lxc: 'lazy',
  kmod: 'lazy',
};

/** The concerns `addon` carries. */
export function addonConcerns(addon: AddonName): AddonConcern[] {
  return (Object.keys(CONCERN_ADDON) as AddonConcern[]).filter((concern) => CONCERN_ADDON[concern] === addon);
}

/** Names of `concerns`' exports that `value` lacks as functions (classes are functions too). */
export function missingAddonExports(value: unknown, concerns: readonly AddonConcern[] = Object.keys(ADDON_EXPORTS) as AddonConcern[]): string[] {
  const record: Record<string, unknown> = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return concerns.flatMap((concern) => ADDON_EXPORTS[concern].filter((name) => typeof record[name] !== 'function'));
}

/**
 * `value` (default: the addon carrying `concern`, loaded on this first use) as the facade of
 * `concern` types it, once its exports are all there; otherwise an Error naming the missing ones.
 * `Shape` must declare every listed name.
 */
export function concernExports<C extends AddonConcern, Shape extends Record<ExportOf<C>, unknown>>(
  concern: C,
  value: unknown = addonExports(CONCERN_ADDON[concern]),
): Shape {
  const missing = missingAddonExports(value, [concern]);
  if (missing.length > 0) {
    throw new Error(`native addon lacks the ${concern} exports ${missing.join(', ')} (stale build? rebuild with: bash scripts/build-native.sh)`);
  }
  return value as Shape;
}

/**
 * Where `addon` is looked for, in order: for the core, `$PVCTRL_NATIVE_ADDON`; for the lazy one,
 * the same folder. Then next to the executable (compiled single-file executables ship the addons
 * there), then the repo's cmake-js build.
 */
export function addonCandidates(env: Readonly<Record<string, string | undefined>> = process.env, addon: AddonName = 'core'): string[] {
  const file = ADDON_FILES[addon];
  const candidates: string[] = [];
  const override = env[NATIVE_ADDON_ENV];
  if (override !== undefined && override !== '') candidates.push(addon === 'core' ? override : join(dirname(override), file));
  candidates.push(join(dirname(process.execPath), file));
  candidates.push(fileURLToPath(new URL(`../../native/build/Release/${file}`, import.meta.url)));
  return candidates;
}

/** dlopen one file; returns its exports (an object) or throws with the reason. */
export function loadAddonFrom(path: string): Record<string, unknown> {
  const module: { exports: unknown } = { exports: {} };
  process.dlopen(module, path);
  if (typeof module.exports !== 'object' || module.exports === null) throw new Error(`${path} exports no object`);
  return module.exports as Record<string, unknown>;
}

const loaded = new Map<AddonName, { exports: Record<string, unknown>; path: string }>();

/** Load (once) and return `addon`'s exports, or throw naming every path tried and why it failed. */
export function addonExports(addon: AddonName): Record<string, unknown> {
  const done = loaded.get(addon);
  if (done !== undefined) return done.exports;
  const failures: string[] = [];
  for (const path of addonCandidates(process.env, addon)) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    try {
      const exports = loadAddonFrom(path);
      loaded.set(addon, { exports, path });
      return exports;
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(
    `cannot load native addon ${ADDON_FILES[addon]} (build it with: bash scripts/build-native.sh); tried:\n  ${failures.join('\n  ')}`,
  );
}

let coreAddon: CoreAddon | undefined;

/** The core addon's credential exports (loading it on first use; checked once, read at every accept). */
export function nativeAddon(): CoreAddon {
  coreAddon ??= concernExports<'credentials', CoreAddon>('credentials');
  return coreAddon;
}

/** Path `addon` was loaded from, or undefined if it is not loaded yet. */
export function nativeAddonPath(addon: AddonName = 'core'): string | undefined {
  return loaded.get(addon)?.path;
}

/** The first candidate file of `addon` that exists, without loading it; never throws. */
export function findAddon(addon: AddonName, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  return nativeAddonPath(addon) ?? addonCandidates(env, addon).find((path) => existsSync(path));
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
 * The text of /proc/<pid>/cgroup, read with plain syscalls (caller identification reads it on
 * every request; readFileSync costs about twice as much). Throws with the errno's code (ENOENT
 * once the process is gone).
 */
export function readProcessCgroup(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 0) throw new TypeError('readProcessCgroup: pid must be a positive integer');
  return nativeAddon().readProcessCgroup(pid);
}

/**
 * Whether the process behind a pidfd has not been reaped yet (a signal 0 through it). Checked
 * after reading /proc/<pid>/... by the SO_PEERCRED pid: while it holds, that pid cannot have
 * been recycled, so what was read is the caller's.
 */
export function pidfdAlive(pidfd: number): boolean {
  if (!Number.isInteger(pidfd) || pidfd < 0) throw new TypeError('pidfdAlive: pidfd must be a non-negative integer');
  return nativeAddon().pidfdAlive(pidfd);
}

const ingestAddon = (): IngestAddon => concernExports<'ingest', IngestAddon>('ingest');

export function createNativeIngest(path: string, options?: NativeIngestOptions): NativeIngestHandle {
  const { NativeIngest } = ingestAddon();
  return options === undefined ? new NativeIngest(path) : new NativeIngest(path, options);
}

/** O_CREAT|O_EXCL temp file for a body read straight from a connection fd (see FdIngestHandle). */
export function createFdIngest(path: string, options?: FdIngestOptions): FdIngestHandle {
  const { FdIngest } = ingestAddon();
  return options === undefined ? new FdIngest(path) : new FdIngest(path, options);
}

/** SHA-256 of a file, read and hashed on the thread pool. */
export function nativeSha256File(path: string): Promise<string> {
  return ingestAddon().sha256File(path);
}
