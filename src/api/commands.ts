/** `POST /commands` (spec §7.16, §8): parse and hand to the command queue. */
import { CommandQueue } from '../runtime/commands.ts';
import type { Handler } from './handler.ts';
import { ok } from '../server/types.ts';

export const postCommand: Handler = async (request, services) => {
  const text = await request.body.text(CommandQueue.bodyLimit);
  return services.commands.submit(text) === 'no-content' ? { type: 'empty', status: 204 } : ok();
};
