/** Raw clients for the HTTP edge tests: half-closing writes, connection bursts, daemon RSS. */
import { createConnection, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';

/** Write `request`, shut down the write side (what `nc -N` and pvcurl do), read until closed. */
export function halfCloseExchange(socketPath: string, request: string | Buffer, timeoutMs = 5_000, halfClose = true): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: socketPath, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('connect', () => (halfClose ? socket.end(request) : socket.write(request)));
    // The server ended its side: a client that did not half-close ends now, as curl does.
    socket.on('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

/** Status lines of every answer in a raw byte stream, in order. */
export function statusLines(raw: string): string[] {
  return raw.match(/HTTP\/1\.[01] \d{3} [^\r]*/g) ?? [];
}

/**
 * Open a connection, retrying a connect the kernel refuses because the listen backlog is full
 * (a burst of a thousand connects can outrun accept while the daemon collects garbage); at most
 * `attempts` tries, 20 ms apart. Other failures are not retried.
 */
export async function openConnection(socketPath: string, timeoutMs = 5_000, attempts = 50): Promise<Socket> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(socketPath, timeoutMs);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || (code !== 'ECONNREFUSED' && code !== 'EAGAIN')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function connectOnce(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const timer = setTimeout(() => reject(new Error('connect timed out')), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Resolves when the socket closes, with what it received; false-y data after `timeoutMs`. */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<{ closed: boolean; received: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    if (socket.destroyed) {
      resolve({ closed: true, received: '' });
      return;
    }
    const timer = setTimeout(() => resolve({ closed: false, received: Buffer.concat(chunks).toString('latin1') }), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received: Buffer.concat(chunks).toString('latin1') });
    });
  });
}

/** Resident set size of a process, MiB. */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/** Poll `probe` until it returns true or `timeoutMs` passes; returns the last outcome. */
export async function pollUntil(probe: () => boolean, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (probe()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Send each payload on its own connection (half-closed), `parallel` at a time. */
export async function burst(socketPath: string, payloads: readonly string[], parallel = 50): Promise<string[]> {
  const answers: string[] = [];
  for (let index = 0; index < payloads.length; index += parallel) {
    const slice = payloads.slice(index, index + parallel);
    answers.push(...(await Promise.all(slice.map((payload) => halfCloseExchange(socketPath, payload)))));
  }
  return answers;
}
