import { fileURLToPath } from 'node:url';
import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    // The README example imports the package by name, as a user would.
    resolve: { alias: [{ find: /^@hardening\/core$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
    test: { name: 'core', globalSetup: ['test/global-setup.ts'] },
  }),
);
