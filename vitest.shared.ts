import { configDefaults, defineProject, type TestProjectInlineConfiguration } from 'vitest/config';

/** The two timeouts a project sets, in milliseconds. */
export interface Timeouts {
  readonly testTimeout: number;
  readonly hookTimeout: number;
}

/** The CLI spellings vitest accepts for each timeout (cac takes camelCase and kebab-case). */
const flags: Record<keyof Timeouts, { readonly names: readonly string[]; readonly env: string }> = {
  testTimeout: { names: ['--testTimeout', '--test-timeout'], env: 'VITEST_TEST_TIMEOUT' },
  hookTimeout: { names: ['--hookTimeout', '--hook-timeout'], env: 'VITEST_HOOK_TIMEOUT' },
};

function flagValue(names: readonly string[], argv: readonly string[]): string | undefined {
  let found: string | undefined;
  argv.forEach((arg, i) => {
    for (const name of names) {
      if (arg === name) found = argv[i + 1];
      else if (arg.startsWith(`${name}=`)) found = arg.slice(name.length + 1);
    }
  });
  return found;
}

function parseTimeout(source: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`Expected ${source} to be a positive whole number of milliseconds, got "${raw}".`);
  }
  return value;
}

/**
 * A project's timeouts: its own defaults, overridden by the command line (`--hookTimeout`,
 * `--testTimeout`), then by `VITEST_HOOK_TIMEOUT` / `VITEST_TEST_TIMEOUT`.
 *
 * Why: vitest passes `--testTimeout` on to the projects of a workspace but not
 * `--hookTimeout` (vitest 4.1 `resolveProjects` lists the CLI options it forwards), so a
 * project config's `hookTimeout` used to win over the command line. Reading both here lets
 * whoever runs the suite on a loaded machine raise (or lower, to find a real hang) every
 * project's budget at once. A value that is not a positive integer throws, naming its source.
 *
 * @param defaults - the project's own timeouts when nothing overrides them.
 * @param argv - the command line to read (the current process by default).
 * @param env - the environment to read (the current process by default).
 * @returns the timeouts to put in the project's `test` options.
 * @throws TypeError when a flag or variable is set but is not a positive integer.
 * @example
 * // VITEST_HOOK_TIMEOUT=300000 npx vitest run examples/express-app
 * const { hookTimeout } = timeouts({ testTimeout: 20_000, hookTimeout: 120_000 }, [], { VITEST_HOOK_TIMEOUT: '300000' });
 * // hookTimeout === 300_000
 */
export function timeouts(defaults: Timeouts, argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Timeouts {
  const resolve = (key: keyof Timeouts): number => {
    const { names, env: envName } = flags[key];
    const fromFlag = flagValue(names, argv);
    if (fromFlag !== undefined) return parseTimeout(names[0]!, fromFlag);
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== '') return parseTimeout(envName, fromEnv);
    return defaults[key];
  };
  return { testTimeout: resolve('testTimeout'), hookTimeout: resolve('hookTimeout') };
}

/**
 * Timeouts of projects whose hooks start an app, a worker process or an embedded PGlite
 * (WebAssembly PostgreSQL plus migrations). On a quiet machine that takes a few seconds; with
 * the 2 shared cores at a load average near 20 it took over 30 s, and the suites failed in
 * `beforeAll` rather than on an assertion. Start-up speed is not what these tests check (it
 * is measured in `bench/`), so the budget is generous; a real hang still fails, at 120 s.
 * Tests get 60 s: with two files at once on a load average near 20, PGlite-heavy tests that
 * take 2-5 s on a quiet machine (a simulated day of monitor rounds, a fresh initdb) took
 * 33-84 s.
 */
export const heavyStartTimeouts: Timeouts = { testTimeout: 60_000, hookTimeout: 120_000 };

/**
 * Package test files that register process-wide OpenTelemetry providers (and read what the
 * package's telemetry module cached from them): each runs in a fresh worker of its own, in a
 * project named `<package>-isolated` (see {@link withIsolatedFiles}). In one shared worker
 * the circuit-breaker and alerting telemetry tests read no metrics (4 failures, checked).
 */
export const isolatedFiles: readonly string[] = ['src/telemetry.test.ts', 'src/telemetry-scope.test.ts'];

/**
 * A package's project as two: its files in one worker with one module cache (`isolate:
 * false`), and {@link isolatedFiles} each in a fresh worker. Plain spreads, not
 * `mergeConfig`, which would concatenate the `include` lists.
 *
 * Why: with isolation each of the packages' 106 files started a worker and imported the
 * package sources and test support again: 57 s between files in a full run at a load of 2-7,
 * 26 s without isolation (load 4-8). The files share no module-level state they change: each
 * test builds its own breakers, stores, services and servers, and restores fake timers.
 *
 * @param project - the package's project config (its `vitest.config.ts`).
 * @param root - the package directory.
 * @returns the shared-worker project and the isolated one.
 * @example
 * // vitest.config.ts at the repository root
 * projects: [...withIsolatedFiles(alerting, 'packages/alerting')]
 */
export function withIsolatedFiles(project: TestProjectInlineConfiguration, root: string): TestProjectInlineConfiguration[] {
  const test = project.test ?? {};
  // A project's name may also be { label, color }: name the isolated half after the label, not "[object Object]".
  const name = typeof test.name === 'object' ? test.name.label : test.name;
  return [
    { ...project, root, test: { ...test, isolate: false, exclude: [...configDefaults.exclude, ...isolatedFiles] } },
    { ...project, root, test: { ...test, name: `${name ?? 'undefined'}-isolated`, isolate: true, include: [...isolatedFiles] } },
  ];
}

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
    ...timeouts({ testTimeout: 20_000, hookTimeout: 30_000 }),
  },
});
