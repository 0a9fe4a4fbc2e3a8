import { describeError } from './delivery.js';
import { scrubText } from './format.js';
import { HistoryWriter } from './history-writer.js';
import type { AlertRuntime } from './runtime.js';

/**
 * The alert service's write-behind history: batches to the durable store through the
 * runtime (its breaker and health), with one log line per drop, outage and recovery.
 *
 * @param runtime - The service's runtime (durable store, its call wrapper, logger, clock).
 * @returns The history writer.
 * @example
 * const history = createAlertHistory(runtime);
 * history.add(entry);
 */
export function createAlertHistory(runtime: AlertRuntime): HistoryWriter {
  const { durable: store, logger, clock } = runtime;
  return new HistoryWriter({
    write: async (entries) => {
      await runtime.durableCall(() =>
        store.appendMany !== undefined ? store.appendMany(entries) : Promise.all(entries.map((e) => store.append(e))).then(() => undefined),
      );
    },
    onDrop: (dropped) =>
      logger.warn(
        { dropped, store: store.kind },
        `alerting: history queue full; the oldest rows are dropped (${dropped} so far; alerts themselves are unaffected)`,
      ),
    onError: (queued, error, retryInMs) =>
      logger.warn(
        { queued, store: store.kind, retryInMs, err: describeError(error) },
        `alerting: history store unavailable; ${queued} rows kept in memory and written when it answers`,
      ),
    onRecovered: (written) => logger.info({ written, store: store.kind }, 'alerting: history store answers again; queued rows written'),
    describe: (error) => scrubText(describeError(error)),
    now: () => clock.now(),
  });
}
