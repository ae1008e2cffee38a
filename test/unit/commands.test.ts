import t from 'tap';
import { CommandQueue, parseCommand, type CommandEffects } from '../../src/runtime/commands.ts';
import { isPvError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import type { Updater } from '../../src/runtime/updater.ts';
import type { StepStore } from '../../src/storage/steps.ts';
import type { MetadataStore } from '../../src/storage/metadata.ts';

function queue(overrides: Partial<CommandEffects> = {}, active?: string) {
  const calls: string[] = [];
  let releaseSsh: () => void = () => {};
  const effects: CommandEffects = {
    log: createLogger('error'),
    updater: { active, run: async (revision: string) => { calls.push(`run ${revision}`); return true; } } as unknown as Updater,
    steps: { currentRevision: () => '0', copyStateInto: () => calls.push('copy') } as unknown as StepStore,
    deviceMeta: { set: (key: string, value: string) => calls.push(`meta ${key}=${value}`) } as unknown as MetadataStore,
    collectGarbage: () => calls.push('gc'),
    setSsh: (enabled) => new Promise<void>((resolve) => { calls.push(`ssh ${enabled}`); releaseSsh = resolve; }),
    power: async (kind) => { calls.push(kind); },
    remoteAllowed: () => false,
    debugShell: () => true,
    ...overrides,
  };
  return { queue: new CommandQueue(effects), calls, releaseSsh: () => releaseSsh() };
}

const refusal = (run: () => unknown): { kind: string; message: string; retryAfter?: number } | undefined => {
  try {
    run();
  } catch (error) {
    if (isPvError(error)) return { kind: error.kind, message: error.message, ...(error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {}) };
    throw error;
  }
  return undefined;
};

t.test('parsing: exact ops, payload required, object payloads as JSON text', async (t) => {
  t.same(parseCommand('{"op":"RUN_GC","payload":""}'), { op: 'RUN_GC', payload: '' });
  t.same(parseCommand('{"op":"UPDATE_METADATA","payload":{"a":1}}'), { op: 'UPDATE_METADATA', payload: '{"a":1}' });
  for (const bad of ['', 'x', '[]', '{"op":"RUN_GC"}', '{"op":"REBOOT","payload":""}', '{"op":"","payload":""}', '{"op":"run_gc","payload":""}']) {
    t.match(refusal(() => parseCommand(bad)), { kind: 'bad-request', message: 'Command has bad format' }, JSON.stringify(bad));
  }
});

t.test('one pending command: the next one is 503 with Retry-After 120 until it is consumed', async (t) => {
  const { queue: commands, calls, releaseSsh } = queue();
  t.equal(commands.submit('{"op":"ENABLE_SSH","payload":""}'), 'accepted');
  t.match(refusal(() => commands.submit('{"op":"RUN_GC","payload":""}')), { kind: 'unavailable', message: 'A command is already in progress. Try again', retryAfter: 120 });
  await new Promise((resolve) => setImmediate(resolve));
  t.same(calls, ['ssh true']);
  releaseSsh();
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(commands.submit('{"op":"RUN_GC","payload":""}'), 'accepted', 'slot free again');
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.same(calls, ['ssh true', 'gc']);
});

t.test('admission order and codes (spec §8.2)', async (t) => {
  const { queue: commands } = queue();
  t.match(refusal(() => commands.submit('x'.repeat(4097))), { kind: 'insufficient-storage' });
  t.match(refusal(() => commands.submit('{"op":"UPDATE_METADATA","payload":{}}')), { kind: 'conflict', message: 'Cannot do this operation while on local mode' });
  t.match(refusal(() => commands.submit('{"op":"GO_REMOTE","payload":""}')), { kind: 'conflict', message: 'Cannot do this operation when remote mode is disabled by config' });
  t.equal(commands.submit('{"op":"UNCLAIM","payload":""}'), 'no-content', 'already unclaimed: 204');
  t.match(refusal(() => commands.submit('{"op":"LOCAL_APPLY","payload":"locals/x"}')), { kind: 'bad-request' });
  t.match(refusal(() => commands.submit('{"op":"LOCAL_RUN","payload":"../etc"}')), { kind: 'bad-request' }, 'revision names are checked');
  const noShell = queue({ debugShell: () => false }).queue;
  t.match(refusal(() => noShell.submit('{"op":"DEFER_REBOOT","payload":"5"}')), { kind: 'conflict', message: 'Cannot do this operation when debug shell is not active' });
  const updating = queue({}, 'locals/x').queue;
  for (const op of ['REBOOT_DEVICE', 'POWEROFF_DEVICE', 'LOCAL_RUN', 'LOCAL_RUN_COMMIT', 'MAKE_FACTORY']) {
    t.match(refusal(() => updating.submit(`{"op":"${op}","payload":"0"}`)), { kind: 'unavailable', message: 'Cannot do this operation while update is ongoing', retryAfter: 600 }, op);
  }
  t.equal(updating.submit('{"op":"RUN_GC","payload":""}'), 'accepted', 'GC is fine during an update');
});

t.test('execution: runs, power, go-remote when allowed', async (t) => {
  const { queue: commands, calls } = queue({ remoteAllowed: () => true });
  commands.submit('{"op":"LOCAL_RUN","payload":"locals/a"}');
  await new Promise((resolve) => setTimeout(resolve, 10));
  commands.submit('{"op":"GO_REMOTE","payload":""}');
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(commands.submit('{"op":"GO_REMOTE","payload":""}'), 'no-content', 'already remote: 204');
  commands.submit('{"op":"POWEROFF_DEVICE","payload":"bye"}');
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.same(calls, ['run locals/a', 'meta pantavisor.mode=remote', 'poweroff']);
});
