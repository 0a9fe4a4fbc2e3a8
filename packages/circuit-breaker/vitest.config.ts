import { defineProject, mergeConfig } from 'vitest/config';
import shared, { heavyStartTimeouts, timeouts } from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: 'circuit-breaker',
      // The fleet and shared-state tests fork tsx workers in their hooks: see heavyStartTimeouts.
      ...timeouts(heavyStartTimeouts),
    },
  }),
);
