/**
 * The three wire formats of GET /events, all from the generated protobuf code so they cannot
 * drift: protobuf frames are `Event.encodeDelimited` (varint length, then the message); NDJSON
 * and SSE carry `Event.toObject` (protobufjs's JSON form of the same message).
 */
import { pvctrl } from './generated/events.js';
import type { EventType, PvEvent } from './types.ts';

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

export function toMessage(event: PvEvent): pvctrl.Event {
  return pvctrl.Event.create({ seq: event.seq, time: event.time, ...event.body });
}

/** The JSON object of an event: `{seq, time, type, <type>: {...}}`, every field of the member present. */
export function toJsonObject(event: PvEvent): Record<string, unknown> {
  const object = pvctrl.Event.toObject(toMessage(event), { longs: Number, defaults: true });
  return { seq: event.seq, time: event.time, type: event.type, [event.type]: object[event.type] };
}

/** Encode one event; callers cache per event (one encoding per format, however many subscribers). */
export function encodeEvent(event: PvEvent, format: EventFormat): Buffer {
  switch (format) {
    case 'protobuf':
      return Buffer.from(pvctrl.Event.encodeDelimited(toMessage(event)).finish());
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
