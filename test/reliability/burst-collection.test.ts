/**
 * Issue 10: the full collection after a burst (src/server/http-server.ts) must run while a
 * long-lived connection stays open. pv-xconnect's GET /events subscription always is; the
 * collection used to wait for every connection to close, so on a running device it never ran
 * and RSS stayed at its burst level. Observed through the daemon's debug line, not timing.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO, startTestDaemon } from '../helpers/daemon.ts';
import { openConnection, pollUntil } from './http-support.ts';

t.test('a burst of keep-alive requests is collected while a connection stays open', async (t) => {
  const daemon = await startTestDaemon();
  t.teardown(() => daemon.dispose());
  const held = await openConnection(daemon.socket);
  t.teardown(() => {
    held.destroy();
  });
  // 2,000 GETs over 16 keep-alive connections: only 16 accepts, so requests must count too.
  const result = spawnSync('node', [join(REPO, 'bench', 'load-client.mjs'), daemon.socket, '/buildinfo', '16', '2000'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 0, 'the load client ran');
  const collected = await pollUntil(() => /collected after a burst of \d+ connections and requests/.test(daemon.log()), 10_000);
  t.ok(collected, 'the daemon collected once quiet, with a connection still open');
  const line = daemon.log().split('\n').find((candidate) => candidate.includes('collected after a burst'));
  if (line !== undefined) t.comment(line.trim());
});
