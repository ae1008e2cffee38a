/**
 * Typed facade over the stream part of the pvctrl_native addon (native/src/stream_writer.cpp):
 * the bodies of long-lived responses (GET /events) are written by a thread of the addon's own,
 * so the event loop appends bytes and never makes a write syscall per subscriber (issue 9,
 * docs/events.md "Delivery"). Arguments are checked here, before the addon.
 */
import { concernExports } from './index.ts';

/** What the writer tells a stream's owner, on the JS thread. */
export interface WrittenStreamEvents {
  /** The queue that a `write` reported full is empty again. */
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
  write(id: number, bytes: Uint8Array): boolean;
  send(): void;
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

/**
 * Writes the bodies of many connections on one native thread. The thread starts with the first
 * stream and sleeps while nothing is queued; `shutdown` ends it.
 */
export class ConnectionStreamWriter {
  private handle: StreamWriterHandle | undefined;
  private readonly owners = new Map<number, WrittenStreamEvents>();
  private sendScheduled = false;

  /**
   * Start writing to the connection `fd` (the writer works on a dup; the caller keeps its own fd
   * and reads as before). Bytes the caller already sent on the connection come first.
   */
  open(fd: number, highWaterBytes: number, events: WrittenStreamEvents): WrittenStream {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('open: fd must be a non-negative integer');
    if (!Number.isInteger(highWaterBytes) || highWaterBytes < 0) throw new TypeError('open: highWaterBytes must be a non-negative integer');
    const handle = (this.handle ??= new (concernExports<'streams', StreamExports>('streams').StreamWriter)(this.report));
    const id = handle.open(fd, highWaterBytes);
    this.owners.set(id, events);
    let open = true;
    return {
      write: (bytes) => {
        if (!open) return false;
        const below = handle.write(id, bytes);
        this.scheduleSend(handle);
        return below;
      },
      flush: () => {
        if (open) handle.flush(id);
      },
      close: () => {
        if (!open) return;
        open = false;
        this.owners.delete(id);
        handle.close(id);
      },
    };
  }

  /**
   * The thread is woken once for all the writes of this turn's synchronous work (the bus writes
   * to every subscriber in one loop): one wake-up, not one per write.
   */
  private scheduleSend(handle: StreamWriterHandle): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    queueMicrotask(() => {
      this.sendScheduled = false;
      handle.send();
    });
  }

  /** Streams open now. */
  get size(): number {
    return this.owners.size;
  }

  /** Close every stream and end the thread. */
  shutdown(): void {
    this.owners.clear();
    this.handle?.shutdown();
    this.handle = undefined;
  }

  private readonly report = (id: number, kind: number): void => {
    const owner = this.owners.get(id);
    if (owner === undefined) return;
    if (kind === DRAINED) owner.drained();
    else if (kind === GONE) owner.gone();
    else if (kind === FLUSHED) owner.flushed();
  };
}
