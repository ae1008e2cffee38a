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
