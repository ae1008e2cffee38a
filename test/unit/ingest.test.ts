import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  INGEST_IMPLEMENTATION,
  openIngest,
  openJsIngest,
  openNativeIngest,
  sha256File,
  sha256FileJs,
  type ObjectIngest,
} from '../../src/storage/ingest.ts';
import { nativeSha256File } from '../../src/native/index.ts';

// Quick no-op when the addon is current; keeps this file runnable on a fresh checkout.
const build = spawnSync('bash', ['scripts/build-native.sh'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
if (build.status !== 0) throw new Error(`native build failed:\n${build.stdout}${build.stderr}`);

const dir = mkdtempSync(join(tmpdir(), 'pvctrl-ingest-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
let counter = 0;
const fresh = (): string => join(dir, `obj-${counter++}`);

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

const implementations: [string, (path: string) => ObjectIngest][] = [
  ['js', openJsIngest],
  ['native', openNativeIngest],
];

t.test('openIngest uses the implementation chosen in ingest.ts', async (t) => {
  t.ok(INGEST_IMPLEMENTATION === 'native' || INGEST_IMPLEMENTATION === 'js');
  const path = fresh();
  const ingest = openIngest(path);
  await ingest.write(Buffer.from('abc'));
  t.same(await ingest.finish(), { sha256: sha(Buffer.from('abc')), size: 3 });
});

for (const [name, open] of implementations) {
  t.test(`${name}: digest and size`, async (t) => {
    const cases: [string, Buffer, number][] = [
      ['empty', Buffer.alloc(0), 64 << 10],
      ['1 byte', Buffer.from([0x5a]), 64 << 10],
      ['odd size, odd chunks', randomBytes(1_000_003), 4099],
      ['just over a batch', randomBytes((1 << 20) + 1), 64 << 10],
      ['one chunk larger than two batches', randomBytes((5 << 20) + 7), 5 << 20],
      ['50 MiB random in 64 KiB chunks', randomBytes(50 << 20), 64 << 10],
    ];
    for (const [label, data, chunkSize] of cases) {
      const path = fresh();
      const ingest = open(path);
      for (let offset = 0; offset < data.length; offset += chunkSize) {
        await ingest.write(data.subarray(offset, Math.min(offset + chunkSize, data.length)));
      }
      const result = await ingest.finish();
      t.same(result, { sha256: sha(data), size: data.length }, label);
      const written = readFileSync(path);
      t.ok(written.equals(data), `${label}: file content`);
      rmSync(path);
    }
  });

  t.test(`${name}: many small writes keep their order, awaited or not`, async (t) => {
    const pieces: Buffer[] = [];
    for (let i = 0; i < 40_000; i++) pieces.push(Buffer.from(`${i},`.repeat(1 + (i % 7))));
    const expected = Buffer.concat(pieces);

    const awaited = open(fresh());
    for (const piece of pieces) await awaited.write(piece);
    t.equal((await awaited.finish()).sha256, sha(expected), 'awaited writes');

    // Callers are supposed to await, but one that does not must still get its
    // bytes in call order (the daemon could race a pause/resume).
    const path = fresh();
    const eager = open(path);
    const pending = pieces.map((piece) => eager.write(piece));
    await Promise.all(pending);
    t.same(await eager.finish(), { sha256: sha(expected), size: expected.length }, 'unawaited writes');
    t.ok(readFileSync(path).equals(expected), 'file content in order');
  });

  t.test(`${name}: caller may reuse its buffer once write() resolves`, async (t) => {
    const path = fresh();
    const ingest = open(path);
    const scratch = Buffer.alloc(64 << 10);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      scratch.fill(i);
      chunks.push(Buffer.from(scratch));
      await ingest.write(scratch);
    }
    const expected = Buffer.concat(chunks);
    t.equal((await ingest.finish()).sha256, sha(expected));
    t.ok(readFileSync(path).equals(expected));
  });

  t.test(`${name}: temp file is created O_EXCL with mode 0644`, async (t) => {
    const path = fresh();
    writeFileSync(path, 'someone else');
    t.throws(() => open(path), { code: 'EEXIST' }, 'existing path refused');
    t.equal(readFileSync(path, 'utf8'), 'someone else', 'existing file untouched');

    const other = fresh();
    const ingest = open(other);
    const umask = process.umask();
    t.equal(statSync(other).mode & 0o777, 0o644 & ~umask, 'mode 0644 minus umask');
    await ingest.abort();
    t.throws(() => open(join(dir, 'no-such-dir', 'x')), { code: 'ENOENT' });
  });

  t.test(`${name}: abort`, async (t) => {
    const path = fresh();
    const ingest = open(path);
    for (let i = 0; i < 20; i++) await ingest.write(randomBytes(100_000));
    await ingest.abort();
    t.notOk(existsSync(path), 'temp file removed');
    await ingest.abort();
    t.pass('second abort resolves');
    t.match(await errorOf(ingest.write(Buffer.from('x'))), { code: /^(ECANCELED|ERR_INGEST_CLOSED)$/ }, 'write after abort rejects');
    t.match(await errorOf(ingest.finish()), { code: 'ECANCELED' }, 'finish after abort rejects');

    const untouched = fresh();
    const idle = open(untouched);
    await Promise.all([idle.abort(), idle.abort()]);
    t.notOk(existsSync(untouched), 'abort right after open');

    // Abort while data is still queued: nothing may be left behind.
    const busy = fresh();
    const racing = open(busy);
    const writes = Promise.allSettled([racing.write(randomBytes(3 << 20)), racing.write(randomBytes(3 << 20))]);
    await racing.abort();
    for (const outcome of await writes) {
      if (outcome.status === 'rejected') t.match(outcome.reason, { code: 'ECANCELED' }, 'a pending write rejects with ECANCELED');
    }
    t.notOk(existsSync(busy), 'abort with writes in flight');

    // abort() racing finish(): whichever wins, the file must be gone and
    // finish() must either complete or report the abort.
    const racingFinish = fresh();
    const closing = open(racingFinish);
    await closing.write(randomBytes(1 << 20));
    const finishing = closing.finish().then(
      () => 'resolved',
      (error: unknown) => (error as { code?: string }).code,
    );
    await closing.abort();
    t.match(await finishing, /^(resolved|ECANCELED)$/, 'finish() settles');
    t.notOk(existsSync(racingFinish), 'abort during finish removes the file');

    const done = fresh();
    const finished = open(done);
    await finished.write(Buffer.from('payload'));
    await finished.finish();
    t.ok(existsSync(done));
    await finished.abort();
    t.notOk(existsSync(done), 'abort after finish removes the file (checksum mismatch path)');
  });

  t.test(`${name}: misuse is reported, not silently accepted`, async (t) => {
    const ingest = open(fresh());
    await ingest.write(Buffer.from('x'));
    await ingest.finish();
    t.match(await errorOf(ingest.write(Buffer.from('y'))), { code: 'ERR_INGEST_CLOSED' }, 'write after finish');
    t.match(await errorOf(ingest.finish()), { code: 'ERR_INGEST_CLOSED' }, 'finish twice');
    await ingest.abort();
  });
}

t.test('native: argument validation', async (t) => {
  const ingest = openNativeIngest(fresh());
  const untyped = ingest as unknown as { write: (chunk: unknown) => Promise<void> };
  t.match(await errorOf(untyped.write('text')), { name: 'TypeError', message: 'ingest.write: chunk must be a Uint8Array' });
  t.match(await errorOf(untyped.write(new Uint16Array(4))), { name: 'TypeError' });
  await ingest.abort();
});

t.test('sha256File (both implementations) matches node:crypto', async (t) => {
  const sizes = [0, 1, (1 << 20) - 1, (1 << 20) + 1, 9_999_991];
  for (const size of sizes) {
    const data = randomBytes(size);
    const path = fresh();
    writeFileSync(path, data);
    t.equal(await sha256File(path), sha(data), `sha256File ${size}`);
    t.equal(await sha256FileJs(path), sha(data), `sha256FileJs ${size}`);
    t.equal(await nativeSha256File(path), sha(data), `nativeSha256File ${size}`);
  }
  const missing = join(dir, 'missing');
  t.match(await errorOf(nativeSha256File(missing)), { code: 'ENOENT', syscall: 'open', path: missing });
  t.match(await errorOf(sha256FileJs(missing)), { code: 'ENOENT' });
});
