/**
 * The one parser for request bodies that must be a JSON object (`/containers/{name}`,
 * `/signal`, `/daemons/{name}`, `/commands`). Lives below api/ and runtime/ so both can use it.
 */
import { badRequest } from '../errors.ts';
import { isObject } from './json.ts';
import type { JsonObject, JsonValue } from './types.ts';

/**
 * Parses `text` as a JSON object, or throws a 400 with the endpoint's own wording: the
 * messages are part of the API (the reference's exact bodies), and some endpoints word a
 * body that is JSON but not an object differently from one that is not JSON at all.
 */
export function parseJsonObjectBody(text: string, notJsonMessage: string, notObjectMessage: string = notJsonMessage): JsonObject {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    throw badRequest(notJsonMessage);
  }
  if (!isObject(value)) throw badRequest(notObjectMessage);
  return value;
}
