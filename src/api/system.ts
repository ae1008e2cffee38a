/** Read-mostly views of the device: `/buildinfo`, `/config`, `/config2`, `/wakelocks`, `/storage/gc` (spec §7.9, §7.13–7.15). */
import { existsSync } from 'node:fs';
import type { Handler } from './handler.ts';
import { json } from '../server/types.ts';

export const buildInfo: Handler = async (_request, services) => ({ type: 'text', contentType: 'text/plain', text: services.buildInfo });

export const config: Handler = async (_request, services) => json(services.config.configJson());

export const config2: Handler = async (_request, services) => json(services.config.config2Json());

export const storageGc: Handler = async (_request, services) => {
  const report = services.collectGarbage();
  services.log.info(`garbage collector: ${report.removedRevisions.length} revisions, ${report.removedObjects} objects, ${report.reclaimed} bytes`);
  // Hand-formatted with a space after the colon: clients parse this exact text.
  return json(`{"reclaimed": ${report.reclaimed}}`);
};

/**
 * This daemon holds no kernel wakelocks; it reports the configured mode and, in `locks` mode,
 * whether the kernel offers them at all (`degraded` when it does not).
 */
export const wakelocks: Handler = async (_request, services) => {
  const mode = services.config.getEnum('PV_POWER_MODE');
  const sysfs = services.config.getString('PV_POWER_SYSFS_DIR') ?? '/sys/power';
  const degraded = mode === 'locks' && !existsSync(`${sysfs}/wake_lock`);
  const held = { boot: false, update: false, update_check: false, devmeta: false, usrmeta: false, shutdown: false, debug_shell: false, poll: false };
  return json(JSON.stringify({ mode, count: 0, degraded, autosleep: false, settling: false, polling: false, run_window: false, held }));
};
