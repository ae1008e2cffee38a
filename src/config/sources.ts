/**
 * Turning each configuration source into (name, value) pairs. Nothing here knows the key
 * table: deciding what a name means, and at which level, is PvConfig's job.
 */
import { join } from 'node:path';
import type { ConfigLevel } from './levels.ts';

export interface ConfigPair {
  readonly name: string;
  readonly value: string;
}

export interface ParsedText {
  readonly pairs: readonly ConfigPair[];
  /** One message per line that is neither blank, a comment nor KEY=value. */
  readonly problems: readonly string[];
}

/**
 * `pantavisor.config` / `pantahub.config` / policy / OEM files: KEY=value lines, `#` comment
 * lines, blank lines; key and value trimmed. Only whole-line comments exist: a `#` inside a
 * value (timestamp formats, secrets) is data.
 */
export function parseConfigText(text: string): ParsedText {
  const pairs: ConfigPair[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq < 0 ? '' : line.slice(0, eq).trim();
    if (name === '') {
      problems.push(`line ${index + 1}: expected KEY=value`);
      return;
    }
    pairs.push({ name, value: line.slice(eq + 1).trim() });
  });
  return { pairs, problems };
}

/** Split /proc/cmdline like the kernel does: whitespace separates, double quotes group. */
export function splitCmdline(cmdline: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  let inToken = false;
  for (const ch of cmdline) {
    if (ch === '"') {
      quoted = !quoted;
      inToken = true;
      current += ch;
    } else if (!quoted && /\s/.test(ch)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (inToken) tokens.push(current);
  return tokens;
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

export interface CmdlinePair extends ConfigPair {
  readonly level: Extract<ConfigLevel, 'PV_CMDLINE' | 'PH_CMDLINE'>;
  /** The name with its `pv_`/`ph_` prefix removed (the form used with legacy dotted aliases). */
  readonly stripped: string;
}

/**
 * `pv_<KEY>=<value>` and `ph_<KEY>=<value>` tokens. Both `pv_log.level=5` (alias after the
 * prefix) and `pv_LOG_LEVEL=5` / `PV_LOG_LEVEL=5` (the whole token is the key) occur in the
 * field, so both the full and the stripped name are handed on.
 */
export function cmdlinePairs(cmdline: string): CmdlinePair[] {
  const pairs: CmdlinePair[] = [];
  for (const token of splitCmdline(cmdline)) {
    const whole = unquote(token);
    const eq = whole.indexOf('=');
    if (eq <= 3) continue;
    const name = whole.slice(0, eq);
    const prefix = name.slice(0, 3).toLowerCase();
    if (prefix !== 'pv_' && prefix !== 'ph_') continue;
    pairs.push({
      name,
      stripped: name.slice(3),
      value: unquote(whole.slice(eq + 1)),
      level: prefix === 'pv_' ? 'PV_CMDLINE' : 'PH_CMDLINE',
    });
  }
  return pairs;
}

/** Environment variables whose name starts with PV_ or PH_, in any case. */
export function envPairs(env: Readonly<Record<string, string | undefined>>): ConfigPair[] {
  const pairs: ConfigPair[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const prefix = name.slice(0, 3).toLowerCase();
    if (prefix === 'pv_' || prefix === 'ph_') pairs.push({ name, value });
  }
  return pairs;
}

const SYSCTL_PREFIX = 'pv_sysctl_';
const SYSCTL_LEGACY_PREFIX = 'sysctl.';

/** True for `PV_SYSCTL_<PATH>` and legacy `sysctl.<a>.<b>` names (any case). */
export function isSysctlName(name: string): boolean {
  const folded = name.toLowerCase();
  return (
    (folded.startsWith(SYSCTL_PREFIX) && folded.length > SYSCTL_PREFIX.length) ||
    (folded.startsWith(SYSCTL_LEGACY_PREFIX) && folded.length > SYSCTL_LEGACY_PREFIX.length)
  );
}

/**
 * The /proc/sys file a sysctl config name addresses. Dotted legacy names map dot-for-slash.
 * In `PV_SYSCTL_` names an underscore is ambiguous (`net_ipv4_ip_forward` is
 * net/ipv4/ip_forward), so an underscore becomes a slash only where the path built so far is
 * an existing directory; `isDirectory` is injected to keep this module free of file-system calls.
 */
export function sysctlPath(name: string, isDirectory: (path: string) => boolean, root = '/proc/sys'): string | null {
  if (!isSysctlName(name)) return null;
  const folded = name.toLowerCase();
  if (folded.startsWith(SYSCTL_LEGACY_PREFIX)) {
    const parts = folded.slice(SYSCTL_LEGACY_PREFIX.length).split('.');
    return parts.some((part) => part === '') ? null : join(root, ...parts);
  }
  const words = folded.slice(SYSCTL_PREFIX.length).split('_');
  let dir = root;
  let pending = '';
  for (const word of words) {
    pending = pending === '' ? word : `${pending}_${word}`;
    const candidate = join(dir, pending);
    if (word !== '' && isDirectory(candidate)) {
      dir = candidate;
      pending = '';
    }
  }
  return pending === '' ? null : join(dir, pending);
}
