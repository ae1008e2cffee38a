import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJsIngest, openNativeIngest, type ObjectIngest } from '../../src/storage/ingest.ts';

const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

// A 1 MiB tmpfs is the cheapest way to get a real ENOSPC from write(2).
const mountPoint = mkdtempSync(join(tmpdir(), 'pvctrl-enospc-'));
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { encoding: 'utf8' });
const mounted = mount.status === 0;
t.teardown(() => {
  if (mounted) spawnSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const implementations: [string, (path: string) => ObjectIngest][] = [
  ['js', openJsIngest],
  ['native', openNativeIngest],
];

for (const [name, open] of implementations) {
  t.test(`${name}: ENOSPC surfaces with code 'ENOSPC'`, { skip: !mounted && `cannot mount tmpfs: ${mount.stderr.trim()}` }, async (t) => {
    const path = join(mountPoint, `${name}.tmp`);
    const ingest = open(path);
    const chunk = Buffer.alloc(64 << 10, 0xab);
    let writeError: unknown;
    let accepted = 0;
    // 16 MiB offered to a 1 MiB filesystem: even with a few MiB buffered ahead
    // of the disk, some write() must see the failure.
    for (let i = 0; i < 256 && writeError === undefined; i++) {
      try {
        await ingest.write(chunk);
        accepted += chunk.length;
      } catch (error) {
        writeError = error;
      }
    }
    let finishError: unknown;
    try {
      await ingest.finish();
    } catch (error) {
      finishError = error;
    }
    t.comment(`accepted ${accepted} bytes before the first rejected write`);
    t.match(writeError, { code: 'ENOSPC' }, 'a write() rejects with ENOSPC');
    t.match(finishError, { code: 'ENOSPC' }, 'finish() rejects with ENOSPC too');
    t.ok(existsSync(path), 'partial file left for abort()');
    await ingest.abort();
    t.notOk(existsSync(path), 'abort() removed it');
    t.same(readdirSync(mountPoint), [], 'tmpfs empty again');
  });
}

t.test('native: an error only found after the last write() surfaces at finish()', { skip: !mounted && 'no tmpfs' }, async (t) => {
  // 1.5 MiB fits in the buffers, so every write() resolves before any byte
  // reaches the disk; the failure must still come out of finish().
  const path = join(mountPoint, 'late.tmp');
  const ingest = openNativeIngest(path);
  for (let i = 0; i < 24; i++) await ingest.write(Buffer.alloc(64 << 10));
  let finishError: unknown;
  try {
    await ingest.finish();
  } catch (error) {
    finishError = error;
  }
  t.match(finishError, { code: 'ENOSPC' });
  await ingest.abort();
  t.notOk(existsSync(path));
});

t.test('native: error carries syscall and path', { skip: !mounted && 'no tmpfs' }, async (t) => {
  const path = join(mountPoint, 'detail.tmp');
  const ingest = openNativeIngest(path);
  const error = await (async () => {
    try {
      for (let i = 0; i < 64; i++) await ingest.write(Buffer.alloc(64 << 10));
      await ingest.finish();
    } catch (caught) {
      return caught;
    }
    return undefined;
  })();
  t.match(error, {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
    path,
    message: `ingest: write failed: No space left on device '${path}'`,
  });
  await ingest.abort();
});
