/** `/containers`, `/containers/{name}`, `/groups`, `/signal`, `/xconnect-graph` (spec §7.1–7.4, §7.12). */
import { PvError, badRequest, forbidden, internal, notFound } from '../errors.ts';
import type { Handler } from './handler.ts';
import { json, ok } from '../server/types.ts';
import { aliveTimeout } from '../runtime/running-system.ts';
import { parseJsonObjectBody } from '../state/json-body.ts';

const ACTION_BODY_LIMIT = 1024;
const SIGNAL_BODY_LIMIT = 4096;
const SIGNAL_NOT_EXPECTED = 'Signal not expected from this platform';

export type ContainerAction = 'start' | 'stop' | 'restart';

export const listContainers: Handler = async (_request, services) => json(services.system.containersJson());

export const listGroups: Handler = async (_request, services) => json(services.system.groupsJson());

export const xconnectGraph: Handler = async (_request, services) => json(services.system.xconnectGraphJson());

export const controlContainer: Handler = async (request, services) => {
  const name = request.params[0] ?? '';
  const platform = services.system.platform(name);
  if (platform === undefined) throw notFound('Container not found');
  if (platform.restartPolicy !== 'container') {
    throw forbidden("Container has restart_policy 'system' and cannot be controlled via API");
  }
  const text = await request.body.text(ACTION_BODY_LIMIT);
  const { action } = parseJsonObjectBody(text, 'Invalid JSON');
  if (action === undefined) throw badRequest("Missing 'action' field");
  if (action !== 'start' && action !== 'stop' && action !== 'restart') {
    throw badRequest("Invalid action. Use 'start', 'stop', or 'restart'");
  }
  const controller = services.system.controller;
  if (controller === undefined) throw internal('Container runtime is not running');
  await controller.control(name, action);
  return ok();
};

export const signal: Handler = async (request, services) => {
  const text = await request.body.text(SIGNAL_BODY_LIMIT);
  const { type } = parseJsonObjectBody(text, 'Signal has bad format');
  if (typeof type !== 'string') throw badRequest('Signal has bad format');
  const caller = request.caller;
  const platform = caller.kind === 'container' ? services.system.platform(caller.name) : undefined;
  // The runtime owns every container's status and runtime info: signals are requests to it.
  const controller = services.system.controller;
  if (platform !== undefined && type === 'alive' && aliveTimeout(platform) !== undefined) {
    if (controller === undefined) throw internal('Container runtime is not running');
    controller.signalAlive(platform.name);
    services.events.publish({ signal: { container: platform.name, signal: 'alive' } });
    services.log.debug(`signal alive from ${platform.name}`);
    return ok();
  }
  if (platform === undefined || type !== 'ready' || platform.statusGoal !== 'READY') {
    services.log.warn(`signal "${type}" from ${caller.name} refused: ${SIGNAL_NOT_EXPECTED}`);
    throw new PvError('internal', SIGNAL_NOT_EXPECTED);
  }
  if (controller === undefined) throw internal('Container runtime is not running');
  controller.signalReady(platform.name);
  services.events.publish({ signal: { container: platform.name, signal: 'ready' } });
  services.log.info(`signal ready from ${platform.name}: READY`);
  return ok();
};
