/** The event bus's decisions with a fake sink: numbering, ring and reset, filters, the bounded buffer and overflow. */
import t from 'tap';
import { EventBus, loadProtobufFormat, type BodyFraming, type EventBusOptions, type EventSink } from '../../src/events/index.ts';
import { ChunkedLines } from '../../src/client/event-stream.ts';
import { subscriptionOf } from '../../src/api/events.ts';
import type { Caller } from '../../src/server/caller.ts';

class FakeSink implements EventSink {
  constructor(readonly framing?: BodyFraming) {}
  readonly written: Buffer[] = [];
  full = false;
  ended: boolean | 'closing' = false;
  destroyed = false;
  write(bytes: Buffer): boolean {
    this.written.push(bytes);
    return !this.full;
  }
  end(closeConnection = false): void {
    this.ended = closeConnection ? 'closing' : true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  events(): { seq: number; type: string; [member: string]: unknown }[] {
    return Buffer.concat(this.written)
      .toString()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { seq: number; type: string });
  }
}

/** A bus that writes after every publisher's work (the coalescing window has its own test). */
const newBus = (options: EventBusOptions): EventBus => new EventBus({ coalesceMs: 0, ...options });

/** Deliveries happen at the end of the event-loop turn. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wait (bounded) until `done`. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const meta = (key: string, value = 'v') => ({ meta: { store: 'user-meta', key, action: 'set', value, size: value.length } });

t.test('numbering: the epoch event is seq 1, then one seq per publish; replay from the ring', async (t) => {
  const bus = newBus({ epoch: 'e1', now: () => 42 });
  bus.publish(meta('a'));
  bus.publish({ container: { name: 'c1', from: 'STARTED', to: 'READY', reason: 'ready signal' } });
  const sink = new FakeSink();
  bus.subscribe(sink, { format: 'ndjson', filter: {}, since: 0 });
  await turn();
  t.same(sink.events(), [
    { seq: 1, time: 42, type: 'epoch', epoch: { id: 'e1' } },
    { seq: 2, time: 42, type: 'meta', meta: { store: 'user-meta', key: 'a', action: 'set', value: 'v', size: 1 } },
    { seq: 3, time: 42, type: 'container', container: { name: 'c1', from: 'STARTED', to: 'READY', reason: 'ready signal' } },
  ]);
  bus.publish(meta('b'));
  bus.publish(meta('c'));
  t.equal(sink.written.length, 1, 'nothing written within the turn');
  await turn();
  t.same(sink.events().slice(-2).map((event) => event.seq), [4, 5], 'live after the replay');
  t.equal(sink.written.length, 2, 'the turn\'s events in one write');
});

t.test('a position out of the ring, ahead of it, or of another epoch: reset, then live', async (t) => {
  const bus = newBus({ epoch: 'e1', ringEvents: 4 });
  for (let index = 0; index < 10; index++) bus.publish(meta(`k${index}`));
  t.equal(bus.oldestSeq, 8);
  for (const [since, epoch] of [[2, undefined], [99, undefined], [9, 'other']] as const) {
    const sink = new FakeSink();
    bus.subscribe(sink, { format: 'ndjson', filter: {}, since, ...(epoch ? { epoch } : {}) });
    await turn();
    t.same(sink.events().map((event) => [event.type, event.seq]), [['reset', 11]], `since ${since} epoch ${epoch}`);
    t.same(sink.events()[0]?.reset, { epoch: 'e1', since, oldest: 8 });
  }
  const inRing = new FakeSink();
  bus.subscribe(inRing, { format: 'ndjson', filter: {}, since: 7 });
  await turn();
  t.same(inRing.events().map((event) => event.seq), [8, 9, 10, 11], 'the oldest held event and on');
});

t.test('filters: types and container; control events always pass', async (t) => {
  const bus = newBus({});
  const byType = new FakeSink();
  const byContainer = new FakeSink();
  bus.subscribe(byType, { format: 'ndjson', filter: { types: new Set(['signal']) } });
  bus.subscribe(byContainer, { format: 'ndjson', filter: { container: 'c1' } });
  bus.publish(meta('a'));
  bus.publish({ signal: { container: 'c2', signal: 'ready' } });
  bus.publish({ container: { name: 'c1', from: 'STARTED', to: 'READY', reason: '' } });
  bus.publish({ signal: { container: 'c1', signal: 'alive' } });
  await turn();
  t.same(byType.events().map((event) => event.seq), [3, 5]);
  t.same(byContainer.events().map((event) => event.seq), [4, 5]);
});

t.test('a full connection: bytes wait in the bounded buffer, drain sends them, past the cap overflow closes', async (t) => {
  const bus = newBus({});
  const sink = new FakeSink();
  const subscription = bus.subscribe(sink, { format: 'ndjson', filter: {}, bufferBytes: 1000 });
  sink.full = true;
  bus.publish(meta('first'));
  await turn();
  t.equal(sink.written.length, 1, 'the write that filled the connection went out');
  bus.publish(meta('second'));
  await turn();
  t.equal(sink.written.length, 1, 'the next waits');
  t.ok(subscription.buffered > 0 && subscription.buffered <= 1000);
  sink.full = false;
  subscription.drained();
  t.equal(sink.written.length, 2, 'drain sends what waited');
  t.equal(subscription.buffered, 0);
  sink.full = true;
  bus.publish(meta('third'));
  await turn();
  for (let index = 0; index < 20; index++) bus.publish(meta(`flood${index}`, 'x'.repeat(100)));
  t.ok(subscription.closed, 'past the cap the subscriber is closed');
  t.equal(bus.subscriberCount, 0, 'and gone from the bus');
  t.equal(subscription.buffered, 0, 'its buffer dropped');
  const events = sink.events();
  t.same(events.at(-1), { seq: 4, time: events.at(-1)?.time, type: 'overflow', overflow: { limit: 1000 } }, 'overflow names the last event the connection got');
  t.equal(events.at(-2)?.seq, 4);
  t.equal(sink.ended, 'closing', 'the stream ends and the connection closes after it');
  bus.publish(meta('later'));
  await turn();
  t.equal(sink.events().length, events.length, 'nothing after the overflow');
});

t.test('a replay longer than the buffer is read from the ring as the connection takes it', async (t) => {
  const bus = newBus({ ringEvents: 1000 });
  // ~100 KB: more than one 64 KiB write.
  for (let index = 0; index < 400; index++) bus.publish(meta(`k${index}`, 'y'.repeat(200)));
  const sink = new FakeSink();
  sink.full = true;
  const subscription = bus.subscribe(sink, { format: 'ndjson', filter: {}, since: 0, bufferBytes: 1000 });
  await turn();
  t.equal(sink.written.length, 1, 'one batch, then the connection is full');
  bus.publish(meta('live'));
  await turn();
  t.equal(subscription.buffered, 0, 'events published meanwhile wait in the ring, not the buffer');
  sink.full = false;
  subscription.drained();
  t.same(sink.events().map((event) => event.seq), Array.from({ length: 402 }, (_, index) => index + 1), 'every event once, in order');
  t.notOk(subscription.closed);
  bus.publish(meta('after'));
  await turn();
  t.equal(sink.events().at(-1)?.seq, 403, 'then live');
});

t.test('a reader the ring moved past while it replayed gets overflow', async (t) => {
  const bus = newBus({ ringEvents: 10 });
  for (let index = 0; index < 8; index++) bus.publish(meta(`k${index}`, 'z'.repeat(40_000)));
  const sink = new FakeSink();
  sink.full = true;
  const subscription = bus.subscribe(sink, { format: 'ndjson', filter: {}, since: 0 });
  await turn();
  for (let index = 0; index < 12; index++) bus.publish(meta(`m${index}`));
  sink.full = false;
  subscription.drained();
  t.ok(subscription.closed);
  t.equal(sink.events().at(-1)?.type, 'overflow');
});

t.test('close ends every stream; later publishes are dropped', async (t) => {
  const bus = newBus({});
  const sink = new FakeSink();
  bus.subscribe(sink, { format: 'ndjson', filter: {} });
  bus.close();
  t.equal(sink.ended, true);
  bus.publish(meta('late'));
  t.equal(sink.written.length, 0);
});

t.test('SSE and protobuf encodings', async (t) => {
  const bus = newBus({ epoch: 'e9', now: () => 7 });
  const sse = new FakeSink();
  bus.subscribe(sse, { format: 'sse', filter: {}, since: 0 });
  await turn();
  t.equal(Buffer.concat(sse.written).toString(), 'id: 1\nevent: epoch\ndata: {"seq":1,"time":7,"type":"epoch","epoch":{"id":"e9"}}\n\n');
  const proto = new FakeSink();
  await loadProtobufFormat();
  bus.subscribe(proto, { format: 'protobuf', filter: {}, since: 0 });
  await turn();
  // length 10; seq=1 (08 01), time=7 (10 07), field 10 (epoch) length 4: field 1 "e9".
  t.same([...Buffer.concat(proto.written)], [10, 0x08, 1, 0x10, 7, 0x52, 4, 0x0a, 2, 0x65, 0x39]);
});

t.test('events go out once the publisher\'s synchronous work is over, not at the end of the turn', async (t) => {
  const bus = newBus({});
  const sink = new FakeSink();
  bus.subscribe(sink, { format: 'ndjson', filter: { types: new Set(['meta']) } });
  await turn();
  bus.publish(meta('a'));
  bus.publish(meta('b'));
  t.equal(sink.written.length, 0, 'publish itself does no I/O');
  // One microtask checkpoint, before any other I/O callback of this turn (another request) runs.
  await Promise.resolve();
  t.same(sink.events().map((event) => event.meta), [meta('a').meta, meta('b').meta], 'both events, before the turn ends');
  t.equal(sink.written.length, 1, 'in one write');
});

t.test('within the coalescing window after a write, events wait for its end, then go out together', async (t) => {
  const windowMs = 500;
  const bus = new EventBus({ coalesceMs: windowMs });
  const sink = new FakeSink();
  const other = new FakeSink();
  bus.subscribe(sink, { format: 'ndjson', filter: { types: new Set(['meta']) } });
  bus.subscribe(other, { format: 'ndjson', filter: { types: new Set(['meta']) } });
  // The subscription's own (empty) flush opened a window: let it pass, so the next event comes after a quiet moment.
  await new Promise((resolve) => setTimeout(resolve, windowMs + 100));
  bus.publish(meta('a'));
  await Promise.resolve();
  t.equal(sink.written.length, 1, 'an event after a quiet moment goes out at once');
  bus.publish(meta('b'));
  bus.publish(meta('c'));
  await turn();
  t.equal(sink.written.length, 1, 'the next ones wait for the window to end');
  await until(() => sink.written.length === 2, 'the window to end');
  t.same(sink.events().map((event) => event.meta), [meta('a').meta, meta('b').meta, meta('c').meta], 'in order');
  t.equal(sink.written.length, 2, 'the waiting events in one write');
  t.equal(other.written[1], sink.written[1], 'joined once for both subscribers: the same bytes');
});

t.test('framed once per event for every subscriber of the same format and framing', async (t) => {
  const chunked = { name: 'chunked', frame: (payload: Buffer) => Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n')]) };
  const bus = newBus({ epoch: 'e3', now: () => 5 });
  const sinks = [new FakeSink(chunked), new FakeSink(chunked), new FakeSink()];
  for (const sink of sinks) bus.subscribe(sink, { format: 'ndjson', filter: { types: new Set(['meta']) } });
  await turn();
  bus.publish(meta('a'));
  await turn();
  const line = '{"seq":2,"time":5,"type":"meta","meta":{"store":"user-meta","key":"a","action":"set","size":1,"value":"v"}}\n';
  t.equal(sinks[0]?.written[0]?.toString(), `${line.length.toString(16)}\r\n${line}\r\n`, 'a whole chunk');
  t.equal(sinks[0]?.written[0], sinks[1]?.written[0], 'the same bytes (one encoding and framing) for both chunked subscribers');
  t.equal(sinks[2]?.written[0]?.toString(), line, 'an unframed subscriber gets the line as it is');
  const replay = new FakeSink(chunked);
  bus.subscribe(replay, { format: 'ndjson', filter: { types: new Set(['meta']) }, since: 1 });
  await turn();
  t.equal(replay.written[0]?.toString(), `${line.length.toString(16)}\r\n${line}\r\n`, 'a replay from the ring is framed too');
});

t.test('the client splits a chunked body into lines across any byte boundary', async (t) => {
  const body = Buffer.from('16\r\n{"seq":1,"v":"\u00fcber"}\n\r\n4\r\n{"se\r\n6\r\nq":2}\n\r\n0\r\n\r\n');
  for (const step of [1, 2, 3, 7, body.length]) {
    const reader = new ChunkedLines();
    const lines: string[] = [];
    for (let at = 0; at < body.length; at += step) lines.push(...reader.feed(body.subarray(at, at + step)));
    t.same(lines, ['{"seq":1,"v":"über"}', '{"seq":2}'], `step ${step}`);
    t.ok(reader.ended);
  }
});

t.test('what a request asks of the stream', async (t) => {
  const mgmt: Caller = { kind: 'container', name: 'mgr', privileged: true, pid: 5 };
  const plain: Caller = { kind: 'container', name: 'app', privileged: false, pid: 6 };
  const ask = (rawTarget: string, caller: Caller, headers: Record<string, string> = {}) =>
    subscriptionOf({ rawTarget, caller, header: (name) => headers[name.toLowerCase()] });
  t.same(ask('/events', mgmt), { format: 'ndjson', filter: {} });
  t.same(ask('/events?types=container,signal&since=12', mgmt, { accept: 'text/event-stream' }), { format: 'sse', filter: { types: new Set(['container', 'signal']) }, since: 12 });
  t.same(ask('/events', mgmt, { 'last-event-id': '30', accept: 'application/x-protobuf;q=1' }), { format: 'protobuf', filter: {}, since: 30 });
  t.same(ask('/events', plain), { format: 'ndjson', filter: { container: 'app' } }, 'a non-mgmt container sees only itself');
  t.throws(() => ask('/events?container=mgr', plain), { message: 'Request not sent from a mgmt platform' });
  t.throws(() => ask('/events?types=nope', mgmt), { message: 'unknown event type "nope"' });
  t.throws(() => ask('/events?since=-1', mgmt), { message: 'since must be a sequence number' });
});
