import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    test: { name: 'express-app', globalSetup: ['test/global-setup.ts'], testTimeout: 30_000 },
  }),
);
