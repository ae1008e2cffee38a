/** Which program a multicall invocation means (src/multicall.ts): by name first, then by first argument. */
import t from 'tap';
import { chooseProgram } from '../../src/multicall.ts';

t.test('the name it runs under chooses', async (t) => {
  t.same(chooseProgram('/usr/bin/pvcontrol', ['steps', 'ls']), { program: 'pvcontrol', args: ['steps', 'ls'] });
  t.same(chooseProgram('pv-xconnect', ['--socket', '/s']), { program: 'pv-xconnect', args: ['--socket', '/s'] });
  t.same(chooseProgram('/opt/pv/pv-ctrl', ['--storage', '/x']), { program: 'pv-ctrl', args: ['--storage', '/x'] });
  t.same(chooseProgram('-pvcontrol', []), { program: 'pvcontrol', args: [] }, 'a login shell dash is ignored');
});

t.test('a first argument chooses where links are awkward', async (t) => {
  t.same(chooseProgram('/usr/bin/pv-ctrl', ['pvcontrol', 'steps', 'ls']), { program: 'pvcontrol', args: ['steps', 'ls'] });
  t.same(chooseProgram('bun', ['pv-xconnect', '--help']), { program: 'pv-xconnect', args: ['--help'] });
  t.same(chooseProgram('bun', ['pv-ctrl', '--version']), { program: 'pv-ctrl', args: ['--version'] });
  t.same(chooseProgram('/usr/bin/pvcontrol', ['pv-xconnect']), { program: 'pvcontrol', args: ['pv-xconnect'] }, 'the name beats the argument');
});

t.test('anything else is the daemon', async (t) => {
  t.same(chooseProgram('/tmp/renamed', ['--help']), { program: 'pv-ctrl', args: ['--help'] });
  t.same(chooseProgram('bun', []), { program: 'pv-ctrl', args: [] });
});
