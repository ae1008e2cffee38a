/** `/objects`, `/objects/{sha}` (spec §7.5). */
import { badRequest } from '../errors.ts';
import { BAD_OBJECT_NAME } from '../storage/objects.ts';
import { isSha256Name } from '../state/json.ts';
import type { Handler } from './handler.ts';
import { json, ok } from '../server/types.ts';

export const listObjects: Handler = async (_request, services) => json(services.objects.listingJson());

export const getObject: Handler = async (request, services) => {
  const sha = request.params[0] ?? '';
  // A missing object is the same 400 as a malformed name: existing clients only test for non-200.
  if (!isSha256Name(sha) || services.objects.sizeOf(sha) === undefined) throw badRequest(BAD_OBJECT_NAME);
  return { type: 'file', path: services.objects.pathOf(sha), contentType: 'application/octet-stream' };
};

export const putObject: Handler = async (request, services) => {
  const sha = request.params[0] ?? '';
  if (!isSha256Name(sha)) throw badRequest(BAD_OBJECT_NAME);
  const { objects, log } = services;
  const body = request.body;
  if (await objects.holds(sha)) {
    await body.drain();
    log.info(`object ${sha} already present: upload skipped`);
    return ok();
  }
  objects.admit(body.declaredLength);
  const started = performance.now();
  const progress = (received: number): void => log.debug(`object ${sha}: incoming data: ${received}`);
  // Large bodies skip Bun's parser: read, hashed and written natively from the connection.
  const direct = objects.prefersFdIngest(body.declaredLength) ? await body.takeOver() : undefined;
  if (direct === undefined) {
    await objects.ingestChunks(sha, body, progress);
  } else {
    try {
      await objects.ingestFromFd(sha, direct, () => direct.assertUntouched(), progress);
    } catch (error) {
      throw direct.clientGone(error) ?? error;
    }
  }
  const size = objects.sizeOf(sha) ?? 0;
  const seconds = (performance.now() - started) / 1000;
  services.metrics.objectIngested(direct === undefined ? 'js' : 'native', size, seconds);
  log.info(`object ${sha} stored (${size} bytes, ${Math.round(seconds * 1000)} ms): upload done`);
  services.events.publish({ object: { sha, action: 'stored', size } });
  return ok();
};
