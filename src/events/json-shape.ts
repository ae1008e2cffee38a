/**
 * The JSON form of an event's member, exactly as protobufjs's
 * `Message.toObject(message, { longs: Number, defaults: true })` makes it (camelCase names; every
 * field present with its default, except unset `optional` ones and oneof members), derived from
 * the .proto's descriptor (`pbjs -t json`, generated with the static code by
 * scripts/gen-proto.sh). NDJSON and SSE therefore need no protobufjs at run time, and follow the
 * same definitions as the protobuf frames (test/unit/events-proto.test.ts compares the two for
 * every event type).
 */
import descriptor from './generated/events.json' with { type: 'json' };

interface FieldDescriptor {
  type: string;
  id: number;
  rule?: string;
  keyType?: string;
  options?: Record<string, unknown>;
}

interface TypeDescriptor {
  fields?: Record<string, FieldDescriptor>;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
}

type Plain = Record<string, unknown>;

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const NUMBER_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'double', 'float', ...LONG_TYPES]);
const PACKAGE = 'pvctrl';
const TYPES = (descriptor as { nested: Record<string, { nested: Record<string, TypeDescriptor> }> }).nested[PACKAGE]?.nested ?? {};

interface FieldShape {
  readonly name: string;
  /** The value of an unset field; undefined for oneof members and `optional` fields (then absent). */
  readonly fallback: (() => unknown) | undefined;
  readonly convert: (value: unknown) => unknown;
}

const shapes = new Map<string, FieldShape[]>();

/** `toObject` of one message of the package, given as the plain object a publisher built. */
export function messageToObject(typeName: string, message: Plain): Plain {
  const fields = shapeOf(typeName);
  const object: Plain = {};
  // Defaults first, then the set fields, in declaration order: protobufjs's key order.
  for (const field of fields) if (field.fallback !== undefined) object[field.name] = field.fallback();
  for (const field of fields) {
    const value = message[field.name];
    if (value !== null && value !== undefined && Object.hasOwn(message, field.name)) object[field.name] = field.convert(value);
  }
  return object;
}

/** The message type of a field of `typeName` (e.g. the oneof member `meta` of `Event`: `MetaChange`). */
export function fieldType(typeName: string, field: string): string {
  const type = typeOf(typeName).fields?.[field]?.type;
  if (type === undefined) throw new Error(`${PACKAGE}.${typeName} has no field ${field}`);
  return type;
}

function typeOf(name: string): TypeDescriptor {
  const type = TYPES[name];
  if (type === undefined) throw new Error(`${PACKAGE}.${name} is not in the descriptor`);
  return type;
}

function shapeOf(typeName: string): FieldShape[] {
  let fields = shapes.get(typeName);
  if (fields === undefined) {
    const type = typeOf(typeName);
    const inOneof = new Set(Object.values(type.oneofs ?? {}).flatMap((oneof) => oneof.oneof));
    fields = Object.entries(type.fields ?? {}).map(([name, field]) => fieldShape(typeName, name, field, inOneof.has(name)));
    shapes.set(typeName, fields);
  }
  return fields;
}

function fieldShape(typeName: string, name: string, field: FieldDescriptor, inOneof: boolean): FieldShape {
  // Only what the events use; anything else must be added here (and to the equivalence test) first.
  if (field.keyType !== undefined || field.type === 'bytes' || TYPES[field.type]?.values !== undefined) {
    throw new Error(`${PACKAGE}.${typeName}.${name}: ${field.type} fields have no JSON shape here yet`);
  }
  const scalar = scalarShape(field.type);
  const convert: (value: unknown) => unknown = scalar?.convert ?? ((value) => messageToObject(field.type, value as Plain));
  if (scalar === undefined) typeOf(field.type);
  if (field.rule === 'repeated') {
    return { name, fallback: () => [], convert: (value) => (value as unknown[]).map(convert) };
  }
  const fallback = scalar?.fallback ?? null;
  return { name, fallback: inOneof ? undefined : () => fallback, convert };
}

function scalarShape(type: string): { fallback: unknown; convert: (value: unknown) => unknown } | undefined {
  if (type === 'string') return { fallback: '', convert: (value) => value };
  if (type === 'bool') return { fallback: false, convert: (value) => value };
  // `longs: Number`: a 64-bit value given as a protobufjs Long (or its decimal text) becomes a number.
  if (LONG_TYPES.has(type)) return { fallback: 0, convert: (value) => (typeof value === 'number' ? value : Number(String(value))) };
  if (NUMBER_TYPES.has(type)) return { fallback: 0, convert: (value) => value };
  return undefined;
}
