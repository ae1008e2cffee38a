/** Byte-exact HTTP over the Unix socket, for tests that check what goes over the wire. */
import { createConnection } from 'node:net';
import { recordExchange } from './contract-recorder.ts';

export interface RawResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: string;
  /** Everything received, for tests on framing (keep-alive, 100-continue). */
  raw: string;
  closedWithoutAnswer: boolean;
}

/** Send `request` as is; read until the server closes or `idleMs` passes without data. */
export function rawExchange(socketPath: string, request: string | Buffer, idleMs = 400): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const chunks: Buffer[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    };
    socket.on('connect', () => {
      socket.write(request);
      arm();
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      arm();
    });
    socket.on('close', finish);
    socket.on('error', (error) => (chunks.length > 0 ? finish() : reject(error)));
  });
}

export function parseResponse(raw: string): RawResponse {
  if (raw === '') return { status: 0, reason: '', headers: {}, body: '', raw, closedWithoutAnswer: true };
  let text = raw;
  while (text.startsWith('HTTP/1.1 100 ')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const headerEnd = text.indexOf('\r\n\r\n');
  const head = text.slice(0, headerEnd).split('\r\n');
  const [, code = '0', ...reason] = (head[0] ?? '').split(' ');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(headerEnd + 4);
  if (headers['content-length'] !== undefined) body = body.slice(0, Number(headers['content-length']));
  return { status: Number(code), reason: reason.join(' '), headers, body, raw, closedWithoutAnswer: false };
}

export async function rawRequest(
  socketPath: string,
  method: string,
  path: string,
  options: {
    body?: string | Buffer;
    headers?: Record<string, string>;
    version?: '1.0' | '1.1';
    /** How long a silence ends the read (the server normally closes first: `Connection: close`). */
    idleMs?: number;
  } = {},
): Promise<RawResponse> {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers: Record<string, string> = { Host: 'localhost', ...options.headers };
  if (body !== undefined && headers['Content-Length'] === undefined && headers['Transfer-Encoding'] === undefined) {
    headers['Content-Length'] = String(body.length);
  }
  if ((options.version ?? '1.1') === '1.1' && headers.Connection === undefined) headers.Connection = 'close';
  const head = `${method} ${path} HTTP/${options.version ?? '1.1'}\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  const raw = await rawExchange(socketPath, body === undefined ? head : Buffer.concat([Buffer.from(head), body]), options.idleMs);
  const response = parseResponse(raw);
  if (!response.closedWithoutAnswer) {
    recordExchange({ method, target: path, status: response.status, contentType: response.headers['content-type'] ?? '', body: Buffer.from(response.body, 'latin1') });
  }
  return response;
}
