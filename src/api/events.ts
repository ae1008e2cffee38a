/**
 * `GET /events` (docs/events.md): a long-lived stream of the bus's events in the format the
 * Accept header asks for, optionally resumed (`?since=`, `Last-Event-ID`) and filtered
 * (`?types=`, `?container=`). A non-mgmt container sees only events about itself.
 */
import { badRequest, forbidden } from '../errors.ts';
import { CONTENT_TYPES, formatFor, isEventType, loadProtobufFormat, type EventFilter, type EventType, type SubscribeOptions } from '../events/index.ts';
import type { ApiRequest, ApiResponse } from '../server/types.ts';
import type { Handler } from './handler.ts';

/** What a request asks of the stream, checked; a pure function of the request (unit-tested). */
export function subscriptionOf(request: Pick<ApiRequest, 'rawTarget' | 'caller' | 'header'>): SubscribeOptions {
  const query = new URLSearchParams(request.rawTarget.includes('?') ? request.rawTarget.slice(request.rawTarget.indexOf('?') + 1) : '');
  const since = sequenceNumber(query.get('since') ?? request.header('last-event-id'));
  const epoch = query.get('epoch') ?? undefined;
  let types: Set<EventType> | undefined;
  const typesText = query.get('types');
  if (typesText !== null) {
    types = new Set();
    for (const name of typesText.split(',').map((part) => part.trim()).filter((part) => part.length > 0)) {
      if (!isEventType(name)) throw badRequest(`unknown event type "${name}"`);
      types.add(name);
    }
  }
  let container = query.get('container') ?? undefined;
  const caller = request.caller;
  if (!caller.privileged) {
    // Identity as for every route: a non-mgmt container may only watch itself.
    if (container !== undefined && container !== caller.name) throw forbidden('Request not sent from a mgmt platform');
    container = caller.name;
  }
  const filter: EventFilter = { ...(types !== undefined ? { types } : {}), ...(container !== undefined ? { container } : {}) };
  return {
    format: formatFor(request.header('accept')),
    filter,
    ...(since !== undefined ? { since } : {}),
    ...(epoch !== undefined ? { epoch } : {}),
  };
}

function sequenceNumber(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) throw badRequest('since must be a sequence number');
  return Number(text);
}

export const events: Handler = async (request, services): Promise<ApiResponse> => {
  const options = subscriptionOf(request);
  if (options.format === 'protobuf') await loadProtobufFormat();
  return {
    type: 'stream',
    contentType: CONTENT_TYPES[options.format],
    open: (channel) => {
      const subscription = services.events.subscribe(channel, options);
      channel.onDrain(() => subscription.drained());
      channel.onClose(() => subscription.close());
    },
  };
};
