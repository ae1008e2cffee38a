/**
 * The event union, derived from proto/pvctrl/events.proto through the generated definitions:
 * a publisher names exactly one member of `Event.type` with its message, and the compiler
 * checks the fields against the .proto.
 */
import type { pvctrl } from './generated/events.js';

/** Every member of the `type` oneof: the names used by `?types=`, SSE `event:` and JSON `type`. */
export type EventType = NonNullable<pvctrl.Event['type']>;

export const EVENT_TYPES: readonly EventType[] = [
  'epoch',
  'reset',
  'overflow',
  'container',
  'group',
  'revision',
  'meta',
  'daemon',
  'signal',
  'object',
  'command',
  'driver',
  'xconnect',
];

/** Stream control events: every subscriber gets them, whatever its filter. */
export const CONTROL_TYPES: ReadonlySet<EventType> = new Set<EventType>(['epoch', 'reset', 'overflow']);

type Member<K extends EventType> = NonNullable<pvctrl.IEvent[K]>;

/** What a publisher hands over: one member of the oneof, e.g. `{ container: { name, from, to } }`. */
export type EventBody = { [K in EventType]: { [P in K]: Member<P> } & { [Q in Exclude<EventType, K>]?: never } }[EventType];

/** A published event: the body plus the bus's sequence number and time. */
export interface PvEvent {
  readonly seq: number;
  /** Unix milliseconds. */
  readonly time: number;
  readonly type: EventType;
  readonly body: EventBody;
  /** The container the event is about, when it is about one (filters and authorization). */
  readonly container: string | undefined;
}

/** The one thing publishers need: the bus's `publish`, injected (tests use their own bus). */
export interface EventPublisher {
  publish(body: EventBody): void;
}

/** A publisher that drops everything, for code built without a bus. */
export const NO_EVENTS: EventPublisher = { publish: () => {} };

export function typeOf(body: EventBody): EventType {
  for (const type of EVENT_TYPES) if ((body as Partial<Record<EventType, unknown>>)[type] !== undefined) return type;
  throw new Error('event body names no event type');
}

export function isEventType(name: string): name is EventType {
  return (EVENT_TYPES as readonly string[]).includes(name);
}

/** The container an event concerns: a container's own status and signals, an xconnect change it caused. */
export function containerOf(body: EventBody): string | undefined {
  if (body.container !== undefined) return body.container.name ?? undefined;
  if (body.signal !== undefined) return body.signal.container ?? undefined;
  return undefined;
}
