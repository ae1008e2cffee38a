/** In-process tests of the CLI's pieces: argument parsing, exit codes, progress drawing. */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { createProgressBar, renderProgress, type ProgressStream } from '../../src/cli/progress.ts';
import { parseCommandLine, runPvcontrol, type CliIo } from '../../src/cli/pvcontrol.ts';
import { resolveSocket } from '../../src/cli/socket.ts';
import { startFakeServer } from '../helpers/fake-server.ts';

/** A stderr stand-in that records writes and claims (or not) to be a terminal. */
function capture(isTTY: boolean): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text: () => string };
  stream.isTTY = isTTY;
  stream.columns = 100;
  stream.text = () => chunks.join('');
  return stream;
}

t.test('parseCommandLine: options, aliases, usage topics', async (t) => {
  const run = parseCommandLine(['-v', '-s', '/x', '-f', 'out', '-m', 'msg', 'container', 'stop', 'app']);
  t.equal(run.kind, 'run');
  if (run.kind === 'run') {
    t.same(run.options, { verbose: true, socket: '/x', output: 'out', message: 'msg' });
    t.equal(run.command.kind, 'call');
  }
  t.same(parseCommandLine(['-h']), { kind: 'usage', topic: 'global', exitCode: 0 });
  t.same(parseCommandLine([]), { kind: 'usage', topic: 'global', exitCode: 1 });
  t.same(parseCommandLine(['-f']), { kind: 'usage', topic: 'global', exitCode: 1 });
  t.same(parseCommandLine(['steps', '--help']), { kind: 'usage', topic: 'steps', exitCode: 0 });
  t.same(parseCommandLine(['configuration', 'x']), { kind: 'usage', topic: 'conf', exitCode: 1 });
  const install = parseCommandLine(['steps', 'install', 'a.tgz']);
  t.same(install.kind === 'run' ? install.command : undefined, { kind: 'steps-install', file: 'a.tgz', rev: undefined });
  const put = parseCommandLine(['objects', 'put', '-42', 'sha']);
  t.same(put.kind === 'run' ? put.command : undefined, { kind: 'objects-put', path: '-42', sha: 'sha' });
  const restart = parseCommandLine(['daemons', 'restart', 'd']);
  t.same(restart.kind === 'run' ? restart.command : undefined, { kind: 'daemons-restart', name: 'd' });
});

t.test('exitCodeFor', async (t) => {
  const table: Array<[number, string, number]> = [
    [200, '', 0],
    [200, '{"Error":"Object has bad checksum"}', 0],
    [204, '', 255],
    [400, '{"Error":"x"}', 255],
    [404, '', 255],
    [422, '{"Error":"Object has bad checksum"}', 60],
    [409, '{"Error":"Object has bad checksum"}', 60],
    [422, '{"Error":"Parser: State JSON has bad format"}', 70],
    [422, '{"Error":"Secureboot: State not fully covered by signatures"}', 70],
    [422, '{"Error":"Storage: Cannot read state JSON"}', 70],
    [400, '{"Error":"Parser: looks like a rejection but is not a 422"}', 255],
    [422, '{"Error":"State verification has failed"}', 70],
    [500, '{"Error":"State verification has failed"}', 70],
    [422, 'not json', 255],
    [503, '{"Error":"A command is already in progress. Try again"}', 75],
    [503, '', 75],
    [507, '', 48],
    [500, '{"Error":"Not enough disk space available"}', 48],
    [503, '{"Error":"Not enough disk space available"}', 48],
  ];
  for (const [status, body, code] of table) t.equal(exitCodeFor(status, body), code, `${status} ${body || '(empty)'}`);
});

t.test('resolveSocket precedence', async (t) => {
  t.equal(resolveSocket('/explicit', { PVCTRL_SOCKET: '/env' }), '/explicit');
  t.equal(resolveSocket(undefined, { PVCTRL_SOCKET: '/env' }), '/env');
  t.not(resolveSocket(undefined, { PVCTRL_SOCKET: '' }), '', 'an empty variable is ignored');
});

t.test('progress bar: nothing unless stderr is a terminal', async (t) => {
  t.equal(createProgressBar(capture(false), 'x'), undefined);
  let now = 0;
  const tty = capture(true);
  const bar = createProgressBar(tty, 'object abc', () => now);
  t.ok(bar);
  bar?.update(0, 1000);
  now += 10;
  bar?.update(100, 1000);
  t.equal(tty.text().split('\r').length - 1, 1, 'redraws are throttled');
  now += 200;
  bar?.update(500, 1000);
  bar?.update(1000, 1000);
  bar?.done();
  bar?.done();
  const text = tty.text();
  t.match(text, /\robject abc \[#+\.*\]\s+50% /);
  t.match(text, /100% 1000 B \/ 1000 B\x1b\[K\n$/);
  t.equal(text.split('\n').length - 1, 1, 'one final newline');
});

t.test('renderProgress formats', async (t) => {
  t.equal(renderProgress('up', 512, undefined, 80), 'up 512 B');
  t.match(renderProgress('up', 10 * 1024 * 1024, 20 * 1024 * 1024, 80), /^up \[#{10,}\.{10,}\]\s+50% 10\.0 MiB \/ 20\.0 MiB$/);
});

t.test('runPvcontrol in-process: progress drawn on a terminal stderr, never on stdout', async (t) => {
  const server = await startFakeServer();
  const dir = mkdtempSync(join(tmpdir(), 'pvcli-units-'));
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'obj.bin');
  writeFileSync(file, randomBytes(8 * 1024 * 1024));
  const stdout = new PassThrough();
  const outChunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => outChunks.push(c));
  const stderr = capture(true);
  const io: CliIo = { stdout, stderr, stdin: () => new PassThrough(), env: {} };
  const code = await runPvcontrol(['-s', server.socketPath, 'objects', 'put', file, 'c'.repeat(64)], io);
  t.equal(code, 0);
  t.match(stderr.text(), /\robject cccccccccccc \[#+\]\s+100% 8\.0 MiB \/ 8\.0 MiB/);
  t.equal(Buffer.concat(outChunks).toString(), '\n');

  const quiet = capture(false);
  const code2 = await runPvcontrol(['-s', server.socketPath, 'objects', 'put', file, 'c'.repeat(64)], { ...io, stderr: quiet });
  t.equal(code2, 0);
  t.equal(quiet.text(), '');
});
