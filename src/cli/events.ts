/**
 * `pvcontrol events` and `pvcontrol steps show-progress --follow`: readers of GET /events
 * (docs/events.md). Formatting and the end-of-update decision are pure functions (unit-tested).
 */
import { openEventStream, EventStreamRefused, type EventObject, type EventStreamOptions } from '../client/event-stream.ts';
import type { PvClient } from '../client/pv-client.ts';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, exitCodeForProgress } from './exit-codes.ts';
import { bodyLine, writeTo, type CliIo, type Output } from './output.ts';

type Fields = Record<string, unknown>;

const text = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

function clock(time: number): string {
  return new Date(time).toISOString().slice(11, 23);
}

/** One readable line per event: `#seq hh:mm:ss.mmm type what`. */
export function formatEventLine(event: EventObject): string {
  const body = (event[event.type] ?? {}) as Fields;
  let what: string;
  switch (event.type) {
    case 'container':
    case 'group':
      what = `${text(body.name)} ${text(body.from) || '?'} -> ${text(body.to)}${text(body.reason) ? ` (${text(body.reason)})` : ''}`;
      break;
    case 'revision': {
      const progress = (body.progress ?? {}) as Fields;
      what = `${text(body.revision)} ${text(progress.status)} ${text(progress.progress)}% ${text(progress.statusMsg)}`;
      break;
    }
    case 'meta':
      what = `${text(body.store)} ${text(body.key)} ${text(body.action)}${body.action === 'set' ? (body.value === undefined ? ` (${text(body.size)} bytes)` : ` = ${JSON.stringify(body.value)}`) : ''}`;
      break;
    case 'daemon':
      what = `${text(body.name)} ${text(body.action)}${body.exitCode !== undefined ? ` (exit ${text(body.exitCode)})` : ''}${body.signal !== undefined ? ` (${text(body.signal)})` : ''}`;
      break;
    case 'signal':
      what = `${text(body.container)} ${text(body.signal)}`;
      break;
    case 'object':
      what = `${text(body.sha)} ${text(body.action)} (${text(body.size)} bytes)`;
      break;
    case 'command':
      what = `${text(body.op)} ${text(body.action)}${body.action === 'finished' ? (body.ok === true ? ' ok' : ` failed: ${text(body.error)}`) : ''}`;
      break;
    case 'driver':
      what = `${text(body.alias)} ${text(body.action)}${body.ok === true ? '' : ' (failed)'}`;
      break;
    case 'xconnect':
      what = `graph changed (${text(body.cause)})`;
      break;
    case 'epoch':
      what = `daemon started (epoch ${text(body.id)})`;
      break;
    case 'reset':
      what = `position ${text(body.since)} no longer held (oldest ${text(body.oldest)}): re-list`;
      break;
    case 'overflow':
      what = `too slow: stream closed after ${text(body.limit)} bytes waited`;
      break;
    default:
      what = JSON.stringify(body);
  }
  return `#${event.seq} ${clock(event.time)} ${event.type} ${what}`;
}

/** `locals/x [#######.......]  50% INPROGRESS Rebooting`: one frame of the live bar. */
export function progressLine(revision: string, status: string, percent: number, message: string): string {
  const clamped = Number.isFinite(percent) ? Math.min(100, Math.max(0, Math.round(percent))) : 0;
  const width = 20;
  const filled = Math.round((clamped / 100) * width);
  return `${revision} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(clamped).padStart(3)}% ${status}${message ? ` ${message}` : ''}`;
}

export interface EventsCommand {
  json: boolean;
  types: string[];
  container: string | undefined;
}

async function open(socketPath: string, options: Omit<EventStreamOptions, 'socketPath'>, io: CliIo) {
  try {
    return await openEventStream({ socketPath, ...options });
  } catch (error) {
    if (!(error instanceof EventStreamRefused)) throw error;
    await writeTo(io.stderr, bodyLine(Buffer.from(error.body)));
    return exitCodeFor(error.status, error.body);
  }
}

/** Print events as they come until the daemon ends the stream (or the process is stopped). */
export async function followEvents(command: EventsCommand, socketPath: string, io: CliIo, out: Output): Promise<number> {
  const stream = await open(socketPath, { types: command.types, ...(command.container !== undefined ? { container: command.container } : {}) }, io);
  if (typeof stream === 'number') return stream;
  for await (const event of stream) await out.write(`${command.json ? JSON.stringify(event) : formatEventLine(event)}\n`);
  return EXIT_OK;
}

interface ProgressFields {
  status?: unknown;
  statusMsg?: unknown;
  'status-msg'?: unknown;
  progress?: unknown;
}

/**
 * Draw a revision's progress until it reaches a final status; the exit status is that
 * status's (exitCodeForProgress). On a terminal a live bar on stderr, else one line per change.
 */
export async function followProgress(revision: string, client: PvClient, io: CliIo, out: Output): Promise<number> {
  // Subscribe first, then read the current progress: nothing can happen unseen in between.
  const stream = await open(client.socketPath, { types: ['revision'] }, io);
  if (typeof stream === 'number') return stream;
  try {
    const current = await client.stepProgress(revision);
    if (current.status !== 200) {
      await writeTo(io.stderr, bodyLine(current.body));
      return exitCodeFor(current.status, current.body);
    }
    const show = async (progress: ProgressFields): Promise<number | undefined> => {
      const status = text(progress.status);
      const message = text(progress.statusMsg ?? progress['status-msg']);
      const percent = Number(progress.progress ?? 0);
      const line = progressLine(revision, status, percent, message);
      if (io.stderr.isTTY === true) io.stderr.write(`\r${line}\x1b[K`);
      else await out.write(`${line}\n`);
      const code = exitCodeForProgress(status);
      if (code !== undefined && io.stderr.isTTY === true) io.stderr.write('\n');
      return code;
    };
    const first = await show(JSON.parse(current.body.toString('utf8')) as ProgressFields);
    if (first !== undefined) return first;
    for await (const event of stream) {
      if (event.type === 'reset') {
        // Events were missed: the file on disk is the truth.
        const again = await client.stepProgress(revision);
        const code = again.status === 200 ? await show(JSON.parse(again.body.toString('utf8')) as ProgressFields) : undefined;
        if (code !== undefined) return code;
        continue;
      }
      const body = event.revision as { revision?: string; progress?: ProgressFields } | undefined;
      if (body?.revision !== revision || body.progress === undefined) continue;
      const code = await show(body.progress);
      if (code !== undefined) return code;
    }
    await writeTo(io.stderr, 'ERROR: the daemon ended the event stream before the update finished\n');
    return EXIT_USAGE;
  } finally {
    stream.close();
  }
}
