/**
 * pv-xconnect's view of `GET /xconnect-graph` (spec §7.12), fetched the way the reference's
 * pv-xconnect does (§14): one HTTP/1.0 request per connection, the server closes after the
 * answer. Kept free of pv-ctrl's own modules so the helper stays a small, separate program.
 */
import { createConnection } from 'node:net';

export interface XconnectLink {
  readonly consumer: string;
  /** Init pid of the consumer container; <= 0 when it is not running. */
  readonly consumer_pid: number;
  readonly provider: string;
  readonly provider_pid: number;
  readonly name: string;
  /** The export's type: unix, rest, dbus, drm, wayland, input, unknown. */
  readonly type: string;
  readonly role: string;
  readonly interface: string;
  /** Path inside the consumer. */
  readonly target: string | null;
  /** Path inside the provider. */
  readonly socket: string | null;
}

/** The answer is small; anything bigger is not a graph and must not grow our memory. */
const MAX_ANSWER = 4 * 1024 * 1024;

export class GraphError extends Error {}

export function fetchGraph(socketPath: string, timeoutMs = 5000): Promise<XconnectLink[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const settle = (error: Error | undefined, links?: XconnectLink[]): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(links ?? []);
    };
    const timer = setTimeout(() => settle(new GraphError(`no answer from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write('GET /xconnect-graph HTTP/1.0\r\nHost: localhost\r\n\r\n'));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER) settle(new GraphError('answer too large'));
      else chunks.push(chunk);
    });
    socket.on('end', () => {
      try {
        settle(undefined, parseGraphAnswer(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        settle(error as Error);
      }
    });
    socket.on('close', () => settle(new GraphError('connection closed before the answer ended')));
    socket.on('error', (error) => settle(error));
  });
}

/** A whole HTTP/1.x answer → links; any non-200 is an error carrying the server's words. */
export function parseGraphAnswer(answer: string): XconnectLink[] {
  const headEnd = answer.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new GraphError('truncated answer');
  const statusLine = answer.slice(0, answer.indexOf('\r\n'));
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const body = answer.slice(headEnd + 4);
  if (status !== '200') throw new GraphError(`${statusLine} ${body.trim()}`.trim());
  return parseGraph(body);
}

export function parseGraph(body: string): XconnectLink[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new GraphError('graph is not JSON');
  }
  if (!Array.isArray(value)) throw new GraphError('graph is not an array');
  return value.map((item, index) => parseLink(item, index));
}

function parseLink(item: unknown, index: number): XconnectLink {
  if (typeof item !== 'object' || item === null) throw new GraphError(`link ${index} is not an object`);
  const record = item as Record<string, unknown>;
  const text = (key: string): string => {
    const value = record[key];
    if (typeof value !== 'string') throw new GraphError(`link ${index}: ${key} is not a string`);
    return value;
  };
  const pid = (key: string): number => {
    const value = record[key];
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new GraphError(`link ${index}: ${key} is not an integer`);
    return value;
  };
  const path = (key: string): string | null => {
    const value = record[key];
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') throw new GraphError(`link ${index}: ${key} is not a string`);
    return value;
  };
  return {
    consumer: text('consumer'),
    consumer_pid: pid('consumer_pid'),
    provider: text('provider'),
    provider_pid: pid('provider_pid'),
    name: text('name'),
    type: text('type'),
    role: typeof record.role === 'string' ? record.role : 'any',
    interface: typeof record.interface === 'string' ? record.interface : text('type'),
    target: path('target'),
    socket: path('socket'),
  };
}
