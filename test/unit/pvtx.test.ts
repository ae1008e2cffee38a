import t from 'tap';
import { tree } from '../helpers/fs-tree.ts';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/log.ts';
import { DEPLOY_ASIDE_DIR } from '../../src/storage/deploy.ts';
import { TEMP_PREFIX } from '../../src/storage/durable.ts';
import {
  FACTORY_PROGRESS,
  FACTORY_STATE,
  initStorage,
  readCurrentRevision,
  storageLayout,
  type StorageLayout,
} from '../../src/storage/layout.ts';
import { PVTX_DONE_MARKER, firstBoot, type FirstBootOptions } from '../../src/storage/pvtx.ts';
import type { ParseOptions } from '../../src/state/index.ts';

// Object digests go through sha256File, which needs the addon; a no-op build when current.
const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

const top = mkdtempSync(join(tmpdir(), 'pvctrl-pvtx-'));
t.teardown(() => rmSync(top, { recursive: true, force: true }));

const PARSE: ParseOptions = { initMode: 'appengine', goalsTimeout: 120, secureBootMode: 'disabled' };
const sha = (data: string): string => createHash('sha256').update(data).digest('hex');

let counter = 0;
const fresh = (prefix: string): string => {
  const dir = join(top, `${prefix}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

function freshStorage(): StorageLayout {
  const root = fresh('storage');
  const layout = storageLayout({ storage: root, runDir: join(root, 'run') });
  initStorage(layout);
  return layout;
}

interface CapturedLogger extends Logger {
  lines: string[];
}

function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const at = (level: string) => (message: string): void => {
    lines.push(`${level} ${message}`);
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const options = (logger: Logger, extra: Partial<FirstBootOptions> = {}): FirstBootOptions => ({ parseOptions: PARSE, logger, ...extra });

interface PackageSpec {
  /** The `json` member: an object, raw text, or absent. */
  json?: Record<string, unknown> | string;
  /** Contents stored as `objects/<sha256(content)>`. */
  objects?: string[];
  /** Members stored under a name that is not their digest. */
  misnamed?: Array<{ name: string; content: string }>;
  format?: 'tgz' | 'tar' | 'tar.gz';
}

/** Build a pvr-export-like tarball with the system tar, as meta-pantavisor ships them. */
function makePackage(directory: string, name: string, spec: PackageSpec): string {
  const source = fresh('src');
  const members: string[] = [];
  if (spec.json !== undefined) {
    writeFileSync(join(source, 'json'), typeof spec.json === 'string' ? spec.json : JSON.stringify(spec.json));
    members.push('json');
  }
  if ((spec.objects?.length ?? 0) > 0 || (spec.misnamed?.length ?? 0) > 0) {
    mkdirSync(join(source, 'objects'));
    for (const content of spec.objects ?? []) writeFileSync(join(source, 'objects', sha(content)), content);
    for (const { name: objectName, content } of spec.misnamed ?? []) writeFileSync(join(source, 'objects', objectName), content);
    members.push('objects');
  }
  if (members.length === 0) {
    writeFileSync(join(source, 'README'), 'nothing useful');
    members.push('README');
  }
  const path = join(directory, name);
  const format = spec.format ?? 'tgz';
  const result = spawnSync('tar', [format === 'tar' ? '-cf' : '-czf', path, '-C', source, ...members], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tar failed: ${result.stderr}`);
  return path;
}

function truncate(path: string): void {
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

const storeObjects = (layout: StorageLayout): string[] => readdirSync(layout.objects).sort();
const noTempLeft = (layout: StorageLayout): boolean =>
  [layout.root, layout.trails, layout.locals, layout.objects].every((dir) => readdirSync(dir).every((name) => !name.startsWith(TEMP_PREFIX)));

/** A fake pvs@2 signature whose protected header carries the include globs (never verified: secure boot is off). */
function signature(include: string[]): Record<string, string> {
  const header = Buffer.from(JSON.stringify({ typ: 'PVS', alg: 'ES256', pvs: { include, exclude: [] } })).toString('base64url');
  return { '#spec': 'pvs@2', protected: header, signature: 'c2ln' };
}

const APP_V1 = { root: 'app rootfs v1', conf: 'lxc.uts.name = app\n', motd: 'welcome v1\n', hosts: '127.0.0.1 app\n' };
const APP_V2 = { root: 'app rootfs v2', conf: 'lxc.uts.name = app2\n' };
const NET = { root: 'net rootfs', conf: 'lxc.uts.name = net\n' };
const appRun = { name: 'app', type: 'lxc', 'root-volume': 'root.squashfs', config: 'lxc.container.conf' };

t.test('first boot installs, merges, deploys and marks; a second call does nothing', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');

  makePackage(pvtxd, '10-app.pvrexport.tgz', {
    json: {
      '#spec': 'pantavisor-service-system@1',
      'app/run.json': appRun,
      'app/root.squashfs': sha(APP_V1.root),
      'app/lxc.container.conf': sha(APP_V1.conf),
      'app/services.json': [{ name: 'api', type: 'rest', socket: '/run/api.sock' }],
      '_config/app/etc/motd': sha(APP_V1.motd),
      '_config/app/etc/hosts.bind': sha(APP_V1.hosts),
    },
    objects: [APP_V1.root, APP_V1.conf, APP_V1.motd, APP_V1.hosts],
  });
  makePackage(pvtxd, '20-net.pvrexport.tar', {
    format: 'tar',
    json: {
      'net/run.json': { name: 'net', type: 'lxc', 'root-volume': 'root.squashfs', config: 'lxc.container.conf' },
      'net/root.squashfs': sha(NET.root),
      'net/lxc.container.conf': sha(NET.conf),
    },
    objects: [NET.root, NET.conf],
  });
  // Replaces the app container: its services.json must go, and the signature's globs drop
  // the old config overlays too.
  makePackage(pvtxd, '30-app-v2.pvrexport.tar.gz', {
    format: 'tar.gz',
    json: {
      'app/run.json': appRun,
      'app/root.squashfs': sha(APP_V2.root),
      'app/lxc.container.conf': sha(APP_V2.conf),
      '_sigs/app.json': signature(['app/**', '_config/app/**']),
    },
    objects: [APP_V2.root, APP_V2.conf],
  });
  const truncatedGz = makePackage(pvtxd, '40-truncated.pvrexport.tgz', {
    json: { 'broken/run.json': { name: 'broken' }, 'broken/root.squashfs': sha('broken rootfs') },
    objects: ['broken rootfs', 'x'.repeat(64 * 1024)],
  });
  truncate(truncatedGz);
  const truncatedTar = makePackage(pvtxd, '41-truncated.tar', {
    format: 'tar',
    json: { 'broken2/root.squashfs': sha('broken2 rootfs') },
    objects: ['broken2 rootfs', 'y'.repeat(64 * 1024)],
  });
  truncate(truncatedTar);
  makePackage(pvtxd, '50-bad-digest.pvrexport.tgz', {
    json: { 'bad/root.squashfs': sha('claimed'), 'bad/other': sha('fine object') },
    objects: ['fine object'],
    misnamed: [{ name: sha('claimed'), content: 'not what was claimed' }],
  });
  makePackage(pvtxd, '60-no-json.pvrexport.tgz', { objects: ['orphan object'] });
  makePackage(pvtxd, '61-array-json.tgz', { json: '["not", "an", "object"]' });
  makePackage(pvtxd, '62-traversal.tgz', { json: { '../escape': sha('escape') }, objects: ['escape'] });
  makePackage(pvtxd, '63-missing-object.tgz', { json: { 'lonely/root.squashfs': sha('never shipped') } });
  writeFileSync(join(pvtxd, '70-notes.txt'), 'not a package');
  mkdirSync(join(pvtxd, '80-directory.tgz'));

  const logger = captureLogger();
  const report = await firstBoot(layout, pvtxd, options(logger));

  t.equal(report.outcome, 'deployed');
  t.equal(report.revision, '0');
  t.same(
    report.packages.map((p) => [p.file.slice(pvtxd.length + 1), p.status]),
    [
      ['10-app.pvrexport.tgz', 'installed'],
      ['20-net.pvrexport.tar', 'installed'],
      ['30-app-v2.pvrexport.tar.gz', 'installed'],
      ['40-truncated.pvrexport.tgz', 'skipped'],
      ['41-truncated.tar', 'skipped'],
      ['50-bad-digest.pvrexport.tgz', 'skipped'],
      ['60-no-json.pvrexport.tgz', 'skipped'],
      ['61-array-json.tgz', 'skipped'],
      ['62-traversal.tgz', 'skipped'],
      ['63-missing-object.tgz', 'skipped'],
    ],
    'packages in alphabetical order; non-packages ignored',
  );
  const reasons = Object.fromEntries(report.packages.map((p) => [p.file.slice(pvtxd.length + 1), p.reason ?? '']));
  t.match(reasons['40-truncated.pvrexport.tgz'], /cannot extract/);
  t.match(reasons['41-truncated.tar'], /cannot extract/);
  t.match(reasons['50-bad-digest.pvrexport.tgz'], new RegExp(`objects/${sha('claimed')} has sha256 ${sha('not what was claimed')}`));
  t.match(reasons['60-no-json.pvrexport.tgz'], /no "json" member/);
  t.match(reasons['61-array-json.tgz'], /not a JSON object/);
  t.match(reasons['62-traversal.tgz'], /"\.\.\/escape".*path segment/);
  t.match(reasons['63-missing-object.tgz'], new RegExp(`${sha('never shipped')}.*lonely/root\\.squashfs`));
  for (const file of Object.keys(reasons).filter((f) => reasons[f] !== '')) {
    t.ok(logger.lines.some((line) => line.startsWith('warn') && line.includes(file)), `skip of ${file} logged`);
  }
  t.ok(logger.lines.some((line) => line.includes('70-notes.txt')), 'ignored non-package logged');

  const app = report.packages[0];
  t.same(app?.imported, 4);
  const appV2 = report.packages[2];
  t.same(appV2?.replaced.sort(), ['_config/app/etc/hosts.bind', '_config/app/etc/motd', 'app/services.json']);

  const expected: Record<string, unknown> = {
    '#spec': 'pantavisor-service-system@1',
    '_sigs/app.json': signature(['app/**', '_config/app/**']),
    'app/lxc.container.conf': sha(APP_V2.conf),
    'app/root.squashfs': sha(APP_V2.root),
    'app/run.json': appRun,
    'net/lxc.container.conf': sha(NET.conf),
    'net/root.squashfs': sha(NET.root),
    'net/run.json': { name: 'net', type: 'lxc', 'root-volume': 'root.squashfs', config: 'lxc.container.conf' },
  };
  const state = report.state ?? '';
  t.same(JSON.parse(state), expected, 'merged state');
  const keys = Object.keys(JSON.parse(state) as Record<string, unknown>);
  t.same(keys, [...keys].sort(), 'keys sorted');
  t.same(keys, Object.keys(expected));

  const rev = join(layout.trails, '0');
  t.equal(readFileSync(join(rev, '.pvr', 'json'), 'utf8'), state, 'factory .pvr/json replaced by the merged state');
  t.same(JSON.parse(readFileSync(join(rev, '.pvr', 'config'), 'utf8')), { ObjectsDir: layout.objects });
  for (const [key, content] of [
    ['app/root.squashfs', APP_V2.root],
    ['app/lxc.container.conf', APP_V2.conf],
    ['net/root.squashfs', NET.root],
    ['net/lxc.container.conf', NET.conf],
  ] as const) {
    const linked = statSync(join(rev, key));
    const object = statSync(join(layout.objects, sha(content)));
    t.equal(linked.ino, object.ino, `${key} is a hard link to its object`);
    t.ok(object.nlink >= 2, `${key} object has nlink ${object.nlink}`);
  }
  t.same(JSON.parse(readFileSync(join(rev, 'app', 'run.json'), 'utf8')), appRun, 'inline run.json written');
  t.same(JSON.parse(readFileSync(join(rev, '_sigs', 'app.json'), 'utf8')), signature(['app/**', '_config/app/**']));
  t.notOk(existsSync(join(rev, 'app', 'services.json')), 'replaced container lost its old services.json');
  t.notOk(existsSync(join(rev, '_config')), 'signature globs removed the old config overlays');
  t.equal(readFileSync(join(rev, '.pv', 'progress'), 'utf8'), FACTORY_PROGRESS);
  t.ok(existsSync(join(rev, '.pv', 'done')));
  t.equal(readCurrentRevision(layout), '0');
  t.ok(existsSync(join(layout.root, PVTX_DONE_MARKER)), 'marker written');

  // Objects: every installed package's objects, none from skipped packages.
  const wanted = [APP_V1.root, APP_V1.conf, APP_V1.motd, APP_V1.hosts, APP_V2.root, APP_V2.conf, NET.root, NET.conf].map(sha).sort();
  t.same(storeObjects(layout), wanted, 'no object from a skipped package was imported');
  t.equal(statSync(join(layout.objects, sha(APP_V1.root))).nlink, 1, 'replaced v1 rootfs is left for GC');
  t.ok(noTempLeft(layout), 'no extraction or staging directory left');
  t.same(readdirSync(join(layout.root, DEPLOY_ASIDE_DIR)), []);
  t.notOk(existsSync(join(layout.root, '..', 'escape')));

  const before = tree(layout.root);
  const second = await firstBoot(layout, pvtxd, options(captureLogger()));
  t.same(second, { outcome: 'already-done', revision: '0', packages: [] });
  t.same(tree(layout.root), before, 'second call changed nothing');
});

t.test('no folder, a missing folder and an empty folder all count as processed', async (t) => {
  for (const [label, dir] of [
    ['undefined', undefined],
    ['missing', join(top, 'does-not-exist')],
    ['empty', fresh('empty')],
  ] as const) {
    const layout = freshStorage();
    const before = tree(join(layout.trails, '0'));
    const report = await firstBoot(layout, dir, options(captureLogger()));
    t.equal(report.outcome, 'nothing-installed', label);
    t.same(report.packages, []);
    t.ok(existsSync(join(layout.root, PVTX_DONE_MARKER)), `${label}: marker written`);
    t.same(tree(join(layout.trails, '0')), before, `${label}: revision 0 untouched`);
    t.equal(readFileSync(join(layout.trails, '0', '.pvr', 'json'), 'utf8'), FACTORY_STATE);
  }
});

t.test('only broken packages: nothing installed, nothing left behind, marker written', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');
  const path = makePackage(pvtxd, 'a.pvrexport.tgz', { json: { 'x/root.squashfs': sha('x rootfs') }, objects: ['x rootfs'] });
  truncate(path);
  const report = await firstBoot(layout, pvtxd, options(captureLogger()));
  t.equal(report.outcome, 'nothing-installed');
  t.equal(report.packages[0]?.status, 'skipped');
  t.same(storeObjects(layout), []);
  t.ok(noTempLeft(layout));
  t.equal(readFileSync(join(layout.trails, '0', '.pvr', 'json'), 'utf8'), FACTORY_STATE);
  t.ok(existsSync(join(layout.root, PVTX_DONE_MARKER)));
});

t.test('a merged state the parser rejects leaves revision 0 untouched', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');
  makePackage(pvtxd, 'bad-group.pvrexport.tgz', {
    json: { 'app/run.json': { ...appRun, group: 'no-such-group' }, 'app/root.squashfs': sha(APP_V1.root), 'app/lxc.container.conf': sha(APP_V1.conf) },
    objects: [APP_V1.root, APP_V1.conf],
  });
  const before = tree(join(layout.trails, '0'));
  const logger = captureLogger();
  const report = await firstBoot(layout, pvtxd, options(logger));
  t.equal(report.outcome, 'rejected');
  t.match(report.reason, /Parser: State JSON has bad format.*no-such-group/);
  t.ok(logger.lines.some((line) => line.startsWith('error') && line.includes('no-such-group')), 'rejection logged');
  t.same(tree(join(layout.trails, '0')), before);
  t.equal(readFileSync(join(layout.trails, '0', '.pvr', 'json'), 'utf8'), FACTORY_STATE);
  t.ok(existsSync(join(layout.root, PVTX_DONE_MARKER)), 'processed: retrying could not make it valid');
  t.ok(noTempLeft(layout));
});

t.test('deleting the marker re-runs the installation with the same result', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');
  makePackage(pvtxd, 'net.pvrexport.tgz', {
    json: { 'net/run.json': { name: 'net', type: 'lxc' }, 'net/root.squashfs': sha(NET.root) },
    objects: [NET.root],
  });
  const first = await firstBoot(layout, pvtxd, options(captureLogger()));
  unlinkSync(join(layout.root, PVTX_DONE_MARKER));
  const second = await firstBoot(layout, pvtxd, options(captureLogger()));
  t.equal(second.outcome, 'deployed');
  t.equal(second.state, first.state);
  t.equal(second.packages[0]?.imported, 0);
  t.equal(second.packages[0]?.alreadyPresent, 1);
  t.equal(statSync(join(layout.objects, sha(NET.root))).nlink, 2, 'one trail link, not two');
});

t.test('a package may rely on objects already in storage and on the literal prefix rule', async (t) => {
  const layout = freshStorage();
  writeFileSync(join(layout.objects, sha('preloaded')), 'preloaded');
  const pvtxd = fresh('pvtx.d');
  makePackage(pvtxd, 'a.tgz', { json: { 'device.json': { groups: [{ name: 'root' }, { name: 'platform' }] }, 'device.json.bak': sha('preloaded') } });
  makePackage(pvtxd, 'b.tgz', { json: { 'device.json': { groups: [{ name: 'root' }, { name: 'platform' }, { name: 'app' }] } } });
  const report = await firstBoot(layout, pvtxd, options(captureLogger()));
  t.equal(report.outcome, 'deployed');
  t.same(report.packages[1]?.replaced, ['device.json.bak'], 'keys starting with a package key are removed');
  t.same(Object.keys(JSON.parse(report.state ?? '{}') as Record<string, unknown>), ['#spec', 'device.json']);
});

t.test('a named initial revision also takes pvtx.extra.d and becomes current', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');
  const extra = fresh('pvtx.extra.d');
  makePackage(pvtxd, 'net.tgz', { json: { 'net/run.json': { name: 'net', type: 'lxc' }, 'net/root.squashfs': sha(NET.root) }, objects: [NET.root] });
  makePackage(extra, 'app.tgz', {
    json: { 'app/run.json': appRun, 'app/root.squashfs': sha(APP_V1.root), 'app/lxc.container.conf': sha(APP_V1.conf) },
    objects: [APP_V1.root, APP_V1.conf],
  });
  const report = await firstBoot(layout, pvtxd, options(captureLogger(), { revision: 'locals/initial', extraDir: extra }));
  t.equal(report.outcome, 'deployed');
  t.same(report.packages.map((p) => p.status), ['installed', 'installed']);
  const rev = join(layout.locals, 'initial');
  t.equal(readFileSync(join(rev, '.pv', 'progress'), 'utf8'), FACTORY_PROGRESS);
  t.ok(existsSync(join(rev, '.pv', 'done')));
  t.equal(readCurrentRevision(layout), 'locals/initial');
  t.equal(readFileSync(join(layout.trails, '0', '.pvr', 'json'), 'utf8'), FACTORY_STATE, 'revision 0 untouched');

  const zero = freshStorage();
  const ignored = await firstBoot(zero, pvtxd, options(captureLogger(), { extraDir: extra }));
  t.same(ignored.packages.map((p) => p.file), [join(pvtxd, 'net.tgz')], 'extra.d is only for a named revision');
});

t.test('a json member that is a symlink is refused', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');
  const source = fresh('src');
  writeFileSync(join(top, 'secret.json'), '{"stolen/key.json":{"a":1}}');
  symlinkSync(join(top, 'secret.json'), join(source, 'json'));
  spawnSync('tar', ['-czf', join(pvtxd, 'link.tgz'), '-C', source, 'json']);
  const report = await firstBoot(layout, pvtxd, options(captureLogger()));
  t.equal(report.outcome, 'nothing-installed');
  t.match(report.packages[0]?.reason, /not a regular file/);
});

t.test('our own failures (tar missing) reject and leave the marker absent for a retry', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');
  makePackage(pvtxd, 'net.tgz', { json: { 'net/root.squashfs': sha(NET.root) }, objects: [NET.root] });
  await t.rejects(firstBoot(layout, pvtxd, options(captureLogger(), { tar: join(top, 'no-such-tar') })), /cannot run/);
  t.notOk(existsSync(join(layout.root, PVTX_DONE_MARKER)));
  t.ok(noTempLeft(layout));
  const retry = await firstBoot(layout, pvtxd, options(captureLogger()));
  t.equal(retry.outcome, 'deployed');
});

t.test('concurrent calls run once', async (t) => {
  const layout = freshStorage();
  const pvtxd = fresh('pvtx.d');
  makePackage(pvtxd, 'net.tgz', { json: { 'net/root.squashfs': sha(NET.root) }, objects: [NET.root] });
  const [a, b] = await Promise.all([firstBoot(layout, pvtxd, options(captureLogger())), firstBoot(layout, pvtxd, options(captureLogger()))]);
  t.same([a.outcome, b.outcome], ['deployed', 'already-done']);
});
