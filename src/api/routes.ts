/**
 * The route table of spec §3.1, registered in the reference's order (pattern precedence depends
 * on it). Each route carries its machine-readable description (`doc`, src/api/route-docs.ts),
 * the source of the OpenAPI document (src/api/openapi.ts, docs/openapi.json).
 */
import { Router, type RouteSpec } from '../server/router.ts';
import type { Services } from '../services.ts';
import type { Handler } from './handler.ts';
import { CONTENT_TYPES, EVENT_TYPES } from '../events/index.ts';
import { COMMITMSG_LIMIT } from '../storage/steps.ts';
import { META_VALUE_LIMIT } from '../storage/metadata.ts';
import { CommandQueue } from '../runtime/commands.ts';
import { controlContainer, listContainers, listGroups, signal, xconnectGraph } from './containers.ts';
import { postCommand } from './commands.ts';
import { controlDaemon, listDaemons } from './daemons.ts';
import { listDrivers, loadAllDrivers, loadDriver, unloadAllDrivers, unloadDriver } from './drivers.ts';
import { events } from './events.ts';
import { deviceMeta, userMeta } from './meta.ts';
import { getObject, listObjects, putObject } from './objects.ts';
import { listSteps, stepHandlers } from './steps.ts';
import { buildInfo, config, config2, storageGc, wakelocks } from './system.ts';
import { metrics } from './metrics.ts';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/registry.ts';
import {
  arrayOf,
  bodyTooLarge,
  error,
  jsonBody,
  okEmpty,
  okJson,
  ref,
  type ParameterDoc,
  type RouteDoc,
} from './route-docs.ts';

export interface DocumentedRoute extends RouteSpec<Services> {
  readonly doc: RouteDoc;
}

/** Bodies of action requests (containers, daemons) are capped at this many bytes (spec §7.2). */
const ACTION_LIMIT = 1024;
const SIGNAL_LIMIT = 4096;

const sha: ParameterDoc = { name: 'sha', description: 'SHA-256 of the object, 64 lowercase hex digits.', schema: { type: 'string' } };
const rev: ParameterDoc = { name: 'rev', description: 'A revision: a number or `current` (local revisions are under /steps/locals/{name}).', schema: { type: 'string' } };
const localName: ParameterDoc = { name: 'name', description: 'Name of a local revision (locals/<name>), 1–64 characters without `/`.', schema: { type: 'string' } };
const containerName: ParameterDoc = { name: 'name', description: 'Container (platform) name in the running revision.', schema: { type: 'string' } };
const driverName: ParameterDoc = { name: 'name', description: 'Driver alias from the caller\'s `drivers.manual` list.', schema: { type: 'string' } };

const stepMissing = error('No such revision or file ("Resource does not exist").');

function stepDocs(family: 'remote' | 'local'): { get: RouteDoc; progress: RouteDoc; commitmsg: RouteDoc } {
  const param = family === 'remote' ? rev : localName;
  const which = family === 'remote' ? 'a revision' : 'a local revision';
  return {
    get: {
      summary: `State JSON of ${which}`,
      description: 'The revision\'s `.pvr/json`, sent as stored.',
      params: [param],
      responses: { 200: okJson('The state JSON.', ref('StateJson')), 404: stepMissing },
    },
    progress: {
      summary: `Progress of ${which}`,
      params: [param],
      responses: { 200: okJson('The progress file, sent as stored.', ref('Progress')), 404: stepMissing },
    },
    commitmsg: {
      summary: `Set the commit message of ${which}`,
      params: [param],
      requestBody: { contentType: 'text/plain', schema: { type: 'string', maxLength: COMMITMSG_LIMIT }, description: 'The message (any content type is accepted).', required: false },
      responses: { 200: okEmpty, 404: stepMissing, 507: bodyTooLarge(COMMITMSG_LIMIT) },
    },
  };
}

function metaDocs(which: 'user' | 'device'): { list: RouteDoc; put: RouteDoc; remove: RouteDoc } {
  const key: ParameterDoc = { name: 'key', description: `${which === 'user' ? 'User' : 'Device'} meta key (not decoded; cannot contain \`/\`).`, schema: { type: 'string' } };
  return {
    list: { summary: `All ${which} meta`, responses: { 200: okJson('Every key and its value.', ref('Metadata')) } },
    put: {
      summary: `Add or update a ${which} meta key`,
      params: [key],
      requestBody: { contentType: 'text/plain', schema: { type: 'string', minLength: 1, maxLength: META_VALUE_LIMIT }, description: 'The value, sent with Content-Length (chunked bodies are refused); any content type is accepted.' },
      responses: {
        200: okEmpty,
        400: error(`No Content-Length, an empty value or an invalid key ("Cannot add or update ${which} meta").`),
        507: bodyTooLarge(META_VALUE_LIMIT),
      },
    },
    remove: {
      summary: `Delete a ${which} meta key`,
      params: [key],
      responses: { 200: okEmpty, 404: error(`No such key ("${which === 'user' ? 'User' : 'Device'} meta does not exist").`) },
    },
  };
}

function driverDocs(action: 'load' | 'unload', bulk: boolean): RouteDoc {
  const what = bulk ? 'every manual driver' : 'one manual driver';
  const responses: Record<number, ReturnType<typeof error>> = { 200: { ...okEmpty, description: 'Done, or nothing to do (the host has no platform; unknown names are ignored).' } };
  if (action === 'load') responses[400] = error(bulk ? 'A module failed to load ("Error loading drivers").' : 'A module failed to load ("Error loading driver"), or the name is `load`/`unload` ("No driver name").');
  else if (!bulk) responses[400] = error('The name is `load` or `unload` ("No driver name").');
  return {
    summary: `${action === 'load' ? 'Load' : 'Unload'} ${what} of the caller's container`,
    description: 'Acts on the calling container\'s own platform; for the host caller it does nothing.',
    ...(bulk ? {} : { params: [driverName] }),
    responses,
  };
}

const actionBody = { ...jsonBody(ref('Action'), `JSON object, at most ${ACTION_LIMIT} bytes.`), required: true };
const remoteSteps = stepHandlers('');
const localSteps = stepHandlers('locals/');
const remoteStepDocs = stepDocs('remote');
const localStepDocs = stepDocs('local');
const userMetaDocs = metaDocs('user');
const deviceMetaDocs = metaDocs('device');

const route = (
  path: string,
  method: DocumentedRoute['methods'][number],
  mgmt: boolean,
  handler: DocumentedRoute['handler'],
  doc: RouteDoc,
): DocumentedRoute => ({ path, methods: [method], mgmt, handler, doc });

export const ROUTES: readonly DocumentedRoute[] = [
  route('/containers', 'GET', true, listContainers, {
    summary: 'Containers of the running revision',
    description: 'One entry per platform, in state order. Booleans inside are strings ("true"/"false"), as the reference sends them.',
    responses: { 200: okJson('The containers.', arrayOf('Container')) },
  }),
  route('/containers/{}', 'PUT', true, controlContainer, {
    summary: 'Start, stop or restart a container',
    description: 'Only containers with restart_policy `container`. 200 means accepted: the change happens asynchronously (watch /containers or /events).',
    params: [containerName],
    requestBody: actionBody,
    responses: {
      200: { ...okEmpty, description: 'Accepted; empty body.' },
      400: error('Invalid JSON, a missing or unknown action, or an action the container\'s status does not allow.'),
      403: error('The caller is not mgmt, or the container has restart_policy `system`.'),
      404: error('No such container ("Container not found").'),
      507: bodyTooLarge(ACTION_LIMIT),
    },
  }),
  route('/groups', 'GET', true, listGroups, {
    summary: 'Groups of the running revision',
    responses: { 200: okJson('The groups in declaration order.', arrayOf('Group')) },
  }),
  route('/signal', 'POST', false, signal, {
    summary: 'Signal from a container: ready or alive',
    description:
      'Any caller may send it, but only a container of the running revision is heard: `ready` from a container whose status_goal is READY, `alive` from one that must send alive signals. Everything else is refused with 500, as the reference does.',
    requestBody: { ...jsonBody({ type: 'object', properties: { type: { type: 'string', enum: ['ready', 'alive'] }, payload: { type: 'string' } }, required: ['type'] }, `At most ${SIGNAL_LIMIT} bytes.`), required: true },
    responses: {
      200: okEmpty,
      400: error('The body is not a JSON object with a string `type` ("Signal has bad format").'),
      500: error('The signal is not expected from this caller ("Signal not expected from this platform").'),
      507: bodyTooLarge(SIGNAL_LIMIT),
    },
  }),
  route('/objects', 'GET', true, listObjects, {
    summary: 'Objects in storage',
    responses: { 200: okJson('Every object, ascending by name.', arrayOf('ObjectEntry')) },
  }),
  route('/objects/{}', 'PUT', true, putObject, {
    summary: 'Upload an object',
    description: 'The body is stored only if its SHA-256 equals the name; re-uploading a present object is a no-op.',
    params: [sha],
    requestBody: { contentType: 'application/octet-stream', schema: { type: 'string', contentMediaType: 'application/octet-stream' }, description: 'The object\'s bytes (Content-Length or chunked; the content type is ignored).', required: true },
    responses: {
      200: okEmpty,
      400: error('The name is not 64 hex digits ("Request has bad object name").'),
      422: error('The body\'s SHA-256 differs from the name ("Object has bad checksum"); nothing is stored.'),
      507: error('Not enough free space for the object ("Not enough disk space available"); nothing is stored.'),
    },
  }),
  route('/objects/{}', 'GET', true, getObject, {
    summary: 'Download an object',
    params: [sha],
    responses: {
      200: { description: 'The object\'s bytes.', body: { contentType: 'application/octet-stream', schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
      400: error('Malformed name or no such object (both "Request has bad object name", as the reference answers).'),
    },
  }),
  route('/steps', 'GET', true, listSteps, {
    summary: 'Revisions in storage',
    description: 'Numbered revisions first, then locals/*, each sorted bytewise.',
    responses: { 200: okJson('The revisions.', arrayOf('Step')) },
  }),
  route('/steps/{}', 'GET', true, remoteSteps.get, remoteStepDocs.get),
  route('/steps/locals/{}', 'GET', true, localSteps.get, localStepDocs.get),
  route('/steps/locals/{}', 'PUT', true, localSteps.put, {
    summary: 'Install a local revision\'s state JSON',
    description: 'The body is validated (spec §6.5) before the revision replaces any earlier one of that name; a rejected body leaves nothing behind.',
    params: [localName],
    requestBody: { ...jsonBody(ref('StateJson'), 'The complete state JSON.'), required: true },
    responses: {
      200: okEmpty,
      400: error('Invalid revision name ("Request has bas step name", the reference\'s text).'),
      409: error('The name is the running revision ("Cannot overwrite the running revision").'),
      422: error('The state JSON is rejected; the message says why.'),
      507: error('Not enough free space, or a body over 64 MiB ("Not enough disk space available").'),
    },
  }),
  route('/steps/{}/progress', 'GET', true, remoteSteps.progress, remoteStepDocs.progress),
  route('/steps/locals/{}/progress', 'GET', true, localSteps.progress, localStepDocs.progress),
  route('/steps/{}/commitmsg', 'PUT', true, remoteSteps.commitmsg, remoteStepDocs.commitmsg),
  route('/steps/locals/{}/commitmsg', 'PUT', true, localSteps.commitmsg, localStepDocs.commitmsg),
  route('/user-meta', 'GET', true, userMeta.list, userMetaDocs.list),
  route('/user-meta/{}', 'PUT', true, userMeta.put, userMetaDocs.put),
  route('/user-meta/{}', 'DELETE', true, userMeta.remove, userMetaDocs.remove),
  route('/device-meta', 'GET', true, deviceMeta.list, deviceMetaDocs.list),
  route('/device-meta/{}', 'PUT', true, deviceMeta.put, deviceMetaDocs.put),
  route('/device-meta/{}', 'DELETE', true, deviceMeta.remove, deviceMetaDocs.remove),
  route('/buildinfo', 'GET', true, buildInfo, {
    summary: 'Build manifest',
    responses: { 200: { description: 'The build manifest (may be empty).', body: { contentType: 'text/plain', schema: { type: 'string' } } } },
  }),
  route('/drivers', 'GET', true, listDrivers, {
    summary: 'Drivers of the caller\'s container',
    description: 'The JSON object `{}` when the caller has no platform (the host) or its platform declares no drivers (the reference\'s quirk), else an array.',
    responses: { 200: okJson('The drivers.', { oneOf: [arrayOf('Driver'), { type: 'object', maxProperties: 0 }] }) },
  }),
  route('/drivers/load', 'PUT', true, loadAllDrivers, driverDocs('load', true)),
  route('/drivers/{}/load', 'PUT', true, loadDriver, driverDocs('load', false)),
  route('/drivers/unload', 'PUT', true, unloadAllDrivers, driverDocs('unload', true)),
  route('/drivers/{}/unload', 'PUT', true, unloadDriver, driverDocs('unload', false)),
  route('/commands', 'POST', true, postCommand, {
    summary: 'Queue a command',
    description: 'Admission is synchronous, execution asynchronous (spec §8); one command at a time.',
    requestBody: { ...jsonBody(ref('Command'), `At most ${CommandQueue.bodyLimit} bytes.`), required: true },
    responses: {
      200: { ...okEmpty, description: 'Accepted; empty body.' },
      204: { description: 'Nothing to do (already in that mode, or the device is not claimed).' },
      400: error('Not a command, an unknown or unsupported op, or a bad payload ("Command has bad format").'),
      409: error('The op conflicts with the device\'s mode or configuration.'),
      503: error('Another command or an update is in progress; retry after Retry-After seconds.', [
        { name: 'Retry-After', description: 'Seconds to wait before retrying.', schema: { type: 'integer' }, required: true },
      ]),
      507: bodyTooLarge(CommandQueue.bodyLimit),
    },
  }),
  route('/config', 'GET', true, config, {
    summary: 'Configuration, legacy aliased view',
    responses: { 200: okJson('Key → value.', { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } }) },
  }),
  route('/config2', 'GET', true, config2, {
    summary: 'Configuration, full view',
    responses: {
      200: okJson('Every key with its value and where it was set.', {
        type: 'array',
        items: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' }, modified: { type: 'string' } }, required: ['key', 'value', 'modified'], additionalProperties: false },
      }),
    },
  }),
  route('/xconnect-graph', 'GET', true, xconnectGraph, {
    summary: 'Service links between containers (pv-xconnect\'s input)',
    responses: { 200: okJson('One link per requirement and matching export.', arrayOf('XconnectLink')) },
  }),
  route('/daemons', 'GET', true, listDaemons, {
    summary: 'Helper daemons',
    responses: { 200: okJson('The daemons in table order.', arrayOf('Daemon')) },
  }),
  route('/daemons/{}', 'PUT', true, controlDaemon, {
    summary: 'Start, stop or restart a helper daemon',
    params: [{ name: 'name', description: 'Daemon name, as listed by GET /daemons.', schema: { type: 'string' } }],
    requestBody: actionBody,
    responses: {
      200: okEmpty,
      400: error('Invalid JSON or an unknown action.'),
      404: error('No such daemon ("Daemon not found").'),
      507: bodyTooLarge(ACTION_LIMIT),
    },
  }),
  route('/storage/gc', 'POST', true, storageGc, {
    summary: 'Run the garbage collector now',
    responses: { 200: okJson('Bytes of objects removed (hand-formatted: `{"reclaimed": N}`).', { type: 'object', properties: { reclaimed: { type: 'integer', minimum: 0 } }, required: ['reclaimed'], additionalProperties: false }) },
  }),
  route('/wakelocks', 'GET', true, wakelocks, {
    summary: 'Wakelock state',
    responses: {
      200: okJson('The power mode and the locks held.', {
        type: 'object',
        properties: {
          mode: { type: 'string', enum: ['disabled', 'locks', 'managed'] },
          count: { type: 'integer' },
          degraded: { type: 'boolean' },
          autosleep: { type: 'boolean' },
          settling: { type: 'boolean' },
          polling: { type: 'boolean' },
          run_window: { type: 'boolean' },
          held: { type: 'object', additionalProperties: { type: 'boolean' } },
        },
        required: ['mode', 'count', 'degraded', 'autosleep', 'settling', 'polling', 'run_window', 'held'],
        additionalProperties: false,
      }),
    },
  }),
  // Open to every caller: a non-mgmt container's stream is limited to itself (api/events.ts).
  route('/events', 'GET', false, events, {
    summary: 'Stream of events (docs/events.md)',
    description:
      'A response that lasts until the client goes. Format by Accept: NDJSON (default), SSE or length-delimited protobuf (proto/pvctrl/events.proto). A non-mgmt container only sees events about itself.',
    query: [
      { name: 'since', description: 'Resume after this sequence number.', schema: { type: 'string', pattern: '^[0-9]{1,15}$' } },
      { name: 'epoch', description: 'The daemon process (epoch event id) `since` belongs to.', schema: { type: 'string' } },
      { name: 'types', description: 'Comma-separated event types to receive.', schema: { type: 'string' }, },
      { name: 'container', description: 'Only events about this container (a non-mgmt caller may only name itself).', schema: { type: 'string' } },
    ],
    headers: [
      { name: 'Accept', description: `${CONTENT_TYPES.ndjson}, ${CONTENT_TYPES.sse} or ${CONTENT_TYPES.protobuf}.`, schema: { type: 'string' } },
      { name: 'Last-Event-ID', description: 'As `since` (SSE clients send it when they reconnect).', schema: { type: 'string' } },
    ],
    responses: {
      200: {
        description: `The stream. Event types: ${EVENT_TYPES.join(', ')}.`,
        body: [
          { contentType: CONTENT_TYPES.ndjson, schema: { type: 'string', description: 'One JSON event object a line.' } },
          { contentType: CONTENT_TYPES.sse, schema: { type: 'string', description: 'Server-sent events; `id:` is the sequence number.' } },
          { contentType: CONTENT_TYPES.protobuf, schema: { type: 'string', contentMediaType: CONTENT_TYPES.protobuf, description: 'Length-delimited pvctrl.Event messages.' } },
        ],
      },
      400: error('A bad `since` or an unknown event type.'),
      403: error('A non-mgmt container asked for another container\'s events.'),
    },
  }),
  route('/metrics', 'GET', true, metrics, {
    summary: 'Metrics in the Prometheus text format 0.0.4 (docs/operations.md)',
    description: 'Requests by route and status, durations, uploads, objects, revision and update progress, containers, helpers, connections, event subscribers, process memory and CPU.',
    responses: {
      200: { description: 'The exposition.', body: { contentType: EXPOSITION_CONTENT_TYPE, schema: { type: 'string' } } },
      404: error('Metrics are disabled (PV_METRICS=0).'),
    },
  }),
  route('/openapi.json', 'GET', false, openApiDocument, {
    summary: 'This API\'s OpenAPI 3.1 document',
    description: 'The same document as docs/openapi.json, generated from the route table.',
    responses: { 200: okJson('The OpenAPI document.', { type: 'object', required: ['openapi', 'info', 'paths'] }) },
  }),
];

let openApiText: string | undefined;

/** The document is built on first request (the generator is loaded only then) and kept. */
async function openApiDocument(): ReturnType<Handler> {
  if (openApiText === undefined) {
    const { renderOpenApi } = await import('./openapi.ts');
    openApiText = renderOpenApi(ROUTES);
  }
  return { type: 'json', text: openApiText };
}

export function buildRouter(): Router<Services> {
  const router = new Router<Services>();
  for (const documented of ROUTES) router.add(documented);
  return router;
}

