/**
 * Entry of the multicall executable (`bun build --compile src/entry.ts`, and the Yocto bundle):
 * runs pv-ctrl, pvcontrol or pv-xconnect as src/multicall.ts decides. Each program is imported
 * only when chosen, so pvcontrol and pv-xconnect never evaluate the daemon's modules.
 */
import { chooseProgram } from './multicall.ts';
import { applyDaemonRuntimeEnv } from './util/runtime-env.ts';

const invocation = chooseProgram(process.argv0, process.argv.slice(2));
// The programs read process.argv themselves: hand them their own arguments.
process.argv.splice(2, process.argv.length - 2, ...invocation.args);

switch (invocation.program) {
  case 'pvcontrol':
    await import('./cli/main.ts');
    break;
  case 'pv-xconnect':
    await import('./xconnect/main.ts');
    break;
  case 'pv-ctrl': {
    // Before the daemon's modules load: may execute this executable again with Bun's settings.
    applyDaemonRuntimeEnv();
    const { runPvCtrl } = await import('./main.ts');
    runPvCtrl();
    break;
  }
}
