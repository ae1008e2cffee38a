/**
 * A scripted stand-in for pv-ctrl on a temporary Unix socket: records every request
 * (method, path, headers, body bytes) and answers with canned responses, including broken
 * ones (no answer, truncated body, answer before the upload finished). Also runs the real
 * `bin/pvcontrol` as a subprocess against it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RecordedRequest {
  method: string;
  /** Request target exactly as sent (not decoded). */
  path: string;
  httpVersion: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Name/value pairs in wire order and spelling. */
  rawHeaders: string[];
  body: Buffer;
  bodySha256: string;
  /** True when the response was sent before the body was read (body then not recorded). */
  answeredEarly: boolean;
}

export interface ScriptedResponse {
  status: number;
  /** Default `Content-Type: application/json`, overridable. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Streams this file as the body (with its size as Content-Length). */
  file?: string;
  /** Close the connection without any response. */
  drop?: boolean;
  /** Announce the full body length but close after this many body bytes. */
  truncateAfter?: number;
  /** Answer as soon as the headers arrived, without reading the request body first. */
  early?: boolean;
  delayMs?: number;
}

export type Responder = (request: RecordedRequest) => ScriptedResponse | Promise<ScriptedResponse>;

export interface FakeServer {
  readonly socketPath: string;
  /** Temporary directory holding the socket; removed by close(). */
  readonly dir: string;
  readonly requests: RecordedRequest[];
  /**
   * Scripts replies for `"<METHOD> <path>"`. Several responses are used in turn; the last
   * one repeats.
   */
  route(key: string, ...responses: ScriptedResponse[]): void;
  /** Reply for requests without a route (default: 200 with an empty body). */
  fallback(responder: Responder): void;
  /** Forgets recorded requests and routes. */
  reset(): void;
  close(): Promise<void>;
}

export const OK_EMPTY: ScriptedResponse = { status: 200 };

/** A scripted response whose body is known text (handy for asserting what a client printed). */
export interface TextResponse extends ScriptedResponse {
  body: string;
  headers: Record<string, string>;
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): TextResponse {
  return { status, body: JSON.stringify(value), headers };
}

/** The legacy error body, byte for byte (`{"Error":"<message>"}`). */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): TextResponse {
  return { status, body: `{"Error":"${message}"}`, headers };
}

function headerMap(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    out[name] = name in out ? `${out[name]}, ${raw[i + 1] as string}` : (raw[i + 1] as string);
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise<Buffer>((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => done(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function reply(res: ServerResponse, scripted: ScriptedResponse): Promise<void> {
  if (scripted.delayMs) await sleep(scripted.delayMs);
  if (scripted.drop) {
    res.socket?.destroy();
    return;
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...scripted.headers };
  if (scripted.file !== undefined) {
    const size = statSync(scripted.file).size;
    res.writeHead(scripted.status, { ...headers, 'Content-Length': String(size) });
    await new Promise<void>((done, fail) => {
      createReadStream(scripted.file as string)
        .on('error', fail)
        .pipe(res)
        .on('finish', () => done());
    });
    return;
  }
  const body = scripted.body === undefined ? Buffer.alloc(0) : Buffer.from(scripted.body);
  if (scripted.truncateAfter !== undefined) {
    res.writeHead(scripted.status, { ...headers, 'Content-Length': String(body.length) });
    res.write(body.subarray(0, scripted.truncateAfter));
    await sleep(20);
    res.socket?.destroy();
    return;
  }
  res.writeHead(scripted.status, { ...headers, 'Content-Length': String(body.length) });
  res.end(body);
}

export async function startFakeServer(): Promise<FakeServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pvfake-'));
  const socketPath = join(dir, 'pv-ctrl');
  const requests: RecordedRequest[] = [];
  let routes = new Map<string, ScriptedResponse[]>();
  let fallbackResponder: Responder = () => OK_EMPTY;

  const pick = (key: string): ScriptedResponse | undefined => {
    const queue = routes.get(key);
    if (!queue || queue.length === 0) return undefined;
    return queue.length > 1 ? queue.shift() : queue[0];
  };

  const server: Server = createServer((req, res) => {
    const base = {
      method: req.method ?? '',
      path: req.url ?? '',
      httpVersion: req.httpVersion,
      headers: headerMap(req.rawHeaders),
      rawHeaders: [...req.rawHeaders],
    };
    const key = `${base.method} ${base.path.split('?')[0] ?? ''}`;
    const scripted = pick(key);
    const handle = async (): Promise<void> => {
      if (scripted?.early) {
        const recorded: RecordedRequest = { ...base, body: Buffer.alloc(0), bodySha256: '', answeredEarly: true };
        requests.push(recorded);
        await reply(res, scripted);
        req.resume();
        return;
      }
      const body = await readBody(req);
      const recorded: RecordedRequest = {
        ...base,
        body,
        bodySha256: createHash('sha256').update(body).digest('hex'),
        answeredEarly: false,
      };
      requests.push(recorded);
      await reply(res, scripted ?? (await fallbackResponder(recorded)));
    };
    handle().catch(() => res.socket?.destroy());
  });

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(socketPath, () => done());
  });

  return {
    socketPath,
    dir,
    requests,
    route(key, ...responses) {
      routes.set(key, [...responses]);
    },
    fallback(responder) {
      fallbackResponder = responder;
    },
    reset() {
      requests.length = 0;
      routes = new Map();
      fallbackResponder = () => OK_EMPTY;
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          done();
        });
        server.closeAllConnections?.();
      }),
  };
}

// --- running the CLI ---------------------------------------------------------------------

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PVCONTROL_BIN = join(REPO_ROOT, 'bin', 'pvcontrol');

export interface CliRun {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
  /** stdout/stderr decoded as UTF-8, for assertions on text. */
  out: string;
  err: string;
}

export interface CliRunOptions {
  /** Bytes fed to stdin (stdin is closed immediately when omitted). */
  stdin?: string | Uint8Array;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Runs `bin/pvcontrol <args>` as a real process. $PVCTRL_SOCKET and $PVTEST_EXEC are
 * removed from the inherited environment so the caller's shell cannot leak into a test.
 */
export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== 'PVCTRL_SOCKET' && name !== 'PVTEST_EXEC') env[name] = value;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return new Promise<CliRun>((done, fail) => {
    const child = spawn(PVCONTROL_BIN, [...args], { cwd: options.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', fail);
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      done({
        code: code ?? (signal ? 128 : -1),
        stdout,
        stderr,
        out: stdout.toString('utf8'),
        err: stderr.toString('utf8'),
      });
    });
  });
}

/**
 * The fixture every CLI test file uses: one fake server for the file, reset before each test,
 * closed (and `work` removed) at the end. Call at the top level of a tap test file.
 */
export function useFakeServer(tap: { before(fn: () => Promise<void>): void; teardown(fn: () => Promise<void>): void; beforeEach(fn: () => void): void }, workPrefix: string): { server: () => FakeServer; work: string } {
  const work = mkdtempSync(join(tmpdir(), workPrefix));
  let server: FakeServer | undefined;
  tap.before(async () => {
    server = await startFakeServer();
  });
  tap.teardown(async () => {
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });
  tap.beforeEach(() => server?.reset());
  return {
    server: () => {
      if (server === undefined) throw new Error('fake server not started yet');
      return server;
    },
    work,
  };
}
