/**
 * `npm run build:targets`: offline builds of pv-ctrl for the device targets, in dist/<target>/.
 *
 *   bun scripts/build-targets.ts [TARGET...] [--force] [--no-verify]
 *   bun scripts/build-targets.ts --prepare        only make sure the Bun runtimes are cached
 *   bun scripts/build-targets.ts --sizes          only (re)write dist/SIZES.md from dist/
 *
 * TARGET is linux-x64 (glibc, baseline x86-64), linux-arm64 (glibc) or linux-arm64-musl;
 * default all three. Each dist/<target>/ holds:
 *   pv-ctrl             the executable to run: a small native launcher (native/src/
 *                       multicall_launcher.cpp) that puts Bun's exec-time settings in the
 *                       environment and executes pvctrl-bun next to it, argv[0] kept; without
 *                       it the daemon would execute itself a second time to get them
 *                       (src/util/runtime-env.ts, docs/footprint.md "Start-up")
 *   pvctrl-bun          the one runtime-sized file: src/entry.ts `bun build --compile --bytecode`d
 *                       for the target (never stripped: a stripped Bun executable loses its
 *                       embedded program). Multicall: it runs pv-ctrl, pvcontrol or pv-xconnect by
 *                       the name it runs under, or by a first argument (src/multicall.ts)
 *   pvcontrol           symlinks to pv-ctrl: one runtime per target, not three; symlinks (not
 *   pv-xconnect         hard links) so that ls, du, cp and archives see one file of ~105 MiB
 *                       (src/xconnect/command.ts spawns the sibling `pv-xconnect`)
 *   pvctrl_native.node  the two addons, next to the executable (src/native/index.ts looks there;
 *   pvctrl_native_lazy.node  an addon embedded in the executable would be unpacked to $TMPDIR at
 *   pvctrl-lxc-start    start, which fails on read-only systems): the core, loaded before the
 *                       first answer, and the lazy one (libcrypto, liblxc, libkmod) loaded on
 *                       first use (docs/footprint.md "Start-up"); and the LXC start helper
 *   pvctrl-xconnect     pv-xconnect as a small native process, which the daemon runs instead of
 *                       the multicall `pv-xconnect` (src/xconnect/command.ts, docs/footprint.md)
 * linux-arm64-musl has no addon: Debian has no musl builds of libstdc++, OpenSSL, liblxc or
 * libkmod to link it against, and a glibc addon cannot be loaded by the musl runtime. The
 * Yocto recipe (yocto/) builds it natively for musl; dist/linux-arm64-musl/README.txt says so.
 * Nor has it a launcher (no musl C compiler either): there pv-ctrl is the runtime-sized file.
 *
 * Offline: Bun would download each target's runtime; instead the runtime packages
 * (@oven/bun-linux-*@<pinned bun version>) are installed once with `npm install --force` into a
 * cache outside node_modules ($PVCTRL_BUN_RUNTIMES, default ~/.cache/pv-ctrl/bun-runtimes/<v>;
 * scripts/setup.sh does it) and passed with --compile-executable-path. The aarch64 addon is
 * cross-compiled with Debian's g++-aarch64-linux-gnu, scripts/build-targets.aarch64-linux-gnu.cmake
 * and Debian's arm64 libraries (setup.sh installs them). Up-to-date targets are reused: a target
 * is rebuilt only when a hash of its inputs changed (or with --force).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { ADDON_FILES } from '../src/native/index.ts';
import { DAEMON_RUNTIME_ENV } from '../src/util/runtime-env.ts';

export const REPO_ROOT = join(import.meta.dir, '..');
export const DIST_DIR = join(REPO_ROOT, 'dist');
export const WORK_DIR = join(REPO_ROOT, 'build', 'targets');
export const TOOLCHAIN_AARCH64 = join(REPO_ROOT, 'scripts', 'build-targets.aarch64-linux-gnu.cmake');
const MULTICALL_ENTRY = join(REPO_ROOT, 'src', 'entry.ts');
/** The names of the one executable besides `pv-ctrl` (src/multicall.ts PROGRAMS). */
export const PROGRAM_LINKS = ['pvcontrol', 'pv-xconnect'] as const;
/** The native files shipped next to the executable: the two addons and the two helper executables. */
const NATIVE_FILES = [ADDON_FILES.core, ADDON_FILES.lazy, 'pvctrl-lxc-start', 'pvctrl-xconnect'] as const;
/** Libraries the core addon must not need: they are what the lazy one keeps out of start-up. */
const LAZY_ONLY_LIBRARIES = /^(libcrypto|liblxc|libkmod)\./;
/** What the addon's build names the launcher; it ships as `pv-ctrl`. */
const LAUNCHER_BUILT = 'pvctrl-launcher';
/** The runtime-sized file the launcher executes (native/src/multicall_launcher.cpp kRuntimeName). */
export const RUNTIME_FILE = 'pvctrl-bun';
const STAMP_FILE = '.inputs-sha256';

export type TargetName = 'linux-x64' | 'linux-arm64' | 'linux-arm64-musl';

export interface Target {
  name: TargetName;
  /** --target of `bun build --compile`. */
  bunTarget: string;
  /** npm package holding that runtime (bin/bun). */
  runtimePackage: string;
  /** How the addon is built: with the build machine's compiler, cross for aarch64, or not at all. */
  addon: 'host' | 'aarch64-linux-gnu' | 'none';
  /** ELF e_machine and program interpreter every executable of the target must have. */
  machine: number;
  interpreter: string;
}

export const TARGETS: readonly Target[] = [
  {
    name: 'linux-x64',
    bunTarget: 'bun-linux-x64-baseline',
    runtimePackage: '@oven/bun-linux-x64-baseline',
    addon: 'host',
    machine: 62,
    interpreter: '/lib64/ld-linux-x86-64.so.2',
  },
  {
    name: 'linux-arm64',
    bunTarget: 'bun-linux-arm64',
    runtimePackage: '@oven/bun-linux-aarch64',
    addon: 'aarch64-linux-gnu',
    machine: 183,
    interpreter: '/lib/ld-linux-aarch64.so.1',
  },
  {
    name: 'linux-arm64-musl',
    bunTarget: 'bun-linux-arm64-musl',
    runtimePackage: '@oven/bun-linux-aarch64-musl',
    addon: 'none',
    machine: 183,
    interpreter: '/lib/ld-musl-aarch64.so.1',
  },
];

/** The Bun version the repo pins (package.json devDependencies.bun): runtimes must match it. */
export function bunVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const version = pkg.devDependencies?.bun;
  if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) throw new Error('package.json must pin devDependencies.bun to an exact version');
  return version;
}

export function runtimeCacheDir(version = bunVersion()): string {
  const override = process.env.PVCTRL_BUN_RUNTIMES;
  if (override !== undefined && override !== '') return override;
  return join(homedir(), '.cache', 'pv-ctrl', 'bun-runtimes', version);
}

/** The target's runtime-sized file in dist/<target>/: behind the launcher where the native build has one. */
export function runtimeFileOf(target: Target): string {
  return target.addon === 'none' ? 'pv-ctrl' : RUNTIME_FILE;
}

export function runtimeBinary(target: Target, cache = runtimeCacheDir()): string {
  return join(cache, 'node_modules', ...target.runtimePackage.split('/'), 'bin', 'bun');
}

function runtimeReady(target: Target, cache: string, version: string): boolean {
  const pkgFile = join(cache, 'node_modules', ...target.runtimePackage.split('/'), 'package.json');
  if (!existsSync(pkgFile) || !existsSync(runtimeBinary(target, cache))) return false;
  return (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version?: string }).version === version;
}

function log(message: string): void {
  process.stderr.write(`build-targets: ${message}\n`);
}

function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error !== undefined) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${String(result.stdout ?? '')}${String(result.stderr ?? '')}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}\n${output}`);
  }
  return String(result.stdout ?? '');
}

/**
 * Install the target runtimes from the npm registry into the cache (the only step that needs the
 * network); a no-op when they are there. `--force`: npm refuses packages for a foreign CPU otherwise.
 */
export function prepareRuntimes(targets: readonly Target[] = TARGETS): string {
  const version = bunVersion();
  const cache = runtimeCacheDir(version);
  const missing = targets.filter((target) => !runtimeReady(target, cache, version));
  if (missing.length === 0) return cache;
  mkdirSync(cache, { recursive: true });
  // Own package.json so npm installs here and never walks up into a project.
  writeFileSync(join(cache, 'package.json'), `${JSON.stringify({ name: 'pv-ctrl-bun-runtimes', private: true }, null, 2)}\n`);
  const specs = missing.map((target) => `${target.runtimePackage}@${version}`);
  log(`installing ${specs.join(' ')} into ${cache}`);
  run('npm', ['install', '--force', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: cache });
  for (const target of missing) {
    if (!runtimeReady(target, cache, version)) throw new Error(`npm did not install ${target.runtimePackage}@${version} into ${cache}`);
  }
  return cache;
}

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => listFiles(join(path, entry)));
}

/** Everything a target's artefacts are made from; a changed hash means rebuild. */
function inputsHash(target: Target, runtime: string): string {
  const hash = createHash('sha256');
  hash.update(`${target.name}\n${bunVersion()}\n${statSync(runtime).size}\n`);
  const inputs = [
    join(REPO_ROOT, 'src'),
    join(REPO_ROOT, 'package.json'),
    join(REPO_ROOT, 'scripts', 'build-targets.ts'),
    ...(target.addon === 'none' ? [] : [join(REPO_ROOT, 'native', 'CMakeLists.txt'), join(REPO_ROOT, 'native', 'src')]),
    ...(target.addon === 'aarch64-linux-gnu' ? [TOOLCHAIN_AARCH64] : []),
  ];
  for (const file of inputs.flatMap(listFiles)) {
    hash.update(`${relative(REPO_ROOT, file)}\n`);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

function expectedArtefacts(target: Target): string[] {
  return [
    'pv-ctrl',
    ...(runtimeFileOf(target) === 'pv-ctrl' ? [] : [runtimeFileOf(target)]),
    ...PROGRAM_LINKS,
    ...(target.addon === 'none' ? ['README.txt'] : NATIVE_FILES),
  ];
}

function upToDate(target: Target, hash: string): boolean {
  const dir = join(DIST_DIR, target.name);
  const stamp = join(dir, STAMP_FILE);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== hash) return false;
  return expectedArtefacts(target).every((file) => existsSync(join(dir, file)));
}

/** node-api-headers + node-addon-api, as cmake-js would pass them (CMakeLists.txt reads CMAKE_JS_INC). */
function napiIncludes(): string {
  const headers = join(REPO_ROOT, 'node_modules', 'node-api-headers', 'include');
  const addonApi = join(REPO_ROOT, 'node_modules', 'node-addon-api');
  for (const dir of [headers, addonApi]) {
    if (!existsSync(dir)) throw new Error(`${dir} is missing (run bash scripts/setup.sh)`);
  }
  return `${headers};${addonApi}`;
}

/**
 * arm64 pkg-config files. Debian's arm64 libssl-dev and libkmod-dev bring theirs; lxc-dev is not
 * co-installable across architectures (it depends on the lxc tools), so the arm64 runtime library
 * comes from liblxc1:arm64 and the (architecture-independent) headers from the build machine's
 * lxc-dev, tied together by a generated lxc.pc.
 */
function aarch64PkgConfigDir(work: string): string {
  const multiarch = '/usr/lib/aarch64-linux-gnu';
  const needed = [
    ['aarch64-linux-gnu-g++', '/usr/bin/aarch64-linux-gnu-g++'],
    ['libssl-dev:arm64', join(multiarch, 'pkgconfig', 'libcrypto.pc')],
    ['libkmod-dev:arm64', join(multiarch, 'pkgconfig', 'libkmod.pc')],
    ['liblxc1:arm64', join(multiarch, 'liblxc.so.1')],
    ['lxc-dev', '/usr/include/lxc/lxccontainer.h'],
  ] as const;
  const absent = needed.filter(([, path]) => !existsSync(path)).map(([name]) => name);
  if (absent.length > 0) throw new Error(`missing for the aarch64 addon: ${absent.join(', ')} (run bash scripts/setup.sh)`);
  const hostVersion = run('dpkg-query', ['-W', '-f=${Version}', 'lxc-dev']).trim();
  const armVersion = run('dpkg-query', ['-W', '-f=${Version}', 'liblxc1:arm64']).trim();
  if (hostVersion !== armVersion) throw new Error(`lxc-dev ${hostVersion} (headers) and liblxc1:arm64 ${armVersion} (library) differ; upgrade both`);
  const pcDir = join(work, 'pkgconfig');
  const libDir = join(work, 'lib');
  mkdirSync(pcDir, { recursive: true });
  mkdirSync(libDir, { recursive: true });
  const link = join(libDir, 'liblxc.so');
  rmSync(link, { force: true });
  symlinkSync(join(multiarch, 'liblxc.so.1'), link);
  const upstream = hostVersion.replace(/^\d+:/, '').replace(/-.*$/, '');
  writeFileSync(
    join(pcDir, 'lxc.pc'),
    [
      '# Generated by scripts/build-targets.ts: arm64 liblxc.so.1 (liblxc1:arm64), headers from lxc-dev.',
      'prefix=/usr',
      'includedir=${prefix}/include',
      `libdir=${libDir}`,
      '',
      'Name: lxc',
      'Description: linux container tools (arm64 library)',
      `Version: ${upstream}`,
      'Libs: -L${libdir} -llxc',
      'Cflags: -I${includedir}',
      '',
    ].join('\n'),
  );
  return `${pcDir}:${join(multiarch, 'pkgconfig')}:/usr/share/pkgconfig`;
}

/** Plain CMake (no cmake-js: like the Yocto recipe), in a build dir kept for incremental rebuilds. */
function buildAddon(target: Target, work: string): string {
  const buildDir = join(work, 'native');
  const args = [
    '-S',
    join(REPO_ROOT, 'native'),
    '-B',
    buildDir,
    '-DCMAKE_BUILD_TYPE=Release',
    // No build-tree RUNPATH (it would name this machine's folders) in shipped files.
    '-DCMAKE_SKIP_RPATH=ON',
    `-DCMAKE_JS_INC=${napiIncludes()}`,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (target.addon === 'host' && !(process.arch === 'x64' && target.machine === 62)) {
    throw new Error(`${target.name}: the addon is built with this machine's compiler, which does not target it (${process.arch})`);
  }
  if (target.addon === 'aarch64-linux-gnu') {
    args.push(`-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_AARCH64}`);
    env.PKG_CONFIG_LIBDIR = aarch64PkgConfigDir(work);
    delete env.PKG_CONFIG_PATH;
    delete env.PKG_CONFIG_SYSROOT_DIR;
  }
  log(`${target.name}: configuring the addon (${target.addon})`);
  run('cmake', args, { env });
  log(`${target.name}: building the addon`);
  run('cmake', ['--build', buildDir, '--parallel', String(Math.max(1, navigator.hardwareConcurrency))], { env });
  return buildDir;
}

function compile(target: Target, runtime: string, entry: string, outfile: string): void {
  run(process.execPath, [
    'build',
    '--compile',
    // Start-up: precompiled bytecode saves parsing the bundle at every start (docs/footprint.md).
    '--bytecode',
    '--format=esm',
    // Memory: JavaScriptCore tiers up ten times more reluctantly, so run-once start-up code and
    // rarely used paths stay in the interpreter; hot request paths still compile (docs/footprint.md).
    '--compile-jit-policy=10',
    `--target=${target.bunTarget}`,
    `--compile-executable-path=${runtime}`,
    // A daemon on a device must not pick up a .env or bunfig.toml from its working directory.
    '--no-compile-autoload-dotenv',
    '--no-compile-autoload-bunfig',
    entry,
    '--outfile',
    outfile,
  ]);
}

const MUSL_README = `pv-ctrl for linux-arm64-musl: the executables only.

The daemon needs its native addons (pvctrl_native.node and pvctrl_native_lazy.node next to
pv-ctrl, or $PVCTRL_NATIVE_ADDON naming the first, the second next to it) and refuses to start
without the first. No musl addons are shipped here: they link libstdc++, OpenSSL's libcrypto,
liblxc and libkmod, and Debian (where this build runs) has musl builds of none of them; a
glibc-linked addon cannot be loaded by the musl runtime.

On musl devices build the addon with the Yocto layer in yocto/ (recipe pv-ctrl: plain
\`inherit cmake\` against the image's own musl libraries), or with any musl toolchain:
  cmake -S native -B build -DCMAKE_JS_INC="<node-api-headers>/include;<node-addon-api>" && cmake --build build
and put pvctrl_native.node, pvctrl_native_lazy.node and pvctrl-lxc-start next to pv-ctrl.

The Bun musl runtime itself needs libstdc++.so.6 and libgcc_s.so.1 on the device.
pvcontrol needs no addon.
`;

/** e_machine and PT_INTERP of an ELF file (64-bit little-endian only; that is all we build). */
export function elfInfo(path: string): { machine: number; interpreter: string | undefined; type: number } {
  const data = readFileSync(path);
  if (data.readUInt32BE(0) !== 0x7f454c46 || data[4] !== 2 || data[5] !== 1) throw new Error(`${path}: not a 64-bit little-endian ELF file`);
  const type = data.readUInt16LE(16);
  const machine = data.readUInt16LE(18);
  const phoff = Number(data.readBigUInt64LE(32));
  const phentsize = data.readUInt16LE(54);
  const phnum = data.readUInt16LE(56);
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (data.readUInt32LE(at) !== 3) continue;
    const offset = Number(data.readBigUInt64LE(at + 8));
    const size = Number(data.readBigUInt64LE(at + 32));
    interpreter = data.subarray(offset, offset + size).toString('latin1').replace(/\0+$/, '');
  }
  return { machine, interpreter, type };
}

/** The DT_NEEDED libraries of an ELF file, any machine (binutils' readelf comes with the compiler). */
export function neededLibraries(path: string): string[] {
  return [...run('readelf', ['-d', path]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1] as string);
}

/** The build machine can run this target's executables: natively or under qemu-user. */
export function runnerFor(target: Target): string[] | undefined {
  if (target.addon === 'none') return undefined; // musl: needs a musl libstdc++, which Debian lacks
  if (target.machine === 62) return process.arch === 'x64' ? [] : undefined;
  if (process.arch === 'arm64') return [];
  return existsSync('/usr/bin/qemu-aarch64-static') ? ['/usr/bin/qemu-aarch64-static'] : undefined;
}

/**
 * The command that runs program `name` (pv-ctrl, or one of PROGRAM_LINKS) of the target folder
 * `dir` on this machine, or undefined where it cannot run here. Natively that is the file itself.
 * Under qemu-user the launcher cannot hand over: the kernel runs an aarch64 file only through
 * binfmt_misc, which this machine lacks (the launcher then fails with "Exec format error"), so
 * the runtime-sized file runs directly, under the name and with the settings the launcher gives.
 */
export function programCommand(target: Target, dir: string, name: string): { command: string; args: string[]; env: Record<string, string> } | undefined {
  const runner = runnerFor(target);
  if (runner === undefined) return undefined;
  const [command, ...prefix] = runner;
  if (command === undefined) return { command: join(dir, name), args: [], env: {} };
  return { command, args: [...prefix, '-0', join(dir, name), join(dir, runtimeFileOf(target))], env: { ...DAEMON_RUNTIME_ENV } };
}

function verify(target: Target, dir: string, runtime: string): void {
  const runtimeFile = runtimeFileOf(target);
  for (const file of new Set(['pv-ctrl', runtimeFile])) {
    const info = elfInfo(join(dir, file));
    if (info.machine !== target.machine || info.interpreter !== target.interpreter) {
      throw new Error(`${target.name}/${file}: machine ${info.machine}, interpreter ${info.interpreter}; expected ${target.machine}, ${target.interpreter}`);
    }
  }
  // The program is appended to the runtime: an executable no bigger than its runtime lost it.
  const added = statSync(join(dir, runtimeFile)).size - statSync(runtime).size;
  if (added < 256 * 1024) throw new Error(`${target.name}/${runtimeFile}: only ${added} bytes beyond the runtime; no embedded program?`);
  for (const link of PROGRAM_LINKS) {
    if (readlinkSync(join(dir, link)) !== 'pv-ctrl') throw new Error(`${target.name}/${link}: not a link to pv-ctrl`);
  }
  if (target.addon !== 'none') {
    for (const file of NATIVE_FILES) {
      const info = elfInfo(join(dir, file));
      if (info.machine !== target.machine) throw new Error(`${target.name}/${file}: ELF machine ${info.machine}, expected ${target.machine}`);
    }
    const needed = neededLibraries(join(dir, ADDON_FILES.core));
    const heavy = needed.filter((library) => LAZY_ONLY_LIBRARIES.test(library));
    if (heavy.length > 0) throw new Error(`${target.name}/${ADDON_FILES.core}: the core addon needs ${heavy.join(', ')}, which belong in ${ADDON_FILES.lazy}`);
    log(`${target.name}: ${ADDON_FILES.core} needs ${needed.join(', ') || 'nothing'}`);
  }
  const runner = runnerFor(target);
  if (runner === undefined) {
    log(`${target.name}: cannot run these executables here; checked their ELF headers only`);
    return;
  }
  const runProgram = (name: string, args: string[]): string => {
    const program = programCommand(target, dir, name);
    if (program === undefined) throw new Error(`${target.name}: cannot run ${name} here`);
    return run(program.command, [...program.args, ...args], { env: { ...process.env, ...program.env } });
  };
  const version = runProgram('pv-ctrl', ['--version']).trim();
  // The links answer as their programs (the usage line names the program).
  for (const link of PROGRAM_LINKS) {
    const usage = runProgram(link, ['--help']);
    if (!usage.includes(`Usage: ${link}`)) throw new Error(`${target.name}/${link} --help does not answer as ${link}: ${usage.split('\n')[0]}`);
  }
  if (target.addon !== 'none') {
    const [xcommand, ...xprefix] = [...runner, join(dir, 'pvctrl-xconnect')];
    const usage = run(xcommand as string, [...xprefix, '--help']);
    if (!usage.includes('Usage: pv-xconnect')) throw new Error(`${target.name}/pvctrl-xconnect --help does not answer as pv-xconnect: ${usage.split('\n')[0]}`);
  }
  // The target's own runtime loads each shipped addon and checks its exports with the facade's
  // own check (src/native/index.ts), so the lists live in one place.
  const facade = JSON.stringify(join(REPO_ROOT, 'src', 'native', 'index.ts'));
  const probe = `const { addonConcerns, missingAddonExports } = await import(${facade}); const m = { exports: {} }; process.dlopen(m, process.argv[1]); console.log(JSON.stringify({ count: Object.keys(m.exports).length, missing: missingAddonExports(m.exports, addonConcerns(process.argv[2])) }))`;
  const [rcommand, ...rprefix] = [...runner, runtime];
  const counts: string[] = [];
  for (const addon of ['core', 'lazy'] as const) {
    const output = run(rcommand as string, [...rprefix, '-e', probe, join(dir, ADDON_FILES[addon]), addon]).trim();
    const { count, missing } = JSON.parse(output) as { count: number; missing: string[] };
    if (missing.length > 0) throw new Error(`${target.name}: ${ADDON_FILES[addon]} lacks ${missing.join(', ')}`);
    counts.push(`${ADDON_FILES[addon]} ${count}`);
  }
  log(`${target.name}: ${version}; the addons load (exports: ${counts.join(', ')}; all the facades need)`);
}

export interface BuildOptions {
  force?: boolean;
  verify?: boolean;
}

/** Build one target into dist/<name>/ (reused when its inputs did not change). Returns the folder. */
export function buildTarget(target: Target, options: BuildOptions = {}): string {
  const cache = prepareRuntimes([target]);
  const runtime = runtimeBinary(target, cache);
  const hash = inputsHash(target, runtime);
  const dist = join(DIST_DIR, target.name);
  if (!options.force && upToDate(target, hash)) {
    log(`${target.name}: up to date (${relative(REPO_ROOT, dist)})`);
    return dist;
  }
  const started = Date.now();
  const work = join(WORK_DIR, target.name);
  const stage = join(work, 'stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  if (target.addon !== 'none') {
    const built = buildAddon(target, work);
    for (const file of NATIVE_FILES) copyFileSync(join(built, file), join(stage, file));
    copyFileSync(join(built, LAUNCHER_BUILT), join(stage, 'pv-ctrl'));
  } else {
    writeFileSync(join(stage, 'README.txt'), MUSL_README);
  }
  // The event stream's protobuf code is generated from proto/ (committed; regenerated so a build never bundles a stale copy).
  run('bash', [join(REPO_ROOT, 'scripts', 'gen-proto.sh')]);
  log(`${target.name}: compiling the multicall executable (${target.bunTarget})`);
  compile(target, runtime, MULTICALL_ENTRY, join(stage, runtimeFileOf(target)));
  for (const link of PROGRAM_LINKS) symlinkSync('pv-ctrl', join(stage, link));
  if (options.verify !== false) verify(target, stage, runtime);
  writeFileSync(join(stage, STAMP_FILE), `${hash}\n`);

  mkdirSync(DIST_DIR, { recursive: true });
  rmSync(dist, { recursive: true, force: true });
  renameSync(stage, dist);
  log(`${target.name}: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dist;
}

export interface ArtefactSize {
  target: string;
  file: string;
  bytes: number;
  /** Set for symlinks: what they point to (they add no bytes). */
  linkTo?: string;
}

export function artefactSizes(): ArtefactSize[] {
  const sizes: ArtefactSize[] = [];
  for (const target of TARGETS) {
    const dir = join(DIST_DIR, target.name);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (file.startsWith('.')) continue;
      const path = join(dir, file);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) sizes.push({ target: target.name, file, bytes: 0, linkTo: readlinkSync(path) });
      else sizes.push({ target: target.name, file, bytes: stat.size });
    }
  }
  return sizes;
}

const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

/** Print the sizes and write dist/SIZES.md. */
export function writeSizes(): string {
  const sizes = artefactSizes();
  const lines = [
    '# pv-ctrl target artefacts',
    '',
    `Written by \`npm run build:targets\` (Bun ${bunVersion()}). Executables are not stripped: a stripped`,
    'Bun executable loses its embedded program. One file per target carries the Bun runtime',
    `(${RUNTIME_FILE}; pv-ctrl itself on linux-arm64-musl); pv-ctrl is a small launcher that executes it,`,
    'and pvcontrol and pv-xconnect are symlinks to pv-ctrl (multicall).',
    '',
    '| Target | File | Bytes | MiB |',
    '|---|---|---:|---:|',
  ];
  for (const size of sizes) {
    const what = size.linkTo !== undefined ? `${size.file} → ${size.linkTo}` : size.file;
    lines.push(`| ${size.target} | ${what} | ${size.bytes} | ${size.linkTo !== undefined ? 'symlink' : mib(size.bytes)} |`);
  }
  lines.push('', '| Target | Total bytes | MiB |', '|---|---:|---:|');
  for (const target of TARGETS) {
    const files = sizes.filter((size) => size.target === target.name);
    if (files.length === 0) continue;
    const total = files.reduce((sum, size) => sum + size.bytes, 0);
    lines.push(`| ${target.name} | ${total} | ${mib(total)} |`);
  }
  lines.push('');
  mkdirSync(DIST_DIR, { recursive: true });
  writeFileSync(join(DIST_DIR, 'SIZES.md'), lines.join('\n'));
  for (const size of sizes) {
    const shown = size.linkTo !== undefined ? `-> ${size.linkTo}` : `${size.bytes} bytes (${mib(size.bytes)} MiB)`;
    process.stdout.write(`${`${size.target}/${size.file}`.padEnd(40)} ${shown}\n`);
  }
  process.stdout.write(`sizes written to ${relative(REPO_ROOT, join(DIST_DIR, 'SIZES.md'))}\n`);
  return join(DIST_DIR, 'SIZES.md');
}

function main(argv: string[]): number {
  const flags = new Set(argv.filter((arg) => arg.startsWith('-')));
  const names = argv.filter((arg) => !arg.startsWith('-'));
  const known = new Set(['--force', '--no-verify', '--prepare', '--sizes', '--help', '-h']);
  for (const flag of flags) {
    if (!known.has(flag)) throw new Error(`unknown option ${flag}`);
  }
  if (flags.has('--help') || flags.has('-h')) {
    process.stdout.write(`${readFileSync(import.meta.path, 'utf8').split('\n').slice(1, 6).map((line) => line.replace(/^ \* ?/, '')).join('\n')}\n`);
    return 0;
  }
  if (flags.has('--prepare')) {
    prepareRuntimes();
    return 0;
  }
  if (flags.has('--sizes')) {
    writeSizes();
    return 0;
  }
  const targets = names.length === 0 ? TARGETS : names.map((name) => {
    const target = TARGETS.find((candidate) => candidate.name === name);
    if (target === undefined) throw new Error(`unknown target ${name} (known: ${TARGETS.map((t) => t.name).join(', ')})`);
    return target;
  });
  prepareRuntimes(targets);
  for (const target of targets) buildTarget(target, { force: flags.has('--force'), verify: !flags.has('--no-verify') });
  writeSizes();
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
