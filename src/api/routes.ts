/** The route table of spec §3.1, registered in the reference's order (pattern precedence depends on it). */
import { Router } from '../server/router.ts';
import type { Services } from '../services.ts';
import { controlContainer, listContainers, listGroups, signal, xconnectGraph } from './containers.ts';
import { postCommand } from './commands.ts';
import { controlDaemon, listDaemons } from './daemons.ts';
import { listDrivers, loadAllDrivers, loadDriver, unloadAllDrivers, unloadDriver } from './drivers.ts';
import { events } from './events.ts';
import { deviceMeta, userMeta } from './meta.ts';
import { getObject, listObjects, putObject } from './objects.ts';
import { listSteps, stepHandlers } from './steps.ts';
import { buildInfo, config, config2, storageGc, wakelocks } from './system.ts';

export function buildRouter(): Router<Services> {
  const remote = stepHandlers('');
  const local = stepHandlers('locals/');
  const mgmt = true;
  return new Router<Services>()
    .add({ path: '/containers', methods: ['GET'], mgmt, handler: listContainers })
    .add({ path: '/containers/{}', methods: ['PUT'], mgmt, handler: controlContainer })
    .add({ path: '/groups', methods: ['GET'], mgmt, handler: listGroups })
    .add({ path: '/signal', methods: ['POST'], mgmt: false, handler: signal })
    .add({ path: '/objects', methods: ['GET'], mgmt, handler: listObjects })
    .add({ path: '/objects/{}', methods: ['PUT'], mgmt, handler: putObject })
    .add({ path: '/objects/{}', methods: ['GET'], mgmt, handler: getObject })
    .add({ path: '/steps', methods: ['GET'], mgmt, handler: listSteps })
    .add({ path: '/steps/{}', methods: ['GET'], mgmt, handler: remote.get })
    .add({ path: '/steps/locals/{}', methods: ['GET'], mgmt, handler: local.get })
    .add({ path: '/steps/locals/{}', methods: ['PUT'], mgmt, handler: local.put })
    .add({ path: '/steps/{}/progress', methods: ['GET'], mgmt, handler: remote.progress })
    .add({ path: '/steps/locals/{}/progress', methods: ['GET'], mgmt, handler: local.progress })
    .add({ path: '/steps/{}/commitmsg', methods: ['PUT'], mgmt, handler: remote.commitmsg })
    .add({ path: '/steps/locals/{}/commitmsg', methods: ['PUT'], mgmt, handler: local.commitmsg })
    .add({ path: '/user-meta', methods: ['GET'], mgmt, handler: userMeta.list })
    .add({ path: '/user-meta/{}', methods: ['PUT'], mgmt, handler: userMeta.put })
    .add({ path: '/user-meta/{}', methods: ['DELETE'], mgmt, handler: userMeta.remove })
    .add({ path: '/device-meta', methods: ['GET'], mgmt, handler: deviceMeta.list })
    .add({ path: '/device-meta/{}', methods: ['PUT'], mgmt, handler: deviceMeta.put })
    .add({ path: '/device-meta/{}', methods: ['DELETE'], mgmt, handler: deviceMeta.remove })
    .add({ path: '/buildinfo', methods: ['GET'], mgmt, handler: buildInfo })
    .add({ path: '/drivers', methods: ['GET'], mgmt, handler: listDrivers })
    .add({ path: '/drivers/load', methods: ['PUT'], mgmt, handler: loadAllDrivers })
    .add({ path: '/drivers/{}/load', methods: ['PUT'], mgmt, handler: loadDriver })
    .add({ path: '/drivers/unload', methods: ['PUT'], mgmt, handler: unloadAllDrivers })
    .add({ path: '/drivers/{}/unload', methods: ['PUT'], mgmt, handler: unloadDriver })
    .add({ path: '/commands', methods: ['POST'], mgmt, handler: postCommand })
    .add({ path: '/config', methods: ['GET'], mgmt, handler: config })
    .add({ path: '/config2', methods: ['GET'], mgmt, handler: config2 })
    .add({ path: '/xconnect-graph', methods: ['GET'], mgmt, handler: xconnectGraph })
    .add({ path: '/daemons', methods: ['GET'], mgmt, handler: listDaemons })
    .add({ path: '/daemons/{}', methods: ['PUT'], mgmt, handler: controlDaemon })
    .add({ path: '/storage/gc', methods: ['POST'], mgmt, handler: storageGc })
    .add({ path: '/wakelocks', methods: ['GET'], mgmt, handler: wakelocks })
    // Open to every caller: a non-mgmt container's stream is limited to itself (api/events.ts).
    .add({ path: '/events', methods: ['GET'], mgmt: false, handler: events });
}
