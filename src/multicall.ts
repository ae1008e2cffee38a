/**
 * One executable, three programs (issue 10): which program a multicall invocation means. A pure
 * decision, apart from the entry (src/entry.ts) that acts on it.
 *
 * The name it runs under wins (`pvcontrol`, `pv-xconnect` are links to `pv-ctrl`); where links
 * are awkward, a first argument naming a program selects it (`pv-ctrl pvcontrol steps ls`).
 */
export const PROGRAMS = ['pv-ctrl', 'pvcontrol', 'pv-xconnect'] as const;
export type Program = (typeof PROGRAMS)[number];

export interface Invocation {
  program: Program;
  /** The program's own arguments (without a selecting first argument). */
  args: string[];
}

const isProgram = (name: string | undefined): name is Program => (PROGRAMS as readonly string[]).includes(name ?? '');

/** Last path component, without a leading `-` that login shells put in argv[0]. */
function baseName(argv0: string): string {
  return (argv0.split('/').pop() ?? '').replace(/^-/, '');
}

export function chooseProgram(argv0: string, args: readonly string[]): Invocation {
  const byName = baseName(argv0);
  if (byName !== 'pv-ctrl' && isProgram(byName)) return { program: byName, args: [...args] };
  const first = args[0];
  if (isProgram(first)) return { program: first, args: args.slice(1) };
  // Any other name (a renamed copy, `bun src/entry.ts`) is the daemon, as before the multicall.
  return { program: 'pv-ctrl', args: [...args] };
}
