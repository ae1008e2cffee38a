/** The one promise-chain lock (src/util/keyed-lock.ts): order, failure isolation, key clean-up. */
import t from 'tap';
import { KeyedLock, SerialQueue } from '../../src/util/keyed-lock.ts';

/** A promise the test settles by hand, so order is decided by the test, not by timers. */
function gate(): { promise: Promise<void>; open(): void; fail(error: Error): void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('tasks of one key run one at a time, in call order', async (t) => {
  const lock = new KeyedLock();
  const events: string[] = [];
  const first = gate();
  const a = lock.run('k', async () => {
    events.push('a start');
    await first.promise;
    events.push('a end');
    return 1;
  });
  const b = lock.run('k', async () => {
    events.push('b');
    return 2;
  });
  await settle();
  t.same(events, ['a start'], 'b waits for a');
  t.ok(lock.busy('k'));
  first.open();
  t.same(await Promise.all([a, b]), [1, 2]);
  t.same(events, ['a start', 'a end', 'b']);
});

t.test('other keys do not wait', async (t) => {
  const lock = new KeyedLock();
  const held = gate();
  const slow = lock.run('one', () => held.promise);
  let otherRan = false;
  await lock.run('two', async () => {
    otherRan = true;
  });
  t.ok(otherRan, 'key two ran while key one was held');
  held.open();
  await slow;
});

t.test('a failure is its caller’s: the next task still runs', async (t) => {
  const lock = new KeyedLock();
  const failing = gate();
  const a = lock.run('k', () => failing.promise);
  const b = lock.run('k', async () => 'after');
  failing.fail(new Error('boom'));
  await t.rejects(a, /boom/);
  t.equal(await b, 'after');
  const thrown = lock.run('k', () => {
    throw new Error('sync throw');
  });
  await t.rejects(thrown, /sync throw/, 'a task that throws before its first await rejects too');
  t.equal(await lock.run('k', async () => 'still serving'), 'still serving');
});

t.test('keys are forgotten once their queue drains; idle() waits for all', async (t) => {
  const lock = new KeyedLock<number>();
  const held = gate();
  for (let key = 0; key < 100; key++) void lock.run(key, async () => undefined);
  void lock.run(7, () => held.promise);
  await settle();
  t.equal(lock.size, 1, 'only the key with a running task is held');
  let idle = false;
  const waiting = lock.idle().then(() => (idle = true));
  await settle();
  t.notOk(idle, 'idle() waits for the running task');
  held.open();
  await waiting;
  await settle();
  t.equal(lock.size, 0, 'nothing held');
  t.notOk(lock.busy(7));
});

t.test('SerialQueue: one queue in call order', async (t) => {
  const queue = new SerialQueue();
  const order: number[] = [];
  await Promise.all([3, 1, 2].map((n) => queue.run(async () => void order.push(n))));
  t.same(order, [3, 1, 2]);
});
