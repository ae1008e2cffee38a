/** Which revisions a collection keeps, and the one-runtime rule of RunningSystem: pure, no root. */
import t from 'tap';
import { revisionsToKeep } from '../../../src/storage/gc.ts';
import { RunningSystem } from '../../../src/runtime/running-system.ts';

t.test('GC keeps the running revision, the rollback point, an update under way and, when asked, factory', async (t) => {
  const base = { running: 'locals/b', rollbackPoint: 'locals/a', updating: undefined, keepFactory: false };
  t.same([...revisionsToKeep(base)].sort(), ['locals/a', 'locals/b']);
  t.same([...revisionsToKeep({ ...base, updating: 'locals/c' })].sort(), ['locals/a', 'locals/b', 'locals/c'], 'the revision being installed or tested');
  t.same([...revisionsToKeep({ ...base, keepFactory: true })].sort(), ['0', 'locals/a', 'locals/b'], 'PV_STORAGE_GC_KEEP_FACTORY');
  t.same([...revisionsToKeep({ ...base, running: 'locals/a' })], ['locals/a'], 'running and rollback point may be one');
});

t.test('one container runtime per running system', async (t) => {
  const system = new RunningSystem();
  t.equal(system.controller, undefined, 'none until a runtime starts');
  const runtime = { control: async () => {}, signalReady: async () => {}, signalAlive: async () => {} };
  system.attachController(runtime as unknown as Parameters<RunningSystem['attachController']>[0]);
  t.equal(system.controller, runtime);
  t.throws(() => system.attachController(runtime as unknown as Parameters<RunningSystem['attachController']>[0]), /already attached/, 'a second owner is refused');
});
