import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*'],
    // At least two test files at once. Vitest's default is one fewer than the cores, which on
    // a 2-core machine is one file at a time: a file waiting on PGlite, a child process, a
    // real server or a timer then leaves a core idle, and the suite took ~830 s. Files do not
    // share state (unique databases, Redis prefixes, ports and temp folders per file), so
    // running two at once only needs the generous budgets vitest.shared.ts gives. Override
    // with `--maxWorkers` or VITEST_MAX_WORKERS.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
