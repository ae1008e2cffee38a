/**
 * The machine-readable description every route carries (`doc` in src/api/routes.ts), from which
 * src/api/openapi.ts builds the OpenAPI document. Pure data: nothing here runs a request.
 *
 * Statuses a route itself answers are listed per route; the refusals any route may get from the
 * router or the listener (method not supported, caller unknown, state not loaded, too many
 * connections, an internal failure) are the document's `default` response, and the 403 a
 * non-mgmt caller gets on a mgmt route is added by the generator from the route's `mgmt` flag.
 */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1); `$ref`s point at SCHEMAS by name via `ref()`. */
export type JsonSchema = { readonly [keyword: string]: JsonValue };

export interface ParameterDoc {
  readonly name: string;
  readonly description: string;
  readonly schema?: JsonSchema;
  /** Query parameters and headers are optional unless this says otherwise. */
  readonly required?: boolean;
}

export interface BodyDoc {
  readonly contentType: string;
  readonly schema: JsonSchema;
  readonly description?: string;
}

export interface ResponseDoc {
  readonly description: string;
  /** Absent: the daemon sends no body (Content-Length 0; the header still says application/json). */
  readonly body?: BodyDoc | readonly BodyDoc[];
  readonly headers?: readonly ParameterDoc[];
}

export interface RouteDoc {
  readonly summary: string;
  /** Prose; the generator appends who may call the route. */
  readonly description?: string;
  /** One per `{}` segment of the path, in order. */
  readonly params?: readonly ParameterDoc[];
  readonly query?: readonly ParameterDoc[];
  readonly headers?: readonly ParameterDoc[];
  readonly requestBody?: BodyDoc & { readonly required?: boolean };
  /** Keyed by HTTP status. */
  readonly responses: { readonly [status: number]: ResponseDoc };
}

export const JSON_TYPE = 'application/json';

export const ref = (name: keyof typeof SCHEMAS): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const string = { type: 'string' } as const;
const integer = { type: 'integer' } as const;
const booleanText = { type: 'string', enum: ['true', 'false'] } as const;
const object = (properties: Record<string, JsonSchema>, required: readonly string[] = Object.keys(properties)): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/** Schemas shared by several routes: `components.schemas` of the document. */
export const SCHEMAS = {
  Error: {
    ...object({ Error: { type: 'string', description: 'What went wrong (the reference\'s message text, relied on by clients).' } }),
    description: 'Every error answer: `{"Error":"<message>"}` with Content-Type application/json.',
  },
  Container: object(
    {
      name: string,
      group: { type: ['string', 'null'] },
      status: { type: 'string', description: 'NONE, INSTALLED, MOUNTED, BLOCKED, STARTING, STARTED, READY, STOPPING, STOPPED, RECOVERING' },
      status_goal: { type: 'string', enum: ['NONE', 'MOUNTED', 'STARTED', 'READY'] },
      restart_policy: { type: 'string', enum: ['system', 'container', 'unknown'] },
      roles: { type: 'array', items: { type: 'string', enum: ['mgmt'] } },
      auto_recovery: object({
        policy: string,
        max_retries: integer,
        current_retries: integer,
        stable_timeout: integer,
        is_stable: booleanText,
        backoff_policy: { type: 'string', description: 'reboot, never, or a duration such as 30s, 5min, 2h' },
      }),
      user_stopped: { ...booleanText, description: 'Only for restart_policy container.' },
      alive: {
        ...object({ timeout: integer, last_signal_secs: { type: 'integer', description: '-1 before the first alive signal' } }),
        description: 'Only for containers that must send alive signals.',
      },
    },
    ['name', 'group', 'status', 'status_goal', 'restart_policy', 'roles'],
  ),
  Group: object(
    {
      name: string,
      status_goal: string,
      restart_policy: string,
      status: string,
      auto_recovery: object({ max_retries: integer, stable_timeout: integer, backoff_policy: string }),
    },
    ['name', 'status_goal', 'restart_policy', 'status'],
  ),
  XconnectLink: object(
    {
      consumer: string,
      consumer_pid: { type: 'integer', description: 'init pid of the consumer; -1 when it is not running' },
      provider: string,
      provider_pid: integer,
      name: string,
      type: { type: 'string', description: 'the export\'s type: unix, rest, dbus, drm, wayland, input, unknown' },
      role: string,
      interface: string,
      target: { type: ['string', 'null'] },
      socket: { type: ['string', 'null'] },
      uid: integer,
    },
    ['consumer', 'consumer_pid', 'provider', 'provider_pid', 'name', 'type', 'role', 'interface', 'target', 'socket'],
  ),
  Progress: {
    type: 'object',
    description: 'A revision\'s progress file, sent as stored (spec §5.5).',
    properties: {
      status: string,
      'status-msg': string,
      progress: integer,
      retries: integer,
      data: string,
      logs: string,
    },
  },
  StateJson: {
    type: 'object',
    description: 'A revision\'s state JSON (`#spec` pantavisor-service-system@1 and the files of the revision).',
    properties: { '#spec': string },
  },
  Step: object({
    name: { type: 'string', description: 'revision name: a number, or locals/<name>' },
    date: { type: 'string', description: 'directory time, YYYY-MM-DDTHH:MM:SSZ (local time with a literal Z, as the reference prints it)' },
    commitmsg: string,
    progress: { type: 'object', description: 'the progress file, or {} when there is none' },
  }),
  ObjectEntry: object({ sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, size: { type: 'string', pattern: '^[0-9]+$', description: 'size in bytes, as a string' } }),
  Metadata: {
    type: 'object',
    additionalProperties: { type: ['string', 'object', 'array'] },
    description: 'key → value; a value that is a JSON object or array is embedded as JSON, any other as a string (spec §10.3).',
  },
  Driver: object({
    name: string,
    type: { type: 'string', enum: ['REQUIRED', 'OPTIONAL', 'MANUAL'] },
    status: { type: 'string', enum: ['LOADED', 'UNLOADED', 'UNKNOWN'] },
  }),
  Daemon: object({
    name: string,
    pid: { type: 'integer', description: '0: not running; -1: stopped through the API' },
    respawn: { type: 'boolean' },
  }),
  Action: {
    type: 'object',
    properties: { action: { type: 'string', enum: ['start', 'stop', 'restart'] } },
    required: ['action'],
  },
  Command: {
    type: 'object',
    properties: {
      op: { type: 'string', description: 'e.g. RUN_GC, ENABLE_SSH, DISABLE_SSH, REBOOT_DEVICE, POWEROFF_DEVICE, LOCAL_RUN, MAKE_FACTORY (spec §8)' },
      payload: { description: 'a string (a revision for LOCAL_RUN, "" when unused); other JSON is accepted and sent on as its text' },
    },
    required: ['op', 'payload'],
  },
} as const satisfies Record<string, JsonSchema>;

/** An error answer with the shared body. */
export const error = (description: string, headers?: readonly ParameterDoc[]): ResponseDoc => ({
  description,
  body: { contentType: JSON_TYPE, schema: ref('Error') },
  ...(headers !== undefined ? { headers } : {}),
});

export const jsonBody = (schema: JsonSchema, description?: string): BodyDoc => ({
  contentType: JSON_TYPE,
  schema,
  ...(description !== undefined ? { description } : {}),
});

export const okJson = (description: string, schema: JsonSchema): ResponseDoc => ({ description, body: jsonBody(schema) });

export const okEmpty: ResponseDoc = { description: 'Done; empty body.' };

/** The quirk of spec §2.3: a body over the route's cap is answered like a full disk. */
export const bodyTooLarge = (limit: number): ResponseDoc =>
  error(`The body is larger than ${limit} bytes ("Not enough disk space available", as the reference answers).`);

export const arrayOf = (name: keyof typeof SCHEMAS): JsonSchema => ({ type: 'array', items: ref(name) });
