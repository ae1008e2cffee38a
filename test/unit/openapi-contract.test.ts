/**
 * The contract check itself (test/helpers/contract.ts), on made-up answers: it must catch a body
 * that breaks the schema, an undocumented status and a wrong content type, accept the refusals
 * any route may get, and list the documented statuses nothing produced.
 */
import t from 'tap';
import { checkContract } from '../helpers/contract.ts';
import type { Exchange } from '../helpers/contract-recorder.ts';

const answer = (method: string, target: string, status: number, body = '', contentType = 'application/json'): Exchange => ({
  source: 'unit',
  method,
  target,
  status,
  contentType,
  body,
  bodyBytes: Buffer.byteLength(body),
});

t.test('good answers pass and count as covered', async (t) => {
  const report = checkContract([
    answer('GET', '/daemons', 200, '[{"name":"hwrngd","pid":0,"respawn":true}]'),
    answer('PUT', '/user-meta/k', 200),
    answer('GET', '/objects/abc', 400, '{"Error":"Request has bad object name"}'),
    answer('GET', '/buildinfo', 200, 'manifest', 'text/plain'),
    answer('GET', '/containers', 500, '{"Error":"State not loaded yet"}'),
    answer('DELETE', '/objects', 400, '{"Error":"Method not supported for this endpoint"}'),
  ]);
  t.same(report.problems, []);
  t.equal(report.unrouted, 1, 'a method the path does not have is not an operation');
  t.notOk(report.uncovered.includes('GET /daemons 200'));
  t.notOk(report.uncovered.includes('GET /objects/{sha} 400'));
  t.ok(report.uncovered.includes('GET /containers 200'), 'the server-wide 500 does not cover the route\'s own statuses');
});

t.test('bad answers are reported', async (t) => {
  const report = checkContract([
    answer('GET', '/daemons', 200, '[{"name":"hwrngd","pid":"0","respawn":true}]'),
    answer('DELETE', '/user-meta/k', 409, '{"Error":"x"}'),
    answer('GET', '/objects', 200, '[]', 'text/plain'),
    answer('PUT', '/user-meta/k', 200, 'unexpected'),
    answer('GET', '/wakelocks', 200, '{"mode":'),
    answer('PUT', '/containers/x', 404, '{"error":"Container not found"}'),
  ]);
  t.equal(report.problems.length, 6, report.problems.join('\n'));
  t.match(report.problems[0], /pid must be integer/);
  t.match(report.problems[1], /status not documented/);
  t.match(report.problems[2], /content type "text\/plain"/);
  t.match(report.problems[3], /without a body/);
  t.match(report.problems[4], /not JSON/);
  t.match(report.problems[5], /must have required property 'Error'/);
});
