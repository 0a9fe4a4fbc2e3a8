import type { Logger } from '@hardening/core';

export interface LogLine {
  level: string;
  msg: string | undefined;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line (pino-style child bindings included). */
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
