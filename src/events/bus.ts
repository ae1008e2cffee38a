/**
 * The event bus behind GET /events: one `publish` (sequence number, time), a bounded ring of
 * recent events for resuming, and subscribers that each have a bounded buffer.
 *
 * Delivery is synchronous and never throws into the publisher. A subscriber whose connection
 * stops taking bytes buffers up to its cap; past it, the buffer is dropped, an `overflow`
 * event is written where it can still be, and the subscriber is closed. So a stalled reader
 * costs at most its cap, and never delays anyone else.
 */
import { randomBytes } from 'node:crypto';
import { encodeEvent, type EventFormat } from './codec.ts';
import { CONTROL_TYPES, containerOf, typeOf, type EventBody, type EventPublisher, type EventType, type PvEvent } from './types.ts';

export const DEFAULT_RING_EVENTS = 4096;
export const DEFAULT_SUBSCRIBER_BUFFER = 256 * 1024;
/**
 * After an overflow, a connection that has not taken the rest of its stream (the overflow event
 * included) by then is cut. Costs nothing meanwhile: what waits is in the connection's own
 * bounded buffer, the subscriber's was dropped.
 */
const OVERFLOW_CLOSE_GRACE_MS = 30_000;

/** Where a subscriber's bytes go: the response body of its stream (src/server/types.ts StreamChannel). */
export interface EventSink {
  /** False when the connection's buffer is full: hold further bytes until `drained` is called. */
  write(bytes: Buffer): boolean;
  /** End the stream after what was written; with `closeConnection`, close the connection after it. */
  end(closeConnection?: boolean): void;
  /** Close the connection now. */
  destroy(): void;
}

export interface EventFilter {
  /** Only these types (control events always pass). Undefined: all. */
  readonly types?: ReadonlySet<EventType>;
  /** Only events about this container. */
  readonly container?: string;
}

export interface SubscribeOptions {
  readonly format: EventFormat;
  readonly filter: EventFilter;
  /** Resume after this sequence number (replayed from the ring, or a `reset` first). */
  readonly since?: number;
  /** The epoch `since` belongs to, when the client knows it: another epoch means `reset`. */
  readonly epoch?: string;
  /** Bytes this subscriber may have waiting (default DEFAULT_SUBSCRIBER_BUFFER). */
  readonly bufferBytes?: number;
}

export interface EventBusOptions {
  ringEvents?: number;
  now?: () => number;
  /** Fixed epoch id (tests); a random one otherwise. */
  epoch?: string;
}

/** One event's encodings, made once however many subscribers take it. */
class Encoded {
  private readonly cache: Partial<Record<EventFormat, Buffer>> = {};
  constructor(readonly event: PvEvent) {}
  in(format: EventFormat): Buffer {
    return (this.cache[format] ??= encodeEvent(this.event, format));
  }
}

export function matches(filter: EventFilter, event: PvEvent): boolean {
  if (CONTROL_TYPES.has(event.type)) return true;
  if (filter.container !== undefined && event.container !== filter.container) return false;
  return filter.types === undefined || filter.types.has(event.type);
}

export class EventBus implements EventPublisher {
  readonly epoch: string;
  private seq = 0;
  private readonly ring: (Encoded | undefined)[];
  private readonly subscribers = new Set<Subscription>();
  private readonly now: () => number;
  private closed = false;

  constructor(options: EventBusOptions = {}) {
    this.ring = new Array<Encoded | undefined>(Math.max(1, options.ringEvents ?? DEFAULT_RING_EVENTS));
    this.now = options.now ?? Date.now;
    this.epoch = options.epoch ?? randomBytes(8).toString('hex');
    this.publish({ epoch: { id: this.epoch } });
  }

  /** Sequence number of the newest event. */
  get lastSeq(): number {
    return this.seq;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Oldest sequence number still in the ring. */
  get oldestSeq(): number {
    return Math.max(1, this.seq - this.ring.length + 1);
  }

  publish(body: EventBody): void {
    if (this.closed) return;
    const encoded = new Encoded({ seq: ++this.seq, time: this.now(), type: typeOf(body), body, container: containerOf(body) });
    this.ring[this.seq % this.ring.length] = encoded;
    for (const subscriber of this.subscribers) subscriber.offer(encoded);
  }

  subscribe(sink: EventSink, options: SubscribeOptions): Subscription {
    const subscription = new Subscription(sink, options, () => this.subscribers.delete(subscription), this.now);
    if (this.closed) {
      sink.end();
      return subscription;
    }
    const since = options.since;
    if (since !== undefined) {
      const otherEpoch = options.epoch !== undefined && options.epoch !== this.epoch;
      if (otherEpoch || since > this.seq || since + 1 < this.oldestSeq) {
        subscription.control({ reset: { epoch: this.epoch, since, oldest: this.oldestSeq } }, this.seq);
      } else {
        for (let seq = since + 1; seq <= this.seq; seq++) subscription.offer(this.ring[seq % this.ring.length] as Encoded);
      }
    }
    if (!subscription.closed) this.subscribers.add(subscription);
    return subscription;
  }

  /** Daemon stop: every stream ends after what it was sent; later publishes are dropped. */
  close(): void {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) subscriber.close();
  }
}

export class Subscription {
  private readonly queue: { bytes: Buffer; seq: number }[] = [];
  private queuedBytes = 0;
  private blocked = false;
  /** Seq of the last event handed to the connection: where a resume after an overflow starts. */
  private sentSeq: number | undefined;
  private done = false;
  private readonly limit: number;

  constructor(
    private readonly sink: EventSink,
    private readonly options: SubscribeOptions,
    private readonly detach: () => void,
    private readonly now: () => number,
  ) {
    this.limit = options.bufferBytes ?? DEFAULT_SUBSCRIBER_BUFFER;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Bytes waiting for the connection (never above the cap). */
  get buffered(): number {
    return this.queuedBytes;
  }

  offer(encoded: Encoded): void {
    if (this.done || !matches(this.options.filter, encoded.event)) return;
    this.push(encoded.in(this.options.format), encoded.event.seq);
  }

  /** A per-subscriber event (reset, overflow): numbered as the position the client is at. */
  control(body: EventBody, seq: number): void {
    const event: PvEvent = { seq, time: this.now(), type: typeOf(body), body, container: undefined };
    this.push(encodeEvent(event, this.options.format), seq);
  }

  /** The connection took everything it had: send what waited. */
  drained(): void {
    if (this.done) return;
    this.blocked = false;
    while (this.queue.length > 0 && !this.blocked) {
      const next = this.queue.shift() as { bytes: Buffer; seq: number };
      this.queuedBytes -= next.bytes.length;
      this.sentSeq = next.seq;
      this.blocked = !this.write(next.bytes);
    }
  }

  /** End the stream (daemon stop, or the client went away). */
  close(): void {
    if (this.done) return;
    this.finish();
    this.sink.end();
  }

  private push(bytes: Buffer, seq: number): void {
    if (!this.blocked) {
      this.sentSeq = seq;
      this.blocked = !this.write(bytes);
      return;
    }
    if (this.queuedBytes + bytes.length > this.limit) {
      this.overflow();
      return;
    }
    this.queue.push({ bytes, seq });
    this.queuedBytes += bytes.length;
  }

  private write(bytes: Buffer): boolean {
    try {
      return this.sink.write(bytes);
    } catch {
      this.finish();
      return false;
    }
  }

  /**
   * Drop what waited, tell the client where its stream stopped (the seq of the last event it
   * was sent, so `since` resumes without a gap) and close.
   */
  private overflow(): void {
    const event: PvEvent = { seq: this.sentSeq ?? this.options.since ?? 0, time: this.now(), type: 'overflow', body: { overflow: { limit: this.limit } }, container: undefined };
    this.finish();
    this.write(encodeEvent(event, this.options.format));
    this.sink.end(true);
    setTimeout(() => this.sink.destroy(), OVERFLOW_CLOSE_GRACE_MS).unref();
  }

  private finish(): void {
    this.done = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.detach();
  }
}
