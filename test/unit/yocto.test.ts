/**
 * The Yocto layer (yocto/) checked without bitbake:
 * - conf/layer.conf: own collection, LAYERDEPENDS core only, dynamic layers for meta-pantavisor;
 * - every recipe's SRC_URI file:// entries exist, LIC_FILES_CHKSUM matches the files' md5, the
 *   pinned versions agree with package.json / package-lock.json and scripts/build-targets.ts;
 * - the kas YAML parses (js-yaml) and names files and layers that exist;
 * - yocto/scripts/stage-install.sh runs the pv-ctrl recipe's own compile and install commands
 *   into a staging folder: the installed files are exactly what the recipe's FILES lists, the
 *   launchers point at installed files, and the bundled daemon runs with the addon where the
 *   recipe puts it.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { bunVersion, runtimeCacheDir, TARGETS } from '../../scripts/build-targets.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const REPO = join(import.meta.dir, '..', '..');
const LAYER = join(REPO, 'yocto');
const BUN = join(REPO, 'node_modules', '.bin', 'bun');
// js-yaml comes with tap; it has no types of its own, so only load() is declared here.
const jsYaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

/** poky's meta/files/common-licenses, by name: md5 of the whole file. */
const COMMON_LICENSE_MD5: Record<string, string> = { MIT: '0835ade698e0bcf8506ecda2f7b4f302' };

interface Assignment {
  name: string;
  op: string;
  value: string;
}

/** `NAME op "value"` statements of a bitbake file, continuation lines joined; python skipped. */
function assignments(text: string): Assignment[] {
  const joined = text.replace(/\\\n/g, ' ');
  const result: Assignment[] = [];
  for (const line of joined.split('\n')) {
    const match = /^([A-Za-z0-9_\-${}:./@]+?)\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*"(.*)"\s*$/.exec(line);
    if (match !== null) result.push({ name: match[1] as string, op: match[2] as string, value: (match[3] as string).replace(/\s+/g, ' ').trim() });
  }
  return result;
}

function valueOf(list: Assignment[], name: string): string | undefined {
  let value: string | undefined;
  for (const assignment of list) {
    if (assignment.name !== name) continue;
    if (assignment.op === '+=' || assignment.op === '.=') value = `${value ?? ''} ${assignment.value}`.trim();
    else if (assignment.op === '??=' || assignment.op === '?=') value ??= assignment.value;
    else value = assignment.value;
  }
  return value;
}

function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9_\-:]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
}

const recipeFiles = walk(LAYER).filter((path) => path.endsWith('.bb') || path.endsWith('.bbappend'));

interface Recipe {
  path: string;
  pn: string;
  pv: string;
  text: string;
  vars: Assignment[];
}

const recipes: Recipe[] = recipeFiles.map((path) => {
  const [pn = '', pv = ''] = basename(path).replace(/\.bb(append)?$/, '').split('_');
  const text = readFileSync(path, 'utf8');
  return { path, pn, pv, text, vars: assignments(text) };
});
const recipe = (pn: string): Recipe => {
  const found = recipes.find((candidate) => candidate.pn === pn && candidate.path.endsWith('.bb'));
  if (found === undefined) throw new Error(`no recipe ${pn}`);
  return found;
};

/** md5 as bitbake computes it for LIC_FILES_CHKSUM (beginline/endline: those lines, newlines included). */
function licenseMd5(path: string, beginline?: number, endline?: number): string {
  const data = readFileSync(path);
  if (beginline === undefined && endline === undefined) return createHash('md5').update(data).digest('hex');
  const lines = data.toString('latin1').split(/(?<=\n)/);
  const selected = lines.slice((beginline ?? 1) - 1, endline ?? lines.length).join('');
  return createHash('md5').update(Buffer.from(selected, 'latin1')).digest('hex');
}

function parseUri(entry: string): { url: string; params: Record<string, string> } {
  const [url = '', ...rest] = entry.split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq > 0) params[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { url, params };
}

const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
/** meta-pantavisor release 028 (tag 028): the commit the kas examples pin and were checked with. */
const META_PANTAVISOR_COMMIT = '087a3c90d1deeac5a2ca07845353ddc7e0f5c6d4';

const lockedVersion = (name: string): string | undefined => lock.packages[`node_modules/${name}`]?.version;

t.test('conf/layer.conf: own collection, core only, meta-pantavisor recipes as dynamic layers', async (t) => {
  const vars = assignments(readFileSync(join(LAYER, 'conf', 'layer.conf'), 'utf8'));
  t.equal(valueOf(vars, 'BBFILE_COLLECTIONS'), 'pv-ctrl', 'its own collection');
  t.equal(valueOf(vars, 'LAYERDEPENDS_pv-ctrl'), 'core', 'depends on core only');
  t.match(valueOf(vars, 'LAYERSERIES_COMPAT_pv-ctrl') ?? '', /\bscarthgap\b/, 'for scarthgap');
  t.equal(valueOf(vars, 'BBFILE_PATTERN_pv-ctrl'), '^${LAYERDIR}/', 'BBFILE_PATTERN');
  const dynamic = (valueOf(vars, 'BBFILES_DYNAMIC') ?? '').split(' ').filter(Boolean);
  t.ok(dynamic.length > 0, 'BBFILES_DYNAMIC is set');
  for (const entry of dynamic) {
    const [collection, glob = ''] = entry.split(':${LAYERDIR}/');
    t.equal(collection, 'meta-pantavisor', `${entry} is keyed on meta-pantavisor's collection`);
    const pattern = new RegExp(`^${glob.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
    t.ok(recipeFiles.some((path) => pattern.test(relative(LAYER, path))), `${glob} matches recipes`);
  }
  // Every recipe is reached by BBFILES or BBFILES_DYNAMIC, and nothing meta-pantavisor-specific sits outside dynamic-layers.
  for (const { path, text } of recipes) {
    const rel = relative(LAYER, path);
    t.match(rel, /^(recipes-[^/]+\/[^/]+\/[^/]+|dynamic-layers\/meta-pantavisor\/recipes-[^/]+\/[^/]+\/[^/]+)$/, `${rel} is where BBFILES looks`);
    const usesMetaPantavisor =
      /^inherit\b.*\b(container-pvrexport|image-pvrexport|pvrexport|pantavisor-docker)\b/m.test(text) ||
      /^[A-Z_]+ = ".*\blxc6?-pv\b/m.test(text) ||
      /'[^']*pantavisor-appengine\.inc'/.test(text);
    if (usesMetaPantavisor) t.match(rel, /^dynamic-layers\/meta-pantavisor\//, `${rel} uses meta-pantavisor, so it is a dynamic-layer recipe`);
  }
});

/** PVCTRL_NEEDS_LAYER[collection] = "why" flags of a recipe or bbappend (an empty why withdraws). */
function neededLayers(text: string): Map<string, string> {
  const needs = new Map<string, string>();
  for (const match of text.matchAll(/^PVCTRL_NEEDS_LAYER\[([a-z0-9-]+)\]\s*=\s*"(.*)"\s*$/gm)) needs.set(match[1] as string, match[2] as string);
  return needs;
}
const NEEDS_CLASS = join(LAYER, 'classes', 'pvctrl-needs-layers.bbclass');

t.test('layers a recipe needs: LAYERDEPENDS core only, so each recipe that needs more skips itself', async (t) => {
  const vars = assignments(readFileSync(join(LAYER, 'conf', 'layer.conf'), 'utf8'));
  const recommended = (valueOf(vars, 'LAYERRECOMMENDS_pv-ctrl') ?? '').split(' ');
  t.equal(valueOf(vars, 'LAYERDEPENDS_pv-ctrl'), 'core', 'LAYERDEPENDS: core (yocto-check-layer builds world with poky alone)');
  const builtWithMetaOe = new Set(['bun', 'pv-ctrl']);
  for (const r of recipes.filter((candidate) => candidate.path.endsWith('.bb'))) {
    const rel = relative(LAYER, r.path);
    const needs = neededLayers(r.text);
    const uses = [valueOf(r.vars, 'SRC_URI'), valueOf(r.vars, 'DEPENDS'), valueOf(r.vars, 'IMAGE_INSTALL'), valueOf(r.vars, 'CORE_IMAGE_EXTRA_INSTALL')].join(' ');
    // npm:// makes base.bbclass add nodejs-native (meta-oe) to do_fetch; so does needing bun or pv-ctrl.
    const needsMetaOe = /\bnpm:\/\//.test(uses) || uses.split(' ').some((word) => builtWithMetaOe.has(word.replace(/-native$/, '')));
    if (needsMetaOe) {
      t.ok(needs.get('openembedded-layer'), `${rel}: skips without meta-oe (openembedded-layer)`);
      if (needs.get('openembedded-layer')) builtWithMetaOe.add(r.pn);
    }
    if (/^PVCTRL_LXC_DEPENDS \?\?= "lxc"$/m.test(r.text)) t.ok(needs.get('virtualization-layer'), `${rel}: links meta-virtualization's lxc by default, so skips without it`);
    if (needs.size > 0) t.match(r.text, /^inherit\b.*\bpvctrl-needs-layers\b/m, `${rel}: inherits pvctrl-needs-layers for its PVCTRL_NEEDS_LAYER flags`);
    for (const collection of needs.keys()) t.ok(recommended.includes(collection), `${rel}: ${collection} is in LAYERRECOMMENDS too`);
  }
  const bbappend = recipes.find((r) => r.path.endsWith('.bbappend') && r.pn === 'pv-ctrl');
  t.ok(bbappend !== undefined && /lxc6?-pv/.test(bbappend.text), "meta-pantavisor's bbappend switches pv-ctrl to its lxc-pv");
  t.equal(neededLayers(bbappend?.text ?? '').get('virtualization-layer'), '', 'and withdraws the need for meta-virtualization');
});

t.test('pvctrl-needs-layers.bbclass skips exactly when a needed collection is missing (fake d, real python)', async (t) => {
  const body = /^python \(\) \{\n([\s\S]*?)^\}/m.exec(readFileSync(NEEDS_CLASS, 'utf8'))?.[1];
  t.ok(body, 'the class has an anonymous python function');
  const harness = `
import json, sys, textwrap
class SkipRecipe(Exception): pass
class bb:
    class parse:
        SkipRecipe = SkipRecipe
class D:
    def __init__(self, collections, flags): self.collections, self.flags = collections, flags
    def getVar(self, name): return self.collections if name == 'BBFILE_COLLECTIONS' else None
    def getVarFlags(self, name): return self.flags if name == 'PVCTRL_NEEDS_LAYER' else None
body = textwrap.dedent(sys.stdin.read())
results = []
for collections, flags in json.loads(sys.argv[1]):
    try:
        exec(body, {'bb': bb, 'd': D(collections, flags)})
        results.append(None)
    except SkipRecipe as skip:
        results.append(str(skip))
print(json.dumps(results))
`;
  const cases: Array<[string, Record<string, string> | null, boolean]> = [
    ['core pv-ctrl', { 'openembedded-layer': 'npm:// runs nodejs-native' }, true],
    ['core openembedded-layer pv-ctrl', { 'openembedded-layer': 'npm:// runs nodejs-native' }, false],
    ['core openembedded-layer', { 'openembedded-layer': 'x', 'virtualization-layer': 'liblxc' }, true],
    ['core openembedded-layer', { 'openembedded-layer': 'x', 'virtualization-layer': '' }, false],
    ['core', null, false],
  ];
  const run = spawnSync('python3', ['-c', harness, JSON.stringify(cases.map(([collections, flags]) => [collections, flags]))], { input: body ?? '', encoding: 'utf8', timeout: 30_000 });
  t.equal(run.status, 0, `python3 ran the class body${run.stderr ? `: ${run.stderr}` : ''}`);
  const results = JSON.parse(run.stdout || '[]') as Array<string | null>;
  cases.forEach(([collections, flags, skips], index) => {
    const result = results[index];
    t.equal(result !== null && result !== undefined, skips, `collections "${collections}", needs ${JSON.stringify(flags)}: ${skips ? 'skipped' : 'kept'}`);
    if (skips) t.match(result ?? '', /needs layer [a-z-]+ \(.+\)/, 'the reason names the layer and why');
  });
});

t.test("README: what yocto-check-layer's test_readme asks (maintainer with e-mail, where patches go)", async (t) => {
  // The tool reads the shortest-named README* at the layer's top.
  const readmes = readdirSync(LAYER).filter((name) => /^readme/i.test(name)).sort();
  t.equal(readmes[0], 'README.md', 'yocto/README.md is the README the tool reads');
  const text = readFileSync(join(LAYER, readmes[0] ?? 'README.md'), 'utf8');
  // The tool's own checks are weaker (any "@" passes, and a README that mentions "README" is not
  // checked at all): check what they are for.
  const email = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/;
  const maintainerLines = text.split('\n').filter((line) => /^maintainers?:/i.test(line));
  t.ok(maintainerLines.some((line) => email.test(line)), 'a "Maintainer:" line with an e-mail address');
  t.match(text, /^#+ .*patch/im, 'a section on where patches go');
  t.match(text, /scripts\/check-yocto\.sh/, 'how to run the real-tools check');
});

t.test('recipes use ${bindir} etc., not /usr/bin', async (t) => {
  for (const { path, text } of recipes) {
    const code = text.replace(/^\s*#.*$/gm, '').replace(/^(SUMMARY|DESCRIPTION) = "(?:[^"\\]|\\.)*"/gms, '');
    t.notMatch(code, /(^|[\s="'])\/usr\/(s?bin|lib|share)\b/m, `${relative(LAYER, path)}: no hard-coded /usr paths`);
  }
  const container = recipe('pv-ctrl-container');
  t.match(container.text, /Entrypoint=\$\{bindir\}\/pv-ctrl-container-start/, 'the container entrypoint is in ${bindir}');
  const start = readFileSync(join(dirname(container.path), 'files', 'pv-ctrl-container-start.sh'), 'utf8');
  t.notMatch(start, /\/usr\/bin\//, 'the start script does not hard-code /usr/bin');
  t.match(start, /@BINDIR@\/pv-ctrl /, 'it runs pv-ctrl from @BINDIR@');
  t.match(container.text, /sed 's\|@BINDIR@\|\$\{bindir\}\|g'/, 'which the recipe replaces with ${bindir}');
});

t.test("every recipe's SRC_URI file:// entries exist", async (t) => {
  for (const { path, pn, pv, vars } of recipes) {
    const uri = expand(valueOf(vars, 'SRC_URI') ?? '', { BPN: pn, PN: pn, PV: pv });
    const dir = dirname(path);
    const filespath = [join(dir, `${pn}-${pv}`), join(dir, pn), join(dir, 'files')];
    for (const entry of uri.split(' ').filter((word) => word.startsWith('file://'))) {
      const name = parseUri(entry).url.slice('file://'.length);
      if (name.startsWith('${')) continue; // absolute paths from variables (COMMON_LICENSE_DIR...)
      const found = filespath.map((base) => join(base, name)).find((candidate) => existsSync(candidate));
      t.ok(found, `${relative(LAYER, path)}: file://${name}${found === undefined ? ' is missing' : ` is ${relative(LAYER, found)}`}`);
    }
  }
});

t.test('LIC_FILES_CHKSUM matches the license files', async (t) => {
  const pvctrl = recipe('pv-ctrl');
  const bun = recipe('bun');
  // S of each recipe, as far as it can be found here.
  const checked: Array<{ recipe: Recipe; roots: string[] }> = [{ recipe: pvctrl, roots: [REPO] }];
  const cache = runtimeCacheDir();
  const bunRoots = TARGETS.map((target) => join(cache, 'node_modules', ...target.runtimePackage.split('/'))).filter((dir) => existsSync(dir));
  if (bunRoots.length === 0) t.comment(`no Bun runtime packages in ${cache} (bash scripts/setup.sh installs them); bun's checksum not checked`);
  else checked.push({ recipe: bun, roots: bunRoots });
  for (const { recipe: r, roots } of checked) {
    for (const root of roots) {
      for (const entry of (valueOf(r.vars, 'LIC_FILES_CHKSUM') ?? '').split(' ').filter(Boolean)) {
        const { url, params } = parseUri(entry);
        const file = join(root, url.slice('file://'.length));
        // ../node-addon-api etc. are the npm:// packages next to S: node_modules here.
        const resolved = existsSync(file) ? file : join(REPO, 'node_modules', url.slice('file://../'.length));
        t.ok(existsSync(resolved), `${r.pn}: ${url} exists`);
        const md5 = licenseMd5(resolved, params.beginline === undefined ? undefined : Number(params.beginline), params.endline === undefined ? undefined : Number(params.endline));
        t.equal(md5, params.md5, `${r.pn}: ${url}${params.beginline !== undefined ? ` lines ${params.beginline}-${params.endline}` : ''} (${relative(REPO, resolved)})`);
      }
    }
  }
  for (const r of recipes.filter((candidate) => candidate.path.endsWith('.bb'))) {
    for (const entry of (valueOf(r.vars, 'LIC_FILES_CHKSUM') ?? '').split(' ').filter((word) => word.startsWith('file://${COMMON_LICENSE_DIR}/'))) {
      const { url, params } = parseUri(entry);
      const name = url.slice('file://${COMMON_LICENSE_DIR}/'.length);
      t.equal(params.md5, COMMON_LICENSE_MD5[name], `${r.pn}: poky's common license ${name}`);
    }
  }
});

t.test('pinned versions agree with the repository', async (t) => {
  const pvctrl = recipe('pv-ctrl');
  t.equal(valueOf(pvctrl.vars, 'PVCTRL_NODE_API_HEADERS_VERSION'), lockedVersion('node-api-headers'), 'node-api-headers as in package-lock.json');
  t.equal(valueOf(pvctrl.vars, 'PVCTRL_NODE_ADDON_API_VERSION'), lockedVersion('node-addon-api'), 'node-addon-api as in package-lock.json');
  const bun = recipe('bun');
  t.equal(bun.pv, bunVersion(), 'the bun recipe is the Bun version package.json pins');
  for (const target of TARGETS) {
    t.ok(bun.text.includes(`'${target.runtimePackage.replace('@oven/', '')}'`), `bun recipe knows ${target.runtimePackage} (scripts/build-targets.ts)`);
  }
  t.match(valueOf(bun.vars, 'COMPATIBLE_HOST') ?? '', /x86_64\|aarch64/, 'COMPATIBLE_HOST: x86_64 and aarch64');
  t.notMatch(valueOf(bun.vars, 'COMPATIBLE_HOST') ?? '', /arm[^6]|armv7|i.86/, 'no 32-bit host: Bun has no such build');
  t.match(valueOf(bun.vars, 'SRC_URI') ?? '', /^npm:\/\/registry\.npmjs\.org\/;package=@oven\//, 'taken from the npm registry with the npm:// fetcher');
  t.equal(valueOf(bun.vars, 'INHIBIT_PACKAGE_STRIP'), '1', 'never stripped');
});

t.test('pvcontrol can replace the shell tool', async (t) => {
  const pvctrl = recipe('pv-ctrl');
  t.match(pvctrl.text, /^inherit cmake\b/m, 'plain inherit cmake for the addon');
  t.notMatch(pvctrl.text.replace(/^\s*#.*$/gm, ''), /cmake-js/, 'no cmake-js inside bitbake');
  t.equal(valueOf(pvctrl.vars, 'RPROVIDES:${PN}-pvcontrol'), 'pvcontrol', 'RPROVIDES pvcontrol');
  t.match(valueOf(pvctrl.vars, 'RCONFLICTS:${PN}-pvcontrol') ?? '', /\bpvcontrol\b/, 'RCONFLICTS pvcontrol');
  t.match(valueOf(pvctrl.vars, 'RREPLACES:${PN}-pvcontrol') ?? '', /\bpvcontrol\b/, 'RREPLACES pvcontrol');
  const fragment = readFileSync(join(LAYER, 'kas', 'pvcontrol.yml'), 'utf8');
  t.match(fragment, /PREFERRED_RPROVIDER_pvcontrol = "pv-ctrl"/, 'the kas fragment selects the recipe that provides it');
  t.equal(valueOf(pvctrl.vars, 'SYSTEMD_SERVICE:${PN}'), 'pv-ctrl.service pv-ctrl.socket', 'a systemd service and its socket');
  t.equal(valueOf(pvctrl.vars, 'INITSCRIPT_NAME'), 'pv-ctrl', 'a sysvinit script');
});

/**
 * The service and socket units as installed, read by systemd's own parser (`systemd-analyze verify`,
 * Debian's systemd package; no running systemd needed): no unknown key, no bad value. ExecStart
 * is pointed into the staged image for the check, since /usr/bin/pv-ctrl exists only there.
 */
function checkSystemdUnits(t: Tap.Test, image: string, stage: string): void {
  const unitDir = join(image, 'lib', 'systemd', 'system');
  const service = readFileSync(join(unitDir, 'pv-ctrl.service'), 'utf8');
  const socket = readFileSync(join(unitDir, 'pv-ctrl.socket'), 'utf8');
  t.match(service, /^Type=notify$/m, 'Type=notify: READY=1 once the socket answers');
  t.match(service, /^NotifyAccess=main$/m, 'only the daemon may notify');
  t.match(service, /^WatchdogSec=\d+s?$/m, 'a watchdog');
  t.match(service, /^Restart=on-failure$/m, 'restarted after a watchdog timeout');
  t.match(socket, /^ListenStream=\/run\/pantavisor\/pv\/pv-ctrl$/m, "the socket where the daemon's default run dir puts it");
  t.match(socket, /^Accept=no$/m, 'one daemon accepts every connection');
  const verifyDir = join(stage, 'verify-units');
  mkdirSync(verifyDir, { recursive: true });
  writeFileSync(join(verifyDir, 'pv-ctrl.service'), service.replace(/^ExecStart=\/usr\/bin\//m, `ExecStart=${join(image, 'usr', 'bin')}/`));
  writeFileSync(join(verifyDir, 'pv-ctrl.socket'), socket);
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', '--generators=no', 'pv-ctrl.service', 'pv-ctrl.socket'].map((arg) => (arg.startsWith('pv-ctrl.') ? join(verifyDir, arg) : arg)), {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(verify.error, undefined, 'systemd-analyze runs (Debian package systemd, installed by scripts/setup.sh)');
  t.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}${verify.stdout}`);
  t.equal(`${verify.stderr}${verify.stdout}`.trim(), '', 'no warning about either unit');
}

interface KasInclude {
  repo?: string;
  file?: string;
}
interface KasRepo {
  url?: string;
  branch?: string;
  commit?: string;
  path?: string;
  layers?: Record<string, unknown>;
}
interface KasFile {
  header?: { version?: unknown; includes?: Array<string | KasInclude> };
  _source_dir?: unknown;
  repos?: Record<string, KasRepo | null>;
  target?: string | string[];
  local_conf_header?: Record<string, unknown>;
}
const kasFiles = walk(join(LAYER, 'kas')).filter((path) => path.endsWith('.yml') || path.endsWith('.yaml'));
const readKas = (file: string): KasFile => jsYaml.load(readFileSync(file, 'utf8')) as KasFile;
const isExample = (file: string): boolean => relative(join(LAYER, 'kas'), file).startsWith('examples/');

/** What kas sees of a top-level file here: it and every local (string) include, repos merged. */
function kasClosure(file: string, seen = new Set<string>()): { files: string[]; repos: Record<string, KasRepo>; remoteIncludes: KasInclude[] } {
  const result = { files: [file], repos: {} as Record<string, KasRepo>, remoteIncludes: [] as KasInclude[] };
  seen.add(file);
  const doc = readKas(file);
  for (const include of doc.header?.includes ?? []) {
    if (typeof include !== 'string') {
      result.remoteIncludes.push(include);
      continue;
    }
    const path = join(REPO, include);
    if (seen.has(path) || !existsSync(path)) continue;
    const inner = kasClosure(path, seen);
    result.files.push(...inner.files);
    result.remoteIncludes.push(...inner.remoteIncludes);
    for (const [name, repo] of Object.entries(inner.repos)) result.repos[name] = { ...result.repos[name], ...repo };
  }
  for (const [name, repo] of Object.entries(doc.repos ?? {})) result.repos[name] = { ...result.repos[name], ...(repo ?? {}) };
  return result;
}

t.test('kas YAML parses and names files and layers that exist', async (t) => {
  t.ok(kasFiles.length >= 4, 'fragments and examples');
  const ourRecipes = new Set(recipes.filter((r) => r.path.endsWith('.bb')).map((r) => r.pn));
  for (const file of kasFiles) {
    const rel = relative(REPO, file);
    const doc = readKas(file);
    t.ok(Number.isInteger(doc.header?.version) && (doc.header?.version as number) >= 14, `${rel}: header.version`);
    for (const include of doc.header?.includes ?? []) {
      if (typeof include === 'string') t.ok(existsSync(join(REPO, include)), `${rel}: includes ${include} (relative to the repository root)`);
    }
    for (const [name, repo] of Object.entries(doc.repos ?? {})) {
      if (repo?.url !== undefined) continue;
      for (const layer of Object.keys(repo?.layers ?? {})) {
        if (name === 'pv-ctrl') t.ok(existsSync(join(REPO, layer, 'conf', 'layer.conf')), `${rel}: layer ${name}/${layer} exists`);
      }
    }
    const includesMetaPantavisor = kasClosure(file).remoteIncludes.some((include) => include.repo === 'meta-pantavisor');
    for (const target of [doc.target ?? []].flat()) {
      // meta-pantavisor's own images (pantavisor-starter...) are built as its release files do.
      t.ok(ourRecipes.has(target) || (includesMetaPantavisor && target.startsWith('pantavisor-')), `${rel}: target ${target} is a recipe of the layer or meta-pantavisor's image`);
    }
    for (const [key, value] of Object.entries(doc.local_conf_header ?? {})) {
      t.type(value, 'string', `${rel}: local_conf_header.${key}`);
      for (const word of String(value).match(/\bpv-ctrl[a-z-]*/g) ?? []) {
        t.ok(ourRecipes.has(word) || word === 'pv-ctrl', `${rel}: ${word} is a recipe of the layer`);
      }
    }
  }
});

t.test('kas examples: the top level, fragments only, every repository pinned, any working directory', async (t) => {
  const examples = kasFiles.filter(isExample);
  t.ok(examples.length >= 2, 'the appengine and a board');
  for (const file of kasFiles) {
    // kas >= 5.3 allows `_source_dir` only in the top-level file, and only kas itself writes it;
    // kas 5.2 took an included one as the root of the url-less repositories: "." = the caller's
    // working directory.
    t.equal(readKas(file)._source_dir, undefined, `${relative(REPO, file)}: no _source_dir`);
  }
  for (const example of examples) {
    const rel = relative(REPO, example);
    const { files, repos, remoteIncludes } = kasClosure(example);
    t.ok(files.length > 1, `${rel}: includes this repository's fragments`);
    t.ok(remoteIncludes.length > 0, `${rel}: includes meta-pantavisor's fragments`);
    for (const include of remoteIncludes) {
      const label = `${rel}: ${include.repo}:${include.file}`;
      t.ok(repos[include.repo ?? '']?.url, `${label}: the repository is defined with a url`);
      // meta-pantavisor's build-configs are complete top-level files (with _source_dir).
      t.notMatch(include.file ?? '', /(^|\/)build-configs\//, `${label}: a fragment, not a top-level configuration`);
    }
    for (const [name, repo] of Object.entries(repos)) {
      if (repo.url === undefined && repo.commit === undefined) {
        // This repository: kas takes the git root of the top-level file, wherever kas runs.
        t.equal(repo.path, undefined, `${rel}: ${name} (no url) has no path, so it is the repository of the file`);
        continue;
      }
      t.match(repo.commit ?? '', /^[0-9a-f]{40}$/, `${rel}: ${name} is pinned to a commit`);
      if (repo.path !== undefined) t.notMatch(repo.path, /^(\.|\/)/, `${rel}: ${name}'s path is under kas' work directory`);
    }
    t.equal(repos['meta-pantavisor']?.commit, META_PANTAVISOR_COMMIT, `${rel}: meta-pantavisor at the commit of its release 028`);
    t.ok(repos['meta-pantavisor']?.branch, `${rel}: meta-pantavisor's branch is named too (kas checks it holds the commit)`);
  }
});

t.test('shell files parse', async (t) => {
  const shellFiles = walk(LAYER).filter((path) => /\.(sh|init|wrapper)$/.test(path));
  for (const file of shellFiles) {
    const shell = readFileSync(file, 'utf8').startsWith('#!/usr/bin/env bash') ? 'bash' : 'sh';
    const result = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    t.equal(result.status, 0, `${shell} -n ${relative(LAYER, file)}${result.stderr ? `: ${result.stderr}` : ''}`);
  }
});

t.test('the recipe installs exactly what its packages list, and it runs', async (t) => {
  mkdirSync(join(REPO, 'build'), { recursive: true });
  const stage = mkdtempSync(join(REPO, 'build', 'yocto-stage-'));
  t.teardown(() => rmSync(stage, { recursive: true, force: true }));
  const staged = spawnSync('bash', [join(LAYER, 'scripts', 'stage-install.sh'), stage], { encoding: 'utf8', timeout: 5 * 60 * 1000 });
  t.equal(staged.status, 0, 'stage-install.sh ran the recipe');
  if (staged.status !== 0) {
    t.comment(staged.stderr.split('\n').slice(-40).join('\n'));
    return;
  }
  const installed = staged.stdout.split('\n').filter(Boolean);
  const image = join(stage, 'image');

  const pvctrl = recipe('pv-ctrl');
  const paths: Record<string, string> = {
    PN: 'pv-ctrl',
    bindir: '/usr/bin',
    libdir: '/usr/lib',
    datadir: '/usr/share',
    sysconfdir: '/etc',
    systemd_system_unitdir: '/lib/systemd/system',
  };
  const packages = expand(valueOf(pvctrl.vars, 'PACKAGES') ?? '', paths).split(' ').filter(Boolean);
  const files = new Map<string, string[]>();
  for (const pkg of ['pv-ctrl', ...packages]) {
    const list = valueOf(pvctrl.vars, `FILES:${pkg === 'pv-ctrl' ? '${PN}' : pkg.replace('pv-ctrl', '${PN}')}`);
    files.set(pkg, expand(list ?? '', paths).split(' ').filter(Boolean));
  }
  const owners = (file: string): string[] =>
    [...files.entries()].filter(([, entries]) => entries.some((entry) => file === entry || file.startsWith(`${entry}/`))).map(([pkg]) => pkg);
  for (const file of installed) {
    t.same(owners(file), [owners(file)[0] ?? '(none)'], `${file} belongs to exactly one package (${owners(file).join(', ') || 'none'})`);
  }
  for (const [pkg, entries] of files) {
    for (const entry of entries) {
      t.ok(installed.some((file) => file === entry || file.startsWith(`${entry}/`)), `${pkg}: ${entry} is installed`);
    }
  }

  // Launchers, unit and init script point at what is installed, with the target's paths.
  for (const launcher of ['/usr/bin/pv-ctrl', '/usr/bin/pvcontrol', '/etc/init.d/pv-ctrl', '/lib/systemd/system/pv-ctrl.service']) {
    const text = readFileSync(join(image, launcher), 'utf8');
    t.notMatch(text, /@[A-Z]+@/, `${launcher}: placeholders replaced`);
    for (const path of text.match(/\/usr\/lib\/pv-ctrl\/[\w.-]+|\/usr\/bin\/pv[\w-]+/g) ?? []) {
      t.ok(installed.includes(path), `${launcher} refers to ${path}, which is installed`);
    }
  }
  t.match(readFileSync(join(image, 'usr/bin/pv-ctrl'), 'utf8'), /exec \/usr\/bin\/bun \/usr\/lib\/pv-ctrl\/pv-ctrl\.js "\$@"/, 'pv-ctrl runs on the bun package');
  t.ok((statSync(join(image, 'usr/lib/pv-ctrl/pvctrl-lxc-start')).mode & 0o111) !== 0, 'the LXC start helper is executable');
  for (const addon of ['pvctrl_native.node', 'pvctrl_native_lazy.node']) {
    t.ok(installed.includes(`/usr/lib/pv-ctrl/${addon}`), `${addon} is installed`);
    t.ok(files.get('pv-ctrl')?.includes(`/usr/lib/pv-ctrl/${addon}`), `${addon} is in the pv-ctrl package`);
  }
  checkSystemdUnits(t, image, stage);

  // The bundles work where the recipe puts them: the launcher's environment, with bun standing in for the target's.
  const lib = join(image, 'usr', 'lib', 'pv-ctrl');
  const device = join(stage, 'device');
  mkdirSync(device);
  const env: NodeJS.ProcessEnv = { ...process.env, PVCTRL_NATIVE_ADDON: join(lib, 'pvctrl_native.node') };
  // One program bundle (issue 10): pv-xconnect and pvcontrol are pv-ctrl.js with a first argument.
  const xconnect = join(device, 'pv-xconnect');
  writeFileSync(xconnect, `#!/bin/sh\nexec ${BUN} ${join(lib, 'pv-ctrl.js')} pv-xconnect "$@"\n`);
  chmodSync(xconnect, 0o755);
  env.PV_XCONNECT_BIN = xconnect;
  const logFile = join(device, 'log');
  const fd = openSync(logFile, 'a');
  const socket = join(device, 'run', 'pv-ctrl');
  const daemon = spawn(BUN, [join(lib, 'pv-ctrl.js'), '--storage', join(device, 'storage'), '--rundir', join(device, 'run')], { stdio: ['ignore', fd, fd], env, cwd: device });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const deadline = Date.now() + 20_000;
  while (!log().includes('listening on') && daemon.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  t.ok(log().includes('listening on'), 'the bundled daemon starts with the installed addon');
  if (log().includes('listening on')) {
    const buildinfo = await rawRequest(socket, 'GET', '/buildinfo');
    t.equal(buildinfo.status, 200, 'GET /buildinfo');
    const ls = spawnSync(BUN, [join(lib, 'pv-ctrl.js'), 'pvcontrol', '-s', socket, 'steps', 'ls'], { encoding: 'utf8', timeout: 30_000 });
    t.equal(ls.status, 0, 'the bundled pvcontrol talks to it');
    // The lazy addon is found next to the core one the launcher names, on first use (an upload).
    const mapped = (): string => readFileSync(`/proc/${daemon.pid}/maps`, 'utf8');
    t.ok(mapped().includes(join(lib, 'pvctrl_native.node')), 'the installed core addon is loaded');
    t.notOk(mapped().includes('pvctrl_native_lazy.node'), 'the lazy addon is not loaded yet');
    const body = Buffer.from('an object for the lazy addon\n');
    const put = await rawRequest(socket, 'PUT', `/objects/${createHash('sha256').update(body).digest('hex')}`, { body });
    t.equal(put.status, 200, 'PUT /objects');
    t.ok(mapped().includes(join(lib, 'pvctrl_native_lazy.node')), 'the installed lazy addon is loaded, from next to the core');
  } else {
    t.comment(log());
  }
  daemon.kill('SIGTERM');
  const timer = setTimeout(() => daemon.kill('SIGKILL'), 15_000);
  t.equal(await exited, 0, 'stops cleanly');
  clearTimeout(timer);
});

t.test('the pv-ctrl launcher gives the runtime settings and leaves pv-xconnect to the daemon when the native one is installed', async (t) => {
  const { DAEMON_RUNTIME_ENV } = await import('../../src/util/runtime-env.ts');
  const root = mkdtempSync(join(REPO, '.tmp-launcher-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const bindir = join(root, 'bin');
  const libdir = join(root, 'lib');
  mkdirSync(bindir);
  mkdirSync(join(libdir, 'pv-ctrl'), { recursive: true });
  const launcher = join(bindir, 'pv-ctrl');
  const wrapper = readFileSync(join(LAYER, 'recipes-pv', 'pv-ctrl', 'files', 'pv-ctrl.wrapper'), 'utf8');
  writeFileSync(launcher, wrapper.replaceAll('@BINDIR@', bindir).replaceAll('@LIBDIR@', libdir));
  // Stand-ins: a "bun" that prints the environment it was given, and the two pv-xconnects.
  writeFileSync(join(bindir, 'bun'), '#!/bin/sh\nenv\n');
  writeFileSync(join(bindir, 'pv-xconnect'), '#!/bin/sh\n');
  const native = join(libdir, 'pv-ctrl', 'pvctrl-xconnect');
  writeFileSync(native, '#!/bin/sh\n');
  for (const file of [launcher, join(bindir, 'bun'), join(bindir, 'pv-xconnect'), native]) chmodSync(file, 0o755);
  const environment = (): Map<string, string> => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    const run = spawnSync(launcher, [], { encoding: 'utf8', env });
    return new Map(run.stdout.split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  };
  const withNative = environment();
  for (const [name, value] of Object.entries(DAEMON_RUNTIME_ENV)) t.equal(withNative.get(name), value, `${name}: the daemon need not execute itself again`);
  t.notOk(withNative.has('PV_XCONNECT_BIN'), 'native pv-xconnect installed: the daemon picks it');
  rmSync(native);
  t.equal(environment().get('PV_XCONNECT_BIN'), join(bindir, 'pv-xconnect'), 'without it: the launcher of the bundle');
});
