/**
 * Issue 10, idle RSS: once the daemon is quiet after start-up, and after the collections that
 * follow a burst, the clean pages of its own image (runtime code, program, libraries) go back
 * to the kernel (native/src/image_page_out.cpp, MADV_PAGEOUT on a thread of its own). Observed
 * through the addon's own figures (RssFile before and after) and the daemon's debug line, and
 * the daemon keeps serving. Not a timing test.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pageOutImage } from '../../src/native/memory.ts';
import { REPO, startTestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { openConnection, pollUntil } from '../reliability/http-support.ts';

/** MADV_PAGEOUT came with Linux 5.4. */
function kernelHasPageOut(): boolean {
  const [major = 0, minor = 0] = readFileSync('/proc/sys/kernel/osrelease', 'utf8').split('.').map((part) => Number.parseInt(part, 10));
  return major > 5 || (major === 5 && minor >= 4);
}
const skip = !kernelHasPageOut() && 'the kernel has no MADV_PAGEOUT (Linux < 5.4)';

const PAGED_OUT = /paged out the image's clean pages \((\d+) mappings\): resident file pages ([\d.]+) -> ([\d.]+) MiB/g;

t.test('the addon pages out this process\'s read-only file mappings', { skip }, async (t) => {
  const done = await pageOutImage();
  t.equal(done.supported, true, 'MADV_PAGEOUT is supported here');
  t.ok(done.ranges > 0, `advised ${done.ranges} mappings (${(done.mappedBytes / 1048576).toFixed(0)} MiB mapped)`);
  t.ok(done.residentFileBefore > 0 && done.residentFileAfter < done.residentFileBefore, `resident file pages went down: ${done.residentFileBefore} -> ${done.residentFileAfter} bytes`);
  t.equal(typeof (await pageOutImage()).ranges, 'number', 'and it can run again');
});

t.test('the daemon pages its image out once quiet after start-up, and again after a burst', { skip }, async (t) => {
  const daemon = await startTestDaemon();
  t.teardown(() => daemon.dispose());
  const pageOuts = (): RegExpMatchArray[] => [...daemon.log().matchAll(PAGED_OUT)];
  t.ok(await pollUntil(() => pageOuts().length >= 1, 30_000), 'after start-up: paged out');
  const first = pageOuts()[0];
  if (first !== undefined) {
    t.ok(Number(first[3]) < Number(first[2]), `resident file pages went down: ${first[2]} -> ${first[3]} MiB`);
  }
  t.match(daemon.log(), /collected after start-up/, 'following the collections after start-up');
  const buildinfo = await rawRequest(daemon.socket, 'GET', '/buildinfo');
  t.equal(buildinfo.status, 200, 'and it serves on (what a request needs comes back from the file)');

  // Like pv-xconnect's subscription, a connection stays open throughout.
  const held = await openConnection(daemon.socket);
  t.teardown(() => {
    held.destroy();
  });
  const result = spawnSync('node', [join(REPO, 'bench', 'load-client.mjs'), daemon.socket, '/buildinfo', '16', '2000'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 0, 'a burst of 2,000 GETs ran');
  t.ok(await pollUntil(() => pageOuts().length >= 2, 30_000), 'after the burst: paged out again');
  t.match(daemon.log(), /second collection after a burst of \d+ connections and requests/, 'following the collections after the burst');
  t.equal((await rawRequest(daemon.socket, 'GET', '/buildinfo')).status, 200, 'and it serves on');
});

t.test('PV_PAGE_OUT=0: the collections run, the image stays resident', { skip }, async (t) => {
  const daemon = await startTestDaemon({ env: { PV_PAGE_OUT: '0' } });
  t.teardown(() => daemon.dispose());
  // With it on, the page-out follows the second collection once the quiet has lasted 5 s
  // (src/server/http-server.ts AFTER_QUIET_HOOK_MS), on a thread of its own (tens of ms).
  t.ok(await pollUntil(() => /second collection after start-up/.test(daemon.log()), 30_000), 'the collections after start-up ran');
  await new Promise((resolve) => setTimeout(resolve, 7000));
  t.notMatch(daemon.log(), PAGED_OUT, 'and no page-out followed');
  t.equal((await rawRequest(daemon.socket, 'GET', '/buildinfo')).status, 200, 'it serves');
});

t.test('after a burst, work that goes on now and then holds the page-out off until it has been quiet a while', { skip }, async (t) => {
  const daemon = await startTestDaemon();
  t.teardown(() => daemon.dispose());
  const pageOuts = (): number => [...daemon.log().matchAll(PAGED_OUT)].length;
  t.ok(await pollUntil(() => pageOuts() >= 1, 30_000), 'after start-up: paged out');
  const result = spawnSync('node', [join(REPO, 'bench', 'load-client.mjs'), daemon.socket, '/buildinfo', '16', '2000'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 0, 'a burst of 2,000 GETs ran');
  // A client that comes back every 3 s (below a burst): its next request must not find the
  // code it needs just handed back. The collections after the burst (2 s of quiet) still run.
  for (let round = 0; round < 4; round++) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    t.equal((await rawRequest(daemon.socket, 'GET', '/buildinfo')).status, 200);
  }
  t.match(daemon.log(), /second collection after a burst/, 'the collections after the burst ran');
  t.equal(pageOuts(), 1, 'no page-out while requests kept coming');
  t.ok(await pollUntil(() => pageOuts() >= 2, 30_000), 'once quiet for a while: paged out');
});
