// The behaviour every AlertStore must have, run against memory, Redis, PostgreSQL and
// PGlite. Times are explicit (the stores use the app's clock).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertStore, ClaimRequest, TrackedDelivery } from '../src/index.js';

const hour = 3_600_000;
const t0 = Date.parse('2026-03-01T00:00:00Z');

export interface StoreHandle {
  readonly store: AlertStore;
  close(): Promise<void>;
}

let typeCounter = 0;
/** A type of its own per test, so tests sharing a store never see each other. */
const freshType = (label: string) => `${label.toUpperCase()}_${++typeCounter}_${Math.random().toString(36).slice(2, 6)}`;

function claimOf(type: string, key: string, now: number, extra: Partial<ClaimRequest> = {}): ClaimRequest {
  const alertId = randomUUID();
  return {
    alertId,
    type,
    key,
    resourceId: key === '*' ? undefined : key,
    severity: 'HIGH',
    title: `title of ${alertId}`,
    payload: JSON.stringify({ id: alertId, type, key }),
    now,
    windowMs: 6 * hour,
    ...extra,
  };
}

export function describeAlertStoreContract(name: string, open: () => Promise<StoreHandle>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip === true)(`AlertStore contract: ${name}`, () => {
    let handle: StoreHandle;
    let store: AlertStore;
    beforeAll(async () => {
      handle = await open();
      store = handle.store;
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('the first claim in a window wins; duplicates see the holder and count occurrences', async () => {
      const type = freshType('claim');
      const first = claimOf(type, 'client_1', t0);
      const won = await store.claim(first);
      expect(won).toMatchObject({ claimed: true, alertId: first.alertId, severity: 'HIGH', firstSeenAt: t0, expiresAt: t0 + 6 * hour, occurrences: 1 });
      const dup = await store.claim(claimOf(type, 'client_1', t0 + 1000));
      expect(dup).toMatchObject({ claimed: false, alertId: first.alertId, expiresAt: t0 + 6 * hour, occurrences: 2 });
      expect((await store.claim(claimOf(type, 'client_2', t0))).claimed).toBe(true);
      expect((await store.claim(claimOf(type, '*', t0))).claimed).toBe(true);
    });

    it('exactly one of 50 concurrent claims wins', async () => {
      const type = freshType('race');
      const results = await Promise.all(Array.from({ length: 50 }, () => store.claim(claimOf(type, 'r', t0))));
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
      const winner = results.find((r) => r.claimed)!.alertId;
      expect(results.every((r) => r.alertId === winner)).toBe(true);
      expect(Math.max(...results.map((r) => r.occurrences))).toBe(50);
    });

    it('after the window the key can be claimed again; first-seen and occurrences carry on', async () => {
      const type = freshType('window');
      await store.claim(claimOf(type, 'k', t0));
      expect((await store.claim(claimOf(type, 'k', t0 + 6 * hour - 1))).claimed).toBe(false);
      const again = await store.claim(claimOf(type, 'k', t0 + 6 * hour));
      expect(again).toMatchObject({ claimed: true, firstSeenAt: t0, occurrences: 3, expiresAt: t0 + 12 * hour });
    });

    it('release frees the key held by that alert only', async () => {
      const type = freshType('release');
      const held = claimOf(type, 'k', t0);
      await store.claim(held);
      await store.release({ type, key: 'k', alertId: randomUUID(), at: t0 + 1 });
      expect((await store.claim(claimOf(type, 'k', t0 + 2))).claimed).toBe(false);
      await store.release({ type, key: 'k', alertId: held.alertId, at: t0 + 3 });
      expect(await store.claim(claimOf(type, 'k', t0 + 4))).toMatchObject({ claimed: true, firstSeenAt: t0 });
    });

    it('a claim at a higher severity takes over the key held at a lower one (a worse condition is sent again); lower or equal does not', async () => {
      const type = freshType('rise');
      const low = claimOf(type, 'client_9', t0, { severity: 'LOW' });
      expect((await store.claim(low)).claimed).toBe(true);
      expect((await store.claim(claimOf(type, 'client_9', t0 + 2 * hour, { severity: 'LOW' }))).claimed).toBe(false);
      const medium = claimOf(type, 'client_9', t0 + 4 * hour, { severity: 'MEDIUM' });
      expect(await store.claim(medium)).toMatchObject({
        claimed: true,
        alertId: medium.alertId,
        severity: 'MEDIUM',
        firstSeenAt: t0,
        expiresAt: t0 + 10 * hour,
      });
      expect(await store.claim(claimOf(type, 'client_9', t0 + 5 * hour, { severity: 'LOW' }))).toMatchObject({ claimed: false, alertId: medium.alertId });
      expect(await store.claim(claimOf(type, 'client_9', t0 + 5 * hour, { severity: 'MEDIUM' }))).toMatchObject({ claimed: false, alertId: medium.alertId });
      const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(claimOf(type, 'client_9', t0 + 6 * hour, { severity: 'HIGH' }))));
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
    });

    it('a claim retried with the same alert id answers with that id as holder (the service counts it as won)', async () => {
      const type = freshType('retry');
      const first = claimOf(type, 'k', t0);
      await store.claim(first);
      const again = await store.claim({ ...first, now: t0 + 1 });
      expect(again.alertId).toBe(first.alertId);
    });

    it('appendMany writes every row; pending deliveries are listed per sink and a re-tracked id replaces the first', async () => {
      const type = freshType('batch');
      if (store.appendMany !== undefined) {
        await store.appendMany(
          Array.from({ length: 50 }, (_, i) => ({
            alertId: `a${i}`,
            type,
            key: 'k',
            resourceId: undefined,
            severity: 'HIGH' as const,
            outcome: 'suppressed' as const,
            sinks: [],
            detail: i === 0 ? 'first' : undefined,
            at: t0 + i,
          })),
        );
        const rows = await store.history({ since: t0, type, limit: 100 });
        expect(rows).toHaveLength(50);
        expect(rows.at(-1)).toMatchObject({ alertId: 'a0', detail: 'first', sinks: [], resourceId: undefined });
      }
      if (store.listPendingDeliveries !== undefined) {
        const id = `pending:${type}`;
        const page = {
          deliveryId: id,
          alertId: 'a',
          type,
          key: 'k',
          sink: 'alerting.pending',
          status: 'pending' as const,
          payload: '{"n":1}',
          sentAt: t0,
          deadlineAt: t0 + 1000,
        };
        await store.trackDelivery(page);
        await store.trackDelivery({ ...page, payload: '{"n":2}', deadlineAt: t0 + 5000 });
        const listed = (await store.listPendingDeliveries({ sink: 'alerting.pending', limit: 1000 })).filter((d) => d.type === type);
        expect(listed.map((d) => ({ ...d, payload: JSON.parse(d.payload) as unknown }))).toEqual([{ ...page, payload: { n: 2 }, deadlineAt: t0 + 5000 }]);
        expect((await store.takeOverdueDeliveries({ at: t0 + 2000, limit: 1000 })).filter((d) => d.type === type)).toEqual([]);
        const due = (await store.takeOverdueDeliveries({ at: t0 + 5000, limit: 1000 })).filter((d) => d.type === type);
        expect(due.map((d) => JSON.parse(d.payload) as unknown)).toEqual([{ n: 2 }]);
        // taken once: a second instance gets nothing
        expect((await store.takeOverdueDeliveries({ at: t0 + 6000, limit: 1000 })).filter((d) => d.type === type)).toEqual([]);
        await store.trackDelivery({ ...page, payload: '{"n":3}', deadlineAt: t0 + 7000 });
        expect(
          (await store.listPendingDeliveries({ sink: 'alerting.pending', limit: 1000 }))
            .filter((d) => d.type === type)
            .map((d) => JSON.parse(d.payload) as unknown),
        ).toEqual([{ n: 3 }]);
      }
    });

    it('resolve hands the open record to exactly one caller, then the key starts over', async () => {
      const type = freshType('resolve');
      const held = claimOf(type, 'res_1', t0, { severity: 'MEDIUM' });
      await store.claim(held);
      await store.claim(claimOf(type, 'res_1', t0 + hour, { severity: 'MEDIUM' }));
      await store.markDelivered({ type, key: 'res_1', alertId: held.alertId, at: t0 + 10, sinks: ['sms', 'slack'] });
      const results = await Promise.all(Array.from({ length: 10 }, () => store.resolve({ type, key: 'res_1', at: t0 + 2 * hour })));
      const records = results.filter((r) => r !== undefined);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        alertId: held.alertId,
        type,
        key: 'res_1',
        resourceId: 'res_1',
        severity: 'MEDIUM',
        title: held.title,
        firstSeenAt: t0,
        lastSeenAt: t0 + hour,
        deliveredAt: t0 + 10,
        sinks: ['sms', 'slack'],
        escalatedAt: undefined,
        occurrences: 2,
      });
      expect(JSON.parse(records[0]!.payload)).toEqual(JSON.parse(held.payload));
      expect(await store.resolve({ type, key: 'res_1', at: t0 + 3 * hour })).toBeUndefined();
      expect(await store.resolve({ type, key: 'never', at: t0 })).toBeUndefined();
      expect(await store.claim(claimOf(type, 'res_1', t0 + 3 * hour))).toMatchObject({ claimed: true, firstSeenAt: t0 + 3 * hour, occurrences: 1 });
    });

    it('hasOpenHigh: an open HIGH alert on a resource, other than the asking key, inside its window', async () => {
      const type = freshType('inhibit');
      const resource = `res_${randomUUID().slice(0, 8)}`;
      await store.claim(claimOf(`${type}_MEDIUM`, resource, t0, { severity: 'MEDIUM' }));
      const ask = (at: number) => store.hasOpenHigh({ resourceId: resource, exceptType: `${type}_OTHER`, exceptKey: resource, at });
      expect(await ask(t0)).toBe(false);
      const high = claimOf(type, resource, t0);
      await store.claim(high);
      expect(await ask(t0 + 1)).toBe(true);
      expect(await store.hasOpenHigh({ resourceId: resource, exceptType: type, exceptKey: resource, at: t0 + 1 })).toBe(false);
      expect(await ask(t0 + 6 * hour)).toBe(false);
      await store.resolve({ type, key: resource, at: t0 + 2 });
      expect(await ask(t0 + 3)).toBe(false);
    });

    it('escalation: delivered, unresolved MEDIUM alerts seen recently are candidates; exactly one caller escalates', async () => {
      const type = freshType('escalate');
      const medium = claimOf(type, 'm1', t0, { severity: 'MEDIUM' });
      await store.claim(medium);
      const undelivered = claimOf(type, 'm2', t0, { severity: 'MEDIUM' });
      await store.claim(undelivered);
      await store.claim(claimOf(type, 'h1', t0, { severity: 'HIGH' }));
      await store.markDelivered({ type, key: 'm1', alertId: medium.alertId, at: t0, sinks: ['slack'] });
      await store.claim(claimOf(type, 'm1', t0 + 5 * hour, { severity: 'MEDIUM' })); // seen again within its window (suppressed)

      const mine = async (firstSeenBefore: number, lastSeenAfter: number) =>
        (await store.escalationCandidates({ firstSeenBefore, lastSeenAfter, limit: 1000 })).filter((c) => c.type === type);
      expect(await mine(t0 - 1, t0)).toEqual([]);
      expect(await mine(t0 + 12 * hour, t0 + 6 * hour)).toEqual([]); // not seen since t0+5h
      const candidates = await mine(t0 + 12 * hour, t0 + 4 * hour);
      expect(candidates.map((c) => c.key)).toEqual(['m1']);
      expect(candidates[0]).toMatchObject({ alertId: medium.alertId, severity: 'MEDIUM', lastSeenAt: t0 + 5 * hour, occurrences: 2 });

      const claims = await Promise.all(
        Array.from({ length: 5 }, () => store.claimEscalation({ type, key: 'm1', alertId: medium.alertId, at: t0 + 12 * hour })),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await mine(t0 + 12 * hour, t0)).toEqual([]);
      // Its window (t0 to t0+6h) is over: escalated or not, it inhibits nothing now.
      expect(await store.hasOpenHigh({ resourceId: 'm1', exceptType: 'OTHER', exceptKey: 'm1', at: t0 + 12 * hour })).toBe(false);
      // A new window of the still-unresolved, escalated alert goes out as HIGH.
      expect(await store.claim(claimOf(type, 'm1', t0 + 13 * hour, { severity: 'MEDIUM' }))).toMatchObject({
        claimed: true,
        severity: 'HIGH',
        firstSeenAt: t0,
      });
      expect(await store.hasOpenHigh({ resourceId: 'm1', exceptType: 'OTHER', exceptKey: 'm1', at: t0 + 13 * hour + 1 })).toBe(true);
    });

    it('history: appended rows come back newest first, filtered by type and key, counted by outcome, pruned by age', async () => {
      const type = freshType('history');
      const base = { alertId: randomUUID(), type, resourceId: 'c1', severity: 'HIGH' as const, sinks: ['sms'], detail: undefined };
      await store.append({ ...base, key: 'c1', outcome: 'delivered', at: t0 + 1000 });
      await store.append({ ...base, key: 'c1', outcome: 'suppressed', sinks: [], detail: 'duplicate of x', at: t0 + 2000 });
      await store.append({ ...base, key: 'c2', resourceId: 'c2', severity: 'MEDIUM', outcome: 'failed', sinks: ['slack', 'log'], at: t0 + 3000 });
      await store.append({ ...base, key: '*', resourceId: undefined, outcome: 'resolved', at: t0 - 5000 });

      const rows = await store.history({ since: t0, type });
      expect(rows.map((r) => r.outcome)).toEqual(['failed', 'suppressed', 'delivered']);
      expect(rows[0]).toEqual({
        alertId: base.alertId,
        type,
        key: 'c2',
        resourceId: 'c2',
        severity: 'MEDIUM',
        outcome: 'failed',
        sinks: ['slack', 'log'],
        detail: undefined,
        at: t0 + 3000,
      });
      expect(rows[1]!.detail).toBe('duplicate of x');
      expect((await store.history({ since: t0, type, key: 'c1' })).map((r) => r.outcome)).toEqual(['suppressed', 'delivered']);
      expect((await store.history({ since: t0 - 10_000, type, limit: 2 })).map((r) => r.at)).toEqual([t0 + 3000, t0 + 2000]);

      const counts = (await store.countOutcomes({ since: t0 })).filter((c) => c.type === type);
      expect(counts.sort((a, b) => a.outcome.localeCompare(b.outcome))).toEqual([
        { type, severity: 'HIGH', outcome: 'delivered', count: 1 },
        { type, severity: 'MEDIUM', outcome: 'failed', count: 1 },
        { type, severity: 'HIGH', outcome: 'suppressed', count: 1 },
      ]);
      await store.prune({ historyBefore: t0 + 2500, idleBefore: t0 - 1 });
      expect((await store.history({ since: 0, type })).map((r) => r.outcome)).toEqual(['failed']);
    });

    it('delivery receipts: settled once, overdue ones taken once', async () => {
      const type = freshType('receipt');
      const delivery = (id: string, deadlineAt: number): TrackedDelivery => ({
        deliveryId: `SM${type}${id}`,
        alertId: randomUUID(),
        type,
        key: 'k',
        sink: 'sms',
        status: 'pending',
        payload: JSON.stringify({ n: id }),
        sentAt: t0,
        deadlineAt,
      });
      await store.trackDelivery(delivery('a', t0 + 5 * 60_000));
      await store.trackDelivery(delivery('b', t0 + 5 * 60_000));
      await store.trackDelivery(delivery('c', t0 + 60 * 60_000));

      const settled = await Promise.all([1, 2, 3].map(() => store.settleDelivery({ deliveryId: `SM${type}a`, status: 'delivered', at: t0 + 1000 })));
      expect(settled.filter((s) => s !== undefined)).toEqual([
        { ...delivery('a', t0 + 5 * 60_000), alertId: expect.any(String), payload: expect.any(String), status: 'delivered' },
      ]);
      expect(JSON.parse(settled.find((s) => s !== undefined)!.payload)).toEqual({ n: 'a' });
      expect(await store.settleDelivery({ deliveryId: 'SMunknown', status: 'failed', at: t0 })).toBeUndefined();

      expect((await store.takeOverdueDeliveries({ at: t0 + 4 * 60_000, limit: 10 })).filter((d) => d.type === type)).toEqual([]);
      const [x, y] = await Promise.all([1, 2].map(() => store.takeOverdueDeliveries({ at: t0 + 5 * 60_000, limit: 10 })));
      const taken = [...x!, ...y!].filter((d) => d.type === type);
      expect(taken.map((d) => d.deliveryId)).toEqual([`SM${type}b`]);
      expect(taken[0]!.status).toBe('expired');
      expect(await store.settleDelivery({ deliveryId: `SM${type}b`, status: 'delivered', at: t0 + 6 * 60_000 })).toBeUndefined();
      expect((await store.settleDelivery({ deliveryId: `SM${type}c`, status: 'failed', at: t0 + 6 * 60_000 }))?.status).toBe('failed');
    });
  });
}
