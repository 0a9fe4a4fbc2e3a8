// What the database refuses is told apart from an outage, on real databases, and Prisma's
// errors are logged without the values they quote.
import { requirePostgres } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError, isRefusedInput, RefusedInputError } from '../../src/db/refused-input.js';
import { freshDatabase, type Backend } from '../support/databases.js';

const postgresUp = await requirePostgres();
const marker = 'MARKER-5b1e-customer-text +15125550199';

describe.each<Backend>(['postgres', 'pglite'])('refused input on %s', (backend) => {
  const up = backend !== 'postgres' || postgresUp;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    if (up) db = await freshDatabase(backend, 'refused_input');
  }, 120_000);
  afterAll(async () => db?.close());

  const caught = async (work: () => Promise<unknown>): Promise<unknown> => {
    try {
      await work();
    } catch (error) {
      return error;
    }
    throw new Error('expected the database to refuse the input');
  };

  it.skipIf(!up)('NUL in text, NUL in jsonb, a lone surrogate in jsonb, an object for a string: refused input, described without the value', async () => {
    const errors = [
      await caught(() => db.prisma.slackSignal.create({ data: { eventId: `Ev\u0000${marker}`, channel: 'c', text: marker } })),
      await caught(() => db.prisma.inboundEvent.createMany({ data: [{ messageSid: 'SMnul', payload: { Body: `a\u0000 ${marker}` } }] })),
      await caught(() => db.prisma.inboundEvent.createMany({ data: [{ messageSid: 'SMsur', payload: { Body: `a\ud800 ${marker}` } }] })),
      await caught(() => db.prisma.slackSignal.create({ data: { eventId: 'Ev1', channel: 'c', text: { marker } as never } })),
    ];
    for (const error of errors) {
      expect(isRefusedInput(error), String(error)).toBe(true);
      const text = describeError(error);
      expect(text).toMatch(/^PrismaClient/);
      expect(text).not.toContain('MARKER');
      expect(text).not.toContain('5550199');
    }
    // Prisma's own message quotes the values (the validation error's does): that is what describeError leaves out.
    expect(errors.some((error) => String((error as Error).message).includes('MARKER'))).toBe(true);
  });
});

describe('isRefusedInput on errors that are not the input', () => {
  it('connection failures, timeouts and unique races are not refused input', () => {
    expect(isRefusedInput(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isRefusedInput({ name: 'PrismaClientKnownRequestError', code: 'P1001' })).toBe(false);
    expect(isRefusedInput({ name: 'PrismaClientKnownRequestError', code: 'P2039', meta: { driverAdapterError: { cause: { originalCode: '57014' } } } })).toBe(
      false,
    );
    expect(isRefusedInput({ code: '23505' })).toBe(false);
    expect(isRefusedInput(new RefusedInputError('malformed'))).toBe(true);
    expect(isRefusedInput(new Error('wrapped', { cause: { code: '22021' } }))).toBe(true);
  });
});
