import type { AlertService, SilenceRecord as StoredSilence } from '@hardening/alerting';
import type { Logger } from '@hardening/core';

/** Alert severities a silence can match. */
export type SilenceSeverity = 'LOW' | 'MEDIUM' | 'HIGH';

/** Which alerts a silence mutes: every field given must match; none mutes everything. */
export interface SilenceRecordMatcher {
  readonly type?: readonly string[] | undefined;
  readonly resourceId?: readonly string[] | undefined;
  readonly severity?: readonly SilenceSeverity[] | undefined;
}

/** A silence as the admin API shows it. */
export interface SilenceRecord {
  readonly id: string;
  readonly matcher: SilenceRecordMatcher;
  readonly reason: string | undefined;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly until: string;
}

/** Options of {@link SilenceBook}. */
export interface SilenceBookOptions {
  readonly alerts: Pick<AlertService, 'createSilence' | 'listSilences' | 'expireSilence'>;
  readonly logger: Logger;
  /** Ignored: silences live in the alert service's store (kept so callers need not change). */
  readonly redis?: unknown;
  /** Ignored, as `redis`. */
  readonly key?: string;
}

const toRecord = (silence: StoredSilence): SilenceRecord => ({
  id: silence.id,
  matcher: {
    ...(silence.matcher.type === undefined ? {} : { type: silence.matcher.type }),
    ...(silence.matcher.resourceId === undefined ? {} : { resourceId: silence.matcher.resourceId }),
    ...(silence.matcher.severity === undefined ? {} : { severity: silence.matcher.severity }),
  },
  reason: silence.reason,
  createdAt: silence.createdAt,
  until: silence.until,
});

/**
 * The admin API's alert silences, addressable by id: a thin view of `@hardening/alerting`'s
 * shared silences, which live in the alert service's store (Redis or the database), carry
 * the same id on every instance, expire on their own, and end everywhere when ended on one
 * (other instances apply changes within the service's maintenance interval, 10 s).
 */
export class SilenceBook {
  constructor(private readonly options: SilenceBookOptions) {}

  /** Kept for the wiring: the alert service's maintenance loop does the syncing. */
  start(): void {}

  /** Kept for the wiring: nothing to stop. */
  close(): void {}

  /** Applies silences created or ended on other instances now, rather than at the next maintenance. */
  async sync(): Promise<void> {
    await this.options.alerts.listSilences();
  }

  /**
   * Creates a silence until `until`, shared by every instance.
   *
   * @throws TypeError when the alert service refuses it (end in the past or over 7 days ahead).
   * @throws the store's error when it cannot be shared (it then holds on this instance only).
   */
  async create(input: { readonly matcher: SilenceRecordMatcher; readonly until: Date; readonly reason?: string | undefined }): Promise<SilenceRecord> {
    const silence = await this.options.alerts.createSilence(
      {
        ...(input.matcher.type === undefined ? {} : { type: input.matcher.type }),
        ...(input.matcher.resourceId === undefined ? {} : { resourceId: input.matcher.resourceId }),
        ...(input.matcher.severity === undefined ? {} : { severity: input.matcher.severity }),
      },
      { until: input.until, ...(input.reason === undefined ? {} : { reason: input.reason }) },
    );
    return toRecord(silence);
  }

  /** Active silences of the fleet, soonest end first. */
  async list(): Promise<SilenceRecord[]> {
    return (await this.options.alerts.listSilences()).map(toRecord).sort((a, b) => a.until.localeCompare(b.until));
  }

  /**
   * Ends a silence on every instance.
   *
   * @returns False when no active silence has this id.
   */
  async remove(id: string): Promise<boolean> {
    return this.options.alerts.expireSilence(id);
  }
}
