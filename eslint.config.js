// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'docs/api/**', '**/coverage/**', '**/.data/**', '**/generated/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        Request: 'readonly',
        Response: 'readonly',
        Headers: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // typescript-eslint's type-aware recommended rules (issue 13), on every TypeScript file.
  // Among them the promise gates: a promise nobody awaits or handles, or one passed where a
  // callback's result is ignored (an async Express handler's rejection, an async listener),
  // is a failure nobody sees.
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: {
          // The root configs, the app's vitest config and the Prisma stub's types (no tsconfig of
          // their own): 4 files today. The benchmarks have bench/tsconfig.json (their SDK types
          // live in the packages that depend on them).
          allowDefaultProject: ['*.ts', 'examples/*/vitest.config.ts', 'tools/prisma-stub/*.d.mts'],
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 32,
          // Those files get the workspace's compiler options (strict, Node's types) rather than
          // TypeScript's defaults, which since 6.0 include no @types at all.
          defaultProject: 'tsconfig.base.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  // Tests read HTTP and JSON bodies that are `any` by design (supertest's `res.body`,
  // `await res.json()`, a fake provider's request log) and poke at them field by field; typing
  // each would add casts, not safety. Only the no-unsafe-* family is off there: every other
  // type-aware rule holds for tests too.
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
