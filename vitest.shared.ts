import { defineProject } from 'vitest/config';

/**
 * Settings every package's tests share. The `@hardening/source` export condition makes
 * `import '@hardening/core'` resolve to the TypeScript source, so tests never run against
 * a stale build.
 */
export default defineProject({
  resolve: { conditions: ['@hardening/source'] },
  ssr: { resolve: { conditions: ['@hardening/source'] } },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
