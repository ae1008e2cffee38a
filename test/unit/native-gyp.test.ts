import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_EXPORTS, concernExports, loadAddonFrom, missingAddonExports, nativeAddon } from '../../src/native/index.ts';

/** Every concern's exports: the gyp build must expose exactly what the facades load. */
const ALL_EXPORTS: string[] = Object.values(ADDON_EXPORTS).flat();

const root = fileURLToPath(new URL('../..', import.meta.url));
// The comparison below needs the cmake-js build too; a no-op when it is current.
const cmake = spawnSync('bash', ['scripts/build-native.sh'], { cwd: root, encoding: 'utf8' });
if (cmake.status !== 0) throw new Error(`native build failed:\n${cmake.stdout}${cmake.stderr}`);
const gypAddon = join(root, 'build', 'gyp', 'build', 'Release', 'pvctrl_native.node');
const nodeGyp = process.env.NODE_GYP ?? '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js';

t.test('one export check: the loaded addon has every export, a stale build is named precisely', async (t) => {
  t.same(missingAddonExports(nativeAddon()), [], 'the cmake-js build has every facade export');
  const stale = { kmodResolve: () => undefined, kmodPlan: 'not a function' };
  t.same(missingAddonExports(stale, ['kmod']), ['kmodPlan', 'kmodInsert', 'kmodRemove']);
  t.throws(() => concernExports('kmod', stale), {
    message: 'native addon lacks the kmod exports kmodPlan, kmodInsert, kmodRemove (stale build? rebuild with: bash scripts/build-native.sh)',
  });
  t.same(missingAddonExports(undefined, ['lxc']), [...ADDON_EXPORTS.lxc], 'not an object: everything is missing');
});

t.test('bindings.gyp builds with the node-gyp bundled with npm', { skip: !existsSync(nodeGyp) && `no node-gyp at ${nodeGyp}` }, async (t) => {
  // --force: the point is to prove bindings.gyp still builds, not that an old output exists.
  const build = spawnSync('bash', ['scripts/build-native.sh', '--gyp', '--force'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) t.comment(build.stdout, build.stderr);
  t.equal(build.status, 0, 'scripts/build-native.sh --gyp exits 0');
  t.ok(existsSync(gypAddon), `${gypAddon} exists`);
  t.ok(existsSync(join(root, 'build', 'gyp', 'binding.gyp')), 'staged binding.gyp that includes ../../bindings.gyp');

  const gyp = loadAddonFrom(gypAddon);
  const names = (addon: object): string[] => Object.keys(addon).sort();
  t.same(names(gyp), [...ALL_EXPORTS].sort(), 'gyp build exposes the facade exports');
  t.same(names(gyp), names(nativeAddon()), 'same exports as the cmake-js build');
  t.same(missingAddonExports(gyp), [], 'every export is a function');

  // Exceptions must be compiled in (NAPI_CPP_EXCEPTIONS with -fexceptions):
  // otherwise a bad argument would abort the process instead of throwing.
  t.throws(() => gyp.closeFd(-1), { name: 'TypeError', message: 'closeFd: fd must be a non-negative integer' });

  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-gyp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = Buffer.from('hello from the gyp build\n');
  writeFileSync(join(dir, 'data'), data);
  t.equal(await gyp.sha256File(join(dir, 'data')), createHash('sha256').update(data).digest('hex'), 'libcrypto linked');

  const ingest = new gyp.NativeIngest(join(dir, 'ingested'));
  await (ingest.write(data) ?? Promise.resolve());
  t.same(await ingest.finish(), { sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
});
