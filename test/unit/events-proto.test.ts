/**
 * The committed protobuf code is what scripts/gen-proto.sh makes of proto/ now: a .proto change
 * without regenerating fails here (bun --compile and the Yocto recipe use the committed files).
 * NDJSON and SSE take their JSON from the descriptor, not from protobufjs: the two agree on every
 * event type, and the JSON formats do not load protobufjs at all.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_TYPES, protobufFormatLoaded, toJsonObject, type EventBody, type PvEvent } from '../../src/events/index.ts';
import { containerOf, typeOf } from '../../src/events/types.ts';

const REPO = join(import.meta.dir, '..', '..');
const COMMITTED = join(REPO, 'src', 'events', 'generated');

t.test('generated code and definitions are fresh', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'pvctrl-proto-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const result = spawnSync('bash', [join(REPO, 'scripts', 'gen-proto.sh'), out], { encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 0, result.stderr);
  for (const file of ['events.js', 'events.d.ts', 'events.json']) {
    t.ok(readFileSync(join(out, file), 'utf8') === readFileSync(join(COMMITTED, file), 'utf8'), `${file} matches proto/ (run scripts/gen-proto.sh)`);
  }
});

t.test('EVENT_TYPES lists the oneof members of the .proto, in order', async (t) => {
  const proto = readFileSync(join(REPO, 'proto', 'pvctrl', 'events.proto'), 'utf8');
  const oneof = /oneof type \{([^}]*)\}/.exec(proto)?.[1] ?? '';
  const members = [...oneof.matchAll(/^\s*\w+\s+(\w+)\s*=/gm)].map((match) => match[1]);
  t.same(members, EVENT_TYPES);
});

/** Every member, with optional fields set and unset, 64-bit values and a nested message. */
const SAMPLES: EventBody[] = [
  { epoch: { id: 'e1' } },
  { reset: { epoch: 'e1', since: 12, oldest: 2 ** 40 } },
  { overflow: { limit: 262144 } },
  { container: { name: 'c1', from: 'STARTED', to: 'READY', reason: 'ready signal' } },
  { container: { name: 'c1' } },
  { group: { name: 'app', from: '', to: 'READY' } },
  { revision: { revision: 'locals/r1', progress: { status: 'TESTING', statusMsg: 'Awaiting', progress: 75, retries: 0, extra: '{"x":1}' } } },
  { revision: { revision: 'locals/r2' } },
  { meta: { store: 'user-meta', key: 'k', action: 'set', value: 'über', size: 5 } },
  { meta: { store: 'user-meta', key: 'big', action: 'set', size: 2000 } },
  { meta: { store: 'device-meta', key: 'k', action: 'deleted' } },
  { daemon: { name: 'pv-xconnect', action: 'exited', exitCode: 0, signal: 'SIGKILL' } },
  { daemon: { name: 'pv-xconnect', action: 'started' } },
  { signal: { container: 'c1', signal: 'alive' } },
  { object: { sha: 'ab'.repeat(32), action: 'stored', size: 5_000_000_000 } },
  { command: { op: 'RUN_GC', action: 'finished', ok: false, error: 'busy' } },
  { driver: { alias: 'wifi', action: 'loaded', ok: true } },
  { xconnect: { cause: 'revision' } },
];

t.test('the JSON shape from the descriptor is protobufjs toObject, for every event type', async (t) => {
  t.same([...new Set(SAMPLES.map(typeOf))].sort(), [...EVENT_TYPES].sort(), 'a sample of every type');
  const json = SAMPLES.map((body, index): string => {
    const event: PvEvent = { seq: index + 1, time: 1_796_400_000_000 + index, type: typeOf(body), body, container: containerOf(body) };
    return JSON.stringify(toJsonObject(event));
  });
  t.notOk(protobufFormatLoaded(), 'NDJSON and SSE did not load protobufjs');
  const { pvctrl } = await import('../../src/events/generated/events.js');
  SAMPLES.forEach((body, index) => {
    const type = typeOf(body);
    const object = pvctrl.Event.toObject(pvctrl.Event.create({ seq: index + 1, time: 1_796_400_000_000 + index, ...body }), { longs: Number, defaults: true });
    // Same text: same keys, values and key order.
    t.equal(json[index], JSON.stringify({ seq: index + 1, time: 1_796_400_000_000 + index, type, [type]: object[type] }), JSON.stringify(body));
  });
});
