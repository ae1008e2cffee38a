/**
 * The committed protobuf code is what scripts/gen-proto.sh makes of proto/ now: a .proto change
 * without regenerating fails here (bun --compile and the Yocto recipe use the committed files).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_TYPES } from '../../src/events/index.ts';

const REPO = join(import.meta.dir, '..', '..');
const COMMITTED = join(REPO, 'src', 'events', 'generated');

t.test('generated code and definitions are fresh', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'pvctrl-proto-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const result = spawnSync('bash', [join(REPO, 'scripts', 'gen-proto.sh'), out], { encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 0, result.stderr);
  for (const file of ['events.js', 'events.d.ts']) {
    t.ok(readFileSync(join(out, file), 'utf8') === readFileSync(join(COMMITTED, file), 'utf8'), `${file} matches proto/ (run scripts/gen-proto.sh)`);
  }
});

t.test('EVENT_TYPES lists the oneof members of the .proto, in order', async (t) => {
  const proto = readFileSync(join(REPO, 'proto', 'pvctrl', 'events.proto'), 'utf8');
  const oneof = /oneof type \{([^}]*)\}/.exec(proto)?.[1] ?? '';
  const members = [...oneof.matchAll(/^\s*\w+\s+(\w+)\s*=/gm)].map((match) => match[1]);
  t.same(members, EVENT_TYPES);
});
