/** Process entry of `pvcontrol` (started by bin/pvcontrol). */
import { runPvcontrol } from './pvcontrol.ts';

// A reader that goes away (`pvcontrol objects get x | head -c1`) must not crash the CLI.
const ignoreBrokenPipe = (error: unknown): void => {
  if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EPIPE') return;
  throw error;
};
process.stdout.on('error', ignoreBrokenPipe);
process.stderr.on('error', ignoreBrokenPipe);

try {
  process.exitCode = await runPvcontrol(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: () => process.stdin,
    env: process.env,
  });
} catch (error) {
  process.stderr.write(`ERROR: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
