import type { Logger } from '@hardening/core';
import { describeError } from './delivery.js';
import type { SilenceRecord } from './silences.js';
import { Silences } from './silences.js';
import type { AlertStore } from './store/alert-store.js';

/**
 * The pseudo-sink under which silences sit in the durable store's delivery table: a row
 * per silence, pending until its end (so it expires on its own), settled when ended early.
 */
export const silenceSink = 'alerting.silence';

/**
 * Silences shared by every instance on the store: each is applied here at once (in
 * {@link Silences}) and written to the store under the same id; `sync` applies the ones
 * created or ended elsewhere. Without `listPendingDeliveries` on the store, silences stay
 * in this process.
 */
export class SharedSilences {
  /** The silences applied in this process (matched against every alert). */
  readonly local = new Silences();
  /** Silences created here and not yet stored. */
  private readonly unsynced = new Set<string>();

  constructor(
    private readonly store: AlertStore,
    private readonly call: <T>(fn: () => Promise<T>) => Promise<T>,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Stores a silence just added to `local` (in the background; a failure is logged). */
  share(id: string): void {
    this.unsynced.add(id);
    void this.write(id).catch((error) =>
      this.logger.warn(
        { silenceId: id, err: describeError(error) },
        'alerting: silence kept in this process only (store unavailable); other instances do not see it yet',
      ),
    );
  }

  /** Stores a silence just added to `local`; rejects when the store is unreachable. */
  async write(id: string): Promise<void> {
    const record = this.local.record(id);
    if (record === undefined || this.store.listPendingDeliveries === undefined) return;
    await this.call(() =>
      this.store.trackDelivery({
        deliveryId: `silence:${id}`,
        alertId: id,
        type: silenceSink,
        key: id,
        sink: silenceSink,
        status: 'pending',
        payload: JSON.stringify(record),
        sentAt: Date.parse(record.createdAt),
        deadlineAt: Date.parse(record.until),
      }),
    );
    this.unsynced.delete(id);
    this.local.stored(id);
  }

  /** Ends a silence here and in the store; whether it was active in either. */
  async expire(id: string): Promise<boolean> {
    const local = this.local.record(id);
    const removed = this.local.remove(id);
    this.unsynced.delete(id);
    let stored = false;
    if (this.store.listPendingDeliveries !== undefined) {
      stored =
        (await this.call(() => this.store.settleDelivery({ deliveryId: `silence:${id}`, status: 'delivered', at: this.now() })).catch(() => undefined)) !==
        undefined;
    }
    if (removed || stored) this.logger.warn({ silenceId: id, matcher: local?.matcher }, 'silence ended early');
    return removed || stored;
  }

  /** Applies the silences in the store (created or ended on other instances). */
  async sync(): Promise<void> {
    const list = this.store.listPendingDeliveries?.bind(this.store);
    if (list === undefined) return;
    for (const id of [...this.unsynced]) await this.write(id).catch(() => undefined);
    const rows = await this.call(() => list({ sink: silenceSink, limit: 1000 }));
    this.local.sync(
      rows.map((row) => JSON.parse(row.payload) as SilenceRecord),
      this.now(),
      this.unsynced,
    );
  }

  /** The active silences here, in their stored form. */
  records(): SilenceRecord[] {
    return this.local
      .list(this.now())
      .map((info) => this.local.record(info.id))
      .filter((record): record is SilenceRecord => record !== undefined);
  }
}
