/** The pure decisions of src/runtime/helper-records.ts: which recorded helpers are still ours to end. */
import t from 'tap';
import { parseProcStat, survivingHelpers, type ProcessFacts } from '../../../src/runtime/helper-records.ts';

/** A /proc/<pid>/stat line with the given name, state and start time (field 22). */
const statLine = (pid: number, name: string, state: string, startTime: string): string =>
  `${pid} (${name}) ${state} 1 ${pid} ${pid} 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ${startTime} 8000000 300 18446744073709551615\n`;

t.test('parseProcStat reads state and start time, whatever the command name holds', async (t) => {
  t.same(parseProcStat(statLine(42, 'dropbear', 'S', '123456')), { startTime: '123456', zombie: false });
  t.same(parseProcStat(statLine(42, 'we(ird) name) x', 'R', '77')), { startTime: '77', zombie: false }, 'spaces and parentheses in the name');
  t.same(parseProcStat(statLine(42, 'pv-xconnect', 'Z', '9')), { startTime: '9', zombie: true }, 'a zombie has ended');
  t.equal(parseProcStat('garbage'), undefined);
  t.equal(parseProcStat('1 (x) S 1'), undefined, 'cut short');
});

t.test('survivingHelpers: same pid and same start time only; gone, zombie or reused pids are left alone', async (t) => {
  const records = [
    { name: 'pv-xconnect', pid: 10, startTime: '100' },
    { name: 'dropbear', pid: 11, startTime: '200' },
    { name: 'reused', pid: 12, startTime: '300' },
    { name: 'zombie', pid: 13, startTime: '400' },
  ];
  const table = new Map<number, ProcessFacts>([
    [10, { startTime: '100', zombie: false }],
    [12, { startTime: '999', zombie: false }],
    [13, { startTime: '400', zombie: true }],
  ]);
  t.same(
    survivingHelpers(records, (pid) => table.get(pid)).map((record) => record.name),
    ['pv-xconnect'],
  );
  t.same(survivingHelpers([], () => undefined), []);
});
