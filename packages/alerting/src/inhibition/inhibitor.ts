import type { AlertMessage } from '../alert.js';
import type { Acknowledgements } from '../acknowledgements/acknowledgements.js';
import type { AlertRuntime } from '../runtime.js';
import type { InhibitRule } from './inhibit-rules.js';
import { inhibits, matchesAlert } from './inhibit-rules.js';

/** What the {@link Inhibitor} needs besides the runtime. */
export interface InhibitorOptions {
  /** `default`: the store's own rule (HIGH mutes MEDIUM/LOW on the same resource); `false`: none; else the rules. */
  readonly rules: 'default' | false | readonly InhibitRule[];
  /** The index of delivered, unresolved alerts (configured rules read it). */
  readonly acks: Acknowledgements;
  /** An alert's suppression window (a source is open inside it). */
  readonly windowOf: (type: string) => number;
}

/**
 * Decides whether a new alert is muted by an open one. The default rule asks the store
 * (`hasOpenHigh`, one indexed query); configured rules read the durable index of delivered,
 * unresolved alerts (one listing per alert that some rule's target matches; none otherwise).
 * A store failure does not mute: the alert goes on to its claim.
 */
export class Inhibitor {
  constructor(
    private readonly runtime: AlertRuntime,
    private readonly options: InhibitorOptions,
  ) {}

  /**
   * Why `message` is inhibited, or `undefined`.
   *
   * @param message - The new alert.
   * @param now - Current time.
   * @returns The reason (for the history), or `undefined`.
   */
  async check(message: AlertMessage, now: number): Promise<string | undefined> {
    const { rules } = this.options;
    if (rules === false) return undefined;
    if (rules === 'default') {
      if (message.severity === 'HIGH' || message.resourceId === undefined) return undefined;
      const inhibited = await this.runtime
        .storeCall('primary', () =>
          this.runtime.store.hasOpenHigh({ resourceId: message.resourceId!, exceptType: message.type, exceptKey: message.key, at: now }),
        )
        .catch(() => false);
      return inhibited ? 'a HIGH alert is open on the same resource' : undefined;
    }
    const applicable = rules.filter((rule) => matchesAlert(rule.target, message));
    if (applicable.length === 0) return undefined;
    const open = await this.options.acks.openAlerts(now).catch(() => []);
    for (const source of open) {
      if (source.type === message.type && source.key === message.key) continue;
      if (source.at + this.options.windowOf(source.type) <= now) continue;
      const rule = applicable.find((r) => inhibits(r, source, message));
      if (rule !== undefined) {
        return `inhibited by rule ${rules.indexOf(rule)}: ${source.type} (${source.severity}) is open${source.resourceId !== undefined ? ` on ${source.resourceId}` : ''}`;
      }
    }
    return undefined;
  }
}
