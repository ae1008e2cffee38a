/**
 * Reading the message out of an error body. The legacy server writes `{"Error":"<msg>"}`
 * without escaping the message (so a quote inside it makes the body invalid JSON), libevent
 * adds a space after the colon, and a future versioned API may use `{"error":{...}}`; callers
 * that branch on the message must not care which of these they got.
 */

const LEGACY_SHAPE = /^\{\s*"Error"\s*:\s*"([\s\S]*)"\s*\}$/;

function messageOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.Error === 'string') return record.Error;
  const nested = record.error;
  if (typeof nested === 'string') return nested;
  if (typeof nested === 'object' && nested !== null && typeof (nested as Record<string, unknown>).message === 'string') {
    return (nested as Record<string, unknown>).message as string;
  }
  if (typeof record.message === 'string') return record.message;
  return undefined;
}

/** The error message carried by a response body, or undefined when it has none. */
export function errorMessage(body: Uint8Array | string): string | undefined {
  const text = (typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')).trim();
  if (text === '') return undefined;
  try {
    return messageOf(JSON.parse(text));
  } catch {
    const match = LEGACY_SHAPE.exec(text);
    return match ? match[1] : undefined;
  }
}

/** Parses a JSON body; undefined when the body is empty or not JSON. */
export function jsonBody(body: Uint8Array | string): unknown {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
