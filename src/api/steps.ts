/** `/steps` and its sub-resources (spec §7.6). */
import { COMMITMSG_LIMIT } from '../storage/steps.ts';
import type { Handler } from './handler.ts';
import { json, ok, type ApiRequest } from '../server/types.ts';

/** Largest state JSON accepted; the body is streamed to disk, but validation reads it whole. */
export const STATE_JSON_LIMIT = 64 * 1024 * 1024;

export const listSteps: Handler = async (_request, services) => json(services.steps.listingJson());

/** Handlers for one route family: `/steps/{}…` (prefix '') or `/steps/locals/{}…` (prefix 'locals/'). */
export function stepHandlers(prefix: '' | 'locals/'): { get: Handler; progress: Handler; put: Handler; commitmsg: Handler } {
  const revisionOf = (request: ApiRequest): string => `${prefix}${request.params[0] ?? ''}`;
  return {
    get: async (request, services) => ({ type: 'file', path: services.steps.statePath(revisionOf(request)), contentType: 'application/json' }),
    progress: async (request, services) => ({
      type: 'file',
      path: services.steps.progressPath(revisionOf(request)),
      contentType: 'application/json',
    }),
    put: async (request, services) => {
      const revision = revisionOf(request);
      await services.steps.installLocal(revision, request.body, (text) => services.verifyState(text), STATE_JSON_LIMIT);
      services.log.info(`local revision ${revision} installed`);
      return ok();
    },
    commitmsg: async (request, services) => {
      const message = await request.body.text(COMMITMSG_LIMIT);
      services.steps.writeCommitMessage(revisionOf(request), message);
      return ok();
    },
  };
}
