/**
 * Builds the two example containers of the test plan (pv-example-unix-server and
 * pv-example-unix-client) into pvrexport tarballs for pvtx.d.
 *
 *   bun scripts/build-examples.ts [--out DIR] [--keep-work]
 *
 * Default output: examples/pvtx.d/ (the tarballs there are committed, so the demo works
 * without a toolchain). Building to the default directory also records the toolchain in
 * examples/toolchain.txt: the output is byte-for-byte reproducible only with the same
 * busybox, compiler, libc and squashfs/tar/gzip versions, and the test uses that record
 * to tell "the build changed" from "this host has other tools".
 *
 * Every source of variation is pinned: timestamps are 0, owners are root, file modes
 * are set explicitly (not left to the umask), the binary is stripped and built from a
 * relative path, tar members are listed in a fixed order, gzip gets -n.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

export const REPO_ROOT = join(import.meta.dir, '..');
export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');
export const DEFAULT_OUT_DIR = join(EXAMPLES_DIR, 'pvtx.d');
export const TOOLCHAIN_FILE = join(EXAMPLES_DIR, 'toolchain.txt');
const SOURCE_DIR = join(EXAMPLES_DIR, 'src');
const BUSYBOX = '/bin/busybox';

/** Service exported by the server (services.json, spec §6.4). */
export interface ServiceExport {
  name: string;
  type: string;
  socket: string;
}

/** Service requirement of a consumer (run.json `services.required`, spec §6.3). */
export interface ServiceRequirement {
  name: string;
  type: string;
  target: string;
}

export interface ExampleSpec {
  name: string;
  /** Shell script in examples/src that becomes the container's init. */
  initSource: string;
  /** Where the init lives inside the root filesystem (absolute, used by lxc.init.cmd). */
  initPath: string;
  statusGoal: 'STARTED' | 'READY';
  roles: string[];
  /** Opt-in liveness deadline (run.json "alive": {"timeout": seconds}); the init sends `alive` well within it. */
  aliveTimeout?: number;
  exports?: ServiceExport[];
  requires?: ServiceRequirement[];
  /** Directories created in the image so they exist even before anything writes there. */
  extraDirs: string[];
}

/*
 * Role decision (explained in examples/README.md): the server only ever calls
 * POST /signal, which pv-ctrl serves to non-mgmt containers, so it runs without
 * privileges and exercises that path. The client is the mgmt one, so the pair covers
 * both listings ("roles":[] and "roles":["mgmt"]) and the full /pantavisor view.
 */
export const EXAMPLES: ExampleSpec[] = [
  {
    name: 'pv-example-unix-server',
    initSource: 'pv-example-server.sh',
    initPath: '/usr/bin/pv-example-server',
    statusGoal: 'READY',
    roles: [],
    aliveTimeout: 60,
    exports: [{ name: 'raw', type: 'unix', socket: '/run/example/raw.sock' }],
    extraDirs: ['run/example'],
  },
  {
    name: 'pv-example-unix-client',
    initSource: 'pv-example-client.sh',
    initPath: '/usr/bin/pv-example-client',
    // READY once its loop runs, so every running example shows READY (the test plan expects it).
    statusGoal: 'READY',
    roles: ['mgmt'],
    requires: [{ name: 'raw', type: 'unix', target: '/run/pv/services/raw.sock' }],
    // pv-xconnect puts the consumer end here; having the directory in the image means
    // it works whether the link is made by creating a socket or by bind-mounting one.
    extraDirs: ['run/pv/services'],
  },
];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface BuiltExample {
  name: string;
  tarball: string;
  size: number;
  sha256: string;
  state: Record<string, JsonValue>;
  objects: Record<string, string>;
}

export interface BuildOptions {
  outDir?: string;
  /** Keep the scratch directory (rootfs trees, staging) for inspection. */
  keepWork?: boolean;
  log?: (line: string) => void;
}

function run(cmd: string, args: string[], cwd?: string): Buffer {
  const res = spawnSync(cmd, args, { cwd, maxBuffer: 256 * 1024 * 1024 });
  if (res.error) throw new Error(`${cmd}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr.toString().trim()}`);
  }
  return res.stdout;
}

/** Output of a version query, or a marker when the tool is absent (the record is informative). */
function probe(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args);
  if (res.error || res.status !== 0) return 'unavailable';
  const text = `${res.stdout.toString()}${res.stderr.toString()}`.trim();
  return text.split('\n')[0] ?? 'unavailable';
}

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** "1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)" from busybox's banner line. */
export function busyboxVersion(): string {
  const banner = run(BUSYBOX, []).toString().split('\n')[0] ?? '';
  const match = /^BusyBox v(\S+(?: \([^)]*\))?)/.exec(banner);
  if (!match?.[1]) throw new Error(`cannot read the busybox version from: ${banner}`);
  return match[1];
}

/** Everything whose version changes the bytes of the output. */
export function toolchainFingerprint(): string {
  const libc = run('gcc', ['-print-file-name=libc.a']).toString().trim();
  const dpkg = (pkg: string): string => probe('dpkg-query', ['-W', '-f', '${Version}', pkg]);
  const lines = [
    `busybox: ${busyboxVersion()} sha256=${sha256(readFileSync(BUSYBOX))}`,
    `gcc: ${probe('gcc', ['--version'])}`,
    `libc.a: sha256=${existsSync(libc) ? sha256(readFileSync(libc)) : 'unavailable'}`,
    `binutils: ${probe('ld', ['--version'])}`,
    `mksquashfs: ${probe('mksquashfs', ['-version'])}`,
    `liblzma5: ${dpkg('liblzma5')}`,
    `tar: ${probe('tar', ['--version'])}`,
    `gzip: ${probe('gzip', ['--version'])}`,
    `zlib1g: ${dpkg('zlib1g')}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Stable JSON: keys sorted at the top level (pvtx keeps states sorted by key). */
function stateText(state: Record<string, JsonValue>): string {
  const sorted: Record<string, JsonValue> = {};
  for (const key of Object.keys(state).sort()) sorted[key] = state[key] as JsonValue;
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

export function lxcConfig(spec: ExampleSpec): string {
  // Only what is specific to this container: the runtime supplies rootfs, cgroup,
  // console logging, network and the /pantavisor bind mounts.
  return [
    `lxc.uts.name = ${spec.name}`,
    `lxc.init.cmd = ${spec.initPath}`,
    'lxc.environment = PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'lxc.environment = HOME=/root',
    '',
  ].join('\n');
}

export function runJson(spec: ExampleSpec): Record<string, JsonValue> {
  const doc: Record<string, JsonValue> = {
    '#spec': 'service-manifest-run@1',
    name: spec.name,
    type: 'lxc',
    config: 'lxc.container.conf',
    'root-volume': 'root.squashfs',
    volumes: [],
    storage: { 'lxc-overlay': { persistence: 'boot' } },
    group: 'app',
    restart_policy: 'container',
    status_goal: spec.statusGoal,
    // Always explicit: an absent "roles" means mgmt (spec §4.2).
    roles: spec.roles,
  };
  if (spec.requires) doc.services = { required: spec.requires.map((r) => ({ ...r })) };
  if (spec.aliveTimeout !== undefined) doc.alive = { timeout: spec.aliveTimeout };
  return doc;
}

export function srcJson(spec: ExampleSpec, busybox: string): Record<string, JsonValue> {
  return {
    '#spec': 'service-manifest-src@1',
    template: 'builtin-busybox',
    name: spec.name,
    busybox,
    program: 'pv-example',
    init: spec.initPath,
    source: 'examples/src',
  };
}

function compileProgram(work: string): string {
  const out = join(work, 'pv-example');
  // Relative source path and a stripped binary: nothing about the build directory
  // ends up in the output.
  run(
    'gcc',
    ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror', '-o', out, relative(REPO_ROOT, join(SOURCE_DIR, 'pv-example.c'))],
    REPO_ROOT,
  );
  return out;
}

function writeFile(path: string, content: string | Buffer, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

function buildRootfs(spec: ExampleSpec, root: string, program: string): void {
  const dirs = ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'dev', 'proc', 'sys', 'run', 'var', 'var/log', 'root', ...spec.extraDirs];
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  for (const dir of dirs) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), 0o755);
  }
  // Parents of extraDirs were created by mkdir -p with the umask's mode.
  for (const dir of spec.extraDirs) {
    for (let d = dir; d !== '.' && d !== ''; d = dirname(d)) chmodSync(join(root, d), 0o755);
  }
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);

  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = run(BUSYBOX, ['--list-full'])
    .toString()
    .split('\n')
    .map((line) => line.trim())
    // linuxrc is only meaningful for an initrd; the containers boot through lxc.init.cmd.
    .filter((line) => line !== '' && line !== 'linuxrc' && line !== 'bin/busybox');
  for (const applet of applets) {
    const link = join(root, applet);
    if (!existsSync(dirname(link))) throw new Error(`busybox applet outside the known directories: ${applet}`);
    symlinkSync('/bin/busybox', link);
  }

  writeFile(join(root, 'usr/bin/pv-example'), readFileSync(program), 0o755);
  writeFile(join(root, spec.initPath.slice(1)), readFileSync(join(SOURCE_DIR, spec.initSource)), 0o755);
  writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n', 0o644);
  writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n', 0o644);
  writeFile(join(root, 'etc/hostname'), `${spec.name}\n`, 0o644);
}

function makeSquashfs(root: string, out: string): void {
  run('mksquashfs', [
    root,
    out,
    '-noappend',
    '-all-root',
    '-mkfs-time',
    '0',
    '-all-time',
    '0',
    '-no-xattrs',
    // xz is what Pantavisor's own image classes use and every squashfs-enabled kernel
    // we target has it.
    '-comp',
    'xz',
    '-no-progress',
    '-quiet',
  ]);
}

function makeTarball(stage: string, members: string[], out: string): void {
  const tarPath = join(stage, '..', 'export.tar');
  for (const member of members) chmodSync(join(stage, member), 0o644);
  // ustar keeps the archive readable by the simplest parsers; member names are at most
  // 72 bytes (objects/<64 hex>), well inside its 100-byte limit.
  run('tar', [
    '--format=ustar',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '--no-recursion',
    '-C',
    stage,
    '-cf',
    tarPath,
    ...members,
  ]);
  const gz = run('gzip', ['-n', '-9', '-c', tarPath]);
  const tmp = `${out}.tmp`;
  writeFileSync(tmp, gz);
  chmodSync(tmp, 0o644);
  renameSync(tmp, out);
  rmSync(tarPath);
}

function buildOne(spec: ExampleSpec, work: string, program: string, busybox: string, outDir: string): BuiltExample {
  const base = join(work, spec.name);
  const root = join(base, 'rootfs');
  const stage = join(base, 'stage');
  buildRootfs(spec, root, program);
  const squashfs = join(base, 'root.squashfs');
  makeSquashfs(root, squashfs);

  const objects: Record<string, string> = {};
  mkdirSync(join(stage, 'objects'), { recursive: true });
  const addObject = (content: Buffer): string => {
    const digest = sha256(content);
    writeFileSync(join(stage, 'objects', digest), content);
    objects[digest] = `objects/${digest}`;
    return digest;
  };
  const configSha = addObject(Buffer.from(lxcConfig(spec)));
  const rootSha = addObject(readFileSync(squashfs));

  const state: Record<string, JsonValue> = {
    [`${spec.name}/lxc.container.conf`]: configSha,
    [`${spec.name}/root.squashfs`]: rootSha,
    [`${spec.name}/run.json`]: runJson(spec),
    [`${spec.name}/src.json`]: srcJson(spec, busybox),
  };
  if (spec.exports) {
    state[`${spec.name}/services.json`] = {
      '#spec': 'service-manifest-xconnect@1',
      services: spec.exports.map((e) => ({ ...e })),
    };
  }
  writeFileSync(join(stage, 'json'), stateText(state));

  const members = ['json', ...Object.keys(objects).sort().map((digest) => `objects/${digest}`)];
  const tarball = join(outDir, `${spec.name}.pvrexport.tgz`);
  makeTarball(stage, members, tarball);
  const bytes = readFileSync(tarball);
  return { name: spec.name, tarball, size: bytes.length, sha256: sha256(bytes), state, objects };
}

export function buildExamples(options: BuildOptions = {}): BuiltExample[] {
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  const log = options.log ?? (() => {});
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'pv-examples-'));
  try {
    const busybox = busyboxVersion();
    const program = compileProgram(work);
    log(`pv-example: ${readFileSync(program).length} bytes, sha256 ${sha256(readFileSync(program))}`);
    const built = EXAMPLES.map((spec) => buildOne(spec, work, program, busybox, outDir));
    for (const b of built) log(`${relative(process.cwd(), b.tarball)}: ${b.size} bytes, sha256 ${b.sha256}`);
    if (outDir === DEFAULT_OUT_DIR) writeFileSync(TOOLCHAIN_FILE, toolchainFingerprint());
    if (options.keepWork) log(`work directory kept: ${work}`);
    return built;
  } finally {
    if (!options.keepWork) rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const options: BuildOptions = { log: (line) => console.log(line) };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--out' && args[i + 1]) options.outDir = resolve(args[++i] as string);
    else if (arg === '--keep-work') options.keepWork = true;
    else {
      console.error('usage: bun scripts/build-examples.ts [--out DIR] [--keep-work]');
      process.exit(2);
    }
  }
  try {
    buildExamples(options);
  } catch (err) {
    console.error(`build-examples: ${(err as Error).message}`);
    process.exit(1);
  }
}
