// Re-exports for tests, plus a logger that drops everything.
import { silentLogger } from '@hardening/core';

export * from '../../src/index.js';
export const silentLoggerForTests = silentLogger;

/** A logger that records every line, to assert on what was logged. */
export function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
