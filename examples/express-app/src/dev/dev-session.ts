import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What a running development app tells `pnpm sim` (and only in development): where it
 * listens and the secrets it checks webhooks with, so the simulator can sign requests as
 * the providers do. Written by `pnpm start` with mode 0600 under `.data/` (git-ignored).
 */
export interface DevSession {
  readonly url: string;
  /** The base URL Twilio signatures are computed over (PUBLIC_BASE_URL, or `url`). */
  readonly publicUrl: string;
  readonly adminToken: string;
  readonly systemNumber: string;
  readonly twilioAccountSid: string | undefined;
  readonly twilioAuthToken: string | undefined;
  readonly slackSigningSecret: string | undefined;
  readonly stripeWebhookSecret: string | undefined;
  readonly pid: number;
}

/** Where the session file lives with the default PGLITE_DATA_DIR, relative to the app's directory. */
export const defaultDevSessionFile = '.data/dev-session.json';

/**
 * The session file beside the PGlite folder (`.data/dev-session.json` for the default
 * `.data/pglite`; the default folder for `memory://`), as the inbox spool file is.
 *
 * @example
 * ```ts
 * devSessionFileFor('.data/pglite'); // '.data/dev-session.json'
 * ```
 */
export function devSessionFileFor(pgliteDataDir: string): string {
  return pgliteDataDir.includes('://') ? defaultDevSessionFile : join(dirname(pgliteDataDir.replace(/\/+$/, '')), 'dev-session.json');
}

/**
 * Writes the session file (0600: it holds the run's secrets).
 *
 * @example
 * ```ts
 * const remove = writeDevSession(defaultDevSessionFile, session);
 * process.once('exit', remove);
 * ```
 * @returns A function that removes the file.
 */
export function writeDevSession(file: string, session: DevSession): () => void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/**
 * Reads the session file.
 *
 * @example
 * ```ts
 * const session = readDevSession(defaultDevSessionFile); // undefined when no app is running here
 * ```
 * @returns The session, or undefined when there is no (readable) file.
 */
export function readDevSession(file: string): DevSession | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(text) as Partial<DevSession>;
  return typeof parsed.url === 'string' && typeof parsed.adminToken === 'string' ? (parsed as DevSession) : undefined;
}
