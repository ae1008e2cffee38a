/** `/user-meta` and `/device-meta` (spec §7.7, §7.8, §10). */
import { badRequest, internal, notFound } from '../errors.ts';
import { META_VALUE_LIMIT, isValidMetaKey, type MetadataStore } from '../storage/metadata.ts';
import type { Services } from '../services.ts';
import type { Handler } from './handler.ts';
import { json, ok } from '../server/types.ts';

interface MetaRoutes {
  list: Handler;
  put: Handler;
  remove: Handler;
}

function metaRoutes(pick: (services: Services) => MetadataStore, label: 'user meta' | 'device meta', titled: string): MetaRoutes {
  const cannotSet = `Cannot add or update ${label}`;
  return {
    list: async (_request, services) => json(pick(services).listingJson()),
    put: async (request, services) => {
      const key = request.params[0] ?? '';
      // No Content-Length (chunked) or an empty value is refused, as the reference does.
      if (!(request.body.declaredLength !== undefined && request.body.declaredLength >= 1)) {
        await request.body.drain();
        throw badRequest(cannotSet);
      }
      const value = await request.body.text(META_VALUE_LIMIT);
      if (!isValidMetaKey(key)) throw badRequest(cannotSet);
      try {
        pick(services).set(key, value);
      } catch (error) {
        throw internal(cannotSet, error);
      }
      return ok();
    },
    remove: async (request, services) => {
      const key = request.params[0] ?? '';
      if (!isValidMetaKey(key) || !pick(services).delete(key)) throw notFound(`${titled} does not exist`);
      return ok();
    },
  };
}

export const userMeta = metaRoutes((services) => services.userMeta, 'user meta', 'User meta');
export const deviceMeta = metaRoutes((services) => services.deviceMeta, 'device meta', 'Device meta');
