import t from 'tap';
import { buildRouter } from '../../src/api/routes.ts';
import type { Caller } from '../../src/server/caller.ts';

const router = buildRouter();
const host: Caller = { kind: 'host', name: '_pv_', privileged: true, pid: 1 };
const plain: Caller = { kind: 'container', name: 'app', privileged: false, pid: 2 };
const as = (caller: Caller) => () => ({ ok: true as const, caller });
const match = (method: string, path: string, caller: Caller = host) => router.match(method, decodeURIComponent(path), path, as(caller));

t.test('exact and pattern routes', async (t) => {
  t.match(match('GET', '/containers'), { kind: 'dispatch', params: [] });
  t.match(match('GET', '/steps/locals/foo'), { kind: 'dispatch', params: ['foo'] });
  t.match(match('GET', '/steps/123/progress'), { kind: 'dispatch', params: ['123'] });
  t.match(match('GET', '/steps/locals'), { kind: 'dispatch', params: ['locals'] }, '/steps/locals is /steps/{}');
  t.match(match('PUT', '/containers/x/'), { kind: 'dispatch', params: ['x'] }, 'trailing slash dropped');
  t.match(match('PUT', '//user-meta//k'), { kind: 'dispatch', params: ['k'] }, 'slash runs collapse');
  t.match(match('GET', '/containers/'), { kind: 'unknown' }, 'exact routes compare the whole path');
  t.match(match('GET', '/nope'), { kind: 'unknown' });
  t.match(match('PUT', '/user-meta/a%2Fb'), { kind: 'dispatch', params: ['a%2Fb'] }, 'pattern params stay raw');
});

t.test('gate errors', async (t) => {
  t.match(match('DELETE', '/objects'), { kind: 'error', status: 400, message: 'Method not supported for this endpoint' });
  t.match(match('GET', '/device-meta/k'), { kind: 'error', status: 400 });
  t.match(match('PUT', '/steps/5'), { kind: 'error', status: 400 });
  t.match(match('GET', '/containers', plain), { kind: 'error', status: 403, message: 'Request not sent from a mgmt platform' });
  t.match(match('PUT', '/objects/abc', plain), { kind: 'error', status: 403, message: 'Request not sent from mgmt platform' });
  t.match(match('DELETE', '/objects/abc', plain), { kind: 'error', status: 400 }, 'method errors on every candidate → 400');
  t.match(match('GET', '/objects/abc', plain), { kind: 'error', status: 403 }, 'a route that exists for the method but not the caller → 403');
  t.match(match('PUT', '/steps/locals/x', plain), { kind: 'error', status: 403 });
  t.match(match('DELETE', '/user-meta/k', plain), { kind: 'error', status: 403 });
  t.match(match('POST', '/signal', plain), { kind: 'dispatch' }, 'signal is open to every container');
  const unknownCaller = () => ({ ok: false as const });
  t.match(router.match('GET', '/containers', '/containers', unknownCaller), { kind: 'error', status: 500, message: 'Internal Error' });
  t.match(router.match('GET', '/objects/x', '/objects/x', unknownCaller), { kind: 'error', status: 500, message: 'Internal error, unknown caller' });
});
