/**
 * `pvcontrol steps install <file.tgz> [rev]`: unpack a compressed step, upload the objects
 * the device does not have, then install the state JSON as a local revision.
 *
 * Differences from the shell tool, all deliberate: relative tarball paths work (nothing
 * changes directory); presence checks compare parsed names exactly instead of searching
 * the listing text; a failed object upload or a rejected state stops the install with the
 * server's error and a non-zero exit; the temporary directory is always removed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseObjectList, parseStepList, type PvClient, type PvResponse } from '../client/pv-client.ts';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.ts';
import { bodyLine, writeTo, type CliIo, type Output } from './output.ts';
import { createProgressBar } from './progress.ts';

export interface InstallContext {
  client: PvClient;
  io: CliIo;
  out: Output;
  /** Commit message from `-m`; stored only when non-empty. */
  message: string | undefined;
  trace: ((line: string) => void) | undefined;
}

interface StepLayout {
  statePath: string;
  objectsDir: string | undefined;
}

const TARBALL_SUFFIXES = ['.tgz', '.tar.gz'];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise<string>((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', fail)
      .on('end', () => done(hash.digest('hex')));
  });
}

function extract(tarball: string, into: string): Promise<string | undefined> {
  return new Promise<string | undefined>((done) => {
    const child = spawn('tar', ['-xzf', tarball, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => done(`cannot run tar: ${error.message}`));
    child.on('close', (code) => done(code === 0 ? undefined : stderr.trim() || `tar exited with status ${String(code)}`));
  });
}

/**
 * `pvr export` writes `json` + `objects/` (possibly as `./json`, which extracts the same);
 * a hand-made tarball may instead hold `state.json`, with `objects/` optional. A tarball
 * made from the parent directory (one top-level folder) is looked into once.
 */
function findLayout(root: string): StepLayout | undefined {
  const json = join(root, 'json');
  if (isFile(json)) {
    const objects = join(root, 'objects');
    return isDirectory(objects) ? { statePath: json, objectsDir: objects } : undefined;
  }
  const stateJson = join(root, 'state.json');
  if (isFile(stateJson)) {
    const objects = join(root, 'objects');
    return { statePath: stateJson, objectsDir: isDirectory(objects) ? objects : undefined };
  }
  return undefined;
}

function locateStep(root: string): StepLayout | undefined {
  const direct = findLayout(root);
  if (direct) return direct;
  const entries = readdirSync(root, { withFileTypes: true });
  const only = entries.length === 1 ? entries[0] : undefined;
  return only?.isDirectory() ? findLayout(join(root, only.name)) : undefined;
}

async function fail(ctx: InstallContext, text: string): Promise<number> {
  await writeTo(ctx.io.stderr, `ERROR: ${text}\n`);
  return EXIT_USAGE;
}

async function httpFailure(ctx: InstallContext, res: PvResponse): Promise<number> {
  await writeTo(ctx.io.stderr, bodyLine(res.body));
  return exitCodeFor(res.status, res.body);
}

export async function installStep(ctx: InstallContext, file: string, requestedRev: string | undefined): Promise<number> {
  if (!TARBALL_SUFFIXES.some((suffix) => file.endsWith(suffix))) {
    return fail(ctx, `unknown file format: ${file} (expected a .tgz compressed step)`);
  }
  const tarball = resolve(file);
  if (!isFile(tarball)) return fail(ctx, `${file} not found`);

  const rev = requestedRev ?? `locals/${await sha256File(tarball)}`;
  const workDir = mkdtempSync(join(tmpdir(), 'pvcontrol-step-'));
  try {
    const tarError = await extract(tarball, workDir);
    if (tarError !== undefined) return fail(ctx, `cannot extract ${file}: ${tarError}`);
    const layout = locateStep(workDir);
    if (!layout) {
      return fail(ctx, 'wrong contents of compressed step (expected json and objects/, or state.json)');
    }

    if (layout.objectsDir !== undefined) {
      const objectsDir = layout.objectsDir;
      const names = readdirSync(objectsDir, { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name)
        .sort();
      if (names.length > 0) {
        const listing = await ctx.client.listObjects();
        if (listing.status !== 200) return httpFailure(ctx, listing);
        // An unreadable listing only costs re-uploads, which the server accepts idempotently.
        const present = new Set((parseObjectList(listing.body) ?? []).map((entry) => entry.sha256));
        for (const name of names) {
          if (present.has(name)) {
            ctx.trace?.(`* object ${name} already on the device`);
            continue;
          }
          const bar = createProgressBar(ctx.io.stderr, `object ${name.slice(0, 12)}`);
          let res: PvResponse;
          try {
            res = await ctx.client.putObject(name, join(objectsDir, name), bar ? { onProgress: bar.update } : {});
          } finally {
            bar?.done();
          }
          if (res.status !== 200) return httpFailure(ctx, res);
        }
      }
    }

    const steps = await ctx.client.listSteps();
    if (steps.status !== 200) return httpFailure(ctx, steps);
    const existing = parseStepList(steps.body);
    if (existing?.some((step) => step.name === rev)) {
      ctx.trace?.(`* revision ${rev} already exists; state not installed again`);
    } else {
      const put = await ctx.client.putStepFile(rev, layout.statePath);
      if (put.status !== 200) return httpFailure(ctx, put);
      if (ctx.message !== undefined && ctx.message !== '') {
        const commit = await ctx.client.putCommitMessage(rev, ctx.message);
        if (commit.status !== 200) return httpFailure(ctx, commit);
      }
    }

    await ctx.out.write(`${JSON.stringify({ revision: rev })}\n`);
    return EXIT_OK;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
