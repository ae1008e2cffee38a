/**
 * A pv-ctrl killed with SIGKILL leaves its helper processes running (the kernel does not end a
 * child with its parent): pv-xconnect and the debug SSH server. The next pv-ctrl on the same run
 * dir must end them before it starts its own, so that one copy of each runs — not a second
 * dropbear failing to bind its port every 5 s beside the first. After its own SIGTERM, nothing of
 * either run is left: no helper process, no mount under the run dir.
 */
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { CONFIG_TEXT, exited, waitFor } from './crash-helpers.ts';
import { processFacts } from '../../src/runtime/helper-records.ts';

const SSH_PORT = 20_000 + Math.floor(Math.random() * 20_000);
const CONFIG = `${CONFIG_TEXT}PV_DEBUG_SSH=1\n`;
const ENV = { PVCTRL_SSH_PORT: String(SSH_PORT) };

/** Alive and not a zombie (a reparented helper is reaped by init, not by us). */
function running(pid: number): boolean {
  const facts = processFacts(pid);
  return facts !== undefined && !facts.zombie;
}

/** The helpers a daemon runs: pv-xconnect from GET /daemons, dropbear from its start line in the log. */
async function helperPids(daemon: TestDaemon, after = 0): Promise<{ xconnect: number; dropbear: number }> {
  return waitFor(
    'both helpers running',
    async () => {
      const listed = JSON.parse((await rawRequest(daemon.socket, 'GET', '/daemons')).body) as { name: string; pid: number }[];
      const xconnect = listed.find((item) => item.name === 'pv-xconnect')?.pid ?? 0;
      const started = [...daemon.log().matchAll(/ssh server listening on port \d+ \(pid (\d+)\)/g)].map((match) => Number(match[1]));
      const dropbear = started.filter((pid) => pid !== after).at(-1) ?? 0;
      return xconnect > 0 && dropbear > 0 && running(dropbear) ? { xconnect, dropbear } : undefined;
    },
    20_000,
  );
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((target) => target.startsWith(`${dir}/`));
}

t.test('helpers of a killed daemon are ended by the next one, and its stop leaves none', async (t) => {
  const first = await startTestDaemon({ configText: CONFIG, env: ENV });
  const dir = first.dir;
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = await helperPids(first);
  first.process.kill('SIGKILL');
  await exited(first.process, 10_000);
  // The hazard itself: both helpers outlive the killed daemon.
  t.ok(running(before.dropbear), `dropbear (pid ${before.dropbear}) outlives the killed daemon`);

  const second = await startTestDaemon({ dir, configText: CONFIG, env: ENV });
  try {
    const now = await helperPids(second, before.dropbear);
    t.notOk(running(before.dropbear), `the old dropbear (pid ${before.dropbear}) was ended`);
    t.notOk(running(before.xconnect), `the old pv-xconnect (pid ${before.xconnect}) was ended`);
    t.not(now.dropbear, before.dropbear, 'a new dropbear runs');
    t.notMatch(second.log(), /ssh server exited/, 'the new dropbear did not fail on a taken port');
    t.match(second.log(), new RegExp(`helper dropbear \\(pid ${before.dropbear}\\) survived an earlier pv-ctrl`), 'the log says what was ended');
    t.equal(await second.stop(), 0, 'second daemon stops cleanly');
    t.notOk(running(now.dropbear), 'its dropbear ended with it');
    t.notOk(running(now.xconnect), 'its pv-xconnect ended with it');
    t.same(mountsUnder(dir), [], 'no mount left under the run folder');
  } finally {
    await second.stop();
    for (const pid of [before.dropbear, before.xconnect]) if (running(pid)) process.kill(pid, 'SIGKILL');
  }
});
