/**
 * The OpenAPI 3.1 document of the route table: a pure function of the routes' `doc`s
 * (src/api/route-docs.ts). Served at GET /openapi.json and committed as docs/openapi.json
 * (`npm run gen:openapi`; a unit test fails when the committed copy is stale).
 */
import packageJson from '../../package.json' with { type: 'json' };
import type { Method } from '../server/types.ts';
import { JSON_TYPE, SCHEMAS, error, type BodyDoc, type JsonValue, type ParameterDoc, type ResponseDoc, type RouteDoc } from './route-docs.ts';

/** What the generator needs of a route: the router's fields and its doc. */
export interface DocumentedRouteShape {
  readonly path: string;
  readonly methods: readonly Method[];
  readonly mgmt: boolean;
  readonly doc: RouteDoc;
}

export type CallerClass = 'host' | 'mgmt-container' | 'container';

/** Who may call a route: the router lets the host and mgmt containers use every route, others only non-mgmt ones. */
export function callersOf(mgmt: boolean): CallerClass[] {
  return mgmt ? ['host', 'mgmt-container'] : ['host', 'mgmt-container', 'container'];
}

const CALLER_PROSE: Record<'mgmt' | 'any', string> = {
  mgmt: 'Callers: the host and containers with the mgmt role; any other container gets 403.',
  any: 'Callers: anyone — the host and every container of the running revision.',
};

/** Refusals any route may get from the router or the listener rather than from its handler. */
export const DEFAULT_RESPONSE_STATUSES = [400, 500, 503] as const;
const DEFAULT_RESPONSE = error(
  'A refusal that is not the route\'s own: 400 method not supported for this path, 500 state not loaded yet / caller not identifiable / internal failure, 503 too many connections.',
);
const NOT_MGMT = error('The caller is a container without the mgmt role ("Request not sent from a mgmt platform").');

type JsonObject = { [key: string]: JsonValue };

/** `/objects/{}` with params [sha] → `/objects/{sha}`. */
export function templatePath(path: string, params: readonly ParameterDoc[] = []): string {
  let index = 0;
  const templated = path.replace(/\{\}/g, () => {
    const param = params[index++];
    if (param === undefined) throw new Error(`route ${path}: every {} segment needs a documented parameter`);
    return `{${param.name}}`;
  });
  if (index !== params.length) throw new Error(`route ${path}: ${params.length} parameters documented for ${index} {} segments`);
  return templated;
}

function parameters(doc: RouteDoc): JsonObject[] {
  const entry = (place: 'path' | 'query' | 'header', param: ParameterDoc): JsonObject => ({
    name: param.name,
    in: place,
    description: param.description,
    required: place === 'path' ? true : (param.required ?? false),
    schema: param.schema ?? { type: 'string' },
  });
  return [
    ...(doc.params ?? []).map((param) => entry('path', param)),
    ...(doc.query ?? []).map((param) => entry('query', param)),
    ...(doc.headers ?? []).map((param) => entry('header', param)),
  ];
}

function content(bodies: BodyDoc | readonly BodyDoc[]): JsonObject {
  const list: readonly BodyDoc[] = Array.isArray(bodies) ? bodies : [bodies as BodyDoc];
  const result: JsonObject = {};
  for (const body of list) result[body.contentType] = { schema: body.schema };
  return result;
}

function response(doc: ResponseDoc): JsonObject {
  const result: JsonObject = { description: doc.description };
  if (doc.headers !== undefined) {
    const headers: JsonObject = {};
    for (const header of doc.headers) headers[header.name] = { description: header.description, required: header.required ?? false, schema: header.schema ?? { type: 'string' } };
    result.headers = headers;
  }
  if (doc.body !== undefined) result.content = content(doc.body);
  return result;
}

function operation(route: DocumentedRouteShape, templatedPath: string, method: Method): JsonObject {
  const { doc } = route;
  const responses: JsonObject = {};
  const statuses: Record<number, ResponseDoc> = { ...doc.responses };
  if (route.mgmt && statuses[403] === undefined) statuses[403] = NOT_MGMT;
  for (const status of Object.keys(statuses).map(Number).sort((a, b) => a - b)) responses[String(status)] = response(statuses[status] as ResponseDoc);
  responses.default = response(DEFAULT_RESPONSE);
  const prose = [doc.description, CALLER_PROSE[route.mgmt ? 'mgmt' : 'any']].filter((part): part is string => part !== undefined).join('\n\n');
  const result: JsonObject = {
    operationId: operationId(method, templatedPath),
    summary: doc.summary,
    description: prose,
    tags: [tagOf(route.path)],
    'x-pvctrl-callers': callersOf(route.mgmt),
  };
  const params = parameters(doc);
  if (params.length > 0) result.parameters = params;
  if (doc.requestBody !== undefined) {
    const { required, description, ...body } = doc.requestBody;
    result.requestBody = { ...(description !== undefined ? { description } : {}), required: required ?? true, content: content(body) };
  }
  result.responses = responses;
  return result;
}

/** A stable, readable id from the templated path: `GET /steps/{rev}/progress` → `getStepsByRevProgress`. */
export function operationId(method: Method, templatedPath: string): string {
  const capital = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
  const words = templatedPath
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => (segment.startsWith('{') ? `By${capital(segment.slice(1, -1))}` : segment.split(/[-.]/).map(capital).join('')));
  return `${method.toLowerCase()}${words.join('')}`;
}

function tagOf(path: string): string {
  return path.split('/')[1] ?? '';
}

export function generateOpenApi(routes: readonly DocumentedRouteShape[]): JsonObject {
  const paths: { [path: string]: JsonObject } = {};
  for (const route of routes) {
    const path = templatePath(route.path, route.doc.params);
    const item = (paths[path] ??= {});
    for (const method of route.methods) {
      const key = method.toLowerCase();
      if (item[key] !== undefined) throw new Error(`${method} ${path} documented twice`);
      item[key] = operation(route, path, method);
    }
  }
  const schemas: JsonObject = { ...SCHEMAS };
  return {
    openapi: '3.1.0',
    info: {
      title: 'pv-ctrl',
      version: packageJson.version,
      summary: 'Pantavisor\'s local control API',
      description:
        'HTTP/1.1 on a Unix socket (default /run/pantavisor/pv/pv-ctrl; `curl --unix-socket <path> http://localhost/...`). The caller is identified by the kernel (peer credentials and cgroup), not by a token: see `x-pvctrl-callers` on each operation.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://localhost', description: 'The pv-ctrl Unix socket' }],
    paths,
    components: { schemas },
  };
}

/** The exact text served and committed: two-space JSON and a final newline. */
export function renderOpenApi(routes: readonly DocumentedRouteShape[]): string {
  return `${JSON.stringify(generateOpenApi(routes), null, 2)}\n`;
}

/** JSON pointer to the schema of one response body in the document, for validators (test/helpers/contract.ts). */
export function responseSchemaRef(templatedPath: string, method: Method, status: number | 'default', contentType: string = JSON_TYPE): string {
  const pointer = (text: string): string => text.replace(/~/g, '~0').replace(/\//g, '~1');
  return `#/paths/${pointer(templatedPath)}/${method.toLowerCase()}/responses/${status}/content/${pointer(contentType)}/schema`;
}
