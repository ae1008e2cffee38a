/**
 * Connecting to a provider's Unix socket.
 *
 * Why not `net.createConnection({ path })`: on Bun 1.4.4 a Unix connect whose peer writes and
 * closes at once (what the example server, and many one-shot services, do) mostly fails with
 * `ECONNRESET` and the data is lost: the connect is completed asynchronously, and by the time
 * the loop looks at the socket it is readable *and* hung up, which is taken for a failed
 * connect (measured: 42 of 50 attempts; `Bun.connect({ unix })` likewise). The accepting side
 * is not affected. A Unix connect never needs to wait for the network, so it is done here
 * with a non-blocking `connect(2)` through bun:ffi, which completes (or fails) in the call,
 * and the connected descriptor is handed to `net.connect({ fd })`, which then reads the
 * greeting and the EOF like any established stream (50 of 50).
 *
 * Where libc cannot be opened through FFI the plain path connect is used, race included.
 */
import { dlopen, FFIType, ptr, read } from 'bun:ffi';
import { connect, createConnection, type Socket } from 'node:net';
import { constants } from 'node:os';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** sizeof(struct sockaddr_un): sa_family_t + sun_path[108]. */
const SOCKADDR_UN_SIZE = 110;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, address: Uint8Array, length: number): number;
  close(fd: number): void;
  errno(): number;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  const symbols = {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  } as const;
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  for (const name of ['libc.so.6', `libc.musl-${arch}.so.1`, 'libc.so']) {
    try {
      const { symbols: fn } = dlopen(name, symbols);
      return {
        socket: (domain, type, protocol) => fn.socket(domain, type, protocol),
        connect: (fd, address, length) => fn.connect(fd, ptr(address), length),
        close: (fd) => void fn.close(fd),
        errno: () => {
          const location = fn.__errno_location();
          return location === null ? 0 : read.i32(location, 0);
        },
      };
    } catch {
      // Try the next name.
    }
  }
  return null;
}

function errnoError(errno: number, path: string): NodeJS.ErrnoException {
  const code = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0] ?? `errno ${errno}`;
  const error: NodeJS.ErrnoException = new Error(`connect ${code} ${path}`);
  error.code = code;
  error.errno = errno;
  return error;
}

/** A connected socket, or a synchronous throw with the errno (ENOENT, ECONNREFUSED, EAGAIN for a full backlog). */
export function connectUnix(path: string): Socket {
  if (libc === undefined) libc = loadLibc();
  if (libc === null) return createConnection({ path, allowHalfOpen: true });
  const address = new Uint8Array(SOCKADDR_UN_SIZE);
  const encoded = Buffer.from(path);
  if (encoded.length >= SOCKADDR_UN_SIZE - 2) throw errnoError(constants.errno.ENAMETOOLONG, path);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(encoded, 2);
  const fd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errnoError(libc.errno(), path);
  // Non-blocking: a provider that never accepts (full backlog) gives EAGAIN instead of
  // stalling every link in this process.
  if (libc.connect(fd, address, 2 + encoded.length + 1) < 0) {
    const errno = libc.errno();
    libc.close(fd);
    throw errnoError(errno, path);
  }
  // Node's typings require `path` for an IPC connect; Bun takes an established descriptor
  // through `fd` (documented with Bun.spawn's "socket-fd") and must not be given a path.
  return connect({ fd, allowHalfOpen: true } as unknown as Parameters<typeof connect>[0]);
}
