/**
 * `pvcontrol`: a drop-in for Pantavisor's shell control tool (same grammar, same
 * stdout/stderr split, same exit codes), built on the typed client.
 */
import { PvClient, PvTransportError, type PvResponse } from '../client/pv-client.ts';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.ts';
import { bodyLine, openFileOutput, stdoutOutput, writeTo, type CliIo, type Output } from './output.ts';
import { createProgressBar } from './progress.ts';
import { isSocket, resolveSocket } from './socket.ts';
import { installStep } from './steps-install.ts';
import { followEvents, followProgress, type EventsCommand } from './events.ts';
import { usageText, type UsageTopic } from './usage.ts';

export type { CliIo } from './output.ts';

export interface GlobalOptions {
  verbose: boolean;
  socket: string | undefined;
  output: string | undefined;
  message: string | undefined;
}

export type Command =
  | { kind: 'call'; call: (client: PvClient) => Promise<PvResponse> }
  | { kind: 'objects-put'; path: string; sha: string }
  | { kind: 'objects-get'; sha: string }
  | { kind: 'steps-put'; path: string; rev: string }
  | { kind: 'steps-install'; file: string; rev: string | undefined }
  | { kind: 'daemons-restart'; name: string }
  | ({ kind: 'events' } & EventsCommand)
  | { kind: 'steps-follow'; rev: string };

export type ParseResult =
  | { kind: 'usage'; topic: UsageTopic; exitCode: number }
  | { kind: 'run'; options: GlobalOptions; command: Command };

const usage = (topic: UsageTopic, exitCode = EXIT_USAGE): ParseResult => ({ kind: 'usage', topic, exitCode });

/** Stdin upload size syntax of `objects put`: `-<decimal size>`. */
const STDIN_SIZED = /^-(\d+)$/;

/** Parses the whole command line; performs no I/O. */
export function parseCommandLine(argv: readonly string[]): ParseResult {
  const options: GlobalOptions = { verbose: false, socket: undefined, output: undefined, message: undefined };
  let i = 0;
  for (; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '-h') return usage('global', EXIT_OK);
    if (flag === '-v') {
      options.verbose = true;
      continue;
    }
    if (flag === '-s' || flag === '-f' || flag === '-m') {
      const value = argv[i + 1];
      if (value === undefined) return usage('global');
      i++;
      if (flag === '-s') options.socket = value;
      else if (flag === '-f') options.output = value;
      else options.message = value;
      continue;
    }
    break;
  }

  const word = argv[i];
  // Like the shell tool, an empty argument counts as a missing one.
  const at = (offset: number): string | undefined => {
    const value = argv[i + offset];
    return value === undefined || value === '' ? undefined : value;
  };
  const sub = at(1);
  const a1 = at(2);
  const a2 = at(3);
  const run = (command: Command): ParseResult => ({ kind: 'run', options, command });
  const call = (fn: (client: PvClient) => Promise<PvResponse>): ParseResult => run({ kind: 'call', call: fn });
  const helpOr = (topic: UsageTopic): ParseResult => usage(topic, sub === '--help' ? EXIT_OK : EXIT_USAGE);

  switch (word) {
    case 'ls':
    case 'list':
      if (sub === undefined) return call((c) => c.listContainers());
      return helpOr('ls');

    case 'containers':
    case 'container':
      switch (sub) {
        case 'ls':
        case 'list':
          return call((c) => c.listContainers());
        case 'start':
        case 'stop':
        case 'restart': {
          if (a1 === undefined) return usage('containers');
          const action = sub;
          return call((c) => c.containerAction(a1, action));
        }
        default:
          return helpOr('containers');
      }

    case 'groups':
      return sub === 'ls' || sub === 'list' ? call((c) => c.listGroups()) : helpOr('groups');

    case 'signal':
      if (sub === 'ready' || sub === 'alive') {
        const type = sub;
        return call((c) => c.signal(type, ''));
      }
      return helpOr('signal');

    case 'cmd':
    case 'command':
    case 'commands':
      switch (sub) {
        case 'run':
          return a1 === undefined ? usage('cmd') : call((c) => c.command('LOCAL_RUN', a1));
        case 'run-commit':
          return a1 === undefined ? usage('cmd') : call((c) => c.command('LOCAL_RUN_COMMIT', a1));
        case 'reboot':
          return call((c) => c.command('REBOOT_DEVICE', a1 ?? ''));
        case 'poweroff':
          return call((c) => c.command('POWEROFF_DEVICE', a1 ?? ''));
        case 'make-factory':
          return call((c) => c.command('MAKE_FACTORY', a1 ?? ''));
        case 'run-gc':
          return call((c) => c.command('RUN_GC', ''));
        case 'enable-ssh':
          return call((c) => c.command('ENABLE_SSH', ''));
        case 'disable-ssh':
          return call((c) => c.command('DISABLE_SSH', ''));
        case 'go-remote':
          return call((c) => c.command('GO_REMOTE', ''));
        case 'unclaim':
          return call((c) => c.command('UNCLAIM', ''));
        case 'defer-reboot':
          return a1 === undefined ? usage('cmd') : call((c) => c.command('DEFER_REBOOT', a1));
        default:
          return helpOr('cmd');
      }

    case 'devmeta':
    case 'usrmeta': {
      const device = word === 'devmeta';
      const topic: UsageTopic = device ? 'devmeta' : 'usrmeta';
      const isSave = sub === 'save' || (device && sub === 'upload');
      if (isSave) {
        if (a1 === undefined) return usage(topic);
        const value = argv[i + 3] ?? '';
        return call((c) => (device ? c.putDeviceMeta(a1, value) : c.putUserMeta(a1, value)));
      }
      if (sub === 'delete') {
        if (a1 === undefined) return usage(topic);
        return call((c) => (device ? c.deleteDeviceMeta(a1) : c.deleteUserMeta(a1)));
      }
      if (sub === 'ls' || sub === 'list') return call((c) => (device ? c.listDeviceMeta() : c.listUserMeta()));
      return helpOr(topic);
    }

    case 'buildinfo':
      if (sub === undefined) return call((c) => c.buildinfo());
      return helpOr('buildinfo');

    case 'storage':
      return sub === 'gc' ? call((c) => c.storageGc()) : helpOr('storage');

    case 'objects':
      switch (sub) {
        case 'put':
          if (a1 === undefined || a2 === undefined) return usage('objects');
          if (a1.startsWith('-') && a1 !== '-' && !STDIN_SIZED.test(a1)) return usage('objects');
          return run({ kind: 'objects-put', path: a1, sha: a2 });
        case 'get':
          return a1 === undefined ? usage('objects') : run({ kind: 'objects-get', sha: a1 });
        case 'ls':
        case 'list':
          return call((c) => c.listObjects());
        default:
          return helpOr('objects');
      }

    case 'steps':
      switch (sub) {
        case 'install':
          return a1 === undefined ? usage('steps') : run({ kind: 'steps-install', file: a1, rev: a2 });
        case 'put':
          return a1 === undefined || a2 === undefined ? usage('steps') : run({ kind: 'steps-put', path: a1, rev: a2 });
        case 'get':
          return a1 === undefined ? usage('steps') : call((c) => c.getStep(a1));
        case 'show-progress':
          if (a1 === '--follow') return a2 === undefined ? usage('steps') : run({ kind: 'steps-follow', rev: a2 });
          return a1 === undefined ? usage('steps') : call((c) => c.stepProgress(a1));
        case 'ls':
        case 'list':
          return call((c) => c.listSteps());
        default:
          return helpOr('steps');
      }

    case 'config':
      return sub === 'ls' || sub === 'list' ? call((c) => c.config()) : helpOr('config');

    case 'conf':
    case 'configuration':
      return sub === 'ls' || sub === 'list' ? call((c) => c.config2()) : helpOr('conf');

    case 'graph':
      return sub === 'ls' || sub === 'list' ? call((c) => c.xconnectGraph()) : helpOr('graph');

    case 'daemons':
      switch (sub) {
        case 'ls':
        case 'list':
          return call((c) => c.listDaemons());
        case 'start':
        case 'stop': {
          if (a1 === undefined) return usage('daemons');
          const action = sub;
          return call((c) => c.daemonAction(a1, action));
        }
        case 'restart':
          return a1 === undefined ? usage('daemons') : run({ kind: 'daemons-restart', name: a1 });
        default:
          return helpOr('daemons');
      }

    case 'events': {
      const command: EventsCommand = { json: false, types: [], container: undefined };
      for (let k = i + 1; k < argv.length; k++) {
        const flag = argv[k];
        const value = argv[k + 1];
        if (flag === '--json') command.json = true;
        else if (flag === '--help') return usage('events', EXIT_OK);
        else if ((flag === '--type' || flag === '--container') && value !== undefined && value !== '') {
          k++;
          if (flag === '--type') command.types.push(...value.split(','));
          else command.container = value;
        } else return usage('events');
      }
      return run({ kind: 'events', ...command });
    }

    case '--help':
      return usage('global', EXIT_OK);

    default:
      return usage('global');
  }
}

/** Prints a finished exchange the way the shell tool's show_output did and picks the exit status. */
async function show(res: PvResponse, out: Output, io: CliIo): Promise<number> {
  if (res.status === 200) {
    await out.write(bodyLine(res.body));
    return EXIT_OK;
  }
  await writeTo(io.stderr, bodyLine(res.body));
  return exitCodeFor(res.status, res.body);
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function execute(command: Command, options: GlobalOptions, client: PvClient, io: CliIo, out: Output): Promise<number> {
  switch (command.kind) {
    case 'call':
      return show(await command.call(client), out, io);

    case 'daemons-restart': {
      // Stop, then start, as REF's pvcontrol does (this CLI is its drop-in): pv-ctrl has a
      // restart action, REF's daemon does not. A failed stop is not followed by a start.
      const stopped = await client.daemonAction(command.name, 'stop');
      if (stopped.status !== 200) return show(stopped, out, io);
      return show(await client.daemonAction(command.name, 'start'), out, io);
    }

    case 'objects-put': {
      const bar = createProgressBar(io.stderr, `object ${command.sha.slice(0, 12)}`);
      const onProgress = bar?.update;
      let res: PvResponse;
      try {
        const sized = STDIN_SIZED.exec(command.path);
        if (sized) {
          res = await client.putObject(command.sha, io.stdin(), { size: Number(sized[1]), ...(onProgress ? { onProgress } : {}) });
        } else if (command.path === '-') {
          res = await client.putObject(command.sha, io.stdin(), onProgress ? { onProgress } : {});
        } else {
          res = await client.putObject(command.sha, command.path, onProgress ? { onProgress } : {});
        }
      } finally {
        bar?.done();
      }
      return show(res, out, io);
    }

    case 'objects-get': {
      const bar = createProgressBar(io.stderr, `object ${command.sha.slice(0, 12)}`);
      const progress = bar ? { onProgress: bar.update } : {};
      let res: PvResponse;
      try {
        res = options.output !== undefined
          ? await client.getObject(command.sha, options.output, progress)
          : await client.getObject(command.sha, io.stdout, progress);
      } finally {
        bar?.done();
      }
      if (res.status === 200) return EXIT_OK;
      await writeTo(io.stderr, bodyLine(res.body));
      return exitCodeFor(res.status, res.body);
    }

    case 'steps-put': {
      // A state JSON is small; reading stdin whole lets it go out with a Content-Length,
      // which every server revision accepts (chunked bodies were not always handled).
      const first = command.path === '-'
        ? await client.putStep(command.rev, await readAll(io.stdin()))
        : await client.putStepFile(command.rev, command.path);
      if (first.status !== 200 || options.message === undefined || options.message === '') return show(first, out, io);
      return show(await client.putCommitMessage(command.rev, options.message), out, io);
    }

    case 'events':
      return followEvents(command, client.socketPath, io, out);

    case 'steps-follow':
      return followProgress(command.rev, client, io, out);

    case 'steps-install':
      return installStep(
        { client, io, out, message: options.message, trace: options.verbose ? traceTo(io) : undefined },
        command.file,
        command.rev,
      );
  }
}

function traceTo(io: CliIo): (line: string) => void {
  return (line) => {
    io.stderr.write(`${line}\n`);
  };
}

/** Runs one pvcontrol invocation and returns its exit status. */
export async function runPvcontrol(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'usage') {
    await writeTo(io.stdout, usageText(parsed.topic));
    return parsed.exitCode;
  }
  const { options, command } = parsed;

  const socketPath = resolveSocket(options.socket, io.env);
  if (!isSocket(socketPath)) {
    // stdout, not stderr: scripts written for the shell tool look for this line there.
    await writeTo(io.stdout, `ERROR: ${socketPath} not found\n`);
    return EXIT_USAGE;
  }

  let out: Output;
  if (options.output !== undefined && command.kind !== 'objects-get') {
    try {
      out = await openFileOutput(options.output);
    } catch (error) {
      await writeTo(io.stderr, `ERROR: cannot write ${options.output}: ${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT_USAGE;
    }
  } else {
    out = stdoutOutput(io.stdout);
  }

  const client = new PvClient({ socketPath, ...(options.verbose ? { trace: traceTo(io) } : {}) });
  let code: number;
  try {
    code = await execute(command, options, client, io, out);
  } catch (error) {
    if (!(error instanceof PvTransportError)) throw error;
    // Local source/destination problems are reported as such; anything else means the
    // server did not (completely) answer, which the shell tool reported with this line.
    const text = error.code === 'source' || error.code === 'sink' ? error.message : 'got no response';
    await writeTo(io.stderr, `ERROR: ${text}\n`);
    code = EXIT_USAGE;
  }
  try {
    await out.close();
  } catch (error) {
    await writeTo(io.stderr, `ERROR: cannot write ${options.output ?? 'output'}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (code === EXIT_OK) code = EXIT_USAGE;
  }
  return code;
}
