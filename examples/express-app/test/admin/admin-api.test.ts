// The admin API over real HTTP on the embedded database: auth, ETags, every endpoint's happy
// path, bad input (400 naming the field) and unknown ids (404).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@hardening/test-support';
import type { OnboardingState } from '../../src/db/generated/client.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { startJobRunner } from '../../src/jobs/job-runner.js';
import { problemOf, startTestApp, type TestApp } from '../support/http-app.js';

const hour = 3_600_000;
const systemNumber = '+15550000000';
let app: TestApp;
let phoneSeq = 0;

async function client(state: OnboardingState, enteredAgoMs: number, extra: { businessName?: string } = {}) {
  phoneSeq++;
  return app.ctx.db.prisma.client.create({
    data: {
      phone: `+1555310${String(phoneSeq).padStart(4, '0')}`,
      businessName: extra.businessName ?? `Business ${phoneSeq}`,
      onboardingState: state,
      stateEnteredAt: new Date(Date.now() - enteredAgoMs),
    },
  });
}

async function json<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

beforeAll(async () => {
  app = await startTestApp();
  startJobRunner(app.ctx);
  await addNumbers(app.ctx.db.prisma, [systemNumber], 'SYSTEM');
});
afterAll(async () => {
  await app?.close();
});

describe('admin API: authentication', () => {
  const endpoints: Array<[string, string]> = [
    ['GET', '/api/admin/stuck-clients'],
    ['GET', '/api/admin/alert-stats'],
    ['GET', '/api/admin/circuit-breakers'],
    ['GET', '/api/admin/alert-silences'],
    ['POST', '/api/admin/alert-silences'],
    ['DELETE', '/api/admin/alert-silences/00000000-0000-4000-8000-000000000000'],
    ['POST', '/api/admin/clients/00000000-0000-4000-8000-000000000000/resolve'],
    ['POST', '/api/admin/clients/00000000-0000-4000-8000-000000000000/activate-payment'],
    ['POST', '/api/admin/numbers'],
    ['GET', '/api/admin/deliveries'],
    ['POST', '/api/admin/deliveries/00000000-0000-4000-8000-000000000000/redrive'],
    ['GET', '/api/admin/outbox'],
    ['POST', '/automations/replay/00000000-0000-4000-8000-000000000000'],
    ['GET', '/metrics'],
  ];

  it.each(endpoints)('%s %s answers 401 problem+json without the token, or with a wrong one', async (method, path) => {
    for (const authorization of [undefined, 'Bearer not-the-admin-token-at-all-000000', 'Basic Zm9vOmJhcg==']) {
      const response = await app.request(path, { method, headers: authorization === undefined ? {} : { authorization } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await problemOf(response)).title).toBe('Unauthorized');
    }
  });

  it('changes nothing when refused', async () => {
    const before = await app.ctx.db.prisma.poolNumber.count();
    await app.request('/api/admin/numbers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ numbers: ['+15553990001'] }),
    });
    expect(await app.ctx.db.prisma.poolNumber.count()).toBe(before);
  });
});

describe('GET /api/admin/stuck-clients', () => {
  let payment: { id: string };
  let testCall: { id: string };
  let area: { id: string };
  beforeAll(async () => {
    payment = await client('S5_CONFIRM_LIVE', 9 * hour); // 4.5x the 2 h limit: HIGH PAYMENT_BLOCK
    testCall = await client('S9_TEST_CALL', 30 * hour); // terminal: HIGH STUCK_CLIENT
    area = await client('S3_SERVICE_AREA', 45 * 60_000); // 1.5x the 30 min limit: LOW
    await client('S2_BUSINESS_NAME', hour); // under its 24 h limit: not stuck
    await client('COMPLETE', 100 * hour);
  });

  it('lists stuck clients worst first, with the alert each raises', async () => {
    const body = await json<{ count: number; clients: Array<Record<string, unknown>> }>(await app.admin('/api/admin/stuck-clients'), 200);
    const ours = body.clients.filter((c) => [payment.id, testCall.id, area.id].includes(c.id as string));
    // HIGH first, then the most overdue (4.5x the limit before 1.25x).
    expect(ours.map((c) => [c.id, c.alertType, c.severity, c.terminal])).toEqual([
      [payment.id, 'PAYMENT_BLOCK', 'HIGH', false],
      [testCall.id, 'STUCK_CLIENT', 'HIGH', true],
      [area.id, 'STUCK_CLIENT', 'LOW', false],
    ]);
    expect(ours[0]).toMatchObject({ state: 'S5_CONFIRM_LIVE', maxDwellMinutes: 120, dwellMinutes: expect.any(Number) });
    expect(JSON.stringify(body)).not.toMatch(/\+1555/); // no phone numbers
  });

  it('filters on severity (one or several) and terminal', async () => {
    const high = await json<{ clients: Array<{ id: string; severity: string }> }>(await app.admin('/api/admin/stuck-clients?severity=HIGH'), 200);
    expect(high.clients.every((c) => c.severity === 'HIGH')).toBe(true);
    expect(high.clients.map((c) => c.id)).toEqual(expect.arrayContaining([payment.id, testCall.id]));
    expect(high.clients.map((c) => c.id)).not.toContain(area.id);
    const terminal = await json<{ clients: Array<{ id: string }> }>(await app.admin('/api/admin/stuck-clients?severity=HIGH&terminal=true'), 200);
    expect(terminal.clients.map((c) => c.id)).toEqual([testCall.id]);
    const some = await json<{ clients: Array<{ id: string }> }>(await app.admin('/api/admin/stuck-clients?severity=low,medium&terminal=false'), 200);
    expect(some.clients.map((c) => c.id)).toEqual([area.id]);
  });

  it('answers 304 to If-None-Match with the ETag, and sends Cache-Control', async () => {
    const first = await app.admin('/api/admin/stuck-clients?severity=HIGH');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toMatch(/private, max-age=\d+/);
    const again = await app.admin('/api/admin/stuck-clients?severity=HIGH', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    // A change in the data changes the ETag.
    const extra = await client('S5_CONFIRM_LIVE', 20 * hour);
    const changed = await app.admin('/api/admin/stuck-clients?severity=HIGH', { headers: { 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    await app.ctx.db.prisma.client.update({ where: { id: extra.id }, data: { onboardingState: 'S9_TEST_CALL', stateEnteredAt: new Date() } });
  });

  it('refuses bad filters with 400 naming the field', async () => {
    const bad = await problemOf(await app.admin('/api/admin/stuck-clients?severity=URGENT'));
    expect(bad.status).toBe(400);
    expect(bad['invalid-params']?.map((p) => [p.name, p.in])).toEqual([['severity.0', 'query']]);
    const terminal = await problemOf(await app.admin('/api/admin/stuck-clients?terminal=yes'));
    expect(terminal['invalid-params']?.[0]?.name).toBe('terminal');
    expect(terminal.detail).toContain('terminal');
  });
});

describe('GET /api/admin/alert-stats', () => {
  it('counts alert outcomes over the period, with an ETag', async () => {
    const sent = await app.ctx.alerts.sendCriticalAlert({ type: 'ADMIN_TEST', severity: 'LOW', resourceId: 'stats-1', title: 'stats', message: 'counted' });
    expect(sent.status).toBe('delivered');
    const response = await app.admin('/api/admin/alert-stats?hours=24');
    const stats = await json<{ hours: number; total: number; delivered: number; byType: Record<string, { delivered: number }> }>(response, 200);
    expect(stats.hours).toBe(24);
    expect(stats.byType.ADMIN_TEST?.delivered).toBe(1);
    const again = await app.admin('/api/admin/alert-stats?hours=24', { headers: { 'if-none-match': response.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('refuses hours out of range', async () => {
    for (const hours of ['0', '-1', 'abc', '5000']) {
      const problem = await problemOf(await app.admin(`/api/admin/alert-stats?hours=${hours}`));
      expect(problem.status).toBe(400);
      expect(problem['invalid-params']?.[0]?.name).toBe('hours');
    }
  });
});

describe('GET /api/admin/circuit-breakers', () => {
  it('shows every breaker and which are open', async () => {
    const breaker = app.ctx.breakers.get('admin_test_provider');
    breaker.open();
    const body = await json<{ open: string[]; breakers: Array<{ name: string; state: string; openedAt: string | null }> }>(
      await app.admin('/api/admin/circuit-breakers'),
      200,
    );
    expect(body.open).toContain('admin_test_provider');
    expect(body.breakers.find((b) => b.name === 'admin_test_provider')).toMatchObject({ state: 'open', openedAt: expect.stringMatching(/^\d{4}-/) });
    breaker.reset();
    const closed = await json<{ open: string[] }>(await app.admin('/api/admin/circuit-breakers'), 200);
    expect(closed.open).not.toContain('admin_test_provider');
  });
});

describe('alert silences', () => {
  const inAnHour = () => new Date(Date.now() + hour).toISOString();

  it('creates a silence that mutes matching alerts, lists it by id, and ends it', async () => {
    const created = await json<{ id: string; until: string; matcher: unknown }>(
      await app.admin('/api/admin/alert-silences', {
        json: { matcher: { type: 'TWILIO_FAILURE', severity: ['LOW', 'MEDIUM'] }, until: inAnHour(), reason: 'Twilio incident' },
      }),
      201,
    );
    expect(created.matcher).toEqual({ type: ['TWILIO_FAILURE'], severity: ['LOW', 'MEDIUM'] });
    const muted = await app.ctx.alerts.sendCriticalAlert({ type: 'TWILIO_FAILURE', severity: 'MEDIUM', resourceId: 's1', title: 't', message: 'm' });
    expect(muted.status).toBe('silenced');
    const high = await app.ctx.alerts.sendCriticalAlert({ type: 'TWILIO_FAILURE', severity: 'HIGH', resourceId: 's2', title: 't', message: 'm' });
    expect(high.status).toBe('delivered');

    const list = await json<{ silences: Array<{ id: string; reason: string }> }>(await app.admin('/api/admin/alert-silences'), 200);
    expect(list.silences).toEqual([expect.objectContaining({ id: created.id, reason: 'Twilio incident' })]);

    const deleted = await app.admin(`/api/admin/alert-silences/${created.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const after = await app.ctx.alerts.sendCriticalAlert({ type: 'TWILIO_FAILURE', severity: 'MEDIUM', resourceId: 's3', title: 't', message: 'm' });
    expect(after.status).toBe('delivered');
    expect((await json<{ count: number }>(await app.admin('/api/admin/alert-silences'), 200)).count).toBe(0);
    expect((await app.admin(`/api/admin/alert-silences/${created.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses bad silences with 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ matcher: {}, until: new Date(Date.now() - 1000).toISOString() }, 'until'],
      [{ matcher: {}, until: new Date(Date.now() + 8 * 24 * hour).toISOString() }, 'until'],
      [{ matcher: {}, until: 'tomorrow' }, 'until'],
      [{ matcher: {} }, 'until'],
      [{ matcher: { severity: 'CRITICAL' }, until: inAnHour() }, 'matcher.severity'],
      [{ matcher: { type: 'lower case' }, until: inAnHour() }, 'matcher.type'],
      [{ matcher: { colour: 'red' }, until: inAnHour() }, 'matcher.colour'],
      [{ until: inAnHour() }, 'matcher'],
    ];
    for (const [body, field] of cases) {
      const problem = await problemOf(await app.admin('/api/admin/alert-silences', { json: body }));
      expect(problem.status, JSON.stringify(body)).toBe(400);
      expect(problem['invalid-params']?.map((p) => p.name)).toContain(field);
    }
    expect((await problemOf(await app.admin('/api/admin/alert-silences/not-a-uuid', { method: 'DELETE' })))['invalid-params']?.[0]?.name).toBe('id');
    expect((await json<{ count: number }>(await app.admin('/api/admin/alert-silences'), 200)).count).toBe(0);
  });
});

describe('POST /api/admin/clients/:id/resolve', () => {
  it('activate_payment: a PAYMENT_BLOCK client moves to the test call, is texted, and its alert is resolved', async () => {
    const c = await client('S5_CONFIRM_LIVE', 5 * hour);
    await app.ctx.db.prisma.client.update({ where: { id: c.id }, data: { stuckDetectedAt: new Date() } });
    await app.ctx.alerts.sendCriticalAlert({ type: 'PAYMENT_BLOCK', severity: 'MEDIUM', resourceId: c.id, title: 'stuck', message: 'waiting for payment' });
    const body = await json<{ from: string; client: Record<string, unknown>; alertsResolved: string[] }>(
      await app.admin(`/api/admin/clients/${c.id}/resolve`, { json: { action: 'activate_payment', note: 'paid by bank transfer' } }),
      200,
    );
    expect(body.from).toBe('S5_CONFIRM_LIVE');
    expect(body.client).toMatchObject({ onboardingState: 'S9_TEST_CALL', paymentActive: true, stuckDetectedAt: null });
    expect(body.client.phone).not.toBe(c.phone);
    expect(body.alertsResolved).toEqual(['PAYMENT_BLOCK']);
    const sms = await app.ctx.db.prisma.outboundMessage.findMany({ where: { toPhone: c.phone } });
    expect(sms.map((m) => m.purpose)).toEqual(['payment']);
  });

  it('complete_test_call: a terminal S9 client completes and is told it is live', async () => {
    const c = await client('S9_TEST_CALL', 40 * hour);
    const body = await json<{ client: { onboardingState: string } }>(
      await app.admin(`/api/admin/clients/${c.id}/resolve`, { json: { action: 'complete_test_call' } }),
      200,
    );
    expect(body.client.onboardingState).toBe('COMPLETE');
    expect((await app.ctx.db.prisma.outboundMessage.findMany({ where: { toPhone: c.phone } })).map((m) => m.purpose)).toEqual(['live']);
  });

  it('allocate_number: 409 while the pool is empty; after POST /numbers waiting clients get one', async () => {
    const waiting = await client('S3_SERVICE_AREA', hour);
    const empty = await problemOf(await app.admin(`/api/admin/clients/${waiting.id}/resolve`, { json: { action: 'allocate_number' } }));
    expect(empty.status).toBe(409);
    expect(empty.detail).toMatch(/pool is empty/);

    // Restocking gives numbers to every client waiting (the area client from above too).
    const added = await json<{ added: string[]; allocated: number }>(
      await app.admin('/api/admin/numbers', { json: { numbers: ['+15553000001', '(555) 300-0002', '+15553000003', '+15553000004'] } }),
      201,
    );
    expect(added.added).toEqual(['+15553000001', '+15553000002', '+15553000003', '+15553000004']);
    expect(added.allocated).toBeGreaterThanOrEqual(1);
    expect((await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { id: waiting.id } })).onboardingState).toBe('S4_NUMBER_ALLOCATED');

    // A client that starts waiting later is served by the resolve action.
    const late = await client('S3_SERVICE_AREA', hour);
    const body = await json<{ client: { onboardingState: string } }>(
      await app.admin(`/api/admin/clients/${late.id}/resolve`, { json: { action: 'allocate_number' } }),
      200,
    );
    expect(body.client.onboardingState).toBe('S4_NUMBER_ALLOCATED');
    const number = await app.ctx.db.prisma.poolNumber.findUniqueOrThrow({ where: { clientId: late.id } });
    const [sms] = await app.ctx.db.prisma.outboundMessage.findMany({ where: { toPhone: late.phone } });
    expect(sms?.body).toContain(number.phoneNumber);
  });

  it('acknowledge: restarts the dwell clock and clears stuckDetectedAt, sending nothing', async () => {
    const c = await client('S1_WELCOME', 50 * hour);
    await app.ctx.db.prisma.client.update({ where: { id: c.id }, data: { stuckDetectedAt: new Date() } });
    const body = await json<{ client: { onboardingState: string; stateEnteredAt: string; stuckDetectedAt: null } }>(
      await app.admin(`/api/admin/clients/${c.id}/resolve`, { json: { action: 'acknowledge' } }),
      200,
    );
    expect(body.client.onboardingState).toBe('S1_WELCOME');
    expect(Date.now() - Date.parse(body.client.stateEnteredAt)).toBeLessThan(60_000);
    expect(body.client.stuckDetectedAt).toBeNull();
    expect(await app.ctx.db.prisma.outboundMessage.count({ where: { toPhone: c.phone } })).toBe(0);
    const stuck = await json<{ clients: Array<{ id: string }> }>(await app.admin('/api/admin/stuck-clients'), 200);
    expect(stuck.clients.map((s) => s.id)).not.toContain(c.id);
  });

  it('answers 409 for an action that does not apply in the client state, 404 for an unknown client, 400 for bad input', async () => {
    const c = await client('S2_BUSINESS_NAME', hour);
    const conflict = await problemOf(await app.admin(`/api/admin/clients/${c.id}/resolve`, { json: { action: 'complete_test_call' } }));
    expect(conflict.status).toBe(409);
    expect(conflict.detail).toContain('S2_BUSINESS_NAME');
    expect((await app.ctx.db.prisma.client.findUniqueOrThrow({ where: { id: c.id } })).onboardingState).toBe('S2_BUSINESS_NAME');

    expect(
      (await problemOf(await app.admin('/api/admin/clients/00000000-0000-4000-8000-000000000000/resolve', { json: { action: 'acknowledge' } }))).status,
    ).toBe(404);
    const badId = await problemOf(await app.admin('/api/admin/clients/42/resolve', { json: { action: 'acknowledge' } }));
    expect([badId.status, badId['invalid-params']?.[0]?.name]).toEqual([400, 'id']);
    const badAction = await problemOf(await app.admin(`/api/admin/clients/${c.id}/resolve`, { json: { action: 'delete' } }));
    expect([badAction.status, badAction['invalid-params']?.[0]?.name]).toEqual([400, 'action']);
    const none = await problemOf(await app.admin(`/api/admin/clients/${c.id}/resolve`, { method: 'POST' }));
    expect([none.status, none['invalid-params']?.[0]?.name]).toEqual([400, 'action']);
    const malformed = await problemOf(
      await app.admin(`/api/admin/clients/${c.id}/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"action":' }),
    );
    expect(malformed.status).toBe(400);
  });
});

describe('POST /api/admin/clients/:id/activate-payment', () => {
  it('activates payment (idempotently) without moving a client that is not waiting for it', async () => {
    const c = await client('S4_NUMBER_ALLOCATED', hour);
    const first = await json<{ alreadyActive: boolean; client: { paymentActive: boolean; onboardingState: string } }>(
      await app.admin(`/api/admin/clients/${c.id}/activate-payment`, { method: 'POST' }),
      200,
    );
    expect(first).toMatchObject({ alreadyActive: false, client: { paymentActive: true, onboardingState: 'S4_NUMBER_ALLOCATED' } });
    const second = await json<{ alreadyActive: boolean }>(await app.admin(`/api/admin/clients/${c.id}/activate-payment`, { method: 'POST' }), 200);
    expect(second.alreadyActive).toBe(true);
    expect(await app.ctx.db.prisma.outboundMessage.count({ where: { toPhone: c.phone } })).toBe(0);
  });

  it('moves a client waiting in S5 to the test call and texts it', async () => {
    const c = await client('S5_CONFIRM_LIVE', hour);
    const body = await json<{ from: string; client: { onboardingState: string } }>(
      await app.admin(`/api/admin/clients/${c.id}/activate-payment`, { method: 'POST' }),
      200,
    );
    expect([body.from, body.client.onboardingState]).toEqual(['S5_CONFIRM_LIVE', 'S9_TEST_CALL']);
    expect(await app.ctx.db.prisma.outboundMessage.count({ where: { toPhone: c.phone, purpose: 'payment' } })).toBe(1);
  });

  it('404 for an unknown client, 400 for a malformed id', async () => {
    expect((await problemOf(await app.admin('/api/admin/clients/00000000-0000-4000-8000-000000000000/activate-payment', { method: 'POST' }))).status).toBe(404);
    expect((await problemOf(await app.admin('/api/admin/clients/x/activate-payment', { method: 'POST' })))['invalid-params']?.[0]?.name).toBe('id');
  });
});

describe('POST /api/admin/numbers', () => {
  it('adds numbers once (200 when all were there already)', async () => {
    const first = await json<{ added: string[] }>(await app.admin('/api/admin/numbers', { json: { numbers: ['+15553100001'], role: 'CLIENT' } }), 201);
    expect(first.added).toEqual(['+15553100001']);
    const again = await json<{ added: string[]; alreadyPresent: string[] }>(
      await app.admin('/api/admin/numbers', { json: { numbers: ['+15553100001'] } }),
      200,
    );
    expect(again).toMatchObject({ added: [], alreadyPresent: ['+15553100001'] });
  });

  it('refuses the whole request when one number is malformed, naming it', async () => {
    const problem = await problemOf(await app.admin('/api/admin/numbers', { json: { numbers: ['+15553100002', 'call me maybe'] } }));
    expect([problem.status, problem['invalid-params']?.[0]?.name]).toEqual([400, 'numbers.1']);
    expect(problem.detail).not.toContain('call me maybe');
    expect(await app.ctx.db.prisma.poolNumber.count({ where: { phoneNumber: '+15553100002' } })).toBe(0);
    for (const [body, field] of [
      [{ numbers: [] }, 'numbers'],
      [{}, 'numbers'],
      [{ numbers: ['+15553100003'], role: 'ADMIN' }, 'role'],
    ] as const) {
      expect((await problemOf(await app.admin('/api/admin/numbers', { json: body })))['invalid-params']?.[0]?.name).toBe(field);
    }
  });
});

describe('webhook delivery log', () => {
  it('lists deliveries newest first, filtered and paginated', async () => {
    for (let i = 0; i < 3; i++) {
      await app.ctx.db.prisma.webhookDelivery.create({
        data: {
          provider: 'pagetest',
          eventId: `ev-${i}`,
          kind: 'process_inbound',
          status: 'dead_letter',
          attempts: 5,
          lastError: 'boom',
          payload: { inboxId: 'x' },
          createdAt: new Date(Date.now() - (10 - i) * 1000),
        },
      });
    }
    await app.ctx.db.prisma.webhookDelivery.create({
      data: { provider: 'pagetest', eventId: 'ev-done', kind: 'process_inbound', status: 'completed', payload: {} },
    });

    const first = await app.admin('/api/admin/deliveries?status=dead_letter&provider=pagetest&limit=2');
    const page1 = await json<{ items: Array<{ eventId: string; status: string }>; nextCursor: string }>(first, 200);
    expect(page1.items.map((d) => d.eventId)).toEqual(['ev-2', 'ev-1']);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await json<{ items: Array<{ eventId: string }>; nextCursor: null }>(
      await app.admin(`/api/admin/deliveries?status=dead_letter&provider=pagetest&limit=2&cursor=${page1.nextCursor}`),
      200,
    );
    expect(page2).toEqual({ items: [expect.objectContaining({ eventId: 'ev-0' })], nextCursor: null });
    expect(
      (await app.admin('/api/admin/deliveries?status=dead_letter&provider=pagetest&limit=2', { headers: { 'if-none-match': first.headers.get('etag')! } }))
        .status,
    ).toBe(304);
  });

  it('refuses bad filters, limits and cursors', async () => {
    for (const [query, field] of [
      ['status=lost', 'status'],
      ['limit=0', 'limit'],
      ['limit=500', 'limit'],
      ['cursor=bm9wZQ', 'cursor'],
      ['provider=Twilio!', 'provider'],
    ]) {
      const problem = await problemOf(await app.admin(`/api/admin/deliveries?${query}`));
      expect([problem.status, problem['invalid-params']?.[0]?.name]).toEqual([400, field]);
    }
  });

  it('re-drives a dead-lettered inbound SMS: back to pending, queued, and processed this time', async () => {
    const sid = `SM${'a'.repeat(32)}`;
    const inbox = await app.ctx.db.prisma.inboundEvent.create({
      data: { messageSid: sid, status: 'dead_letter', attempts: 5, payload: { MessageSid: sid, From: '+15553200001', To: systemNumber, Body: 'hello' } },
    });
    const delivery = await app.ctx.db.prisma.webhookDelivery.create({
      data: {
        provider: 'twilio',
        eventId: sid,
        kind: 'process_inbound',
        status: 'dead_letter',
        attempts: 5,
        lastError: 'database timeout',
        payload: { inboxId: inbox.id },
      },
    });
    const body = await json<{ queued: boolean; delivery: { status: string; attempts: number; lastError: null } }>(
      await app.admin(`/api/admin/deliveries/${delivery.id}/redrive`, { method: 'POST' }),
      202,
    );
    expect(body).toMatchObject({ queued: true, delivery: { status: 'pending', attempts: 0, lastError: null } });
    await eventually(async () => (await app.ctx.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).status === 'completed');
    expect((await app.ctx.db.prisma.inboundEvent.findUniqueOrThrow({ where: { id: inbox.id } })).status).toBe('processed');
    // The new owner got the welcome text through the outbox.
    expect(await app.ctx.db.prisma.outboundMessage.count({ where: { toPhone: '+15553200001', purpose: 'onboarding' } })).toBe(1);

    const again = await problemOf(await app.admin(`/api/admin/deliveries/${delivery.id}/redrive`, { method: 'POST' }));
    expect(again.status).toBe(409);
    expect(again.detail).toContain('completed');
  });

  it('404 for an unknown delivery, 400 for a malformed id', async () => {
    expect((await problemOf(await app.admin('/api/admin/deliveries/00000000-0000-4000-8000-000000000000/redrive', { method: 'POST' }))).status).toBe(404);
    expect((await problemOf(await app.admin('/api/admin/deliveries/abc/redrive', { method: 'POST' })))['invalid-params']?.[0]?.name).toBe('id');
  });
});

describe('GET /api/admin/outbox', () => {
  it('lists outbound SMS with phone numbers masked, in the body too', async () => {
    await app.ctx.db.prisma.outboundMessage.create({
      data: {
        toPhone: '+15553300001',
        fromPhone: '+15553300002',
        body: 'URGENT job from +15553300003: "burst pipe"',
        purpose: 'owner_urgent',
        status: 'dead_letter',
      },
    });
    // A second row of another status, so the unfiltered list is checked without leaning on
    // what earlier tests happened to send (their outbox work may still be running on a busy machine).
    await app.ctx.db.prisma.outboundMessage.create({
      data: { toPhone: '+15553300004', fromPhone: '+15553300002', body: 'Thanks, we got it.', purpose: 'reply', status: 'sent' },
    });
    const response = await app.admin('/api/admin/outbox?status=dead_letter&limit=10');
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).not.toMatch(/15553300001|15553300002|15553300003/);
    const body = JSON.parse(text) as { items: Array<{ to: string; body: string; status: string; purpose: string }> };
    expect(body.items[0]).toMatchObject({ status: 'dead_letter', purpose: 'owner_urgent', body: expect.stringContaining('burst pipe') });
    expect(body.items[0]!.to).toMatch(/\*/);
    const all = await json<{ items: unknown[] }>(await app.admin('/api/admin/outbox'), 200);
    expect(all.items.length).toBeGreaterThan(1);
    expect((await problemOf(await app.admin('/api/admin/outbox?status=arrived')))['invalid-params']?.[0]?.name).toBe('status');
  });
});

describe('POST /automations/replay/:signalId', () => {
  it('replays a timed-out Slack signal evaluation under a new delivery', async () => {
    const signal = await app.ctx.db.prisma.slackSignal.create({
      data: { eventId: 'Ev0REPLAY1', channel: 'C1', text: 'boiler broke, emergency', status: 'timed_out', result: 'TimeoutError' },
    });
    const body = await json<{ signalId: string; deliveryId: string; previousStatus: string }>(
      await app.admin(`/automations/replay/${signal.id}`, { method: 'POST' }),
      202,
    );
    expect(body).toMatchObject({ signalId: signal.id, previousStatus: 'timed_out' });
    const delivery = await app.ctx.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: body.deliveryId } });
    expect(delivery).toMatchObject({ provider: 'slack', kind: 'evaluate_slack_signal' });
    expect(delivery.eventId).toMatch(/^Ev0REPLAY1:replay:/);
    await eventually(async () => (await app.ctx.db.prisma.slackSignal.findUniqueOrThrow({ where: { id: signal.id } })).status === 'evaluated');
    await eventually(async () => (await app.ctx.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: body.deliveryId } })).status === 'completed');

    // Replaying again makes a second delivery; the first stays in the log.
    const second = await json<{ deliveryId: string; previousStatus: string }>(await app.admin(`/automations/replay/${signal.id}`, { method: 'POST' }), 202);
    expect(second.deliveryId).not.toBe(body.deliveryId);
    expect(second.previousStatus).toBe('evaluated');
  });

  it('404 for an unknown signal, 400 for a malformed id', async () => {
    expect((await problemOf(await app.admin('/automations/replay/00000000-0000-4000-8000-000000000000', { method: 'POST' }))).status).toBe(404);
    expect((await problemOf(await app.admin('/automations/replay/nope', { method: 'POST' })))['invalid-params']?.[0]?.name).toBe('signalId');
  });
});
