/**
 * The three wire formats of GET /events, all from proto/pvctrl/events.proto so they cannot
 * drift: protobuf frames are the generated code's `Event.encodeDelimited` (varint length, then
 * the message); NDJSON and SSE carry the message's JSON form (protobufjs's `Event.toObject`),
 * made from the .proto's descriptor without protobufjs (json-shape.ts). protobufjs and the
 * generated code are loaded for the first `application/x-protobuf` subscriber only: about
 * 9 MiB of the daemon's memory otherwise (docs/events.md).
 */
import { fieldType, messageToObject } from './json-shape.ts';
import type { EventType, PvEvent } from './types.ts';

type Protobuf = (typeof import('./generated/events.js'))['pvctrl'];
let protobuf: Protobuf | undefined;

/** Load the protobuf format's code; subscribers of that format wait for it before their first event. */
export async function loadProtobufFormat(): Promise<void> {
  protobuf ??= (await import('./generated/events.js')).pvctrl;
}

/** Whether the protobuf code was loaded (tests: NDJSON and SSE must not load it). */
export function protobufFormatLoaded(): boolean {
  return protobuf !== undefined;
}

export type EventFormat = 'ndjson' | 'sse' | 'protobuf';

export const CONTENT_TYPES: Record<EventFormat, string> = {
  ndjson: 'application/x-ndjson',
  sse: 'text/event-stream',
  protobuf: 'application/x-protobuf',
};

/** The format an Accept header asks for; NDJSON when it names none we speak (or is absent). */
export function formatFor(accept: string | undefined): EventFormat {
  if (accept === undefined) return 'ndjson';
  const asked = accept.split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
  for (const type of asked) {
    if (type === CONTENT_TYPES.protobuf) return 'protobuf';
    if (type === CONTENT_TYPES.sse) return 'sse';
    if (type === CONTENT_TYPES.ndjson) return 'ndjson';
  }
  return 'ndjson';
}

function toMessage(event: PvEvent): InstanceType<Protobuf['Event']> {
  if (protobuf === undefined) throw new Error('the protobuf format is used before loadProtobufFormat()');
  return protobuf.Event.create({ seq: event.seq, time: event.time, ...event.body });
}

/** The JSON object of an event: `{seq, time, type, <type>: {...}}`, every field of the member present. */
export function toJsonObject(event: PvEvent): Record<string, unknown> {
  const member = (event.body as Partial<Record<EventType, Record<string, unknown>>>)[event.type] ?? {};
  return { seq: event.seq, time: event.time, type: event.type, [event.type]: messageToObject(fieldType('Event', event.type), member) };
}

/** Encode one event; callers cache per event (one encoding per format, however many subscribers). */
export function encodeEvent(event: PvEvent, format: EventFormat): Buffer {
  switch (format) {
    case 'protobuf':
      return Buffer.from((protobuf as Protobuf).Event.encodeDelimited(toMessage(event)).finish());
    case 'ndjson':
      return Buffer.from(`${JSON.stringify(toJsonObject(event))}\n`);
    case 'sse':
      return Buffer.from(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(toJsonObject(event))}\n\n`);
  }
}

/** Parse one NDJSON line or SSE `data:` back into an event object (clients and tests). */
export interface EventObject {
  seq: number;
  time: number;
  type: EventType;
  [member: string]: unknown;
}
