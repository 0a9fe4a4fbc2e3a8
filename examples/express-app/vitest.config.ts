import { defineProject, mergeConfig } from 'vitest/config';
import shared, { heavyStartTimeouts, timeouts } from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    // Hooks start the app on PGlite or PostgreSQL and worker processes: see heavyStartTimeouts.
    // In-memory PGlite databases start from a migrated template: see test/setup/pglite-template.ts.
    test: { name: 'express-app', globalSetup: ['test/global-setup.ts'], setupFiles: ['test/setup/pglite-template.ts'], ...timeouts(heavyStartTimeouts) },
  }),
);
