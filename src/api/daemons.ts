/** `/daemons`, `/daemons/{name}` (spec §7.11): the supervisor's helper processes. */
import { badRequest, notFound } from '../errors.ts';
import type { Handler } from '../server/router.ts';
import { json, ok } from '../server/types.ts';

const ACTION_BODY_LIMIT = 1024;

export const listDaemons: Handler = async (_request, services) => json(JSON.stringify(services.daemons.list()));

export const controlDaemon: Handler = async (request, services) => {
  const name = request.params[0] ?? '';
  if (!services.daemons.has(name)) throw notFound('Daemon not found');
  const text = await request.body.text(ACTION_BODY_LIMIT);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON');
  }
  const action = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).action : undefined;
  if (action === 'start' || action === 'stop' || action === 'restart') {
    await services.daemons.control(name, action);
    return ok();
  }
  throw badRequest("Invalid action. Use 'start', 'stop', or 'restart'");
};
