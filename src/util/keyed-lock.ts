/**
 * One queue of async tasks per key: a task starts once every task queued before it on the same
 * key has settled, whatever its outcome (a failure is the caller's, never the next task's).
 * A key holds memory only while it has tasks. Imports nothing, so every layer may use it.
 */
export class KeyedLock<K = string> {
  /** The last task queued per key, settled-only (it never rejects). */
  private readonly tails = new Map<K, Promise<void>>();

  /** Queue `task` on `key`; resolves or rejects with its own outcome. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Whether a task of `key` is queued or running. */
  busy(key: K): boolean {
    return this.tails.has(key);
  }

  /** Settles once everything queued so far (on every key) has settled; never rejects. */
  idle(): Promise<void> {
    return Promise.all([...this.tails.values()]).then(() => undefined);
  }

  /** Keys with tasks queued or running. */
  get size(): number {
    return this.tails.size;
  }
}

/** A single queue: tasks run one at a time in call order (a KeyedLock with one key). */
export class SerialQueue {
  private readonly lock = new KeyedLock<true>();

  run<T>(task: () => Promise<T>): Promise<T> {
    return this.lock.run(true, task);
  }
}
