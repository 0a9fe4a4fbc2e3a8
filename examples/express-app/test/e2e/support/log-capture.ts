// Captures the app's structured logs (a real pino logger, with the app's own redaction) so
// tests can check that every failure path said something, and that no full phone number
// or secret was ever written.
import { Writable } from 'node:stream';
import type { Logger } from '@hardening/core';
import { createLogger } from '../../../src/context.js';

/** One log line, parsed. */
export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly time: number;
  readonly [field: string]: unknown;
}

/** pino's numeric levels. */
export const levels = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** The logger handed to the app, and what it wrote. */
export interface CapturedLogs {
  readonly logger: Logger;
  readonly records: LogRecord[];
  /** The raw lines, for "this text never appears" checks. */
  readonly lines: string[];
  /** Records whose message matches, at `minLevel` or above. */
  find(message: RegExp | string, minLevel?: number): LogRecord[];
  /** Records at warn or above. */
  problems(): LogRecord[];
  /** Throws when any line contains one of `needles` (full phone numbers, secrets). */
  assertNever(needles: readonly string[]): void;
  clear(): void;
}

/**
 * A pino logger (the app's `createLogger`, so its redaction applies) writing into memory.
 * Set `E2E_LOG=1` to also see the lines on stderr.
 */
export function captureLogs(level = 'debug'): CapturedLogs {
  const records: LogRecord[] = [];
  const lines: string[] = [];
  const echo = process.env.E2E_LOG === '1';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        lines.push(line);
        try {
          records.push(JSON.parse(line) as LogRecord);
        } catch {
          records.push({ level: levels.info, msg: line, time: Date.now() });
        }
        if (echo) process.stderr.write(`${line}\n`);
      }
      callback();
    },
  });
  const matches = (record: LogRecord, message: RegExp | string) =>
    typeof message === 'string' ? (record.msg ?? '').includes(message) : message.test(record.msg ?? '');
  return {
    logger: createLogger(level, stream),
    records,
    lines,
    find: (message, minLevel = 0) => records.filter((r) => r.level >= minLevel && matches(r, message)),
    problems: () => records.filter((r) => r.level >= levels.warn),
    assertNever(needles) {
      for (const needle of needles) {
        const hit = lines.find((line) => line.includes(needle));
        if (hit !== undefined) throw new Error(`a log line contains ${JSON.stringify(needle)}: ${hit}`);
      }
    },
    clear() {
      records.length = 0;
      lines.length = 0;
    },
  };
}
