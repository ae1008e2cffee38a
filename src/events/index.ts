/** The event stream's low layer (docs/events.md): imports nothing of the project but the foundation. */
export { EventBus, UNFRAMED, matches, DEFAULT_COALESCE_MS, DEFAULT_RING_EVENTS, DEFAULT_SUBSCRIBER_BUFFER, type BodyFraming, type EventBusOptions, type EventFilter, type EventSink, type SubscribeOptions, Subscription } from './bus.ts';
export { CONTENT_TYPES, encodeEvent, formatFor, loadProtobufFormat, protobufFormatLoaded, toJsonObject, type EventFormat, type EventObject } from './codec.ts';
export { CONTROL_TYPES, EVENT_TYPES, NO_EVENTS, containerOf, isEventType, typeOf, type EventBody, type EventPublisher, type EventType, type PvEvent } from './types.ts';
