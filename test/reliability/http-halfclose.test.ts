/**
 * A real half-closing client: every data command of the plan sent through `nc -N -U` (Debian's
 * netcat-openbsd shuts down its write side after stdin ends, as pvcurl does), once with
 * HTTP/1.0 as pvcurl speaks it and once with HTTP/1.1.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

let daemon: TestDaemon;
t.before(async () => {
  daemon = await startTestDaemon();
});
t.teardown(() => daemon?.dispose());

const STATE = '{"#spec":"pantavisor-service-system@1"}';

/** One request through `nc -N -U`; the raw answer. */
function nc(request: string): string {
  const result = spawnSync('nc', ['-N', '-U', daemon.socket], { input: request, timeout: 10_000, encoding: 'latin1' });
  if (result.error !== undefined) throw result.error;
  return result.stdout;
}

function request(version: string, method: string, path: string, body?: string): string {
  // pvcurl's style: Host, a Content-Type on everything, a Content-Length even without a body.
  const payload = body ?? '';
  return `${method} ${path} HTTP/${version}\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`;
}

t.test('nc is netcat-openbsd with -N', async (t) => {
  const help = spawnSync('nc', ['-h'], { encoding: 'utf8' });
  t.match(`${help.stdout}${help.stderr}`, /-N\s+Shutdown the network socket after EOF/);
});

for (const version of ['1.0', '1.1']) {
  t.test(`plan data commands over a half-closing client, HTTP/${version}`, async (t) => {
    const content = `object over nc, HTTP/${version}\n`;
    const sha = createHash('sha256').update(content).digest('hex');
    const status = new RegExp(`^HTTP/${version.replace('.', '\\.')} 200 OK\\r\\n`);
    const rev = `locals/nc-${version.replace('.', '')}`;
    t.match(nc(request(version, 'PUT', `/objects/${sha}`, content)), status, 'objects put');
    t.ok(nc(request(version, 'GET', `/objects/${sha}`)).endsWith(content), 'objects get');
    t.match(nc(request(version, 'GET', '/objects')), new RegExp(sha), 'objects ls');
    t.match(nc(request(version, 'PUT', `/steps/${rev}`, STATE)), status, 'steps put');
    t.ok(nc(request(version, 'GET', `/steps/${rev}`)).endsWith(STATE), 'steps get');
    t.match(nc(request(version, 'PUT', `/steps/${rev}/commitmsg`, 'over nc')), status, 'commitmsg');
    t.match(nc(request(version, 'GET', '/steps')), /"commitmsg":"over nc"/, 'steps ls shows it');
    t.match(nc(request(version, 'GET', `/steps/${rev}/progress`)), /"status":"NEW"/, 'progress');
    t.match(nc(request(version, 'PUT', '/user-meta/nc-key', 'nc-value')), status, 'usrmeta save');
    t.match(nc(request(version, 'GET', '/user-meta')), /"nc-key":"nc-value"/, 'usrmeta ls');
    t.match(nc(request(version, 'DELETE', '/user-meta/nc-key')), status, 'usrmeta delete');
    t.match(nc(request(version, 'PUT', '/device-meta/nc-key', 'nc-value')), status, 'devmeta save');
    t.match(nc(request(version, 'GET', '/device-meta')), /"nc-key":"nc-value"/, 'devmeta ls');
    t.match(nc(request(version, 'DELETE', '/device-meta/nc-key')), status, 'devmeta delete');
    t.match(nc(request(version, 'POST', '/commands', '{"op":"RUN_GC","payload":""}')), status, 'commands');
    t.match(nc(request(version, 'GET', '/config')), status, 'conf ls');
  });
}
