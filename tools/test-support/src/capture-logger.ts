/** One line a {@link captureLogger} kept. */
export interface LogLine {
  readonly level: string;
  readonly msg: string | undefined;
  readonly fields: Record<string, unknown>;
}

/** What captureLogger returns: a pino-shaped logger (the `Logger` of @hardening/core) that keeps every line. */
export interface CapturingLogger {
  readonly lines: LogLine[];
  /** Every line as text, for `toContain` assertions and failure messages. */
  text(): string;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): CapturingLogger;
}

/**
 * A logger that keeps every line (pino-style child bindings included), so tests can read
 * what operators would see.
 */
export function captureLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): CapturingLogger {
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, msg, fields: { ...bindings, ...obj } });
  };
  return {
    lines,
    text: () => lines.map((l) => `${l.level} ${l.msg ?? ''} ${JSON.stringify(l.fields)}`).join('\n'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => captureLogger(lines, { ...bindings, ...more }),
  };
}
