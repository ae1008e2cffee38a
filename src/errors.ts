/**
 * Typed failures raised by domain code. They carry no HTTP types: `src/server/respond.ts`
 * is the one place that maps each kind to a status code and the reference's exact body.
 */
export type ErrorKind =
  | 'bad-request' // 400
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'conflict' // 409
  | 'unprocessable' // 422
  | 'internal' // 500
  | 'unavailable' // 503
  | 'insufficient-storage'; // 507

export class PvError extends Error {
  readonly kind: ErrorKind;
  /** Seconds a client should wait before retrying (only for 'unavailable'). */
  readonly retryAfter: number | undefined;

  constructor(kind: ErrorKind, message: string, options: { retryAfter?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PvError';
    this.kind = kind;
    this.retryAfter = options.retryAfter;
  }
}

export const badRequest = (message: string): PvError => new PvError('bad-request', message);
export const forbidden = (message: string): PvError => new PvError('forbidden', message);
export const notFound = (message: string): PvError => new PvError('not-found', message);
export const conflict = (message: string): PvError => new PvError('conflict', message);
export const unprocessable = (message: string): PvError => new PvError('unprocessable', message);
export const internal = (message: string, cause?: unknown): PvError => new PvError('internal', message, { cause });
export const unavailable = (message: string, retryAfter: number): PvError =>
  new PvError('unavailable', message, { retryAfter });
/** The reference reports both a full disk and an over-long body with this one message. */
export const NO_SPACE_MESSAGE = 'Not enough disk space available';
export const insufficientStorage = (): PvError => new PvError('insufficient-storage', NO_SPACE_MESSAGE);

export const isPvError = (value: unknown): value is PvError => value instanceof PvError;

/** Node-style errno error guard, for fs calls. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
