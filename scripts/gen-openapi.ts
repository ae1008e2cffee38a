/**
 * Writes docs/openapi.json from the route table (src/api/routes.ts). Run after changing a route
 * or its doc: `npm run gen:openapi` (test/unit/openapi.test.ts fails while the copy is stale).
 * With --check it only compares, and exits 1 when the committed copy differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../src/api/routes.ts';
import { renderOpenApi } from '../src/api/openapi.ts';

export const OPENAPI_FILE = join(import.meta.dir, '..', 'docs', 'openapi.json');

if (import.meta.main) {
  const text = renderOpenApi(ROUTES);
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(OPENAPI_FILE, 'utf8');
    } catch {
      // a missing file is as stale as a different one
    }
    if (committed !== text) {
      process.stderr.write('docs/openapi.json is stale: run `npm run gen:openapi`\n');
      process.exit(1);
    }
  } else {
    writeFileSync(OPENAPI_FILE, text);
    process.stdout.write(`wrote ${OPENAPI_FILE} (${Object.keys(JSON.parse(text).paths).length} paths)\n`);
  }
}
