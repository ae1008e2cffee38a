import type { BackoffPolicy } from './types.ts';

const UNIT_SECONDS = { s: 1, min: 60, h: 3600 } as const;
const DURATION_RE = /^(\d+)(s|min|h)$/;

/** `<n>s`, `<n>min` or `<n>h` → seconds; anything else (including bare numbers) → null. */
export function parseDuration(text: string): number | null {
  const m = DURATION_RE.exec(text);
  if (m === null) return null;
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  return Number.isSafeInteger(seconds) ? seconds : null;
}

/**
 * Seconds rendered with the largest unit that divides them exactly, the form
 * `/containers` and `/groups` publish (`7200` → `2h`, `90` → `90s`, `0` → `0s`).
 */
export function formatDuration(seconds: number): string {
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60}min`;
  return `${seconds}s`;
}

export function parseBackoffPolicy(text: string): BackoffPolicy | null {
  if (text === 'reboot') return { kind: 'reboot' };
  if (text === 'never') return { kind: 'never' };
  const seconds = parseDuration(text);
  return seconds === null ? null : { kind: 'delay', seconds };
}

export function formatBackoffPolicy(policy: BackoffPolicy): string {
  return policy.kind === 'delay' ? formatDuration(policy.seconds) : policy.kind;
}
