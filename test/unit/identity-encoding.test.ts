import t from 'tap';
import { IdentityEncodingFilter } from '../../src/server/identity-encoding.ts';

const run = (chunks: string[]): string => {
  const filter = new IdentityEncodingFilter();
  return chunks.map((chunk) => filter.filter(Buffer.from(chunk, 'latin1')).toString('latin1')).join('');
};

t.test('drops Transfer-Encoding: identity from heads only', async (t) => {
  const body = 'x\r\nTransfer-Encoding: identity\r\n\r\n';
  const request = `PUT /objects/a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: identity\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const expected = `PUT /objects/a HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  t.equal(run([request]), expected, 'whole request in one chunk; the body is untouched');
  t.equal(run([...request].map((char) => char)), expected, 'one byte at a time');
  t.equal(run([request + request]), expected + expected, 'pipelined requests');
  t.equal(run(['\r\n' + request]), '\r\n' + expected, 'leading blank line tolerated');
  const get = 'GET /containers HTTP/1.1\r\nHost: localhost\r\n\r\n';
  t.equal(run([get, request]), get + expected, 'a body-less request before an upload');
});

t.test('chunked requests and oversize heads are passed through untouched', async (t) => {
  const chunked = 'PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nPUT /y HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n';
  t.equal(run([chunked]), chunked);
  const huge = `GET / HTTP/1.1\r\nX: ${'a'.repeat(70 * 1024)}`;
  t.equal(run([huge, '\r\n\r\n']), `${huge}\r\n\r\n`);
});

t.test('ledger for the upload fast path: bytes seen, body position, detach, capture, seal', async (t) => {
  const filter = new IdentityEncodingFilter();
  const get = 'GET /containers HTTP/1.1\r\nHost: localhost\r\n\r\n';
  const put = 'PUT /objects/a HTTP/1.1\r\nTransfer-Encoding: identity\r\nContent-Length: 10\r\n\r\n';
  t.equal(filter.filter(Buffer.from(get)).toString(), get);
  t.equal(filter.currentBody, undefined, 'no body between requests');
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
