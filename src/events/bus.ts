/**
 * The event bus behind GET /events: one `publish` (sequence number, time), a bounded ring of
 * recent events, and subscribers that each read the ring from their own position.
 *
 * `publish` never throws into the publisher and does no I/O: it keeps the event in the ring
 * (encoded and framed once per format and body framing, however many subscribers) and one
 * flush, once the publisher's synchronous work is over (a microtask), writes each subscriber
 * what it has not had yet, in one write. A subscriber holds no bytes of its own: its backlog is
 * its position in the ring, so a hundred subscribers cost the daemon no queue each, and those at
 * the same position share one joined buffer. A live subscriber whose connection stops taking
 * bytes may fall behind by up to its cap; past it, an `overflow` event is written where it can
 * still be, and the subscriber is closed. So a stalled reader never delays anyone else. A replay
 * (`since`) is read from the ring the same way, as the connection takes it.
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

/**
 * One event's encodings, made once however many subscribers take it. The ring holds thousands of
 * these, so the common case (every subscriber in one format and framing) costs one buffer and
 * two fields; other formats or framings, rare (an HTTP/1.0 client, a protobuf one), go in a map.
 */
class Encoded {
  private firstKey: string | undefined;
  private firstBytes: Buffer | undefined;
  private others: Map<string, Buffer> | undefined;
  constructor(readonly event: PvEvent) {}
  in(format: EventFormat, framing: BodyFraming, key: string): Buffer {
    if (key === this.firstKey) return this.firstBytes as Buffer;
    let bytes = this.others?.get(key);
    if (bytes === undefined) {
      bytes = framing.frame(encodeEvent(this.event, format));
      if (this.firstKey === undefined) {
        this.firstKey = key;
        this.firstBytes = bytes;
      } else {
        (this.others ??= new Map()).set(key, bytes);
      }
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
  /** Subscribers with something to write at the next flush (each once: its `listed` says so). */
  private dirty: Subscription[] = [];
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
    if (subscription.listed) return;
    subscription.listed = true;
    this.dirty.push(subscription);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const wait = this.lastFlush + this.coalesceMs - performance.now();
    if (wait <= 0) queueMicrotask(this.flushDirty);
    else setTimeout(this.flushDirty, wait);
  }

  private readonly flushDirty = (): void => {
    this.flushScheduled = false;
    this.lastFlush = performance.now();
    const batches = new Batches();
    const dirty = this.dirty;
    this.dirty = [];
    // Index loops: this runs for every subscriber of every flush, and iterators are garbage.
    for (let index = 0; index < dirty.length; index++) {
      const subscriber = dirty[index] as Subscription;
      subscriber.listed = false;
      subscriber.flush(batches);
    }
  };
}

/** Up to this many bytes of held events go out in one write. */
const BATCH_BYTES = 64 * 1024;

/** Held events from one position on, for one encoding and filter, joined for one write. */
interface Batch {
  readonly from: number;
  /** Seq after the last event looked at (the next position). */
  readonly next: number;
  /** The events that matched, joined; empty when none did. */
  readonly bytes: Buffer;
  /** The ring no longer holds `from`: that reader fell too far behind. */
  readonly outOfRing: boolean;
}

/**
 * One flush's batches. At a high event rate most subscribers of an encoding and filter are at
 * the same position, so each batch is gathered and joined once and its bytes written to all of
 * them. Keyed by the subscriber's group (encoding and filter) and position.
 */
class Batches {
  private readonly byGroup = new Map<string, Batch[]>();

  /** The batch of `group` from `from`, if one was gathered in this flush. (Loops, not closures: this runs for every subscriber of every flush.) */
  find(group: string, from: number): Batch | undefined {
    const batches = this.byGroup.get(group);
    if (batches === undefined) return undefined;
    for (let index = 0; index < batches.length; index++) if ((batches[index] as Batch).from === from) return batches[index];
    return undefined;
  }

  keep(group: string, batch: Batch): void {
    const batches = this.byGroup.get(group);
    // A few positions per group at most in practice (a reader behind the others); bound the search anyway.
    if (batches === undefined) this.byGroup.set(group, [batch]);
    else if (batches.length < 8) batches.push(batch);
  }
}

/** The part of a subscription's key that its filter makes: subscribers with equal keys read the same events. */
function filterKey(filter: EventFilter): string {
  const types = filter.types === undefined ? '*' : [...filter.types].sort().join(',');
  return `${types}|${filter.container ?? ''}`;
}

export class Subscription {
  /** On the bus's list for the next flush (set and cleared by the bus's `schedule` and flush only). */
  listed = false;
  /** Next seq to look at in the ring. */
  private cursor: number;
  /**
   * Caught up at least once since the subscription (or its replay) began: from then on what it
   * has not been written yet counts against its cap. A replay does not: it is read as the
   * connection takes it, and only the ring moving past it ends it.
   */
  private live: boolean;
  /** Bytes of events published since it went live that it has not been written yet. */
  private backlog = 0;
  /** Per-subscriber events (reset), written before the ring's. */
  private controlFrames: Buffer[] = [];
  private blocked = false;
  private done = false;
  private readonly limit: number;
  private readonly framing: BodyFraming;
  /** The key of this subscriber's bytes in each event's cache: format and framing. */
  private readonly encodingKey: string;
  /** Subscribers with the same group read the same bytes from the same position. */
  private readonly group: string;

  constructor(
    private readonly sink: EventSink,
    private readonly options: SubscribeOptions,
    private readonly bus: EventBus,
    /** Where a replay starts; undefined: live from the next event. */
    replayFrom: number | undefined,
    private readonly detach: () => void,
  ) {
    this.limit = options.bufferBytes ?? DEFAULT_SUBSCRIBER_BUFFER;
    this.framing = sink.framing ?? UNFRAMED;
    this.encodingKey = `${options.format}/${this.framing.name}`;
    this.group = `${this.encodingKey}|${filterKey(options.filter)}`;
    this.cursor = replayFrom ?? bus.lastSeq + 1;
    this.live = replayFrom === undefined;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Bytes published for it that it has not been written yet (never above the cap); a replay's do not count. */
  get buffered(): number {
    return this.backlog;
  }

  offer(encoded: Encoded): void {
    // While replaying, live events are read from the ring in their turn.
    if (this.done || !this.live || !matches(this.options.filter, encoded.event)) return;
    this.backlog += this.bytesOf(encoded).length;
    if (this.backlog > this.limit) {
      this.overflow();
      return;
    }
    if (this.blocked) return;
    // A burst within one turn (a GC removing many objects) must not look like a slow reader.
    if (this.backlog >= BATCH_BYTES) this.flush();
    else this.bus.schedule(this);
  }

  /** A per-subscriber event (reset): numbered as the position the client is at. */
  control(body: EventBody, seq: number): void {
    const event: PvEvent = { seq, time: this.bus.time(), type: typeOf(body), body, container: undefined };
    this.controlFrames.push(this.framing.frame(encodeEvent(event, this.options.format)));
    // A reset replays nothing: the client re-lists, then reads live from here.
    this.cursor = this.bus.lastSeq + 1;
    this.live = true;
    this.backlog = 0;
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

  /** Write what it has not had yet, a batch a write, until it has it all or the connection is full. */
  flush(batches?: Batches): void {
    if (this.done || this.blocked) return;
    if (this.controlFrames.length > 0) {
      const frames = this.controlFrames;
      this.controlFrames = [];
      this.blocked = !this.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
    }
    while (!this.done && !this.blocked && this.cursor <= this.bus.lastSeq) {
      const from = this.cursor;
      let batch = batches?.find(this.group, from);
      if (batch === undefined) {
        batch = this.gather(from);
        batches?.keep(this.group, batch);
      }
      if (batch.outOfRing) {
        // The ring moved past what this reader had not read yet: it is too slow.
        this.overflow();
        return;
      }
      this.cursor = batch.next;
      if (this.live) this.backlog = Math.max(0, this.backlog - batch.bytes.length);
      if (batch.bytes.length > 0) this.blocked = !this.write(batch.bytes);
    }
    if (!this.done && !this.live && this.cursor > this.bus.lastSeq) {
      this.live = true;
      this.backlog = 0;
    }
  }

  /** End the stream (daemon stop, or the client went away) after what waits, if it can take it. */
  close(): void {
    if (this.done) return;
    this.flush();
    this.finish();
    this.sink.end();
  }

  /** Up to BATCH_BYTES of held events that match, from `from` on. */
  private gather(from: number): Batch {
    const parts: Buffer[] = [];
    let bytes = 0;
    let seq = from;
    for (; seq <= this.bus.lastSeq && bytes < BATCH_BYTES; seq++) {
      const encoded = this.bus.held(seq);
      if (encoded === undefined) return { from, next: from, bytes: EMPTY, outOfRing: true };
      if (!matches(this.options.filter, encoded.event)) continue;
      const part = this.bytesOf(encoded);
      parts.push(part);
      bytes += part.length;
    }
    const joined = parts.length === 0 ? EMPTY : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes);
    return { from, next: seq, bytes: joined, outOfRing: false };
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
   * Tell the client where its stream stopped (the seq of the last event it was written, so
   * `since` resumes without a gap) and close.
   */
  private overflow(): void {
    const event: PvEvent = { seq: this.cursor - 1, time: this.bus.time(), type: 'overflow', body: { overflow: { limit: this.limit } }, container: undefined };
    this.finish();
    this.write(this.framing.frame(encodeEvent(event, this.options.format)));
    this.sink.end(true);
    setTimeout(() => this.sink.destroy(), OVERFLOW_CLOSE_GRACE_MS).unref();
  }

  private finish(): void {
    this.done = true;
    this.controlFrames = [];
    this.backlog = 0;
    this.detach();
  }
}

const EMPTY = Buffer.alloc(0);
