/** Every path under a folder, for tests that assert "nothing changed on disk". */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Relative paths of everything under `root`, depth first, sorted per folder; [] when absent. */
export function tree(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(root, relative)).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      out.push(path);
      if (statSync(join(root, path)).isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}
