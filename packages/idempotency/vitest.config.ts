import { defineProject, mergeConfig } from 'vitest/config';
import shared, { heavyStartTimeouts, timeouts } from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: 'idempotency',
      // Generates the Prisma client of test/generated/ from the shipped model snippet.
      globalSetup: ['./test/global-setup.ts'],
      // The Prisma store tests open PGlite and migrate it in their hooks: see heavyStartTimeouts.
      ...timeouts(heavyStartTimeouts),
    },
  }),
);
