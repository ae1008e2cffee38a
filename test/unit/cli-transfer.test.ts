/**
 * `bin/pvcontrol` transfers as a subprocess: objects put/get (20 MiB, stdin, errors) and
 * steps put (file, stdin, commit message).
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorResponse, runCli, useFakeServer } from '../helpers/fake-server.ts';

const MiB = 1024 * 1024;
const fixture = useFakeServer(t, 'pvcli-xfer-');
const work = fixture.work;
const bigPath = join(work, 'big.bin');
const big = randomBytes(20 * MiB);
writeFileSync(bigPath, big);
const bigSha = createHash('sha256').update(big).digest('hex');
const SHA = 'b'.repeat(64);


const cli = (args: string[], options: { stdin?: string | Uint8Array; cwd?: string } = {}) =>
  runCli(['-s', fixture.server().socketPath, ...args], options);

t.test('objects put streams a 20 MiB file with exact bytes; no progress when stderr is a pipe', async (t) => {
  const run = await cli(['objects', 'put', bigPath, bigSha]);
  t.equal(run.code, 0);
  t.equal(run.out, '\n');
  t.equal(run.err, '', 'quiet: stderr is not a terminal');
  const req = fixture.server().requests[0];
  t.equal(req?.method, 'PUT');
  t.equal(req?.path, `/objects/${bigSha}`);
  t.equal(req?.headers['content-type'], 'application/octet-stream');
  t.equal(req?.headers['content-length'], String(20 * MiB));
  t.notOk(req?.headers['transfer-encoding'], 'not chunked');
  t.equal(req?.body.length, 20 * MiB);
  t.equal(req?.bodySha256, bigSha);
});

t.test('objects put with a relative path', async (t) => {
  writeFileSync(join(work, 'small.txt'), 'hello pvctrl test\n');
  const run = await cli(['objects', 'put', 'small.txt', SHA], { cwd: work });
  t.equal(run.code, 0);
  t.equal(fixture.server().requests[0]?.body.toString(), 'hello pvctrl test\n');
});

t.test('objects put -<size> sends exactly <size> bytes from stdin with Content-Length', async (t) => {
  const data = big.subarray(0, 3 * MiB + 17);
  const run = await cli(['objects', 'put', `-${data.length}`, SHA], { stdin: Buffer.concat([data, Buffer.from('trailing junk')]) });
  t.equal(run.code, 0);
  const req = fixture.server().requests[0];
  t.equal(req?.headers['content-length'], String(data.length));
  t.ok(req?.body.equals(data), 'exact bytes, extra stdin ignored');
});

t.test('objects put - streams stdin until it ends (chunked)', async (t) => {
  const run = await cli(['objects', 'put', '-', SHA], { stdin: 'from stdin' });
  t.equal(run.code, 0);
  t.equal(fixture.server().requests[0]?.headers['transfer-encoding'], 'chunked');
  t.equal(fixture.server().requests[0]?.body.toString(), 'from stdin');
});

t.test('objects put -<size> with too little stdin fails without a fake response', async (t) => {
  const run = await cli(['objects', 'put', '-100', SHA], { stdin: 'short' });
  t.equal(run.code, 1);
  t.match(run.err, /^ERROR: upload source ended after 5 of 100 announced bytes/);
  t.equal(run.out, '');
});

t.test('objects put of a missing file', async (t) => {
  const run = await cli(['objects', 'put', join(work, 'nope.bin'), SHA]);
  t.equal(run.code, 1);
  t.match(run.err, /^ERROR: cannot read .*nope\.bin/);
  t.equal(fixture.server().requests.length, 0);
});

t.test('objects put error statuses: checksum 60, disk full 48, bad name 255', async (t) => {
  fixture.server().route(`PUT /objects/${SHA}`, errorResponse(422, 'Object has bad checksum'));
  const bad = await cli(['objects', 'put', bigPath, SHA]);
  t.equal(bad.code, 60);
  t.equal(bad.err, '{"Error":"Object has bad checksum"}\n');
  t.equal(bad.out, '');

  fixture.server().route(`PUT /objects/${SHA}`, errorResponse(507, 'Not enough disk space available'));
  const full = await cli(['objects', 'put', bigPath, SHA]);
  t.equal(full.code, 48);

  fixture.server().route('PUT /objects/abc', { ...errorResponse(400, 'Request has bad object name'), early: true });
  const early = await cli(['objects', 'put', bigPath, 'abc']);
  t.equal(early.code, 255, 'an answer before the upload finished is still reported');
  t.equal(early.err, '{"Error":"Request has bad object name"}\n');
});

t.test('objects get streams 20 MiB raw to stdout, no newline added', async (t) => {
  fixture.server().route(`GET /objects/${bigSha}`, { status: 200, file: bigPath, headers: { 'Content-Type': 'application/octet-stream' } });
  const run = await cli(['objects', 'get', bigSha]);
  t.equal(run.code, 0);
  t.equal(run.stdout.length, 20 * MiB);
  t.equal(createHash('sha256').update(run.stdout).digest('hex'), bigSha);
  t.equal(run.err, '');
});

t.test('objects get -f writes the file; on error nothing is written and the exit is non-zero', async (t) => {
  fixture.server().route(`GET /objects/${bigSha}`, { status: 200, file: bigPath });
  const dest = join(work, 'downloaded.bin');
  const run = await cli(['-f', dest, 'objects', 'get', bigSha]);
  t.equal(run.code, 0);
  t.equal(run.out, '');
  t.equal(createHash('sha256').update(readFileSync(dest)).digest('hex'), bigSha);

  fixture.server().route(`GET /objects/${SHA}`, errorResponse(400, 'Request has bad object name'));
  const kept = join(work, 'kept.bin');
  writeFileSync(kept, 'previous content');
  const failed = await cli(['-f', kept, 'objects', 'get', SHA]);
  t.equal(failed.code, 255);
  t.equal(failed.err, '{"Error":"Request has bad object name"}\n');
  t.equal(readFileSync(kept, 'utf8'), 'previous content', 'existing file untouched');

  const fresh = join(work, 'fresh.bin');
  const failed2 = await cli(['-f', fresh, 'objects', 'get', SHA]);
  t.equal(failed2.code, 255);
  t.notOk(existsSync(fresh), 'no file created');

  const toStdout = await cli(['objects', 'get', SHA]);
  t.equal(toStdout.code, 255);
  t.equal(toStdout.stdout.length, 0, 'error body never goes to stdout');
});

t.test('objects get with a broken transfer: no response, partial file removed', async (t) => {
  fixture.server().route(`GET /objects/${SHA}`, { status: 200, body: Buffer.alloc(200_000, 1), truncateAfter: 1000 });
  const dest = join(work, 'partial.bin');
  const run = await cli(['-f', dest, 'objects', 'get', SHA]);
  t.equal(run.code, 1);
  t.equal(run.err, 'ERROR: got no response\n');
  t.notOk(existsSync(dest));
});

const STATE = '{"#spec":"pantavisor-service-system@1","bsp/run.json":{}}';

t.test('steps put <file> <rev>: state JSON, then the -m commit message', async (t) => {
  writeFileSync(join(work, 'state.json'), STATE);
  const run = await cli(['-m', 'test put', 'steps', 'put', 'state.json', 'locals/test-put-rev'], { cwd: work });
  t.equal(run.code, 0);
  t.equal(run.out, '\n');
  t.equal(fixture.server().requests.length, 2);
  const [put, msg] = fixture.server().requests;
  t.equal(put?.method, 'PUT');
  t.equal(put?.path, '/steps/locals/test-put-rev');
  t.equal(put?.body.toString(), STATE);
  t.equal(put?.headers['content-length'], String(STATE.length));
  t.equal(msg?.path, '/steps/locals/test-put-rev/commitmsg');
  t.equal(msg?.body.toString(), 'test put');
});

t.test('steps put without -m makes one request; - reads stdin', async (t) => {
  const run = await cli(['steps', 'put', '-', 'locals/from-stdin'], { stdin: STATE });
  t.equal(run.code, 0);
  t.equal(fixture.server().requests.length, 1);
  t.equal(fixture.server().requests[0]?.body.toString(), STATE);
  t.equal(fixture.server().requests[0]?.headers['content-length'], String(STATE.length), 'stdin is sent with a length');
});

t.test('steps put: a rejected state exits 70 and skips the commit message', async (t) => {
  writeFileSync(join(work, 'bad.json'), '{"x":1}');
  fixture.server().route('PUT /steps/locals/bad', errorResponse(422, 'Parser: State JSON has bad format'));
  const run = await cli(['-m', 'msg', 'steps', 'put', join(work, 'bad.json'), 'locals/bad']);
  t.equal(run.code, 70);
  t.equal(run.err, '{"Error":"Parser: State JSON has bad format"}\n');
  t.equal(fixture.server().requests.length, 1, 'no commitmsg after a failure');

  fixture.server().route('PUT /steps/5', errorResponse(400, 'Method not supported for this endpoint'));
  const remote = await cli(['steps', 'put', join(work, 'bad.json'), '5']);
  t.equal(remote.code, 255);
});

t.test('steps put: a failing commit message decides the exit status', async (t) => {
  writeFileSync(join(work, 'ok.json'), STATE);
  fixture.server().route('PUT /steps/locals/a/commitmsg', errorResponse(507, 'Not enough disk space available'));
  const run = await cli(['-m', 'x'.repeat(300), 'steps', 'put', join(work, 'ok.json'), 'locals/a']);
  t.equal(run.code, 48);
});

t.test('steps put of a missing file', async (t) => {
  const run = await cli(['steps', 'put', join(work, 'missing.json'), 'locals/a']);
  t.equal(run.code, 1);
  t.match(run.err, /^ERROR: cannot read /);
  t.equal(fixture.server().requests.length, 0);
});
