import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { ProgressStream } from './progress.ts';

/** Process streams, injectable so the CLI can also run in-process. */
export interface CliIo {
  stdout: Writable;
  stderr: ProgressStream;
  /** Opened lazily: touching process.stdin would keep a CLI waiting on a terminal. */
  stdin: () => Readable;
  env: Record<string, string | undefined>;
}

/** Writes and waits for the data to be accepted. A reader that went away is not an error. */
export function writeTo(stream: Writable, data: string | Uint8Array): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stream.destroyed || stream.writableEnded) return resolve();
    stream.write(data, () => resolve());
  });
}

/** The command's standard output: stdout itself, or the `-f` file. */
export interface Output {
  write(data: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export function stdoutOutput(stdout: Writable): Output {
  return {
    write: (data) => writeTo(stdout, data),
    close: async () => undefined,
  };
}

/** Opens (creating or truncating) the `-f` file, as `exec >file` did before the request. */
export function openFileOutput(path: string): Promise<Output> {
  return new Promise<Output>((resolve, reject) => {
    const file: WriteStream = createWriteStream(path);
    file.once('error', reject);
    file.once('open', () => {
      file.off('error', reject);
      let failure: unknown;
      file.on('error', (error: unknown) => {
        failure = error;
      });
      resolve({
        write: (data) =>
          new Promise<void>((done, fail) => {
            file.write(data, (error) => (error ? fail(error) : done()));
          }),
        close: () =>
          new Promise<void>((done, fail) => {
            if (failure !== undefined) return fail(failure);
            file.end(() => done());
          }),
      });
    });
  });
}

/**
 * The body followed by exactly one newline: the shell tool captured bodies with command
 * substitution (dropping trailing newlines) and printed them with echo.
 */
export function bodyLine(body: Uint8Array): Buffer {
  let end = body.byteLength;
  while (end > 0 && body[end - 1] === 0x0a) end--;
  return Buffer.concat([Buffer.from(body.buffer, body.byteOffset, end), Buffer.from('\n')]);
}
