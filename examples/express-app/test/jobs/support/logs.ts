import type { Logger } from '@hardening/core';

/** One line a {@link captureLogger} kept. */
export interface LogLine {
  readonly level: string;
  readonly msg: string | undefined;
  readonly fields: Record<string, unknown>;
}

/** A pino-shaped logger that keeps every line, so tests can read what operators would see. */
export function captureLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[]; text(): string } {
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
