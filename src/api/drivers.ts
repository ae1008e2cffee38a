/**
 * `/drivers…` (spec §7.10): drivers of the calling container's own platform. The host caller has
 * no platform, so every call is a no-op for it; loading goes through the driver manager.
 */
import { badRequest } from '../errors.ts';
import type { Handler } from './handler.ts';
import { json, ok, type ApiRequest } from '../server/types.ts';
import type { Services } from '../services.ts';

function callerPlatform(request: ApiRequest, services: Services) {
  return request.caller.kind === 'container' ? services.system.platform(request.caller.name) : undefined;
}

export const listDrivers: Handler = async (request, services) => {
  const platform = callerPlatform(request, services);
  if (platform === undefined) return json('{}');
  const declared = [
    ...platform.drivers.required.map((name) => ({ name, type: 'REQUIRED' })),
    ...platform.drivers.optional.map((name) => ({ name, type: 'OPTIONAL' })),
    ...platform.drivers.manual.map((name) => ({ name, type: 'MANUAL' })),
  ];
  if (declared.length === 0) return json('{}');
  return json(JSON.stringify(declared.map((driver) => ({ ...driver, status: services.drivers.status(driver.name) }))));
};

function driverAction(action: 'load' | 'unload', bulk: boolean): Handler {
  return async (request, services) => {
    const name = bulk ? undefined : (request.params[0] ?? '');
    if (name === 'load' || name === 'unload') throw badRequest('No driver name');
    const platform = callerPlatform(request, services);
    if (platform === undefined) return ok();
    const wanted = platform.drivers.manual.filter((alias) => name === undefined || alias === name);
    if (wanted.length === 0) return ok();
    const succeeded = await services.drivers.apply(action, wanted);
    if (!succeeded && action === 'load') throw badRequest(bulk ? 'Error loading drivers' : 'Error loading driver');
    return ok();
  };
}

export const loadAllDrivers = driverAction('load', true);
export const loadDriver = driverAction('load', false);
export const unloadAllDrivers = driverAction('unload', true);
export const unloadDriver = driverAction('unload', false);
