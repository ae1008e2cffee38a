/**
 * Exit status of a finished exchange. The reference script matched whole response bodies
 * byte for byte; here the decision uses the status code plus the parsed error message, so
 * spacing or escaping differences in the body cannot change the outcome, and a state
 * rejection (422 with a validation prefix) gets its own code instead of the catch-all 255.
 */
import { errorMessage } from '../client/error-body.ts';

export const EXIT_OK = 0;
/** Usage errors, missing socket, no response, local I/O problems. */
export const EXIT_USAGE = 1;
export const EXIT_NO_SPACE = 48;
export const EXIT_BAD_CHECKSUM = 60;
export const EXIT_STATE_REJECTED = 70;
export const EXIT_BUSY = 75;
/** `steps show-progress --follow`: the update ended in ERROR. */
export const EXIT_UPDATE_FAILED = 80;
export const EXIT_HTTP_ERROR = 255;

const NO_SPACE_MESSAGE = 'Not enough disk space available';
const BAD_CHECKSUM_MESSAGE = 'Object has bad checksum';
/** Message of the pre-2025 server for any rejected state JSON. */
const LEGACY_STATE_MESSAGE = 'State verification has failed';
/** Prefixes of the current server's state validation failures (one per check stage). */
const STATE_REJECTION_PREFIXES = ['Parser:', 'Secureboot:', 'Storage:'];

/**
 * Exit status for a revision's progress status once it is final (`steps show-progress
 * --follow`); undefined while the update is still under way.
 */
export function exitCodeForProgress(status: string): number | undefined {
  if (status === 'DONE' || status === 'UPDATED') return EXIT_OK;
  if (status === 'WONTGO') return EXIT_STATE_REJECTED;
  if (status === 'ERROR') return EXIT_UPDATE_FAILED;
  return undefined;
}

export function exitCodeFor(status: number, body: Uint8Array | string): number {
  if (status === 200) return EXIT_OK;
  const message = errorMessage(body);
  if (status === 507 || message === NO_SPACE_MESSAGE) return EXIT_NO_SPACE;
  if (message === BAD_CHECKSUM_MESSAGE) return EXIT_BAD_CHECKSUM;
  if (message === LEGACY_STATE_MESSAGE) return EXIT_STATE_REJECTED;
  if (status === 422 && message !== undefined && STATE_REJECTION_PREFIXES.some((prefix) => message.startsWith(prefix))) {
    return EXIT_STATE_REJECTED;
  }
  if (status === 503) return EXIT_BUSY;
  return EXIT_HTTP_ERROR;
}
