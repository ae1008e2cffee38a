/** `/objects`, `/objects/{sha}` (spec §7.5). */
import { badRequest } from '../errors.ts';
import { BAD_OBJECT_NAME } from '../storage/objects.ts';
import { isSha256Name } from '../state/json.ts';
import type { Handler } from '../server/router.ts';
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
  const started = Date.now();
  const outcome = await services.objects.upload(sha, request.body, (received) => services.log.debug(`object ${sha}: incoming data: ${received}`));
  services.log.info(
    outcome === 'stored'
      ? `object ${sha} stored (${services.objects.sizeOf(sha) ?? 0} bytes, ${Date.now() - started} ms): upload done`
      : `object ${sha} already present: upload skipped`,
  );
  return ok();
};
