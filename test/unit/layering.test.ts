/**
 * Imports go one way (docs/architecture.md): a module may import only from its own folder and
 * the layers below it. The table is the architecture; this test keeps the code to it.
 */
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = join(import.meta.dir, '..', '..', 'src');

/** Shared by every layer: typed errors, the logger, exit codes, dependency-free helpers. */
const FOUNDATION = ['errors.ts', 'log.ts', 'exit-codes.ts', 'util'];

/**
 * What each part of src/ may import besides its own folder and the foundation. Read top-down:
 * the entry points wire everything; handlers (api) see the server's request types, the
 * services and the domain; the server sees none of them (it hands handlers an opaque services
 * object); the domain (runtime over storage) rests on native, state and config.
 * An entry may name a single file of another part (`runtime/cgroups.ts`).
 */
export const ALLOWED: Record<string, readonly string[]> = {
  'main.ts': ['*'],
  // The multicall executable's entry (issue 10): picks pv-ctrl, pvcontrol or pv-xconnect.
  'entry.ts': ['main.ts', 'cli', 'xconnect', 'multicall.ts'],
  'multicall.ts': [],
  'daemon.ts': ['*'],
  api: ['server', 'services.ts', 'runtime', 'storage', 'state', 'config', 'events', 'metrics'],
  // Caller identity is a security decision resting on where the runtime places containers
  // (`lxc/<name>`): it reads that one constant from the module that owns the placement.
  server: ['runtime/cgroups.ts'],
  'services.ts': ['runtime', 'storage', 'state', 'config', 'events', 'metrics'],
  // GET /metrics (docs/operations.md): counts what the server observes and reads owners at scrape
  // time; it names the request type of the server and the status table of the runtime.
  metrics: ['server/types.ts', 'server/caller.ts', 'runtime/status.ts'],
  runtime: ['storage', 'native', 'state', 'config', 'events'],
  storage: ['native', 'state', 'config', 'events'],
  xconnect: ['client', 'runtime', 'native', 'state', 'events'],
  cli: ['client', 'events'],
  // systemd's notify and socket-activation protocols (docs/operations.md "systemd"), for the entry points.
  systemd: ['native'],
  client: ['events'],
  // The event bus and its wire formats (docs/events.md): every layer may publish or decode.
  events: [],
  native: [],
  state: [],
  config: [],
  'errors.ts': [],
  'log.ts': [],
  'exit-codes.ts': [],
  util: [],
};

function sourceFiles(directory: string): string[] {
  return readdirSync(directory)
    .sort()
    .flatMap((entry) => {
      const path = join(directory, entry);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return entry.endsWith('.ts') ? [path] : [];
    });
}

/** The top-level part of src/ a file belongs to: its first folder, or its own name at the top. */
function partOf(file: string): string {
  return relative(SRC, file).split('/')[0] ?? '';
}

/** Relative specifiers of static imports, `import type` and re-exports included. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(pattern)) found.push((match[1] ?? match[2]) as string);
  return found;
}

t.test('every import of src/ stays within its layer or goes down', async (t) => {
  const violations: string[] = [];
  const files = sourceFiles(SRC);
  for (const file of files) {
    const from = partOf(file);
    const allowed = ALLOWED[from];
    if (allowed === undefined) {
      violations.push(`${relative(SRC, file)}: part "${from}" has no row in the layering table`);
      continue;
    }
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), specifier);
      if (!target.startsWith(`${SRC}/`)) continue; // package.json and other files outside src/
      const to = partOf(target);
      const targetFile = relative(SRC, target);
      if (to === from || FOUNDATION.includes(to) || allowed.includes('*') || allowed.includes(to) || allowed.includes(targetFile)) continue;
      violations.push(`${relative(SRC, file)} imports ${relative(SRC, target)} (${from} → ${to})`);
    }
  }
  t.ok(files.length > 50, `read ${files.length} source files`);
  t.same(violations, [], 'no upward or sideways import');
  // The foundation imports nothing of the project, so it can never be the way round a rule.
  for (const file of files.filter((candidate) => FOUNDATION.includes(partOf(candidate)))) {
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), specifier);
      if (target.startsWith(`${SRC}/`) && !FOUNDATION.includes(partOf(target))) violations.push(`${relative(SRC, file)} (foundation) imports ${relative(SRC, target)}`);
    }
  }
  t.same(violations, [], 'the foundation imports only the foundation');
});

t.test('the import reader sees every form of import', async (t) => {
  const text = [
    "import { a } from '../x/a.ts';",
    "import type { B } from '../y/b.ts';",
    'import {\n  c,\n  d,\n} from "./c.ts";',
    "export { e } from '../z/e.ts';",
    "const lazy = await import('../w/lazy.ts');",
    "import { readFileSync } from 'node:fs';",
  ].join('\n');
  t.same(importsOf(text), ['../x/a.ts', '../y/b.ts', './c.ts', '../z/e.ts', '../w/lazy.ts']);
});
