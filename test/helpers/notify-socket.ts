/**
 * A `NOTIFY_SOCKET` for tests, played by socat (Bun and Node cannot bind an AF_UNIX datagram
 * socket): every datagram the daemon sends arrives as one message, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** socat -v writes each datagram it receives to stderr behind a header that gives its length. */
const HEADER = /> \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d+ +length=(\d+) from=\d+ to=\d+\n/y;

export interface NotifyReceiver {
  /** `/path` or `@name`, as NOTIFY_SOCKET takes it. */
  readonly address: string;
  /** Every message so far, in arrival order. */
  messages(): string[];
  /** Resolves with the index of the first message at or after `from` that satisfies `test`; rejects after `timeoutMs`. */
  waitFor(test: (message: string) => boolean, timeoutMs: number, from?: number): Promise<number>;
  close(): void;
}

/** Listen on a filesystem path (`/…`) or an abstract name (`@…`); resolves once it is bound. */
export async function startNotifyReceiver(address: string, timeoutMs = 5_000): Promise<NotifyReceiver> {
  const socatAddress = address.startsWith('@') ? `ABSTRACT-RECV:${address.slice(1)}` : `UNIX-RECV:${address}`;
  const child: ChildProcess = spawn('socat', ['-u', '-v', socatAddress, 'STDOUT'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const received: string[] = [];
  let pending = '';
  let failure: Error | undefined;
  child.on('error', (error) => (failure = error));
  child.stderr?.setEncoding('latin1');
  child.stderr?.on('data', (chunk: string) => {
    pending += chunk;
    for (;;) {
      HEADER.lastIndex = 0;
      const header = HEADER.exec(pending);
      if (header === null) break;
      const length = Number(header[1]);
      const start = header[0].length;
      if (pending.length < start + length) break;
      received.push(pending.slice(start, start + length));
      pending = pending.slice(start + length);
    }
  });
  const until = async (condition: () => boolean, waitMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + waitMs;
    while (!condition()) {
      if (failure !== undefined) throw failure;
      if (child.exitCode !== null) throw new Error(`socat exited (${child.exitCode}) while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${waitMs} ms waiting for ${what}; received: ${JSON.stringify(received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  // The kernel lists bound Unix sockets, abstract ones (which leave no file) included, with '@'.
  await until(() => readFileSync('/proc/net/unix', 'utf8').split('\n').some((line) => line.endsWith(` ${address}`)), timeoutMs, `socat to bind ${address}`);
  return {
    address,
    messages: () => [...received],
    waitFor: async (test, waitMs, from = 0) => {
      let found = -1;
      await until(
        () => {
          found = received.findIndex((message, index) => index >= from && test(message));
          return found >= 0;
        },
        waitMs,
        'a notify message',
      );
      return found;
    },
    close: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
