/**
 * Runs every test file as its own Bun process (tap 16 prints TAP), reads the TAP through
 * tap-parser, then the API contract check (test/contract/responses.check.ts) over the answers
 * the files recorded, and ends with the line CI reads: `N passed, N failed`.
 * Usage: bun scripts/run-tests.ts [file or folder ...]   (default: test/unit test/integration test/reliability test/acceptance)
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { mountsUnder } from '../test/helpers/leftovers.ts';
// tap-parser ships no types; its event surface is small and described here.
import TapParser from 'tap-parser';

interface TapAssert {
  ok: boolean;
  name: string;
  skip?: boolean | string;
  todo?: boolean | string;
  id: number;
}

const root = join(import.meta.dir, '..');
const bun = process.execPath;
const targets = process.argv.slice(2);
const defaults = ['test/unit', 'test/integration', 'test/reliability', 'test/acceptance'];
const fileTimeoutMs = Number(process.env.PVCTRL_TEST_FILE_TIMEOUT_MS ?? 15 * 60 * 1000);

function collect(path: string): string[] {
  const absolute = join(root, path);
  if (statSync(absolute).isFile()) return [absolute];
  return readdirSync(absolute)
    .sort()
    .flatMap((entry) => {
      const child = join(absolute, entry);
      if (statSync(child).isDirectory()) return collect(relative(root, child));
      return entry.endsWith('.test.ts') ? [child] : [];
    });
}

// The API contract (test/contract/responses.check.ts): every file records the daemon's answers
// here, and the check runs last over all of them; coverage of every documented status only
// means something when the whole suite ran.
const contractDir = mkdtempSync(join(tmpdir(), 'pvctrl-contract-'));
const contractCheck = join(root, 'test', 'contract', 'responses.check.ts');
const wholeSuite = targets.length === 0;

async function runFile(file: string, env: Record<string, string> = {}): Promise<{ passed: number; failed: number; skipped: number; failures: string[] }> {
  const result = { passed: 0, failed: 0, skipped: 0, failures: [] as string[] };
  const parser = new TapParser();
  parser.on('assert', (point: TapAssert) => {
    if (point.skip) result.skipped++;
    else if (point.ok || point.todo) result.passed++;
    else {
      result.failed++;
      result.failures.push(point.name);
    }
  });
  const child = spawn(bun, [file], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TAP_TIMEOUT: '0',
      PVCTRL_CONTRACT_DIR: contractDir,
      PVCTRL_CONTRACT_SOURCE: relative(root, file),
      ...env,
    },
  });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output.push(chunk.toString());
    parser.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), fileTimeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  parser.end();
  if (code !== 0 && result.failed === 0) {
    result.failed++;
    result.failures.push(`process exited with ${code ?? 'a signal'} (crash or timeout)`);
  }
  if (result.failed > 0 || process.env.PVCTRL_TEST_VERBOSE) process.stdout.write(output.join(''));
  return result;
}

/**
 * Mount points in the temp folder that a test made (its daemons' run dirs, containers, loop
 * mounts). A daemon that exits without unmounting leaves them mounted after its folder is
 * removed; nothing else would notice, so the runner counts them against the file that ran.
 */
function testMounts(): Set<string> {
  const prefix = `${tmpdir()}/pvctrl-`;
  return new Set(mountsUnder(tmpdir()).filter((path) => path.startsWith(prefix)));
}

/** The test folders in the temp folder (`pvctrl-*`; the runner's own contract folder aside). */
function testFolders(): Set<string> {
  return new Set(
    readdirSync(tmpdir())
      .filter((name) => name.startsWith('pvctrl-') && !name.endsWith('.lock'))
      .map((name) => join(tmpdir(), name))
      .filter((path) => path !== contractDir),
  );
}

/** Folders the file made and left, removed (after its mounts) so the next file starts clean. */
function foldersLeftBy(before: Set<string>): string[] {
  const left = [...testFolders()].filter((path) => !before.has(path));
  for (const path of left) rmSync(path, { recursive: true, force: true });
  return left;
}

/** Mounts the file left behind, unmounted (deepest first) so the next file starts clean. */
function mountsLeftBy(before: Set<string>): string[] {
  const left = [...testMounts()].filter((path) => !before.has(path)).sort((a, b) => b.length - a.length);
  for (const path of left) spawnSync('umount', ['-l', path]);
  return left;
}

const files = (targets.length > 0 ? targets : defaults).flatMap(collect);
let passed = 0;
let failed = 0;
let skipped = 0;
const runs: [string, Record<string, string>][] = [
  ...files.map((file): [string, Record<string, string>] => [file, {}]),
  [contractCheck, wholeSuite || process.env.PVCTRL_CONTRACT_COVERAGE === '1' ? { PVCTRL_CONTRACT_COVERAGE: '1' } : {}],
];
for (const [file, env] of runs) {
  const started = Date.now();
  const mountsBefore = testMounts();
  const foldersBefore = testFolders();
  const result = await runFile(file, env);
  const left = mountsLeftBy(mountsBefore);
  if (left.length > 0) {
    result.failed++;
    result.failures.push(`left mounted after the file ended (now unmounted): ${left.join(', ')}`);
  }
  const leftFolders = foldersLeftBy(foldersBefore);
  if (leftFolders.length > 0) {
    result.failed++;
    result.failures.push(`left behind in the temp folder (now removed): ${leftFolders.join(', ')}`);
  }
  passed += result.passed;
  failed += result.failed;
  skipped += result.skipped;
  const mark = result.failed > 0 ? 'FAIL' : 'ok  ';
  process.stdout.write(`${mark} ${relative(root, file)}: ${result.passed} passed, ${result.failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  for (const name of result.failures) process.stdout.write(`       ✗ ${name}\n`);
}
rmSync(contractDir, { recursive: true, force: true });
process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
