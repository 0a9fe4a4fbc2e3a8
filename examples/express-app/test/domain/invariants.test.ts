// Each data invariant, broken and holding, on a migrated PGlite database.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { dataInvariants } from '../../src/domain/invariants.js';
import { addNumbers } from '../../src/domain/number-pool.js';
import { freshDatabase } from '../support/databases.js';

const systemNumber = '+15550000000';

describe('data invariants', () => {
  let db: Database;
  beforeAll(async () => {
    db = await freshDatabase('pglite', 'invariants');
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await db.prisma.$executeRawUnsafe('TRUNCATE "pool_numbers", "clients" CASCADE');
    await addNumbers(db.prisma, [systemNumber], 'SYSTEM');
  });

  const check = async () => {
    const out: Record<string, true | string> = {};
    for (const invariant of dataInvariants(systemNumber)) out[invariant.name] = await invariant.check(db.prisma);
    return out;
  };
  const broken = async () => Object.entries(await check()).filter(([, v]) => v !== true);

  it('a consistent pool and clients: every invariant holds', async () => {
    await addNumbers(db.prisma, ['+15559990001', '+15559990002']);
    const client = await db.prisma.client.create({ data: { phone: '+15552220001', onboardingState: 'COMPLETE' } });
    await db.prisma.poolNumber.update({ where: { phoneNumber: '+15559990001' }, data: { status: 'ASSIGNED', clientId: client.id } });
    await db.prisma.client.create({ data: { phone: '+15552220002', onboardingState: 'S3_SERVICE_AREA' } }); // waits for a number: fine
    expect(await broken()).toEqual([]);
  });

  it('an ASSIGNED number without a client', async () => {
    const row = await db.prisma.poolNumber.create({ data: { phoneNumber: '+15559990003', status: 'ASSIGNED' } });
    expect(await broken()).toEqual([['assigned numbers have a client', `1 ASSIGNED number(s) without a client: ${row.id}`]]);
  });

  it('an AVAILABLE number linked to a client', async () => {
    const client = await db.prisma.client.create({ data: { phone: '+15552220003', onboardingState: 'S3_SERVICE_AREA' } });
    const row = await db.prisma.poolNumber.create({ data: { phoneNumber: '+15559990004', clientId: client.id } });
    expect(await broken()).toEqual([['available numbers have no client', `1 AVAILABLE number(s) linked to a client: ${row.id}`]]);
  });

  it('the SYSTEM number assigned to a client', async () => {
    const client = await db.prisma.client.create({ data: { phone: '+15552220004', onboardingState: 'S4_NUMBER_ALLOCATED' } });
    const system = await db.prisma.poolNumber.update({ where: { phoneNumber: systemNumber }, data: { status: 'ASSIGNED', clientId: client.id } });
    expect(await broken()).toEqual([['the system number is never assigned', `1 system number row(s) assigned to a client: ${system.id}`]]);
  });

  it('a second SYSTEM number, or TWILIO_FROM_NUMBER in the pool as a client number', async () => {
    const other = await db.prisma.poolNumber.create({ data: { phoneNumber: '+15550000001', role: 'SYSTEM' } });
    const failures = await broken();
    expect(failures.map(([name]) => name)).toEqual(['the only SYSTEM number is TWILIO_FROM_NUMBER']);
    expect(failures[0]![1]).toContain(other.id);
    expect(failures[0]![1]).not.toContain('+15550000001'); // masked

    await db.prisma.poolNumber.delete({ where: { id: other.id } });
    await db.prisma.poolNumber.update({ where: { phoneNumber: systemNumber }, data: { role: 'CLIENT' } });
    expect((await broken()).map(([name]) => name)).toEqual(['the only SYSTEM number is TWILIO_FROM_NUMBER']);
  });

  it('a client past number allocation without a number', async () => {
    const lost = await Promise.all(
      (['S4_NUMBER_ALLOCATED', 'S5_CONFIRM_LIVE', 'S9_TEST_CALL', 'COMPLETE'] as const).map((state, i) =>
        db.prisma.client.create({ data: { phone: `+155522201${i}0`, onboardingState: state } }),
      ),
    );
    const failures = await broken();
    expect(failures.map(([name]) => name)).toEqual(['clients from S4 on have a number']);
    expect(failures[0]![1]).toMatch(/^4 client\(s\) past number allocation without a number: /);
    for (const client of lost.slice(0, 4)) expect(failures[0]![1]).toContain(client.id);
  });

  it("an owner whose phone is one of the app's numbers", async () => {
    await addNumbers(db.prisma, ['+15559990005']);
    const looping = await db.prisma.client.create({ data: { phone: '+15559990005' } });
    const system = await db.prisma.client.create({ data: { phone: systemNumber } });
    const failures = await broken();
    expect(failures.map(([name]) => name)).toEqual(["owners' phones are not the app's numbers"]);
    expect(failures[0]![1]).toContain(looping.id);
    expect(failures[0]![1]).toContain(system.id);
  });
});
