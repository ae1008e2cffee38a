/**
 * Minimal leveled logger writing one line per event to stderr (the daemon's log), in one of
 * three formats (docs/operations.md "Logs"):
 * - `text` (default): `<ISO time> [pv-ctrl] LEVEL message`;
 * - `journal`: `<priority>message`, the syslog priority prefix journald reads, and no time of its
 *   own (the journal stamps every line); chosen when stderr is the journal (JOURNAL_STREAM);
 * - `json`: one object a line: time, level, component, message, the request's caller and fields.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'journal' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'journal', 'json'];

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** syslog priorities (sd-daemon(3)): err, warning, info, debug. */
const PRIORITY: Record<LogLevel, string> = { error: '<3>', warn: '<4>', info: '<6>', debug: '<7>' };
const DEFAULT_COMPONENT = 'pv-ctrl';

/** What a line is about, besides its message. */
export interface LogContext {
  /** The part of pv-ctrl speaking (`audit` for the request audit trail); pv-ctrl otherwise. */
  readonly component?: string;
  /** The caller of the request the line is about. */
  readonly caller?: { readonly container: string | undefined; readonly pid: number };
  /** Structured values; only the JSON format writes them (the message carries them as text). */
  readonly fields?: Readonly<Record<string, string | number>>;
}

export interface Logger {
  error(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  debug(message: string, context?: LogContext): void;
}

/** One formatted line (with its newline); a pure function of its inputs. */
export function formatLogLine(format: LogFormat, at: LogLevel, message: string, context: LogContext | undefined, now: Date): string {
  const component = context?.component ?? DEFAULT_COMPONENT;
  if (format === 'json') {
    const caller = context?.caller;
    const record: Record<string, unknown> = {
      time: now.toISOString(),
      level: at,
      component,
      message,
      ...(caller !== undefined ? { caller: { container: caller.container ?? null, pid: caller.pid } } : {}),
      ...context?.fields,
    };
    return `${JSON.stringify(record)}\n`;
  }
  const prefix = component === DEFAULT_COMPONENT ? '' : `${component}: `;
  // One event, one line: a message with line breaks would otherwise become several journal entries.
  const text = message.includes('\n') ? message.replace(/\n/g, '\\n') : message;
  if (format === 'journal') return `${PRIORITY[at]}${prefix}${text}\n`;
  return `${now.toISOString()} [pv-ctrl] ${at.toUpperCase()} ${prefix}${text}\n`;
}

export function createLogger(
  level: LogLevel,
  sink: (line: string) => void = (line) => process.stderr.write(line),
  format: LogFormat = 'text',
): Logger {
  const emit = (at: LogLevel, message: string, context: LogContext | undefined): void => {
    if (ORDER[at] > ORDER[level]) return;
    sink(formatLogLine(format, at, message, context, new Date()));
  };
  return {
    error: (message, context) => emit('error', message, context),
    warn: (message, context) => emit('warn', message, context),
    info: (message, context) => emit('info', message, context),
    debug: (message, context) => emit('debug', message, context),
  };
}

/**
 * The format to use: an explicit choice (`--log-format`, else PV_LOG_FORMAT) wins; otherwise
 * `journal` when stderr is the journal stream systemd named in JOURNAL_STREAM (`<dev>:<inode>`,
 * compared with stderr itself, as systemd.exec(5) asks: a child that inherited the variable but
 * writes elsewhere must not prefix), else `text`. Undefined for an unknown explicit format.
 */
export function chooseLogFormat(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  stderrIdentity: () => { dev: bigint; ino: bigint } | undefined,
): LogFormat | undefined {
  const explicit = flag ?? (env.PV_LOG_FORMAT !== undefined && env.PV_LOG_FORMAT !== '' ? env.PV_LOG_FORMAT : undefined);
  if (explicit !== undefined) return (LOG_FORMATS as readonly string[]).includes(explicit) ? (explicit as LogFormat) : undefined;
  const stream = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (stream === null) return 'text';
  const identity = stderrIdentity();
  return identity !== undefined && identity.dev === BigInt(stream[1] as string) && identity.ino === BigInt(stream[2] as string) ? 'journal' : 'text';
}
