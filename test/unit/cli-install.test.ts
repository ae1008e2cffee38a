/** `pvcontrol steps install` as a subprocess, with real .tgz files built by tar. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorResponse, jsonResponse, runCli, useFakeServer, type RecordedRequest } from '../helpers/fake-server.ts';

const fixture = useFakeServer(t, 'pvcli-install-');
const work = fixture.work;


const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const STATE = JSON.stringify({ '#spec': 'pantavisor-service-system@1', 'app/run.json': { name: 'app' } });
const OBJ_A = Buffer.from('object A contents\n');
const OBJ_B = Buffer.from('object B contents, a bit longer\n');
const SHA_A = sha256(OBJ_A);
const SHA_B = sha256(OBJ_B);

let counter = 0;
/** Builds a step directory and packs it with `tar czf <out> -C <dir> <members...>`. */
function makeTarball(files: Record<string, string | Buffer>, members: string[] | '.' = '.', name?: string): string {
  const id = `step-${++counter}`;
  const dir = join(work, id);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  mkdirSync(dir, { recursive: true });
  const out = join(work, name ?? `${id}.tgz`);
  const res = spawnSync('tar', ['czf', out, '-C', dir, ...(members === '.' ? ['.'] : members)]);
  if (res.status !== 0) throw new Error(`tar failed: ${res.stderr.toString()}`);
  return out;
}

const pvrExport = (members: string[] | '.' = ['json', 'objects']): string =>
  makeTarball({ json: STATE, [`objects/${SHA_A}`]: OBJ_A, [`objects/${SHA_B}`]: OBJ_B }, members);

const summary = (reqs: RecordedRequest[]): string[] => reqs.map((r) => `${r.method} ${r.path}`);

/** The device already has object A and revision 0. */
function scriptDevice(steps: string[] = ['0']): void {
  fixture.server().route('GET /objects', jsonResponse(200, [{ sha256: SHA_A, size: String(OBJ_A.length) }]));
  fixture.server().route('GET /steps', jsonResponse(200, steps.map((name) => ({ name, date: '2026-05-26T10:00:50Z', commitmsg: '', progress: {} }))));
}

t.test('pvr export layout (json + objects/): uploads missing objects, installs the state, stores -m', async (t) => {
  const tgz = pvrExport();
  scriptDevice();
  const run = await runCli(['-s', fixture.server().socketPath, '-m', 'my change', 'steps', 'install', tgz, 'locals/my-rev']);
  t.equal(run.code, 0, run.err);
  t.equal(run.out, '{"revision":"locals/my-rev"}\n');
  t.equal(run.err, '');
  t.same(summary(fixture.server().requests), [
    'GET /objects',
    `PUT /objects/${SHA_B}`,
    'GET /steps',
    'PUT /steps/locals/my-rev',
    'PUT /steps/locals/my-rev/commitmsg',
  ]);
  const [, objPut, , statePut, msgPut] = fixture.server().requests;
  t.ok(objPut?.body.equals(OBJ_B), 'object bytes');
  t.equal(objPut?.headers['content-type'], 'application/octet-stream');
  t.equal(objPut?.headers['content-length'], String(OBJ_B.length));
  t.equal(statePut?.body.toString(), STATE);
  t.equal(statePut?.headers['content-type'], 'application/json');
  t.equal(msgPut?.body.toString(), 'my change');
});

t.test('members stored as ./json and ./objects/... are accepted', async (t) => {
  const tgz = pvrExport('.');
  const listing = spawnSync('tar', ['tzf', tgz]).stdout.toString();
  t.match(listing, /^\.\/json$/m, 'tarball really has ./ members');
  scriptDevice();
  const run = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/dot']);
  t.equal(run.code, 0, run.err);
  t.same(summary(fixture.server().requests), ['GET /objects', `PUT /objects/${SHA_B}`, 'GET /steps', 'PUT /steps/locals/dot']);
});

t.test('default revision name is locals/<sha256 of the tarball>; relative paths work', async (t) => {
  const tgz = pvrExport();
  const expected = `locals/${sha256(readFileSync(tgz))}`;
  scriptDevice();
  const run = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz.slice(work.length + 1)], { cwd: work });
  t.equal(run.code, 0, run.err);
  t.equal(run.out, `${JSON.stringify({ revision: expected })}\n`);
  t.equal(fixture.server().requests[fixture.server().requests.length - 1]?.path, `/steps/${expected}`);
  t.equal(run.err, '', 'no stray shell warnings');
});

t.test('test plan 29: a tarball holding only state.json installs it as the state', async (t) => {
  const tgz = makeTarball({ 'state.json': STATE }, '.', 'test-step.tgz');
  fixture.server().route('GET /steps', jsonResponse(200, [{ name: '0', date: '', commitmsg: '', progress: {} }]));
  const run = await runCli(['-s', fixture.server().socketPath, '-m', 'test install', 'steps', 'install', tgz, 'locals/test-rev']);
  t.equal(run.code, 0, run.err);
  t.equal(run.out, '{"revision":"locals/test-rev"}\n');
  t.same(summary(fixture.server().requests), ['GET /steps', 'PUT /steps/locals/test-rev', 'PUT /steps/locals/test-rev/commitmsg'], 'no objects to upload');
  t.equal(fixture.server().requests[1]?.body.toString(), STATE);
});

t.test('state.json with objects/ uploads the objects too', async (t) => {
  const tgz = makeTarball({ 'state.json': STATE, [`objects/${SHA_B}`]: OBJ_B });
  scriptDevice();
  const run = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/s']);
  t.equal(run.code, 0, run.err);
  t.same(summary(fixture.server().requests), ['GET /objects', `PUT /objects/${SHA_B}`, 'GET /steps', 'PUT /steps/locals/s']);
});

t.test('a tarball of the step folder itself (one top-level directory) is looked into', async (t) => {
  const dir = join(work, 'wrapped');
  mkdirSync(join(dir, 'mystep'), { recursive: true });
  writeFileSync(join(dir, 'mystep', 'state.json'), STATE);
  const tgz = join(work, 'wrapped.tgz');
  spawnSync('tar', ['czf', tgz, '-C', dir, 'mystep']);
  const run = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/w']);
  t.equal(run.code, 0, run.err);
  t.equal(fixture.server().requests[fixture.server().requests.length - 1]?.body.toString(), STATE);
});

t.test('presence checks are exact, not substring matches', async (t) => {
  const tgz = pvrExport();
  // Listing mentions a sha that merely contains SHA_B's prefix, and a longer revision name.
  fixture.server().route('GET /objects', jsonResponse(200, [{ sha256: SHA_A, size: '1' }, { sha256: `${SHA_B.slice(0, 60)}ffff`, size: '1' }]));
  fixture.server().route('GET /steps', jsonResponse(200, [{ name: 'locals/test-rev-2', date: '', commitmsg: '', progress: {} }]));
  const run = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/test-rev']);
  t.equal(run.code, 0, run.err);
  t.same(summary(fixture.server().requests), ['GET /objects', `PUT /objects/${SHA_B}`, 'GET /steps', 'PUT /steps/locals/test-rev']);
});

t.test('an existing revision and existing objects are not sent again', async (t) => {
  const tgz = pvrExport();
  fixture.server().route('GET /objects', jsonResponse(200, [{ sha256: SHA_A, size: '1' }, { sha256: SHA_B, size: '1' }]));
  fixture.server().route('GET /steps', jsonResponse(200, [{ name: 'locals/again', date: '', commitmsg: '', progress: {} }]));
  const run = await runCli(['-s', fixture.server().socketPath, '-v', 'steps', 'install', tgz, 'locals/again']);
  t.equal(run.code, 0, run.err);
  t.equal(run.out, '{"revision":"locals/again"}\n');
  t.same(summary(fixture.server().requests), ['GET /objects', 'GET /steps']);
  t.match(run.err, /revision locals\/again already exists/, 'explained in verbose mode');
});

t.test('an unreadable listing only costs re-uploads', async (t) => {
  const tgz = pvrExport();
  fixture.server().route('GET /objects', { status: 200, body: ']' });
  fixture.server().route('GET /steps', { status: 200, body: ']' });
  const run = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/x']);
  t.equal(run.code, 0, run.err);
  t.same(summary(fixture.server().requests), ['GET /objects', `PUT /objects/${SHA_A}`, `PUT /objects/${SHA_B}`, 'GET /steps', 'PUT /steps/locals/x']);
});

t.test('a rejected state: server error on stderr, exit 70, no revision printed', async (t) => {
  const tgz = pvrExport();
  scriptDevice();
  fixture.server().route('PUT /steps/locals/bad', errorResponse(422, 'Parser: State JSON has bad format'));
  const run = await runCli(['-s', fixture.server().socketPath, '-m', 'm', 'steps', 'install', tgz, 'locals/bad']);
  t.equal(run.code, 70);
  t.equal(run.err, '{"Error":"Parser: State JSON has bad format"}\n');
  t.equal(run.out, '');
  t.notOk(fixture.server().requests.some((r) => r.path.endsWith('/commitmsg')), 'no commit message');
});

t.test('a failed object upload stops the install with its exit code', async (t) => {
  const tgz = pvrExport();
  scriptDevice();
  fixture.server().route(`PUT /objects/${SHA_B}`, errorResponse(422, 'Object has bad checksum'));
  const run = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/x']);
  t.equal(run.code, 60);
  t.equal(run.err, '{"Error":"Object has bad checksum"}\n');
  t.same(summary(fixture.server().requests), ['GET /objects', `PUT /objects/${SHA_B}`], 'state not installed');

  fixture.server().reset();
  scriptDevice();
  fixture.server().route(`PUT /objects/${SHA_B}`, errorResponse(507, 'Not enough disk space available'));
  const full = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/x']);
  t.equal(full.code, 48);
});

t.test('listing failures and a failed commit message are reported', async (t) => {
  const tgz = pvrExport();
  fixture.server().route('GET /objects', errorResponse(403, 'Request not sent from a mgmt platform'));
  const denied = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', tgz, 'locals/x']);
  t.equal(denied.code, 255);
  t.equal(denied.err, '{"Error":"Request not sent from a mgmt platform"}\n');

  fixture.server().reset();
  scriptDevice();
  fixture.server().route('PUT /steps/locals/x/commitmsg', errorResponse(500, 'Cannot write message'));
  const msg = await runCli(['-s', fixture.server().socketPath, '-m', 'hello', 'steps', 'install', tgz, 'locals/x']);
  t.equal(msg.code, 255);
  t.equal(msg.err, '{"Error":"Cannot write message"}\n');
});

t.test('bad input: wrong extension, missing file, wrong contents, broken archive', async (t) => {
  const notTgz = join(work, 'step.zip');
  writeFileSync(notTgz, 'zip');
  const a = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', notTgz]);
  t.equal(a.code, 1);
  t.match(a.err, /^ERROR: unknown file format/);

  const b = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', join(work, 'missing.tgz')]);
  t.equal(b.code, 1);
  t.match(b.err, /^ERROR: .*missing\.tgz not found/);

  const c = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', makeTarball({ README: 'nothing here' })]);
  t.equal(c.code, 1);
  t.match(c.err, /^ERROR: wrong contents of compressed step/);

  const d = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', makeTarball({ json: STATE })]);
  t.equal(d.code, 1, 'json without objects/ is not a pvr export');
  t.match(d.err, /^ERROR: wrong contents of compressed step/);

  const broken = join(work, 'broken.tgz');
  writeFileSync(broken, 'this is not gzip');
  const e = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', broken]);
  t.equal(e.code, 1);
  t.match(e.err, /^ERROR: cannot extract/);

  t.equal(fixture.server().requests.length, 0, 'nothing was sent for bad input');
});

t.test('the extraction directory is always removed', async (t) => {
  const tmp = mkdtempSync(join(work, 'tmpdir-'));
  const ok = pvrExport();
  scriptDevice();
  const good = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', ok, 'locals/clean'], { env: { TMPDIR: tmp } });
  t.equal(good.code, 0, good.err);
  t.same(readdirSync(tmp), [], 'clean after success');

  fixture.server().route('PUT /steps/locals/clean', errorResponse(422, 'Parser: State JSON has bad format'));
  const bad = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', ok, 'locals/clean'], { env: { TMPDIR: tmp } });
  t.equal(bad.code, 70);
  t.same(readdirSync(tmp), [], 'clean after failure');

  const wrong = await runCli(['-s', fixture.server().socketPath, 'steps', 'install', makeTarball({ x: 'y' })], { env: { TMPDIR: tmp } });
  t.equal(wrong.code, 1);
  t.same(readdirSync(tmp), [], 'clean after bad contents');
});

t.test('-f receives the revision line', async (t) => {
  const tgz = pvrExport();
  scriptDevice();
  const out = join(work, 'rev.json');
  const run = await runCli(['-s', fixture.server().socketPath, '-f', out, 'steps', 'install', tgz, 'locals/f']);
  t.equal(run.code, 0, run.err);
  t.equal(run.out, '');
  t.equal(readFileSync(out, 'utf8'), '{"revision":"locals/f"}\n');
});
