import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import alerting from './packages/alerting/vitest.config.ts';
import circuitBreaker from './packages/circuit-breaker/vitest.config.ts';
import core from './packages/core/vitest.config.ts';
import health from './packages/health/vitest.config.ts';
import idempotency from './packages/idempotency/vitest.config.ts';
import { withIsolatedFiles } from './vitest.shared.ts';

export default defineConfig({
  test: {
    // Each package runs its files in one shared worker, but for the few that register
    // process-wide telemetry (see withIsolatedFiles); `--project 'alerting*'` runs both parts.
    projects: [
      ...withIsolatedFiles(alerting, 'packages/alerting'),
      ...withIsolatedFiles(circuitBreaker, 'packages/circuit-breaker'),
      ...withIsolatedFiles(core, 'packages/core'),
      ...withIsolatedFiles(health, 'packages/health'),
      ...withIsolatedFiles(idempotency, 'packages/idempotency'),
      'examples/*',
    ],
    // One file per core. Most of the slow files wait on the clock, not the CPU (a database
    // hung past Twilio's 15 s, a store slowed by 0-4 s, a shutdown budget): one at a time left
    // half of a 2-core machine idle (CPU 52 %, 774 s). Two at once: 424 s, CPU 103 %, every
    // test passing (2026-12-07, same machine, quiet). An earlier try at a load of 5-10 was no
    // faster and exposed a real missed-call race, fixed since in issue 11. Override with
    // `--maxWorkers` or VITEST_MAX_WORKERS to run fewer.
    maxWorkers: Math.max(1, availableParallelism()),
  },
});
