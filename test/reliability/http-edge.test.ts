/**
 * The HTTP edge of the real daemon (issue 8, defects 1, 4, 5, 6, 8): half-closing clients get
 * their answers, a bad request pipelined behind good ones answers them first, unsupported
 * methods are 501, HTTP/1.0 is mirrored, connections are bounded and idle ones time out, and
 * memory comes back after a burst.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawExchange, rawRequest } from '../helpers/raw-http.ts';
import { burst, closedWithin, halfCloseExchange, openConnection, pollUntil, rssMiB, statusLines } from './http-support.ts';

let daemon: TestDaemon;
let sock = '';
t.before(async () => {
  daemon = await startTestDaemon({ args: ['--max-connections', '1100', '--idle-timeout', '2'] });
  sock = daemon.socket;
});
t.teardown(() => daemon?.dispose());
const sha = (data: string): string => createHash('sha256').update(data).digest('hex');
const STATE = '{"#spec":"pantavisor-service-system@1"}';
const UNSUPPORTED = '{"Error": "Unsupported protocol"}';

t.test('a client that half-closes after a complete request gets the answer (defect 1)', async (t) => {
  const abc = sha('abc');
  t.equal(abc, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (const version of ['1.0', '1.1']) {
    const object = await halfCloseExchange(sock, `PUT /objects/${abc} HTTP/${version}\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc`);
    t.match(object, new RegExp(`^HTTP/${version.replace('.', '\\.')} 200 OK\\r\\n`), `object put, HTTP/${version}`);
    const step = await halfCloseExchange(sock, `PUT /steps/locals/x HTTP/${version}\r\nHost: localhost\r\nContent-Length: ${STATE.length}\r\n\r\n${STATE}`);
    t.match(step, / 200 OK\r\n/, `steps put, HTTP/${version}`);
    const get = await halfCloseExchange(sock, `GET /steps/locals/x HTTP/${version}\r\nHost: localhost\r\n\r\n`);
    t.ok(get.endsWith(STATE), `state read back, HTTP/${version}`);
  }
  t.ok(existsSync(join(daemon.storage, 'objects', sha('abc'))));
  const pipelined = await halfCloseExchange(sock, 'GET /steps/current HTTP/1.1\r\nHost: localhost\r\n\r\nGET /user-meta HTTP/1.1\r\nHost: localhost\r\n\r\n');
  t.equal(statusLines(pipelined).length, 2, 'every request that arrived before the half-close is answered');
  const partial = await halfCloseExchange(sock, `PUT /user-meta/partial HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc`);
  t.notMatch(partial, / 200 OK/, 'a request cut short by the half-close is not acknowledged');
  t.notMatch((await rawRequest(sock, 'GET', '/user-meta')).body, /partial/, 'and writes nothing');
});

t.test('a malformed request pipelined behind good ones answers them first (defect 4)', async (t) => {
  const afterGet = await rawExchange(sock, 'GET /steps HTTP/1.1\r\nHost: localhost\r\n\r\nJUNK\r\n\r\n');
  t.same(statusLines(afterGet), ['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request']);
  t.ok(afterGet.endsWith(UNSUPPORTED));
  const afterPut = await rawExchange(sock, 'PUT /user-meta/k HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nvJUNK\r\n\r\n');
  t.same(statusLines(afterPut), ['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request'], 'the stored value is acknowledged');
  t.equal(JSON.parse((await rawRequest(sock, 'GET', '/user-meta')).body).k, 'v');
  const identity = await rawExchange(
    sock,
    'GET /steps/current HTTP/1.1\r\nHost: localhost\r\n\r\nPUT /user-meta/te HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: identity\r\n\r\nGET /steps HTTP/1.1\r\n\r\n',
  );
  t.same(statusLines(identity), ['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request'], 'Transfer-Encoding: identity without a length is refused');
  t.notMatch((await rawRequest(sock, 'GET', '/user-meta')).body, /"te"/, 'nothing written for it');
  const three = await rawExchange(sock, 'GET /steps/current HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(3) + 'GET / HTTP/9.9\r\n\r\nGET /steps HTTP/1.1\r\n\r\n');
  t.same(statusLines(three), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request'], 'in order, then the error, then close');
});

t.test('CONNECT and other unsupported methods get 501 Unsupported protocol, logged (defect 5)', async (t) => {
  const connect = await rawExchange(sock, 'CONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\n\r\n');
  t.match(connect, /^HTTP\/1\.1 501 Not Implemented\r\nContent-Type: text\/html\r\nContent-Length: 33\r\nConnection: close\r\n\r\n/);
  t.ok(connect.endsWith(UNSUPPORTED));
  const behindGet = await rawExchange(sock, 'GET /steps/current HTTP/1.1\r\nHost: localhost\r\n\r\nCONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\n\r\n');
  t.same(statusLines(behindGet), ['HTTP/1.1 200 OK', 'HTTP/1.1 501 Not Implemented'], 'the GET is answered first');
  t.match(daemon.log(), /WARN .*501 Unsupported protocol: unsupported method CONNECT/);
});

t.test('the status line mirrors the request version (defect 6)', async (t) => {
  const http10 = await rawRequest(sock, 'GET', '/steps/current', { version: '1.0' });
  t.match(http10.raw, /^HTTP\/1\.0 200 OK\r\n/);
  const missing = await rawRequest(sock, 'GET', '/steps/999', { version: '1.0' });
  t.match(missing.raw, /^HTTP\/1\.0 404 Not Found\r\n/);
  t.match((await rawRequest(sock, 'PATCH', '/objects', { version: '1.0' })).raw, /^HTTP\/1\.0 501 Not Implemented\r\n/);
  t.match((await rawRequest(sock, 'GET', '/steps/current', { version: '1.1' })).raw, /^HTTP\/1\.1 200 OK\r\n/);
  // An object whose content starts like a status line is served untouched to an HTTP/1.0 client.
  const tricky = 'HTTP/1.1 200 OK\r\nnot a head\r\n';
  t.equal((await rawRequest(sock, 'PUT', `/objects/${sha(tricky)}`, { body: tricky })).status, 200);
  t.equal((await rawRequest(sock, 'GET', `/objects/${sha(tricky)}`, { version: '1.0' })).body, tricky);
});

t.test('idle keep-alive connections time out; one waiting for its answer does not', async (t) => {
  const idle = await openConnection(sock);
  const outcome = await closedWithin(idle, 10_000);
  t.ok(outcome.closed, 'closed by the daemon after --idle-timeout 2');
  const used = await openConnection(sock);
  used.write('GET /steps/current HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const answered = await closedWithin(used, 10_000);
  t.ok(answered.closed && answered.received.endsWith(STATE), 'answered, then closed once idle');
});

t.test('RSS returns to within 8 MiB of idle after a burst (defect 8)', async (t) => {
  const pid = daemon.process.pid as number;
  // Warm up once so the idle figure is the daemon's steady state, not its start-up.
  await burst(sock, Array.from({ length: 200 }, () => 'GET /steps/current HTTP/1.0\r\n\r\n'));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const idle = rssMiB(pid);
  const answers = await burst(sock, Array.from({ length: 5_000 }, (_, index) => `BAD${index} /${'x'.repeat(index % 300)} HTTP/1.1\r\n\r\n`));
  t.equal(answers.filter((answer) => answer.startsWith('HTTP/1.1 501 ')).length, 5_000, 'every malformed request answered 501');
  const open = await Promise.all(Array.from({ length: 1_000 }, () => openConnection(sock)));
  const peak = rssMiB(pid);
  for (const socket of open) socket.destroy();
  const back = await pollUntil(() => rssMiB(pid) <= idle + 8, 10_000);
  t.ok(back, `RSS back within 8 MiB of idle within 10 s (idle ${idle.toFixed(1)} MiB, peak ${peak.toFixed(1)}, now ${rssMiB(pid).toFixed(1)})`);
  t.equal((await rawRequest(sock, 'GET', '/steps/current')).body, STATE, 'still serving');
});

t.test('connections beyond --max-connections get 503 and are closed', async (t) => {
  const limited = await startTestDaemon({ args: ['--max-connections', '8'] });
  t.teardown(() => limited.dispose());
  const held = await Promise.all(Array.from({ length: 8 }, () => openConnection(limited.socket)));
  const extra = await openConnection(limited.socket);
  const refused = await closedWithin(extra, 5_000);
  t.ok(refused.closed);
  t.match(refused.received, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  t.ok(refused.received.endsWith('{"Error":"Too many connections"}'));
  for (const socket of held) socket.destroy();
  t.match(limited.log(), /WARN refusing connection: 8 connections open/);
  let served = false;
  for (let attempt = 0; attempt < 20 && !served; attempt++) {
    served = (await rawRequest(limited.socket, 'GET', '/steps/current')).status === 200;
    if (!served) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(served, 'served again once the held connections closed');
});
