import { defineProject, mergeConfig } from 'vitest/config';
import shared, { heavyStartTimeouts, timeouts } from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: 'health',
      globalSetup: ['test/global-setup.ts'],
      // The shutdown and README tests start tsx child processes: see heavyStartTimeouts.
      ...timeouts(heavyStartTimeouts),
    },
  }),
);
