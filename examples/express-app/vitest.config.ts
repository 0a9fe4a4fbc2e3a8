import { defineProject, mergeConfig } from 'vitest/config';
import shared, { heavyStartTimeouts, timeouts } from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    // Hooks start the app on PGlite or PostgreSQL and worker processes: see heavyStartTimeouts.
    test: { name: 'express-app', globalSetup: ['test/global-setup.ts'], ...timeouts(heavyStartTimeouts) },
  }),
);
