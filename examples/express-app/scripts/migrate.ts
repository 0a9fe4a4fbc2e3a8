// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (or the embedded PGlite
// database) and exits. The app also migrates at start; this is for deploy pipelines.
import { BreakerRegistry, createSafeCall } from '@hardening/core';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/context.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrator.js';

const config = loadConfig();
const logger = createLogger(config.env.LOG_LEVEL);
const db = await openDatabase({
  databaseUrl: config.env.DATABASE_URL,
  pgliteDir: config.env.PGLITE_DATA_DIR,
  logger,
  safeCall: createSafeCall({ registry: new BreakerRegistry(), logger }),
  migrate: false,
});
const session = await db.session();
try {
  const applied = await migrate(session, logger);
  console.log(applied.length === 0 ? 'Database is up to date.' : `Applied: ${applied.join(', ')}`);
} finally {
  await session.end();
  await db.close();
}
