/** Bounded waits: every wait of the stop sequence ends by a deadline (epoch ms), whatever it waits for. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait for `work` to settle, but no longer than `deadline`; true if it settled in time. */
export async function settledBy(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `condition` until it holds or `deadline` passes; true if it held. */
export async function waitUntil(condition: () => boolean, deadline: number, pollMs = 25): Promise<boolean> {
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}
