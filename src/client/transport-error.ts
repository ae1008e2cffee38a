/** Failures of an HTTP exchange that produced no (complete) response; see ./http.ts. */

export type TransportErrorCode =
  | 'connect' // socket missing, refused, or permission denied
  | 'reset' // connection dropped before a complete response, or a malformed response
  | 'timeout'
  | 'source' // the request body source failed or was shorter than announced
  | 'sink'; // writing the downloaded body failed

/** No (complete) HTTP response was obtained. Distinct from any HTTP status. */
export class PvTransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PvTransportError';
    this.code = code;
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
