// The app on a random port, built exactly as main.ts builds it (loadConfig -> buildContext ->
// createApp), for tests over real HTTP.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { buildContext, type BuiltContext, type ContextOverrides } from '../../src/context.js';
import { createApp } from '../../src/server.js';

/** The admin token every test app uses (long enough for the schema and the health router). */
export const testAdminToken = 'test-admin-token-0123456789abcdef';

/** A running app. */
export interface TestApp {
  readonly url: string;
  readonly built: BuiltContext;
  readonly ctx: BuiltContext['ctx'];
  /** `fetch` on the app's URL. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** `fetch` with the admin bearer token (and JSON for a `json` body). */
  admin(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the app with `env` on top of a quiet test baseline (PGlite in memory, silent logs,
 * the test admin token, its own spool file) and marks it started.
 */
export async function startTestApp(
  env: Record<string, string | undefined> = {},
  overrides: ContextOverrides = {},
  options: { readonly markStarted?: boolean } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'app-test-'));
  const config = loadConfig({ PGLITE_DATA_DIR: 'memory://', LOG_LEVEL: 'silent', ADMIN_TOKEN: testAdminToken, ...env });
  const built = await buildContext(config, { spoolFile: join(dir, 'spool.jsonl'), ...overrides });
  const app = createApp(built.ctx);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  if (options.markStarted !== false) built.ctx.health.monitor.markStarted();
  const request = (path: string, init?: RequestInit) => fetch(`${url}${path}`, init);
  return {
    url,
    built,
    ctx: built.ctx,
    request,
    admin: (path, init = {}) => {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set('authorization', `Bearer ${config.adminToken}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return request(path, { ...rest, headers, ...(json === undefined ? {} : { body: JSON.stringify(json), method: rest.method ?? 'POST' }) });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await built.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a problem+json answer, checking its content type. */
export async function problemOf(
  response: Response,
): Promise<{ title: string; status: number; detail?: string; 'invalid-params'?: Array<{ name: string; in: string; reason: string }> }> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) throw new Error(`expected problem+json, got ${type}: ${await response.text()}`);
  return (await response.json()) as never;
}
