import t from 'tap';
import { IdentityEncodingFilter } from '../../src/server/identity-encoding.ts';
import { ChunkedBodyTracker, inspectHead } from '../../src/server/request-head.ts';

/** Feed chunks; every request is answered as soon as it is complete (what the server does). */
const run = (chunks: string[]): string => {
  const filter = new IdentityEncodingFilter();
  let out = '';
  for (const chunk of chunks) {
    out += filter.filter(Buffer.from(chunk, 'latin1')).toString('latin1');
    while (filter.answerOwed) out += filter.answered().toString('latin1');
  }
  return out;
};

t.test('drops Transfer-Encoding: identity from heads only', async (t) => {
  const body = 'x\r\nTransfer-Encoding: identity\r\n\r\n';
  const request = `PUT /objects/a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: identity\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const expected = `PUT /objects/a HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  t.equal(run([request]), expected, 'whole request in one chunk; the body is untouched');
  t.equal(run([...request].map((char) => char)), expected, 'one byte at a time');
  t.equal(run([request + request]), expected + expected, 'pipelined requests');
  t.equal(run(['\r\n' + request]), expected, 'leading blank line tolerated (and not forwarded)');
  const get = 'GET /containers HTTP/1.1\r\nHost: localhost\r\n\r\n';
  t.equal(run([get, request]), get + expected, 'a body-less request before an upload');
});

t.test('one request in the parser at a time: the next waits for the answer', async (t) => {
  const filter = new IdentityEncodingFilter();
  const get = 'GET /steps HTTP/1.1\r\nHost: localhost\r\n\r\n';
  const put = 'PUT /user-meta/k HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nv';
  t.equal(filter.filter(Buffer.from(get + put + get)).toString(), get, 'only the first request reaches the parser');
  t.ok(filter.answerOwed);
  t.equal(filter.bytesHeld, put.length + get.length);
  t.equal(filter.answered().toString(), put, 'the answer lets the next one in');
  t.equal(filter.answered().toString(), get);
  t.equal(filter.answered().length, 0);
  t.ok(filter.idle);
});

t.test('refusals wait for every earlier answer, and nothing after them is looked at', async (t) => {
  const get = 'GET /steps HTTP/1.1\r\nHost: localhost\r\n\r\n';
  const cases: Array<[string, 400 | 501, string]> = [
    ['JUNK\r\n\r\n', 400, 'no method and target'],
    ['CONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\n\r\n', 501, 'CONNECT'],
    ['PATCH /objects HTTP/1.0\r\n\r\n', 501, 'PATCH'],
    ['PUT /user-meta/k HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\nGET / HTTP/1.1\r\n\r\n', 400, 'identity without a length'],
    ['PUT /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'both framings'],
    ['PUT /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 400, 'conflicting lengths'],
    ['PUT /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400, 'negative length'],
    ['GET / HTTP/2.0\r\n\r\n', 400, 'HTTP/2.0'],
    ['GET / HTTP/1.1\r\n folded\r\n\r\n', 400, 'obsolete line folding'],
  ];
  for (const [bad, status, name] of cases) {
    const filter = new IdentityEncodingFilter();
    t.equal(filter.filter(Buffer.from(get + bad + get)).toString(), get, `${name}: the good request goes through`);
    t.equal(filter.dueRejection, undefined, `${name}: not refused before the earlier answer`);
    t.equal(filter.answered().length, 0, `${name}: nothing after the bad request reaches the parser`);
    t.equal(filter.dueRejection?.status, status, `${name}: refused ${status}`);
  }
  const huge = new IdentityEncodingFilter();
  huge.filter(Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(70 * 1024)}`));
  t.equal(huge.dueRejection?.status, 400, 'oversize heads are refused, not buffered');
  const broken = new IdentityEncodingFilter();
  broken.filter(Buffer.from('PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'));
  broken.filter(Buffer.from('nope\r\n'));
  t.equal(broken.dueRejection?.status, 400, 'broken framing inside a body being read: refused at once');
  t.equal(inspectHead('GET / HTTP/1.0\r\n\r\n').ok && 'ok', 'ok');
  const refused = inspectHead('DELETE / HTTP/1.0\r\nX: \x01\r\n\r\n');
  t.same(refused.ok ? undefined : [refused.status, refused.version], [400, '1.0'], 'the version is known for the answer');
});

t.test('chunked bodies are followed to their end', async (t) => {
  const chunked = 'PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
  const next = 'PUT /y HTTP/1.1\r\nTransfer-Encoding: identity\r\nContent-Length: 0\r\n\r\n';
  t.equal(run([chunked + next]), `${chunked}PUT /y HTTP/1.1\r\nContent-Length: 0\r\n\r\n`);
  t.equal(run([...chunked].map((char) => char)), chunked, 'one byte at a time');
  const tracker = new ChunkedBodyTracker();
  const body = Buffer.from('4;ext=1\r\nwxyz\r\n0\r\nTrailer: x\r\n\r\nNEXT');
  t.equal(tracker.feed(body), body.length - 4, 'extensions and trailers; stops at the end of the body');
  t.ok(tracker.done);
});

t.test('ledger for the upload fast path: bytes seen, body position, detach, capture, seal', async (t) => {
  const filter = new IdentityEncodingFilter();
  const get = 'GET /containers HTTP/1.1\r\nHost: localhost\r\n\r\n';
  const put = 'PUT /objects/a HTTP/1.1\r\nTransfer-Encoding: identity\r\nContent-Length: 10\r\n\r\n';
  t.equal(filter.filter(Buffer.from(get)).toString(), get);
  t.equal(filter.currentBody, undefined, 'no body between requests');
  t.equal(filter.answered().length, 0);
  const forwarded = filter.filter(Buffer.from(`${put}0123`)).toString();
  t.equal(forwarded, 'PUT /objects/a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123');
  t.equal(filter.bytesSeen, get.length + put.length + 4, 'counts raw input bytes, not what it forwards');
  t.same(filter.currentBody, { length: 10, passed: 4 });

  const detached = filter.detach();
  t.same({ passed: detached.passed, remaining: detached.remaining }, { passed: 4, remaining: 6 });
  t.equal(filter.currentBody, undefined, 'a detached body is no longer current');
  t.throws(() => filter.detach(), /no body to detach/);
  t.equal(filter.filter(Buffer.from('45')).length, 0, 'body bytes after the detach never reach the parser');
  t.equal(filter.filter(Buffer.from('6789GET / HTTP/1.1\r\n\r\n')).length, 0, 'nor does a pipelined request');
  t.equal(Buffer.concat(detached.captured).toString(), '456789', 'the rest of the body is captured in order');
  t.same({ capturedBytes: detached.capturedBytes, remaining: detached.remaining, excess: detached.excess }, { capturedBytes: 6, remaining: 0, excess: 18 });

  filter.seal();
  t.equal(filter.filter(Buffer.from('late')).length, 0);
  t.equal(filter.leaked, 4, 'bytes after the seal are counted as leaked');
  t.equal(filter.bytesSeen, get.length + put.length + 4 + 2 + 22 + 4);
});

t.test('no body position in chunked bodies or for a head still incomplete', async (t) => {
  const chunked = new IdentityEncodingFilter();
  chunked.filter(Buffer.from('PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab'));
  t.equal(chunked.currentBody, undefined);
  t.throws(() => chunked.detach());
  const partial = new IdentityEncodingFilter();
  const start = 'PUT /x HTTP/1.1\r\nContent-Length: 5\r\n';
  partial.filter(Buffer.from(start));
  t.equal(partial.currentBody, undefined);
  t.equal(partial.bytesSeen, start.length);
});
