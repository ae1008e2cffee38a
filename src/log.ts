/** Minimal leveled logger writing one line per event to stderr (the daemon's log). */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export function createLogger(level: LogLevel, sink: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (at: LogLevel, message: string): void => {
    if (ORDER[at] > ORDER[level]) return;
    sink(`${new Date().toISOString()} [pv-ctrl] ${at.toUpperCase()} ${message}\n`);
  };
  return {
    error: (message) => emit('error', message),
    warn: (message) => emit('warn', message),
    info: (message) => emit('info', message),
    debug: (message) => emit('debug', message),
  };
}
