/**
 * Transfer progress on stderr. Drawn only on a terminal: when stderr is a pipe or file the
 * bar would be noise in logs and would break callers that treat any stderr as an error.
 */
import type { Writable } from 'node:stream';
import type { ProgressFn } from '../client/pv-client.ts';

export type ProgressStream = Writable & { isTTY?: boolean; columns?: number };

export interface ProgressBar {
  update: ProgressFn;
  /** Draws the final state and ends the line; safe to call more than once. */
  done(): void;
}

const REDRAW_INTERVAL_MS = 100;

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

export function renderProgress(label: string, transferred: number, total: number | undefined, columns: number): string {
  if (total === undefined || total <= 0) return `${label} ${formatBytes(transferred)}`;
  const ratio = Math.min(1, transferred / total);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  const amounts = `${formatBytes(transferred)} / ${formatBytes(total)}`;
  const width = Math.max(10, Math.min(40, columns - label.length - percent.length - amounts.length - 6));
  const filled = Math.round(ratio * width);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent} ${amounts}`;
}

/** A progress bar on `stream`, or undefined when `stream` is not a terminal. */
export function createProgressBar(stream: ProgressStream, label: string, now: () => number = Date.now): ProgressBar | undefined {
  if (stream.isTTY !== true) return undefined;
  let last = -Infinity;
  let transferred = 0;
  let total: number | undefined;
  let finished = false;
  let drawn = false;
  const draw = (): void => {
    const line = renderProgress(label, transferred, total, stream.columns ?? 80);
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  return {
    update(bytes, size) {
      if (finished) return;
      transferred = bytes;
      total = size;
      const t = now();
      if (t - last >= REDRAW_INTERVAL_MS || (size !== undefined && bytes >= size)) {
        last = t;
        draw();
      }
    },
    done() {
      if (finished) return;
      finished = true;
      if (!drawn) return;
      draw();
      stream.write('\n');
    },
  };
}
