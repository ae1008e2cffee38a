/** `/daemons`, `/daemons/{name}` (spec §7.11): the supervisor's helper processes. */
import { badRequest, notFound } from '../errors.ts';
import type { Handler } from './handler.ts';
import { json, ok } from '../server/types.ts';
import { parseJsonObjectBody } from '../state/json-body.ts';

const ACTION_BODY_LIMIT = 1024;
const INVALID_ACTION = "Invalid action. Use 'start', 'stop', or 'restart'";

export const listDaemons: Handler = async (_request, services) => json(JSON.stringify(services.daemons.list()));

export const controlDaemon: Handler = async (request, services) => {
  const name = request.params[0] ?? '';
  if (!services.daemons.has(name)) throw notFound('Daemon not found');
  const text = await request.body.text(ACTION_BODY_LIMIT);
  const { action } = parseJsonObjectBody(text, 'Invalid JSON', INVALID_ACTION);
  if (action === 'start' || action === 'stop' || action === 'restart') {
    await services.daemons.control(name, action);
    return ok();
  }
  throw badRequest(INVALID_ACTION);
};
