import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, KEY_TABLE, PvConfig, type ConfigSources } from '../../src/config/index.ts';

const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'config');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** A config with its warnings captured, so tests can assert on them. */
function loaded(sources: ConfigSources = {}): { config: PvConfig; warnings: string[] } {
  const warnings: string[] = [];
  const config = PvConfig.load({ env: {}, cmdline: '', ...sources, logger: (message) => warnings.push(message) });
  return { config, warnings };
}

function appengine(extra: ConfigSources = {}): { config: PvConfig; warnings: string[] } {
  return loaded({
    configFileText: fixture('appengine-pantavisor.config'),
    phConfigText: fixture('appengine-pantahub.config'),
    ...extra,
  });
}

t.test('golden: reference appengine /config2 and /config byte for byte', async (t) => {
  const { config, warnings } = appengine();
  t.equal(config.config2Json(), fixture('reference-config2.json'), '/config2 body');
  t.ok(warnings.length > 0 && warnings.every((w) => /legacy name/.test(w)), 'only legacy-name warnings for the dotted pantahub.config');
  t.equal(config.configJson(), fixture('reference-config.json'), '/config body');
});

t.test('the table has unique keys in reference /config2 order', async (t) => {
  const keys = KEY_TABLE.map((def) => def.key);
  t.equal(new Set(keys).size, keys.length);
  const fromReference = (JSON.parse(fixture('reference-config2.json')) as Array<{ key: string }>).map((item) => item.key);
  t.same(keys, fromReference);
});

t.test('defaults without any source', async (t) => {
  const { config } = loaded();
  t.equal(config.getString('PH_CREDS_HOST'), 'api.pantahub.com');
  t.equal(config.getString('PH_CREDS_ID'), null);
  t.equal(config.getInt('PV_LOG_SERVER_OUTPUTS'), 132);
  t.equal(config.getEnum('PV_SECUREBOOT_MODE'), 'lenient');
  t.equal(config.getEnum('PV_WDT_MODE'), 'shutdown');
  t.equal(config.getInt('PV_LOOP_INDEX_BASE'), -1);
  t.equal(config.getInt('PV_POWER_WAKE_RUN_WINDOW'), 0);
  t.equal(config.getString('PV_LOG_DIR_MAXSIZE'), '0');
  t.equal(config.getBool('PV_DEBUG_SHELL'), true);
  t.equal(config.levelOf('PV_LOG_LEVEL'), 'DEFAULT');
  t.match(config.configJson(), /"system\.init\.mode":0,/);
  t.match(config.configJson(), /"secureboot\.mode":2,/);
  t.match(config.configJson(), /"power\.mode":1,/);
  t.match(config.configJson(), /"wdt\.mode":1,/);
  t.notMatch(config.configJson(), /PV_OEM_NAME|PV_LOG_DIR_MAXSIZE|PH_LIBEVENT_HTTP_TIMEOUT/);
  t.match(config.config2Json(), /\{"key":"PV_LOG_TIMESTAMP","value":"relative","modified":"default"\}/);
});

t.test('precedence', async (t) => {
  t.test('env beats the config file whatever the order', async (t) => {
    const { config } = loaded({ configFileText: 'PV_LOG_LEVEL=4\n', env: { PV_LOG_LEVEL: '6' } });
    t.equal(config.getInt('PV_LOG_LEVEL'), 6);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'ENV');
    t.equal(config.set('PV_LOG_LEVEL', '2', 'PV_CONF'), false, 'a later conf-file write is ignored');
    t.equal(config.getInt('PV_LOG_LEVEL'), 6);
  });
  t.test('config file beats default; same level overwrites', async (t) => {
    const { config } = loaded({ configFileText: 'PV_LOG_LEVEL=4\nlog.level=5\n' });
    t.equal(config.getInt('PV_LOG_LEVEL'), 5, 'last line wins, alias or not');
    t.equal(config.levelOf('log.level'), 'PV_CONF');
    t.match(config.config2Json(), /"key":"PV_LOG_LEVEL","value":"5","modified":"pv conf file"/);
  });
  t.test('a lower level is ignored silently after a higher one', async (t) => {
    const { config, warnings } = loaded();
    t.equal(config.set('PV_LOG_LEVEL', '3', 'OEM'), true);
    t.equal(config.set('PV_LOG_LEVEL', '1', 'POLICY'), false);
    t.equal(config.set('PV_LOG_LEVEL', '1', 'PV_CONF'), false);
    t.equal(config.getInt('PV_LOG_LEVEL'), 3);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'OEM');
    t.same(warnings, []);
  });
  t.test('cmdline is between OEM and env', async (t) => {
    const { config } = loaded({ configFileText: 'PV_LOG_LEVEL=1', cmdline: 'console=ttyS0 pv_log.level=2 quiet' });
    t.equal(config.getInt('PV_LOG_LEVEL'), 2);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'PV_CMDLINE');
    t.equal(config.set('PV_LOG_LEVEL', '9', 'OEM'), false);
    t.equal(config.set('PV_LOG_LEVEL', '9', 'ENV'), true);
  });
  t.test('ph conf file and ph cmdline', async (t) => {
    const { config } = loaded({ phConfigText: 'creds.host=10.0.0.1\n', cmdline: 'ph_creds.host=hub.example' });
    t.equal(config.getString('PH_CREDS_HOST'), 'hub.example');
    t.match(config.config2Json(), /"key":"PH_CREDS_HOST","value":"hub.example","modified":"ph cmdline"/);
  });
});

t.test('writes at a level the key does not allow are refused with a warning', async (t) => {
  const { config, warnings } = appengine();
  warnings.length = 0;
  t.equal(config.applyUserMeta('PV_SYSTEM_RUNDIR', '/tmp/evil'), false);
  t.equal(config.getString('PV_SYSTEM_RUNDIR'), '/var/run/pantavisor/pv');
  t.equal(config.levelOf('PV_SYSTEM_RUNDIR'), 'PV_CONF');
  t.equal(warnings.length, 1);
  t.match(warnings[0], /PV_SYSTEM_RUNDIR/);

  t.equal(config.set('PH_CREDS_HOST', 'x', 'PV_CONF'), false, 'PH key from pantavisor.config');
  t.equal(config.set('PV_STORAGE_DEVICE', 'x', 'PH_CONF'), false, 'PV key from pantahub.config');
  t.equal(config.set('PV_STORAGE_DEVICE', 'x', 'OEM'), false, 'PV-only key from the OEM file');
  t.equal(config.set('PV_UPDATER_GOALS_TIMEOUT', '30', 'META'), false, 'not RUN since 029');
  t.equal(config.set('PV_LOG_LEVEL', '1', 'DEFAULT'), false);
  t.equal(config.set('PV_DEBUG_SSH', '0', 'ARGS'), false, 'ARGS goes through force()');
  t.equal(warnings.length, 7);
  // PH keys may come from the environment and from a policy as well.
  t.equal(config.set('PH_CREDS_PORT', '8443', 'ENV'), true);
  t.equal(config.set('PV_POLICY', 'x', 'POLICY'), true);
});

t.test('unknown keys are warned about and ignored', async (t) => {
  const { config, warnings } = loaded({ configFileText: 'PV_REMOUNT_POLICY=x\nPV_LOG_LEVEL=3\n', env: { PV_NOT_A_KEY: '1', HOME: '/root' } });
  t.equal(config.getInt('PV_LOG_LEVEL'), 3);
  t.equal(warnings.filter((w) => /unknown key/.test(w)).length, 2);
  t.equal(config.set('nope', '1', 'PV_CONF'), false);
  t.throws(() => config.get('nope'), ConfigError);
});

t.test('user meta overrides and reverts (§9.1, §10.4)', async (t) => {
  t.test('log.level meta then delete restores conf value and level', async (t) => {
    const { config } = appengine();
    t.equal(config.getInt('PV_LOG_LEVEL'), 4);
    t.equal(config.applyUserMeta('log.level', '6'), true);
    t.equal(config.getInt('PV_LOG_LEVEL'), 6);
    t.match(config.config2Json(), /"key":"PV_LOG_LEVEL","value":"6","modified":"metadata"/);
    t.match(config.configJson(), /"log\.level":6,/);
    t.equal(config.applyUserMeta('log.level', '7'), true, 'update');
    t.equal(config.getInt('PV_LOG_LEVEL'), 7);
    t.equal(config.revertUserMeta('log.level'), true);
    t.equal(config.getInt('PV_LOG_LEVEL'), 4);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'PV_CONF');
    t.match(config.config2Json(), /"key":"PV_LOG_LEVEL","value":"4","modified":"pv conf file"/);
    t.equal(config.config2Json(), fixture('reference-config2.json'), 'back to the reference body');
    t.equal(config.revertUserMeta('log.level'), false, 'second delete changes nothing');
  });
  t.test('default-level key reverts to default', async (t) => {
    const { config } = loaded();
    t.equal(config.applyUserMeta('pantahub.log.push', 'no'), true);
    t.equal(config.getBool('PV_LOG_PUSH'), false);
    t.equal(config.revertUserMeta('pantahub.log.push'), true);
    t.equal(config.getBool('PV_LOG_PUSH'), true);
    t.equal(config.levelOf('PV_LOG_PUSH'), 'DEFAULT');
  });
  t.test('ordinary meta keys are not config', async (t) => {
    const { config, warnings } = loaded();
    t.equal(config.applyUserMeta('pvr-sdk.authorized_keys', 'ssh-ed25519 AAAA'), false);
    t.equal(config.revertUserMeta('pvr-sdk.authorized_keys'), false);
    t.equal(config.revertUserMeta('PV_LOG_LEVEL'), false, 'never overridden');
    t.same(warnings, []);
  });
  t.test('an invalid meta value is refused and keeps the current value', async (t) => {
    const { config, warnings } = loaded();
    t.equal(config.applyUserMeta('PV_LOG_LEVEL', 'loud'), false);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'DEFAULT');
    t.equal(warnings.length, 1);
    t.equal(config.applyUserMeta('PV_LOG_LEVEL', '5'), true);
    t.equal(config.applyUserMeta('PV_LOG_LEVEL', 'louder'), false);
    t.equal(config.getInt('PV_LOG_LEVEL'), 5);
  });
  t.test('two meta keys for one config key', async (t) => {
    const { config } = loaded({ configFileText: 'PV_LOG_LEVEL=1' });
    config.applyUserMeta('log.level', '5');
    config.applyUserMeta('PV_LOG_LEVEL', '6');
    t.equal(config.getInt('PV_LOG_LEVEL'), 6);
    t.equal(config.revertUserMeta('PV_LOG_LEVEL'), true);
    t.equal(config.getInt('PV_LOG_LEVEL'), 5, 'the other override still applies');
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'META');
    t.equal(config.revertUserMeta('log.level'), true);
    t.equal(config.getInt('PV_LOG_LEVEL'), 1);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'PV_CONF');
  });
  t.test('lower-level writes during an override become the revert target', async (t) => {
    const { config } = loaded({ configFileText: 'PV_LOG_LEVEL=1' });
    config.applyUserMeta('log.level', '5');
    t.equal(config.applyText('PV_LOG_LEVEL=3\n', 'OEM'), 1);
    t.equal(config.getInt('PV_LOG_LEVEL'), 5, 'meta still wins');
    t.equal(config.set('PV_LOG_LEVEL', '2', 'PV_CONF'), false, 'loses to the saved OEM value');
    config.revertUserMeta('log.level');
    t.equal(config.getInt('PV_LOG_LEVEL'), 3);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'OEM');
  });
});

t.test('alias and key lookup is case-insensitive', async (t) => {
  const { config, warnings } = loaded({ configFileText: 'Log.Level=3\npv_system_init_mode=appengine\n' });
  t.equal(config.getInt('pv_log_level'), 3);
  t.equal(config.getInt('LOG.LEVEL'), 3);
  t.equal(config.getEnum('System.Init.Mode'), 'appengine');
  t.equal(config.get('PV_SECUREBOOT_OEM_TRUSTORE'), 'ca-oem-certificates', 'the misspelt alias');
  t.equal(config.get('meta.cache.dir'), '/storage/cache/meta', 'second alias');
  t.equal(warnings.length, 1, 'only the alias write warns, not the lower-case canonical one');
  t.match(warnings[0], /legacy/);
  t.equal(config.set('UPDATER.KEEP_FACTORY', 'yes', 'ENV'), true);
  t.equal(config.getBool('PV_STORAGE_GC_KEEP_FACTORY'), true);
  t.match(config.configJson(), /"storage\.gc\.keep_factory":true,/);
});

t.test('bad int, bool and enum values are ignored with a warning', async (t) => {
  const { config, warnings } = loaded({
    configFileText: ['PV_LOG_LEVEL=4x', 'PV_DEBUG_SHELL=maybe', 'PV_SYSTEM_INIT_MODE=cloud', 'PV_WDT_TIMEOUT=', 'PV_STORAGE_WAIT=99999999999'].join('\n'),
  });
  t.equal(config.getInt('PV_LOG_LEVEL'), 0);
  t.equal(config.getBool('PV_DEBUG_SHELL'), true);
  t.equal(config.getEnum('PV_SYSTEM_INIT_MODE'), 'embedded');
  t.equal(config.getInt('PV_WDT_TIMEOUT'), 15);
  t.equal(config.getInt('PV_STORAGE_WAIT'), 5);
  t.equal(warnings.length, 5);
  for (const key of ['PV_LOG_LEVEL', 'PV_DEBUG_SHELL', 'PV_SYSTEM_INIT_MODE', 'PV_WDT_TIMEOUT', 'PV_STORAGE_WAIT']) {
    t.equal(config.levelOf(key), 'DEFAULT', `${key} untouched`);
  }
});

t.test('durations through the config', async (t) => {
  const { config, warnings } = loaded({
    configFileText: 'power.wake.min_awake=30s\npower.wake.max_awake=10min\npower.wake.interval=1h\npower.devmeta.max_held=1d\nPV_POWER_AUTOSLEEP_SETTLE=45\n',
  });
  t.equal(config.getInt('PV_POWER_WAKE_MIN_AWAKE'), 30);
  t.equal(config.getInt('PV_POWER_WAKE_MAX_AWAKE'), 600);
  t.equal(config.getInt('PV_POWER_WAKE_INTERVAL'), 3600);
  t.equal(config.getInt('PV_POWER_DEVMETA_MAX_HELD'), 86400);
  t.equal(config.getInt('PV_POWER_AUTOSLEEP_SETTLE'), 45);
  t.match(config.config2Json(), /"key":"PV_POWER_WAKE_MAX_AWAKE","value":"600","modified":"pv conf file"/);
  t.match(config.configJson(), /"power\.wake\.max_awake":600,/);
  t.equal(warnings.length, 4, 'one legacy-name warning per dotted line');
  warnings.length = 0;
  t.equal(config.set('PV_POWER_WAKE_INTERVAL', '0', 'ENV'), false, 'zero rejected');
  t.equal(config.set('PV_POWER_WAKE_INTERVAL', '0s', 'ENV'), false, 'zero with unit rejected');
  t.equal(config.set('PV_POWER_WAKE_INTERVAL', '-5', 'ENV'), false, 'negative rejected');
  t.equal(config.set('PV_POWER_WAKE_INTERVAL', '5m', 'ENV'), false, 'unknown unit');
  t.equal(config.set('PV_POWER_WAKE_INTERVAL', '1h30min', 'ENV'), false, 'one unit only');
  t.equal(config.getInt('PV_POWER_WAKE_INTERVAL'), 3600);
  t.equal(warnings.length, 5);
  t.equal(config.applyUserMeta('power.wake.run_window', '2min'), true);
  t.equal(config.getInt('PV_POWER_WAKE_RUN_WINDOW'), 120);
});

t.test('force() for daemon flags', async (t) => {
  t.test('wins over file, cmdline and env in any order', async (t) => {
    const { config } = loaded({
      configFileText: 'PV_STORAGE_MNTPOINT=/from/file',
      env: { PV_STORAGE_MNTPOINT: '/from/env' },
      cmdline: 'pv_storage.mntpoint=/from/cmdline',
    });
    t.equal(config.getString('PV_STORAGE_MNTPOINT'), '/from/env');
    config.force('PV_STORAGE_MNTPOINT', '/from/flag');
    t.equal(config.getString('PV_STORAGE_MNTPOINT'), '/from/flag');
    t.equal(config.levelOf('PV_STORAGE_MNTPOINT'), 'ARGS');
    t.match(config.config2Json(), /"key":"PV_STORAGE_MNTPOINT","value":"\/from\/flag","modified":"args"/);
    t.equal(config.set('PV_STORAGE_MNTPOINT', '/late', 'ENV'), false);
    t.equal(config.applyText('PV_STORAGE_MNTPOINT=/late\n', 'PV_CONF'), 0);
    t.equal(config.getString('PV_STORAGE_MNTPOINT'), '/from/flag');
  });
  t.test('forced before loading still wins', async (t) => {
    const config = new PvConfig();
    config.force('PV_SYSTEM_INIT_MODE', 'appengine');
    config.applyText('PV_SYSTEM_INIT_MODE=standalone', 'PV_CONF');
    config.applyEnv({ pv_system_init_mode: 'embedded' });
    t.equal(config.getEnum('PV_SYSTEM_INIT_MODE'), 'appengine');
    t.match(config.configJson(), /"system\.init\.mode":2,/);
  });
  t.test('user meta can still override a forced RUN key, and revert restores it', async (t) => {
    const config = new PvConfig();
    config.force('PV_DEBUG_SSH', '0');
    t.equal(config.applyUserMeta('debug.ssh', '1'), true);
    t.equal(config.getBool('PV_DEBUG_SSH'), true);
    config.revertUserMeta('debug.ssh');
    t.equal(config.getBool('PV_DEBUG_SSH'), false);
    t.equal(config.levelOf('PV_DEBUG_SSH'), 'ARGS');
    t.equal(config.set('PV_DEBUG_SSH', '1', 'ENV'), false, 'still pinned after revert');
  });
  t.test('Hub client credentials at PH_CLIENT', async (t) => {
    const { config } = loaded({ phConfigText: 'creds.id=\n' });
    config.force('PH_CREDS_ID', 'abc123', 'PH_CLIENT');
    t.match(config.config2Json(), /"key":"PH_CREDS_ID","value":"abc123","modified":"unknown"/);
  });
  t.test('bad input throws', async (t) => {
    const config = new PvConfig();
    t.throws(() => config.force('PV_NOPE', '1'), ConfigError);
    t.throws(() => config.force('PV_LOG_LEVEL', 'high'), ConfigError);
    t.equal(config.levelOf('PV_LOG_LEVEL'), 'DEFAULT');
  });
});

t.test('typed getters', async (t) => {
  const { config } = appengine();
  t.equal(config.get('PV_SYSTEM_INIT_MODE'), 'appengine');
  t.equal(config.get('PV_LOG_SERVER_OUTPUTS'), 132);
  t.equal(config.get('PV_CONTROL_REMOTE'), false);
  t.equal(config.get('PH_CREDS_SECRET'), null);
  t.equal(config.get('creds.port'), 443);
  t.throws(() => config.getInt('PV_SYSTEM_RUNDIR'), ConfigError);
  t.throws(() => config.getBool('PV_LOG_LEVEL'), ConfigError);
  t.throws(() => config.getString('PV_DEBUG_SSH'), ConfigError);
  t.throws(() => config.getEnum('PV_LOG_LEVEL'), ConfigError);
});

t.test('/config2 and /config rendering details', async (t) => {
  const config = new PvConfig();
  config.set('PV_OEM_NAME', 'quote" back\\ nl\n tab\t nul\u0000 é', 'PV_CONF');
  config.set('PV_POLICY', 'a'.repeat(300), 'PV_CONF');
  config.set('PV_STORAGE_DEVICE', `${'x'.repeat(254)}é`, 'PV_CONF');
  const list = JSON.parse(config.config2Json()) as Array<{ key: string; value: string; modified: string }>;
  const value = (key: string): string | undefined => list.find((item) => item.key === key)?.value;
  t.equal(value('PV_OEM_NAME'), 'quote" back\\ nl\n tab\t nul\u0000 é', 'escaped and round-trips');
  t.equal(value('PV_POLICY'), 'a'.repeat(255), 'truncated to 255 bytes');
  t.equal(value('PV_STORAGE_DEVICE'), 'x'.repeat(254), 'never splits a UTF-8 sequence');
  t.notMatch(config.config2Json(), /\s"|": /, 'no spaces between tokens');
  const object = JSON.parse(config.configJson()) as Record<string, unknown>;
  t.equal(object.policy, 'a'.repeat(300), '/config is not truncated');
  t.equal(object['storage.device'], `${'x'.repeat(254)}é`);
  t.equal(Object.keys(object).length, KEY_TABLE.filter((def) => def.aliases.length > 0).length);
  t.equal(Object.keys(object)[0], 'creds.host');
  t.ok('PV_SECUREBOOT_OEM_TRUSTORE' in object);
  t.notOk('meta.cache.dir' in object, 'only the first alias');
});
