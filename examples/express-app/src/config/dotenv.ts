import { existsSync } from 'node:fs';

/**
 * Reads `.env` from the working directory into `process.env` when there is one (Node's own
 * parser; variables already set in the environment win). `pnpm start`, `pnpm sim` and
 * `pnpm run doctor` call it first; `.env.example` lists every variable.
 *
 * @example
 * ```ts
 * loadDotEnv();
 * const config = loadConfig(process.env);
 * ```
 * @returns Whether a file was read.
 */
export function loadDotEnv(file = '.env'): boolean {
  if (!existsSync(file)) return false;
  process.loadEnvFile(file);
  return true;
}
