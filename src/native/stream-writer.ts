/**
 * Typed facade over the stream part of the pvctrl_native (core) addon (native/src/stream_writer.cpp):
 * the bodies of long-lived responses (GET /events) are written by a thread of the addon's own,
 * so the event loop appends bytes and never makes a write syscall per subscriber (issue 9,
 * docs/events.md "Delivery"). Arguments are checked here, before the addon.
 */
import { concernExports } from './index.ts';

/** What the writer tells a stream's owner, on the JS thread. */
export interface WrittenStreamEvents {
  /** A stream whose `write` said full takes bytes again (its queue emptied, or held less than the mark). */
  drained(): void;
  /** The peer went away, or a send failed: nothing more is written. */
  gone(): void;
  /** Everything written before `flush()` has left. */
  flushed(): void;
}

/** One connection's body, written by the writer's thread. */
export interface WrittenStream {
  /** Queue `bytes` after the earlier ones; false when the queue is past its high-water mark (`drained` follows) or the stream is over. */
  write(bytes: Uint8Array): boolean;
  /** Ask for `flushed` once everything queued so far has left. */
  flush(): void;
  /** Forget the stream: nothing more is written or reported; its own copy of the fd is closed. */
  close(): void;
}

interface StreamWriterHandle {
  open(fd: number, highWaterBytes: number): number;
  writeMany(ids: Uint32Array, bytes: Uint8Array, queued: Float64Array): void;
  flush(id: number): void;
  close(id: number): void;
  shutdown(): void;
  readonly size: number;
}

interface StreamExports {
  StreamWriter: new (onEvent: (id: number, kind: number) => void) => StreamWriterHandle;
}

/** The kinds native/src/stream_writer.cpp reports. */
const DRAINED = 1;
const GONE = 2;
const FLUSHED = 3;

/** One open stream, as this side knows it. */
interface StreamState {
  readonly id: number;
  readonly highWater: number;
  readonly events: WrittenStreamEvents;
  /** Bytes queued in the writer at the last hand-over, plus what was written since: never below the truth. */
  queuedEstimate: number;
  /** A write said "full": `drained` is owed. */
  blocked: boolean;
  open: boolean;
  /** The peer went away: nothing more is taken. */
  gone: boolean;
}

/**
 * Writes the bodies of many connections on one native thread. The thread starts with the first
 * stream and sleeps while nothing is queued; `shutdown` ends it.
 *
 * Writes are handed over once the turn's synchronous work is done (a microtask), the same bytes
 * to all the streams that got them in one call: the event bus writes one batch to every
 * subscriber at the same position, back to back.
 */
export class ConnectionStreamWriter {
  private handle: StreamWriterHandle | undefined;
  private readonly streams = new Map<number, StreamState>();
  /** Writes not handed over yet, in order: parallel lists (no object per write). */
  private pendingStates: StreamState[] = [];
  private pendingBytes: Uint8Array[] = [];
  private handOverScheduled = false;

  /**
   * Start writing to the connection `fd` (the writer works on a dup; the caller keeps its own fd
   * and reads as before). Bytes the caller already sent on the connection come first.
   */
  open(fd: number, highWaterBytes: number, events: WrittenStreamEvents): WrittenStream {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('open: fd must be a non-negative integer');
    if (!Number.isInteger(highWaterBytes) || highWaterBytes < 0) throw new TypeError('open: highWaterBytes must be a non-negative integer');
    const handle = (this.handle ??= new (concernExports<'streams', StreamExports>('streams').StreamWriter)(this.report));
    const state: StreamState = { id: handle.open(fd, highWaterBytes), highWater: highWaterBytes, events, queuedEstimate: 0, blocked: false, open: true, gone: false };
    this.streams.set(state.id, state);
    return {
      write: (bytes) => this.write(state, bytes),
      flush: () => {
        if (!state.open) return;
        // What was written before the flush must be in the writer's queue before it is asked.
        this.handOver();
        handle.flush(state.id);
      },
      close: () => {
        if (!state.open) return;
        state.open = false;
        this.streams.delete(state.id);
        handle.close(state.id);
      },
    };
  }

  /** Streams open now. */
  get size(): number {
    return this.streams.size;
  }

  /** Close every stream and end the thread. */
  shutdown(): void {
    for (const state of this.streams.values()) state.open = false;
    this.streams.clear();
    this.pendingStates = [];
    this.pendingBytes = [];
    this.handle?.shutdown();
    this.handle = undefined;
  }

  private write(state: StreamState, bytes: Uint8Array): boolean {
    if (!state.open || state.gone) return false;
    this.pendingStates.push(state);
    this.pendingBytes.push(bytes);
    state.queuedEstimate += bytes.length;
    if (!this.handOverScheduled) {
      this.handOverScheduled = true;
      queueMicrotask(this.handOverNow);
    }
    if (state.queuedEstimate <= state.highWater) return true;
    state.blocked = true;
    return false;
  }

  private readonly handOverNow = (): void => {
    this.handOver();
  };

  /** Hand the pending writes to the writer: one call per run of the same bytes. */
  private handOver(): void {
    this.handOverScheduled = false;
    const handle = this.handle;
    const states = this.pendingStates;
    const bytes = this.pendingBytes;
    if (handle === undefined || states.length === 0) return;
    this.pendingStates = [];
    this.pendingBytes = [];
    const told: StreamState[] = [];
    for (let start = 0; start < states.length; ) {
      const same = bytes[start] as Uint8Array;
      let end = start + 1;
      while (end < states.length && bytes[end] === same) end++;
      const ids = new Uint32Array(end - start);
      for (let index = start; index < end; index++) ids[index - start] = (states[index] as StreamState).id;
      const queued = new Float64Array(end - start);
      handle.writeMany(ids, same, queued);
      for (let index = start; index < end; index++) {
        const state = states[index] as StreamState;
        const now = queued[index - start] as number;
        if (now < 0) continue; // closed or gone: its owner hears (or heard) that
        state.queuedEstimate = now;
        told.push(state);
      }
      start = end;
    }
    // A write that said "full" on the estimate, where the writer holds less than the mark:
    // the writer owes no `drained` (it only owes one past the mark), so it is given here.
    for (const state of told) {
      if (!state.blocked || !state.open || state.queuedEstimate > state.highWater) continue;
      state.blocked = false;
      state.events.drained();
    }
  }

  private readonly report = (id: number, kind: number): void => {
    const state = this.streams.get(id);
    if (state === undefined) return;
    if (kind === DRAINED) {
      state.queuedEstimate = 0;
      if (!state.blocked) return;
      state.blocked = false;
      state.events.drained();
    } else if (kind === GONE) {
      state.gone = true;
      state.events.gone();
    } else if (kind === FLUSHED) {
      state.events.flushed();
    }
  };
}
