import t from 'tap';
import { tree } from '../helpers/fs-tree.ts';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEPLOY_ASIDE_DIR,
  DeployError,
  deployInstalledRevision,
  deployRevision,
  recoverInterruptedDeploys,
  topLevelEntries,
  trailKeyProblem,
  verifyRevisionObjects,
} from '../../src/storage/deploy.ts';
import { TEMP_PREFIX, writeFileDurable } from '../../src/storage/durable.ts';
import { FACTORY_PROGRESS, initStorage, storageLayout, type StorageLayout } from '../../src/storage/layout.ts';

// sha256File (digest checks) needs the addon; the build is a no-op when it is current.
const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

const top = mkdtempSync(join(tmpdir(), 'pvctrl-deploy-'));
t.teardown(() => rmSync(top, { recursive: true, force: true }));

let storageCounter = 0;
function freshStorage(): StorageLayout {
  const root = join(top, `storage-${storageCounter++}`);
  const layout = storageLayout({ storage: root, runDir: join(root, 'run') });
  initStorage(layout);
  return layout;
}

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

function putObject(layout: StorageLayout, content: string): string {
  const digest = sha(content);
  writeFileSync(join(layout.objects, digest), content);
  return digest;
}

const noTempLeft = (layout: StorageLayout): boolean =>
  [layout.trails, layout.locals, layout.root, layout.objects].every((dir) => readdirSync(dir).every((name) => !name.startsWith(TEMP_PREFIX)));

async function deployError(promise: Promise<unknown>): Promise<DeployError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DeployError) return error;
    throw error;
  }
  throw new Error('expected a DeployError');
}

function sampleState(layout: StorageLayout): { text: string; root: string; conf: string; bind: string } {
  const root = putObject(layout, 'squashfs bytes');
  const conf = putObject(layout, 'lxc.uts.name = app\n');
  const bind = putObject(layout, 'bind me\n');
  // Deliberately not JSON.stringify-shaped: documents must keep their exact text.
  const text = `{
  "#spec": "pantavisor-service-system@1",
  "app/lxc.container.conf": "${conf}",
  "app/root.squashfs": "${root}",
  "app/run.json": {"name": "app", "type": "lxc", "root-volume": "root.squashfs", "config": "lxc.container.conf", "2": 1.0, "1": [ ]},
  "app/services.json": [ {"name": "api", "type": "rest", "socket": "/run/api.sock"} ],
  "_config/app/etc/hosts.bind": "${bind}",
  "_config/app/etc/motd": "${root}",
  "device.json": {"groups": [{"name": "root"}, {"name": "platform"}]}
}`;
  return { text, root, conf, bind };
}

t.test('trailKeyProblem accepts relative paths and refuses everything else', async (t) => {
  for (const good of ['app/root.squashfs', 'device.json', '_config/app/etc/x.bind', 'a b/c..d', '..x/y']) t.equal(trailKeyProblem(good), undefined, good);
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../b', 'a//b', 'a/', './a', 'a/.', '.pvr/json', '.pv/progress', 'a\nb', 'x\u0000y', `${'n'.repeat(256)}/x`]) {
    t.type(trailKeyProblem(bad), 'string', JSON.stringify(bad));
  }
});

t.test('topLevelEntries keeps order, raw text and refuses duplicates', async (t) => {
  t.same(topLevelEntries('{"b": {"2":1, "1" : 2.50}, "a":"x" , "c":[1,"]}"]}'), [
    { key: 'b', text: '{"2":1, "1" : 2.50}' },
    { key: 'a', text: '"x"' },
    { key: 'c', text: '[1,"]}"]' },
  ]);
  t.same(topLevelEntries(' { } '), []);
  t.same(topLevelEntries('{"k\\"ey":true,"n":-1e3}'), [
    { key: 'k"ey', text: 'true' },
    { key: 'n', text: '-1e3' },
  ]);
  for (const bad of ['{"a":1,"a":2}', '[1]', 'nope', '"s"']) {
    t.throws(() => topLevelEntries(bad), DeployError, bad);
  }
});

t.test('first deploy into trails/0: .pvr, links, copies, documents; .pv kept', async (t) => {
  const layout = freshStorage();
  const { text, root, bind } = sampleState(layout);
  const report = await deployRevision(layout, '0', text);
  const dir = join(layout.trails, '0');

  t.equal(report.directory, dir);
  t.equal(report.replaced, true, 'the factory stub was replaced');
  t.same(report.linked.sort(), ['_config/app/etc/motd', 'app/lxc.container.conf', 'app/root.squashfs']);
  t.same(report.copied, ['_config/app/etc/hosts.bind']);
  t.same(report.documents.sort(), ['app/run.json', 'app/services.json', 'device.json']);

  t.equal(readFileSync(join(dir, '.pvr', 'json'), 'utf8'), text, '.pvr/json is exactly the state text');
  t.same(JSON.parse(readFileSync(join(dir, '.pvr', 'config'), 'utf8')), { ObjectsDir: layout.objects });
  t.equal(readFileSync(join(dir, '.pvr', 'config'), 'utf8'), `{"ObjectsDir":${JSON.stringify(layout.objects)}}`);

  const object = statSync(join(layout.objects, root));
  for (const key of ['app/root.squashfs', '_config/app/etc/motd']) {
    const linked = statSync(join(dir, key));
    t.equal(linked.ino, object.ino, `${key} is a hard link to the object`);
  }
  t.equal(object.nlink, 3, 'object + two trail links');
  t.ok(statSync(join(dir, 'app', 'lxc.container.conf')).nlink >= 2);

  const copy = statSync(join(dir, '_config', 'app', 'etc', 'hosts.bind'));
  t.not(copy.ino, statSync(join(layout.objects, bind)).ino, '.bind is a copy');
  t.equal(statSync(join(layout.objects, bind)).nlink, 1);
  t.equal(readFileSync(join(dir, '_config', 'app', 'etc', 'hosts.bind'), 'utf8'), 'bind me\n');

  t.equal(
    readFileSync(join(dir, 'app', 'run.json'), 'utf8'),
    '{"name": "app", "type": "lxc", "root-volume": "root.squashfs", "config": "lxc.container.conf", "2": 1.0, "1": [ ]}',
    'inline document keeps its exact text',
  );
  t.equal(readFileSync(join(dir, 'app', 'services.json'), 'utf8'), '[ {"name": "api", "type": "rest", "socket": "/run/api.sock"} ]');
  t.notOk(existsSync(join(dir, '#spec')), '#spec is not a file');

  t.equal(readFileSync(join(dir, '.pv', 'progress'), 'utf8'), FACTORY_PROGRESS, 'progress carried over');
  t.ok(existsSync(join(dir, '.pv', 'done')), 'done marker carried over');
  t.ok(noTempLeft(layout), 'no staging directory left');
  t.same(readdirSync(join(layout.root, DEPLOY_ASIDE_DIR)), [], 'parked old directory removed');
});

t.test('deploy is idempotent and drops files the state no longer names', async (t) => {
  const layout = freshStorage();
  const { text, root } = sampleState(layout);
  await deployRevision(layout, '0', text);
  const before = tree(join(layout.trails, '0'));
  const again = await deployRevision(layout, '0', text);
  t.same(tree(join(layout.trails, '0')), before);
  t.equal(again.linked.length, 3);
  t.equal(statSync(join(layout.objects, root)).nlink, 3, 'old links went away with the old directory');

  const smaller = `{"#spec":"pantavisor-service-system@1","app/root.squashfs":"${root}"}`;
  await deployRevision(layout, '0', smaller);
  t.same(tree(join(layout.trails, '0')), ['.pv', '.pv/done', '.pv/progress', '.pvr', '.pvr/config', '.pvr/json', 'app', 'app/root.squashfs']);
  t.equal(statSync(join(layout.objects, root)).nlink, 2);
});

t.test('a local revision keeps its .pvr/json and .pv; deploying adds the links', async (t) => {
  const layout = freshStorage();
  const { text, root } = sampleState(layout);
  const dir = join(layout.locals, 'my-rev');
  mkdirSync(join(dir, '.pvr'), { recursive: true });
  mkdirSync(join(dir, '.pv'), { recursive: true });
  writeFileSync(join(dir, '.pvr', 'json'), text);
  writeFileSync(join(dir, '.pv', 'progress'), '{"status":"NEW"}');
  writeFileSync(join(dir, '.pv', 'commitmsg'), 'hello');

  const report = await deployInstalledRevision(layout, 'locals/my-rev');
  t.equal(report.revision, 'locals/my-rev');
  t.equal(readFileSync(join(dir, '.pvr', 'json'), 'utf8'), text);
  t.equal(readFileSync(join(dir, '.pv', 'progress'), 'utf8'), '{"status":"NEW"}');
  t.equal(readFileSync(join(dir, '.pv', 'commitmsg'), 'utf8'), 'hello');
  t.equal(statSync(join(dir, 'app', 'root.squashfs')).ino, statSync(join(layout.objects, root)).ino);
  t.ok(noTempLeft(layout));

  const missing = await deployError(deployInstalledRevision(layout, 'locals/nothing-here'));
  t.equal(missing.code, 'bad-revision');
});

t.test('a revision that does not exist yet is created', async (t) => {
  const layout = freshStorage();
  const { text } = sampleState(layout);
  const report = await deployRevision(layout, '7', text);
  t.equal(report.replaced, false);
  t.equal(readFileSync(join(layout.trails, '7', '.pvr', 'json'), 'utf8'), text);
  t.notOk(existsSync(join(layout.trails, '7', '.pv')), 'no .pv invented');
});

t.test('unsafe keys, conflicts, bad values and bad names are refused before anything changes', async (t) => {
  const layout = freshStorage();
  const object = putObject(layout, 'x');
  const dir = join(layout.trails, '0');
  const before = tree(dir);
  const cases: Array<[string, string, string]> = [
    ['../escape', `"${object}"`, 'unsafe-key'],
    ['/etc/evil', `"${object}"`, 'unsafe-key'],
    ['a//b', `"${object}"`, 'unsafe-key'],
    ['a/./b', `"${object}"`, 'unsafe-key'],
    ['.pvr/json', '{}', 'unsafe-key'],
    ['.pv/progress', `"${object}"`, 'unsafe-key'],
    ['app/root.squashfs', '"not-a-sha"', 'bad-value'],
    ['app/root.squashfs', '42', 'bad-value'],
  ];
  for (const [key, value, code] of cases) {
    const state = `{"#spec":"pantavisor-service-system@1",${JSON.stringify(key)}:${value}}`;
    const error = await deployError(deployRevision(layout, '0', state));
    t.equal(error.code, code, key);
    t.equal(error.key, key);
  }
  const conflict = await deployError(deployRevision(layout, '0', `{"a":"${object}","a/b":"${object}"}`));
  t.equal(conflict.code, 'key-conflict');
  t.equal(conflict.key, 'a');
  t.equal((await deployError(deployRevision(layout, '0', '{"a":1,"a":2}'))).code, 'bad-state');
  t.equal((await deployError(deployRevision(layout, '0', '[]'))).code, 'bad-state');
  for (const name of ['current', '../0', 'locals/..', 'locals/a/b', '', 'locals/']) {
    t.equal((await deployError(deployRevision(layout, name, '{}'))).code, 'bad-revision', JSON.stringify(name));
  }
  t.same(tree(dir), before, 'trails/0 untouched');
  t.notOk(existsSync(join(top, 'evil')));
  t.ok(noTempLeft(layout));
  t.equal(statSync(join(layout.objects, object)).nlink, 1);
});

t.test('missing objects: typed error naming every sha and key, nothing half-deployed', async (t) => {
  const layout = freshStorage();
  const present = putObject(layout, 'present');
  const gone1 = sha('gone 1');
  const gone2 = sha('gone 2');
  const dir = join(layout.trails, '0');
  const before = tree(dir);
  const state = `{"#spec":"pantavisor-service-system@1","a/ok":"${present}","b/first":"${gone1}","c/second":"${gone2}","d/again":"${gone1}"}`;
  const error = await deployError(deployRevision(layout, '0', state));
  t.equal(error.code, 'missing-object');
  t.equal(error.sha, gone1);
  t.equal(error.key, 'b/first');
  t.match(error.message, gone1);
  t.match(error.message, 'b/first');
  t.same(
    [...error.objects].sort((x, y) => x.key.localeCompare(y.key)),
    [
      { key: 'b/first', sha: gone1 },
      { key: 'c/second', sha: gone2 },
      { key: 'd/again', sha: gone1 },
    ],
  );
  t.same(tree(dir), before);
  t.equal(statSync(join(layout.objects, present)).nlink, 1, 'no link was left behind');
  t.ok(noTempLeft(layout));
});

t.test('verifyRevisionObjects reports missing and (when hashing) corrupt objects', async (t) => {
  const layout = freshStorage();
  const good = putObject(layout, 'good');
  const claimed = sha('what it should be');
  writeFileSync(join(layout.objects, claimed), 'something else');
  const absent = sha('absent');
  const state = `{"#spec":"pantavisor-service-system@1","g":"${good}","c":"${claimed}","m":"${absent}","doc.json":{"x":"${absent}"}}`;

  t.same(await verifyRevisionObjects(layout, state), { missing: [{ key: 'm', sha: absent }], corrupt: [] }, 'existence only by default');
  t.same(await verifyRevisionObjects(layout, state, { hash: true }), {
    missing: [{ key: 'm', sha: absent }],
    corrupt: [{ key: 'c', sha: claimed, actual: sha('something else') }],
  });

  const corruptOnly = `{"#spec":"pantavisor-service-system@1","g":"${good}","c":"${claimed}"}`;
  const error = await deployError(deployRevision(layout, '3', corruptOnly, { verifyDigests: true }));
  t.equal(error.code, 'corrupt-object');
  t.equal(error.sha, claimed);
  t.notOk(existsSync(join(layout.trails, '3')));
  t.ok((await deployRevision(layout, '3', corruptOnly)).linked.length === 2, 'without verifyDigests only existence counts');
});

t.test('.pv files rewritten while a deploy runs are not lost', async (t) => {
  const layout = freshStorage();
  const { text } = sampleState(layout);
  const progress = join(layout.trails, '0', '.pv', 'progress');
  const commitmsg = join(layout.trails, '0', '.pv', 'commitmsg');

  /** Deploy while rewriting `.pv/` files by rename (as StepStore does) on each turn, up to `limit` turns. */
  async function deployWhileWriting(limit: number, tag: string): Promise<{ turns: number; lost: boolean }> {
    let done = false;
    const deploying = deployRevision(layout, '0', text).finally(() => {
      done = true;
    });
    let last = '';
    let turns = 0;
    while (!done && turns < limit) {
      last = JSON.stringify({ status: 'INPROGRESS', tag, turns });
      writeFileDurable(progress, last);
      if (turns === 0) writeFileDurable(commitmsg, tag);
      turns++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await deploying;
    return { turns, lost: readFileSync(progress, 'utf8') !== last || readFileSync(commitmsg, 'utf8') !== tag };
  }

  // Writing on every turn slows the loop, so count the turns a deploy takes under that load;
  // stopping after each of them then puts the last write before, inside and after the window
  // between the .pv snapshot and the swap.
  const { turns } = await deployWhileWriting(Number.MAX_SAFE_INTEGER, 'probe');
  t.ok(turns > 3, `a deploy spans several turns (${turns})`);
  const lostAt: number[] = [];
  for (let stopAfter = 1; stopAfter <= turns + 2; stopAfter++) {
    if ((await deployWhileWriting(stopAfter, `stop ${stopAfter}`)).lost) lostAt.push(stopAfter);
  }
  t.same(lostAt, [], 'no write was lost whatever turn it landed on');
  t.ok(noTempLeft(layout));
});

t.test('recoverInterruptedDeploys undoes a swap cut between its renames and finishes one cut after', async (t) => {
  const layout = freshStorage();
  const { text } = sampleState(layout);
  await deployRevision(layout, '0', text);
  const aside = join(layout.root, DEPLOY_ASIDE_DIR);

  // Crash after the old directory was parked but before the new one was renamed in.
  renameSync(join(layout.trails, '0'), join(aside, '0'));
  t.same(await recoverInterruptedDeploys(layout), { restored: ['0'], removed: [] });
  t.equal(readFileSync(join(layout.trails, '0', '.pvr', 'json'), 'utf8'), text);

  // Crash after both renames: the parked copy is stale.
  mkdirSync(join(aside, encodeURIComponent('locals/x')), { recursive: true });
  mkdirSync(join(layout.locals, 'x'));
  mkdirSync(join(aside, 'not a revision'));
  t.same(await recoverInterruptedDeploys(layout), { restored: [], removed: ['locals/x'] });
  t.same(readdirSync(aside), []);
  t.same(await recoverInterruptedDeploys(layout), { restored: [], removed: [] });
});

t.test('concurrent deploys of one revision are serialised', async (t) => {
  const layout = freshStorage();
  const { text, root } = sampleState(layout);
  const other = `{"#spec":"pantavisor-service-system@1","only/this":"${root}"}`;
  const results = await Promise.all([deployRevision(layout, '0', text), deployRevision(layout, '0', other), deployRevision(layout, '0', text)]);
  t.equal(results.length, 3);
  t.equal(readFileSync(join(layout.trails, '0', '.pvr', 'json'), 'utf8'), text, 'last call wins');
  t.notOk(existsSync(join(layout.trails, '0', 'only')));
  t.ok(noTempLeft(layout));
});
