import type { Prisma } from '../db/generated/client.js';
import type { DbOrTx } from '../db/types.js';
import { scrubText } from '@hardening/core';

/** A delivery: one webhook event or job, and where it stands. */
export interface DeliveryKey {
  readonly provider: string;
  readonly eventId: string;
  readonly kind: string;
}

/**
 * The webhook delivery log (7 days): every queued piece of work has a row that says
 * pending, processing, completed, failed (will retry) or dead_letter, with attempts and
 * the last (scrubbed) error. It is the durable record the queue works from: work still
 * pending after a restart is queued again from here.
 */
export const deliveryLog = {
  /** Records a delivery (once per key); returns its id. */
  async record(db: DbOrTx, key: DeliveryKey, payload: Prisma.InputJsonValue): Promise<string> {
    await db.webhookDelivery.createMany({ data: [{ ...key, payload }], skipDuplicates: true });
    const row = await db.webhookDelivery.findUniqueOrThrow({ where: { provider_eventId_kind: key }, select: { id: true } });
    return row.id;
  },
  async processing(db: DbOrTx, id: string): Promise<void> {
    await db.webhookDelivery.update({ where: { id }, data: { status: 'processing', attempts: { increment: 1 } } });
  },
  async completed(db: DbOrTx, id: string): Promise<void> {
    await db.webhookDelivery.update({ where: { id }, data: { status: 'completed', lastError: null } });
  },
  async failed(db: DbOrTx, id: string, error: unknown, final: boolean): Promise<void> {
    const lastError = scrubText(error instanceof Error ? error.message : String(error)).slice(0, 500);
    await db.webhookDelivery.update({ where: { id }, data: { status: final ? 'dead_letter' : 'failed', lastError } });
  },
};
