import type { AlertMessage, AlertSink, SinkContext } from '../../src/index.js';

/**
 * A sink at the boundary of the system under test: it keeps what it was given (a
 * stand-in for a provider, for tests where the provider's wire format is not the point:
 * detectors, escalation, aggregation under fake timers). `fail` makes the next sends throw.
 */
export function recordingSink(
  name: string,
  options: { remote?: boolean } = {},
): AlertSink & {
  received: AlertMessage[];
  attempts: number;
  failWith(error: unknown, times?: number): void;
} {
  const received: AlertMessage[] = [];
  const failures: unknown[] = [];
  const sink = {
    name,
    remote: options.remote ?? true,
    received,
    attempts: 0,
    failWith(error: unknown, times = 1) {
      for (let i = 0; i < times; i++) failures.push(error);
    },
    send(message: AlertMessage, _context: SinkContext) {
      sink.attempts++;
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- whatever failWith was given, Error or not
      if (failures.length > 0) return Promise.reject(failures.shift());
      received.push(message);
      return Promise.resolve({ ids: [message.id] });
    },
  };
  return sink;
}
