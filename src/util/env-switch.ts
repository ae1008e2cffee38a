/**
 * On/off settings read from the environment (PV_METRICS, PV_PAGE_OUT): on unless the value says
 * off, so a missing or empty variable keeps the default behaviour.
 */
const OFF = new Set(['0', 'false', 'off', 'no']);

/** True unless `value` is 0, false, off or no (any case, blanks around ignored). */
export function switchedOn(value: string | undefined): boolean {
  return !OFF.has((value ?? '').trim().toLowerCase());
}
