import t from 'tap';
import { PvConfig, sysctlPath, type ConfigSources } from '../../src/config/index.ts';
import { cmdlinePairs, envPairs, parseConfigText, splitCmdline } from '../../src/config/sources.ts';

function loaded(sources: ConfigSources): { config: PvConfig; warnings: string[] } {
  const warnings: string[] = [];
  const config = PvConfig.load({ ...sources, logger: (message) => warnings.push(message) });
  return { config, warnings };
}

t.test('pantavisor.config text format', async (t) => {
  const text = [
    '# comment',
    '   # indented comment',
    '',
    '  PV_LOG_LEVEL = 5  ',
    'PV_LOG_SINGLEFILE_TIMESTAMP_FORMAT=%F#%T',
    'PH_CREDS_SECRET=a=b=c',
    'no equals sign here',
    '=value without key',
    'PV_OEM_NAME=\r',
    '\tPV_DEBUG_SSH=no\t',
  ].join('\n');
  const parsed = parseConfigText(text);
  t.same(parsed.pairs, [
    { name: 'PV_LOG_LEVEL', value: '5' },
    { name: 'PV_LOG_SINGLEFILE_TIMESTAMP_FORMAT', value: '%F#%T' },
    { name: 'PH_CREDS_SECRET', value: 'a=b=c' },
    { name: 'PV_OEM_NAME', value: '' },
    { name: 'PV_DEBUG_SSH', value: 'no' },
  ]);
  t.equal(parsed.problems.length, 2);
  t.match(parsed.problems[0], /^line 7:/);

  const { config, warnings } = loaded({ configFileText: text });
  t.equal(config.getInt('PV_LOG_LEVEL'), 5);
  t.equal(config.getString('PV_LOG_SINGLEFILE_TIMESTAMP_FORMAT'), '%F#%T');
  t.equal(config.getString('PV_OEM_NAME'), '', 'empty value sets an empty string');
  t.equal(config.getBool('PV_DEBUG_SSH'), false);
  t.equal(config.levelOf('PH_CREDS_SECRET'), 'DEFAULT', 'PH key refused in pantavisor.config');
  t.equal(warnings.filter((w) => /expected KEY=value/.test(w)).length, 2);
  t.ok(warnings.every((w) => !w.includes('a=b=c')), 'secret values never reach the log');
});

t.test('CRLF files', async (t) => {
  const { config } = loaded({ configFileText: 'PV_LOG_LEVEL=3\r\nPV_OEM_NAME=oem\r\n' });
  t.equal(config.getInt('PV_LOG_LEVEL'), 3);
  t.equal(config.getString('PV_OEM_NAME'), 'oem');
});

t.test('environment: PV_/PH_ prefixes in any case', async (t) => {
  t.same(
    envPairs({ PV_LOG_LEVEL: '2', ph_creds_host: 'h', Pv_Oem_Name: 'o', HOME: '/root', PVX: '1', PV_UNSET: undefined }).map((p) => p.name),
    ['PV_LOG_LEVEL', 'ph_creds_host', 'Pv_Oem_Name'],
  );
  const { config } = loaded({ env: { pv_log_level: '2', ph_creds_host: 'env.example', PV_OEM_NAME: 'oem', PATH: '/bin' } });
  t.equal(config.getInt('PV_LOG_LEVEL'), 2);
  t.equal(config.getString('PH_CREDS_HOST'), 'env.example');
  t.match(config.config2Json(), /"key":"PV_OEM_NAME","value":"oem","modified":"env"/);
});

t.test('kernel cmdline', async (t) => {
  t.same(splitCmdline('  a b="c d"  e\t"f g" '), ['a', 'b="c d"', 'e', '"f g"']);
  t.same(
    cmdlinePairs('root=/dev/sda pv_rev=3 pv_log.level=5 ph_creds.host=x PV_OEM_NAME="my oem" pv_ novalue pv_=1'),
    [
      { name: 'pv_rev', stripped: 'rev', value: '3', level: 'PV_CMDLINE' },
      { name: 'pv_log.level', stripped: 'log.level', value: '5', level: 'PV_CMDLINE' },
      { name: 'ph_creds.host', stripped: 'creds.host', value: 'x', level: 'PH_CMDLINE' },
      { name: 'PV_OEM_NAME', stripped: 'OEM_NAME', value: 'my oem', level: 'PV_CMDLINE' },
    ],
  );
  const { config, warnings } = loaded({
    cmdline: 'console=ttyS0 pv_try=0 pv_rev=3 pv_log.level=5 pv_debug_shell=0 PV_OEM_NAME="my oem" ph_creds.host=cmdline.example',
  });
  t.equal(config.getInt('PV_LOG_LEVEL'), 5);
  t.equal(config.levelOf('PV_LOG_LEVEL'), 'PV_CMDLINE');
  t.equal(config.getBool('PV_DEBUG_SHELL'), false);
  t.equal(config.getString('PV_OEM_NAME'), 'my oem');
  t.equal(config.getString('PH_CREDS_HOST'), 'cmdline.example');
  t.equal(config.levelOf('PH_CREDS_HOST'), 'PH_CMDLINE');
  t.ok(warnings.every((w) => !/unknown/.test(w)), 'bootloader tokens (pv_rev, pv_try) are not warned about');

  const crossed = loaded({ cmdline: 'ph_log.level=3 pv_creds.host=x' });
  t.equal(crossed.config.levelOf('PV_LOG_LEVEL'), 'DEFAULT', 'a PV key behind ph_ is refused');
  t.equal(crossed.config.levelOf('PH_CREDS_HOST'), 'DEFAULT', 'a PH key behind pv_ is refused');
  t.equal(crossed.warnings.filter((w) => /cannot be set/.test(w)).length, 2);
});

t.test('policy file: name from cmdline, then env, then pantavisor.config', async (t) => {
  const asked: string[] = [];
  const readPolicy = (name: string, config: PvConfig): string | undefined => {
    asked.push(`${config.getString('PV_SYSTEM_ETCPANTAVISORDIR') ?? ''}/policies/${name}.config`);
    return name === 'missing' ? undefined : 'PV_LOG_LEVEL=7\nPV_STORAGE_WAIT=9\nPV_DEBUG_SSH_AUTHORIZED_KEYS=k\n';
  };
  const base = { configFileText: 'PV_POLICY=fromconf\nPV_STORAGE_WAIT=1\n', readPolicy };

  let { config } = loaded({ ...base, env: { PV_POLICY: 'fromenv', PV_SYSTEM_ETCPANTAVISORDIR: '/opt/pv' }, cmdline: 'pv_policy=fromcmdline' });
  t.same(asked, ['/opt/pv/policies/fromcmdline.config'], 'cmdline name first; reader sees env values');
  t.equal(config.getInt('PV_LOG_LEVEL'), 7);
  t.equal(config.levelOf('PV_LOG_LEVEL'), 'POLICY');
  t.equal(config.getInt('PV_STORAGE_WAIT'), 9, 'policy beats pantavisor.config');
  t.match(config.config2Json(), /"key":"PV_STORAGE_WAIT","value":"9","modified":"policy"/);

  asked.length = 0;
  ({ config } = loaded({ ...base, env: { PV_POLICY: 'fromenv' } }));
  t.same(asked, ['/etc/pantavisor/policies/fromenv.config']);

  asked.length = 0;
  ({ config } = loaded({ ...base, env: { PV_LOG_LEVEL: '1' } }));
  t.same(asked, ['/etc/pantavisor/policies/fromconf.config']);
  t.equal(config.getInt('PV_LOG_LEVEL'), 1, 'env still beats the policy');

  asked.length = 0;
  const slashed = loaded({ ...base, cmdline: 'pv_policy=../../tmp/x' });
  t.same(asked, [], "a name with '/' is never read");
  t.ok(slashed.warnings.some((w) => /contains '\/'/.test(w)));

  asked.length = 0;
  ({ config } = loaded({ readPolicy }));
  t.same(asked, [], 'no policy configured, nothing read');
  ({ config } = loaded({ ...base, cmdline: 'pv_policy=missing' }));
  t.equal(config.getInt('PV_STORAGE_WAIT'), 1, 'missing policy file changes nothing');
});

t.test('OEM file applied later at OEM level', async (t) => {
  const { config } = loaded({ configFileText: 'PV_LOG_LEVEL=1\nPV_SYSTEM_RUNDIR=/pv\n' });
  t.equal(config.applyText('PV_LOG_LEVEL=2\nPV_SYSTEM_RUNDIR=/elsewhere\nPV_NET_BRDEV=br9\n', 'OEM'), 2);
  t.equal(config.getInt('PV_LOG_LEVEL'), 2);
  t.equal(config.getString('PV_SYSTEM_RUNDIR'), '/pv', 'PV-only key refused from OEM');
  t.match(config.config2Json(), /"key":"PV_NET_BRDEV","value":"br9","modified":"oem config"/);
  t.equal(config.applyCmdline('pv_log_level=3'), 1);
  t.equal(config.applyEnv({ PV_LOG_LEVEL: '4' }), 1);
  t.equal(config.getInt('PV_LOG_LEVEL'), 4);
});

t.test('sysctl keys are collected, not stored as config', async (t) => {
  const { config, warnings } = loaded({
    configFileText: 'PV_SYSCTL_NET_IPV4_IP_FORWARD=1\nsysctl.vm.swappiness=10\n',
    env: { PV_SYSCTL_KERNEL_CORE_PATTERN: 'core' },
  });
  t.same(warnings, []);
  const settings = config.sysctlSettings();
  t.same(
    settings.map((s) => [s.name, s.value, s.level]),
    [
      ['PV_SYSCTL_KERNEL_CORE_PATTERN', 'core', 'ENV'],
      ['PV_SYSCTL_NET_IPV4_IP_FORWARD', '1', 'PV_CONF'],
      ['sysctl.vm.swappiness', '10', 'PV_CONF'],
    ],
  );
  t.equal(new PvConfig().sysctlSettings()[0]?.value, '|/lib/pv/pvcrash --skip', 'default core pattern');
  t.equal(config.set('PV_SYSCTL_VM_SWAPPINESS', '1', 'META'), false, 'not from user meta');
  t.equal(config.set('PV_SYSCTL_VM_SWAPPINESS', '1', 'OEM'), true);

  const dirs = new Set(['/proc/sys/net', '/proc/sys/net/ipv4', '/proc/sys/kernel', '/proc/sys/vm']);
  const isDirectory = (path: string): boolean => dirs.has(path);
  t.equal(sysctlPath('PV_SYSCTL_NET_IPV4_IP_FORWARD', isDirectory), '/proc/sys/net/ipv4/ip_forward');
  t.equal(sysctlPath('PV_SYSCTL_KERNEL_CORE_PATTERN', isDirectory), '/proc/sys/kernel/core_pattern');
  t.equal(sysctlPath('sysctl.vm.swappiness', isDirectory), '/proc/sys/vm/swappiness');
  t.equal(sysctlPath('PV_SYSCTL_NET', isDirectory), null, 'a directory is not a setting');
  t.equal(sysctlPath('sysctl.vm..x', isDirectory), null);
  t.equal(sysctlPath('PV_LOG_LEVEL', isDirectory), null);
});
