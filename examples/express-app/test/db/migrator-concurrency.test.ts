// Instances starting together on a fresh PostgreSQL database: each migration is applied
// once, and none of them fails on the ledger table's creation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@hardening/core';
import { createTestDatabase, requirePostgres, type TestDatabase } from '@hardening/test-support';
import { migrate, pendingMigrations, readMigrations } from '../../src/db/migrator.js';
import { postgresSession } from '../../src/db/sql-session.js';

const pgUp = await requirePostgres();

describe.skipIf(!pgUp)('migrations from several instances at once (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('migrate_race');
  });
  afterAll(async () => database?.drop());

  it('six sessions migrating a fresh database together: all succeed, each migration applied once', async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => postgresSession(database.url)));
    try {
      const applied = await Promise.all(sessions.map((session) => migrate(session, silentLogger)));
      expect(applied.flat().sort()).toEqual(readMigrations().map((m) => m.name));
      expect(await pendingMigrations(sessions[0]!)).toEqual([]);
    } finally {
      await Promise.all(sessions.map((s) => s.end()));
    }
  });
});
