import { defineProject, mergeConfig } from 'vitest/config';
import shared, { heavyStartTimeouts, timeouts } from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    // Hooks start the app on PGlite or PostgreSQL and worker processes: see heavyStartTimeouts.
    // In-memory PGlite databases start from a migrated template: see test/setup/pglite-template.ts.
    // isolate: false: the test files of this project share one worker's module cache instead
    // of each loading the whole app, the packages' sources and the Prisma client again
    // (vitest's import phase; 6 e2e files: 37-42 s -> 22 s of CPU). The app keeps no state
    // across contexts at module level (each test builds its own context, registries and
    // servers); setupFiles still run before every file.
    test: {
      name: 'express-app',
      globalSetup: ['test/global-setup.ts'],
      setupFiles: ['test/setup/pglite-template.ts'],
      isolate: false,
      ...timeouts(heavyStartTimeouts),
    },
  }),
);
