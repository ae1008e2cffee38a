/** Free-space model of spec §11.1: what an upload may still use. */
import { statfsSync } from 'node:fs';

export interface SpaceReport {
  total: number;
  free: number;
  reserved: number;
  realFree: number;
}

export function measureSpace(path: string, reservedPercent: number): SpaceReport {
  const stats = statfsSync(path);
  const total = Number(stats.bsize) * Number(stats.blocks);
  const free = Number(stats.bsize) * Number(stats.bfree);
  const reserved = Math.floor((total * reservedPercent) / 100);
  return { total, free, reserved, realFree: Math.max(free - reserved, 0) };
}
