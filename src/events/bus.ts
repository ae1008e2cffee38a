/**
 * The event bus behind GET /events: one `publish` (sequence number, time), a bounded ring of
 * recent events for resuming, and subscribers that each have a bounded buffer.
 *
 * `publish` never throws into the publisher and does no I/O: it queues the event (encoded and
 * framed once per format and body framing, however many subscribers) and one flush, once the
 * publisher's synchronous work is over (a microtask), writes each subscriber's events in one
 * write. A subscriber whose connection stops taking bytes
 * buffers up to its cap; past it, the buffer is dropped, an `overflow` event is written where it
 * can still be, and the subscriber is closed. So a stalled reader costs at most its cap, and
 * never delays anyone else. A replay (`since`) is read from the ring as the connection takes
 * it, so it needs no buffer however long it is.
 */
import { randomBytes } from 'node:crypto';
import { encodeEvent, type EventFormat } from './codec.ts';
import { CONTROL_TYPES, containerOf, typeOf, type EventBody, type EventPublisher, type EventType, type PvEvent } from './types.ts';

export const DEFAULT_RING_EVENTS = 4096;
export const DEFAULT_SUBSCRIBER_BUFFER = 256 * 1024;
/**
 * A flush within this long of the previous one waits for the rest of it: at a high event rate
 * each subscriber then gets a few events per write instead of one (at 1,000 events/s and 100
 * subscribers: half the writes, and half the reads woken in the subscribers), while an event
 * after a quiet moment still goes out at once. bench/events.ts: docs/events.md.
 */
export const DEFAULT_COALESCE_MS = 2;
/**
 * After an overflow, a connection that has not taken the rest of its stream (the overflow event
 * included) by then is cut. Costs nothing meanwhile: what waits is in the connection's own
 * bounded buffer, the subscriber's was dropped.
 */
const OVERFLOW_CLOSE_GRACE_MS = 30_000;

/**
 * How a stream's body delimits what is written (HTTP/1.1 chunks, or nothing for HTTP/1.0). Every
 * write must be whole frames: the bus frames each event once per framing, and concatenated
 * frames are still whole frames.
 */
export interface BodyFraming {
  /** Names the framing in the per-event cache. */
  readonly name: string;
  frame(payload: Buffer): Buffer;
}

/** Bytes as they are: a body delimited by the connection's close (and the unit tests' sinks). */
export const UNFRAMED: BodyFraming = { name: 'none', frame: (payload) => payload };

/** Where a subscriber's bytes go: the response body of its stream (src/server/types.ts StreamChannel). */
export interface EventSink {
  /** How `write`'s bytes must be framed (default UNFRAMED). */
  readonly framing?: BodyFraming;
  /** Framed bytes. False when the connection's buffer is full: hold further bytes until `drained` is called. */
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
  /** Writes go out at most this often (default DEFAULT_COALESCE_MS; 0: after every publisher's work). */
  coalesceMs?: number;
  now?: () => number;
  /** Fixed epoch id (tests); a random one otherwise. */
  epoch?: string;
}

/** Bytes gathered per write: from the ring while replaying, or queued within one turn. */
const REPLAY_BATCH_BYTES = 64 * 1024;

/** One event's encodings, made once however many subscribers take it. */
class Encoded {
  private readonly payloads: Partial<Record<EventFormat, Buffer>> = {};
  /** Framed encodings by `encodingKey`: at most formats × framings in use (a handful). */
  private readonly framed = new Map<string, Buffer>();
  constructor(readonly event: PvEvent) {}
  in(format: EventFormat, framing: BodyFraming, key: string): Buffer {
    let bytes = this.framed.get(key);
    if (bytes === undefined) {
      const payload = (this.payloads[format] ??= encodeEvent(this.event, format));
      bytes = framing.frame(payload);
      this.framed.set(key, bytes);
    }
    return bytes;
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
  private readonly dirty = new Set<Subscription>();
  private flushScheduled = false;
  private readonly now: () => number;
  private readonly coalesceMs: number;
  /** performance.now() of the last flush. */
  private lastFlush = -Infinity;
  private closed = false;

  constructor(options: EventBusOptions = {}) {
    this.ring = new Array<Encoded | undefined>(Math.max(1, options.ringEvents ?? DEFAULT_RING_EVENTS));
    this.now = options.now ?? Date.now;
    this.coalesceMs = options.coalesceMs ?? DEFAULT_COALESCE_MS;
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

  /** A held event, or undefined once the ring dropped it (or it never was). */
  held(seq: number): Encoded | undefined {
    return seq >= this.oldestSeq && seq <= this.seq ? this.ring[seq % this.ring.length] : undefined;
  }

  publish(body: EventBody): void {
    if (this.closed) return;
    const encoded = new Encoded({ seq: ++this.seq, time: this.now(), type: typeOf(body), body, container: containerOf(body) });
    this.ring[this.seq % this.ring.length] = encoded;
    for (const subscriber of this.subscribers) subscriber.offer(encoded);
  }

  subscribe(sink: EventSink, options: SubscribeOptions): Subscription {
    const since = options.since;
    let replayFrom: number | undefined;
    let reset = false;
    if (since !== undefined) {
      const otherEpoch = options.epoch !== undefined && options.epoch !== this.epoch;
      reset = otherEpoch || since > this.seq || since + 1 < this.oldestSeq;
      if (!reset && since < this.seq) replayFrom = since + 1;
    }
    const subscription = new Subscription(sink, options, this, replayFrom, () => {
      this.subscribers.delete(subscription);
      this.dirty.delete(subscription);
    });
    if (this.closed) {
      sink.end();
      return subscription;
    }
    if (reset) subscription.control({ reset: { epoch: this.epoch, since: since ?? 0, oldest: this.oldestSeq } }, this.seq);
    this.subscribers.add(subscription);
    this.schedule(subscription);
    return subscription;
  }

  /** Daemon stop: every stream ends after what it was sent; later publishes are dropped. */
  close(): void {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) subscriber.close();
  }

  /** Now, for the clock of per-subscriber events. */
  time(): number {
    return this.now();
  }

  /**
   * Write `subscription`'s pending events once the publisher's synchronous work is done (one
   * write each, whatever it published meanwhile): a microtask, not the end of the event-loop
   * turn, which may still hold other requests (a durable write's fsyncs) that every event would
   * wait for. Within `coalesceMs` of the previous flush, one timer (for the bus, not per event)
   * takes the flush to the end of that window.
   */
  schedule(subscription: Subscription): void {
    this.dirty.add(subscription);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const wait = this.lastFlush + this.coalesceMs - performance.now();
    if (wait <= 0) queueMicrotask(this.flushDirty);
    else setTimeout(this.flushDirty, wait);
  }

  private readonly flushDirty = (): void => {
    this.flushScheduled = false;
    this.lastFlush = performance.now();
    // Subscribers that waited for the same events in the same encoding share one joined buffer.
    const joined = new JoinedQueues();
    for (const subscriber of this.dirty) {
      this.dirty.delete(subscriber);
      subscriber.flush(joined);
    }
  };
}

/**
 * One flush's joined queues: at a high event rate most subscribers of a format wait for the same
 * events, and joining them once instead of once per subscriber spares most of the garbage.
 * Reused only for a queue of the very same buffers (compared one by one, by identity).
 */
class JoinedQueues {
  private readonly byKey = new Map<string, { parts: readonly Buffer[]; bytes: Buffer }[]>();

  join(encodingKey: string, parts: readonly Buffer[], length: number): Buffer {
    const candidates = this.byKey.get(encodingKey) ?? [];
    for (const candidate of candidates) {
      if (candidate.parts.length === parts.length && candidate.parts.every((part, index) => part === parts[index])) return candidate.bytes;
    }
    const bytes = Buffer.concat(parts as Buffer[], length);
    // A few distinct queues per format at most in practice (filters differ); bound the search anyway.
    if (candidates.length < 8) candidates.push({ parts, bytes });
    this.byKey.set(encodingKey, candidates);
    return bytes;
  }
}

export class Subscription {
  private queue: Buffer[] = [];
  private queueSeqs: number[] = [];
  private queuedBytes = 0;
  private blocked = false;
  /** Seq of the last event handed to the connection: where a resume after an overflow starts. */
  private sentSeq: number | undefined;
  private done = false;
  private readonly limit: number;
  private readonly framing: BodyFraming;
  /** The key of this subscriber's bytes in each event's cache: format and framing. */
  private readonly encodingKey: string;

  constructor(
    private readonly sink: EventSink,
    private readonly options: SubscribeOptions,
    private readonly bus: EventBus,
    /** Next seq to read from the ring while replaying; undefined once live. */
    private cursor: number | undefined,
    private readonly detach: () => void,
  ) {
    this.limit = options.bufferBytes ?? DEFAULT_SUBSCRIBER_BUFFER;
    this.framing = sink.framing ?? UNFRAMED;
    this.encodingKey = `${options.format}/${this.framing.name}`;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Bytes waiting for the connection (never above the cap). */
  get buffered(): number {
    return this.queuedBytes;
  }

  offer(encoded: Encoded): void {
    // While replaying, live events are read from the ring in their turn.
    if (this.done || this.cursor !== undefined || !matches(this.options.filter, encoded.event)) return;
    this.enqueue(this.bytesOf(encoded), encoded.event.seq);
  }

  /** A per-subscriber event (reset, overflow): numbered as the position the client is at. */
  control(body: EventBody, seq: number): void {
    const event: PvEvent = { seq, time: this.bus.time(), type: typeOf(body), body, container: undefined };
    this.enqueue(this.framing.frame(encodeEvent(event, this.options.format)), seq);
  }

  private bytesOf(encoded: Encoded): Buffer {
    return encoded.in(this.options.format, this.framing, this.encodingKey);
  }

  /** The connection took everything it had: send what waited. */
  drained(): void {
    if (this.done) return;
    this.blocked = false;
    this.flush();
  }

  /** Hand the connection what waits, in one write, unless it is full. */
  flush(joined?: JoinedQueues): void {
    if (this.done || this.blocked) return;
    if (this.queue.length > 0) {
      const bytes = this.queue.length === 1 ? (this.queue[0] as Buffer) : (joined?.join(this.encodingKey, this.queue, this.queuedBytes) ?? Buffer.concat(this.queue, this.queuedBytes));
      this.sentSeq = this.queueSeqs.at(-1);
      this.queue = [];
      this.queueSeqs = [];
      this.queuedBytes = 0;
      this.blocked = !this.write(bytes);
    }
    while (this.cursor !== undefined && !this.blocked && !this.done) this.replayBatch();
  }

  /** End the stream (daemon stop, or the client went away) after what waits, if it can take it. */
  close(): void {
    if (this.done) return;
    this.flush();
    this.finish();
    this.sink.end();
  }

  /** Up to REPLAY_BATCH_BYTES of held events from the cursor on, in one write. */
  private replayBatch(): void {
    const parts: Buffer[] = [];
    let bytes = 0;
    let last: number | undefined;
    let seq = this.cursor as number;
    for (; seq <= this.bus.lastSeq && bytes < REPLAY_BATCH_BYTES; seq++) {
      const encoded = this.bus.held(seq);
      if (encoded === undefined) {
        // The ring moved past what this reader had not read yet: it is too slow.
        this.overflow();
        return;
      }
      if (!matches(this.options.filter, encoded.event)) continue;
      const part = this.bytesOf(encoded);
      parts.push(part);
      bytes += part.length;
      last = seq;
    }
    this.cursor = seq > this.bus.lastSeq ? undefined : seq;
    if (last === undefined) return;
    this.sentSeq = last;
    this.blocked = !this.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes));
  }

  private enqueue(bytes: Buffer, seq: number): void {
    if (this.queuedBytes + bytes.length > this.limit) {
      this.overflow();
      return;
    }
    this.queue.push(bytes);
    this.queueSeqs.push(seq);
    this.queuedBytes += bytes.length;
    if (this.blocked) return;
    // A burst within one turn (a GC removing many objects) must not look like a slow reader.
    if (this.queuedBytes >= REPLAY_BATCH_BYTES) this.flush();
    else this.bus.schedule(this);
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
    const event: PvEvent = { seq: this.sentSeq ?? this.options.since ?? 0, time: this.bus.time(), type: 'overflow', body: { overflow: { limit: this.limit } }, container: undefined };
    this.finish();
    this.write(this.framing.frame(encodeEvent(event, this.options.format)));
    this.sink.end(true);
    setTimeout(() => this.sink.destroy(), OVERFLOW_CLOSE_GRACE_MS).unref();
  }

  private finish(): void {
    this.done = true;
    this.queue = [];
    this.queueSeqs = [];
    this.queuedBytes = 0;
    this.detach();
  }
}
