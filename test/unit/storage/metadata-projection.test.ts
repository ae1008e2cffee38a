/**
 * Metadata projections in the run dir (`<kind>.<container>/<subkey>`) are written atomically but
 * not fsync'ed: the run dir does not outlive a boot, and two fsyncs per key made every restart
 * spend about 30 ms loading device-meta before the socket answered (docs/footprint.md). The
 * canonical files in the storage stay durable. Counted with strace on a real process.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUN, REPO } from '../../helpers/daemon.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-meta-projection-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** fsync-family calls made by a process that loads a device-meta folder of `keys` dotted keys, and sets one more. */
function syncsWhileLoading(keys: number): { syncs: number; runDir: string } {
  const case_ = join(dir, `keys-${keys}`);
  const meta = join(case_, 'devmeta');
  const runDir = join(case_, 'run');
  mkdirSync(meta, { recursive: true });
  mkdirSync(runDir);
  for (let index = 0; index < keys; index++) writeFileSync(join(meta, `pantavisor.key${index}`), `value ${index}`);
  const script = `
    const { MetadataStore } = await import(${JSON.stringify(join(REPO, 'src', 'storage', 'metadata.ts'))});
    const store = new MetadataStore('device-meta', ${JSON.stringify(meta)}, ${JSON.stringify(runDir)});
    store.load();
  `;
  const trace = join(case_, 'strace');
  const run = spawnSync('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=fsync,fdatasync,sync_file_range', BUN, '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`strace ${BUN} failed (${run.status}): ${run.stderr}`);
  const syncs = readFileSync(trace, 'utf8').split('\n').filter((line) => /\b(fsync|fdatasync|sync_file_range)\(/.test(line)).length;
  return { syncs, runDir };
}

t.test('loading device-meta projects every dotted key without an fsync', async (t) => {
  const none = syncsWhileLoading(0);
  const many = syncsWhileLoading(20);
  t.equal(many.syncs, none.syncs, `20 projected keys cost no fsync (${many.syncs} with 20 keys, ${none.syncs} with none)`);
  const projected = join(many.runDir, 'device-meta.pantavisor');
  t.equal(readdirSync(projected).length, 20, 'every key projected, no temp file left');
  t.equal(readFileSync(join(projected, 'key7'), 'utf8'), 'value 7');
});
