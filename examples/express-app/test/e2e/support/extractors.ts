// An extractor standing in for the OpenAI-compatible provider: the deterministic rules,
// with failures and slowness the test switches on, and a call count. (The extractor is a
// provider interface; this is a fake provider, not a stub of the code under test.)
import type { Extraction, ExtractionGoal, Extractor } from '../../../src/domain/extractor.js';
import { deterministicExtractor } from '../../../src/domain/extractor.js';

/** The provider's failure, as the OpenAI SDK would raise it. */
export class ProviderUnavailableError extends Error {
  readonly status = 503;
  constructor() {
    super('extractor provider answered 503 Service Unavailable');
    this.name = 'ProviderUnavailableError';
  }
}

/** A controllable extractor. */
export interface ControlledExtractor {
  readonly extractor: Extractor;
  /** Calls made since the last reset, by goal. */
  readonly calls: ExtractionGoal[];
  /** The next `times` calls for `goal` (any goal when omitted) throw. */
  failNext(times: number, goal?: ExtractionGoal): void;
  /** Calls for `goal` take `ms` longer until {@link ControlledExtractor.reset}. */
  slow(ms: number, goal?: ExtractionGoal): void;
  reset(): void;
}

/** Creates a {@link ControlledExtractor} over the deterministic rules. */
export function controlledExtractor(): ControlledExtractor {
  const calls: ExtractionGoal[] = [];
  let failures: { left: number; goal: ExtractionGoal | undefined } = { left: 0, goal: undefined };
  let slowness: { ms: number; goal: ExtractionGoal | undefined } = { ms: 0, goal: undefined };
  const applies = (rule: ExtractionGoal | undefined, goal: ExtractionGoal) => rule === undefined || rule === goal;
  return {
    calls,
    extractor: {
      name: 'controlled',
      async extract(goal: ExtractionGoal, text: string, signal?: AbortSignal): Promise<Extraction> {
        calls.push(goal);
        if (slowness.ms > 0 && applies(slowness.goal, goal)) {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, slowness.ms);
            signal?.addEventListener(
              'abort',
              () => {
                clearTimeout(timer);
                // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's abort reason, as the real extractor rejects with it
                reject(signal.reason);
              },
              { once: true },
            );
          });
        }
        if (failures.left > 0 && applies(failures.goal, goal)) {
          failures.left--;
          throw new ProviderUnavailableError();
        }
        return deterministicExtractor.extract(goal, text);
      },
    },
    failNext(times, goal) {
      failures = { left: times, goal };
    },
    slow(ms, goal) {
      slowness = { ms, goal };
    },
    reset() {
      calls.length = 0;
      failures = { left: 0, goal: undefined };
      slowness = { ms: 0, goal: undefined };
    },
  };
}
