import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_EXPORTS, ADDON_FILES, addonConcerns, addonExports, concernExports, loadAddonFrom, missingAddonExports, type AddonName, type CoreAddon, type IngestAddon } from '../../src/native/index.ts';

/** Each addon's exports: the gyp build must expose exactly what the facades load from it. */
const exportsOf = (addon: AddonName): string[] => addonConcerns(addon).flatMap((concern) => [...ADDON_EXPORTS[concern]]);
const ADDONS: readonly AddonName[] = ['core', 'lazy'];

const root = fileURLToPath(new URL('../..', import.meta.url));
// The comparison below needs the cmake-js build too; a no-op when it is current.
const cmake = spawnSync('bash', ['scripts/build-native.sh'], { cwd: root, encoding: 'utf8' });
if (cmake.status !== 0) throw new Error(`native build failed:\n${cmake.stdout}${cmake.stderr}`);
const gypAddon = (addon: AddonName): string => join(root, 'build', 'gyp', 'build', 'Release', ADDON_FILES[addon]);
const nodeGyp = process.env.NODE_GYP ?? '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js';

t.test('one export check: the loaded addon has every export, a stale build is named precisely', async (t) => {
  for (const addon of ADDONS) t.same(missingAddonExports(addonExports(addon), addonConcerns(addon)), [], `the cmake-js ${addon} addon has every export its facades use`);
  t.same(addonConcerns('core').concat(addonConcerns('lazy')).sort(), Object.keys(ADDON_EXPORTS).sort(), 'every concern lives in one addon');
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
  for (const addon of ADDONS) t.ok(existsSync(gypAddon(addon)), `${gypAddon(addon)} exists`);
  t.ok(existsSync(join(root, 'build', 'gyp', 'binding.gyp')), 'staged binding.gyp that includes ../../bindings.gyp');

  const names = (addon: object): string[] => Object.keys(addon).sort();
  for (const addon of ADDONS) {
    const built = loadAddonFrom(gypAddon(addon));
    t.same(names(built), exportsOf(addon).sort(), `gyp ${addon} addon exposes its facades' exports`);
    t.same(names(built), names(addonExports(addon)), `same ${addon} exports as the cmake-js build`);
    t.same(missingAddonExports(built, addonConcerns(addon)), [], 'every export is a function');
  }
  const core = concernExports<'credentials', CoreAddon>('credentials', loadAddonFrom(gypAddon('core')));
  const gyp = concernExports<'ingest', IngestAddon>('ingest', loadAddonFrom(gypAddon('lazy')));

  // Exceptions must be compiled in (NAPI_CPP_EXCEPTIONS with -fexceptions), in the core with its
  // static libstdc++ too: otherwise a bad argument would abort the process instead of throwing.
  t.throws(() => core.closeFd(-1), { name: 'TypeError', message: 'closeFd: fd must be a non-negative integer' });
  t.notOk(/libstdc\+\+|libcrypto|liblxc|libkmod/.test(spawnSync('ldd', [gypAddon('core')], { encoding: 'utf8' }).stdout), 'the gyp core links none of the lazy libraries, nor libstdc++');

  const dir = mkdtempSync(join(tmpdir(), 'pvctrl-gyp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = Buffer.from('hello from the gyp build\n');
  writeFileSync(join(dir, 'data'), data);
  t.equal(await gyp.sha256File(join(dir, 'data')), createHash('sha256').update(data).digest('hex'), 'libcrypto linked');

  const ingest = new gyp.NativeIngest(join(dir, 'ingested'));
  await (ingest.write(data) ?? Promise.resolve());
  t.same(await ingest.finish(), { sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
});
