import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieOptions, Request } from 'express';

/** Name of the console's session cookie. */
export const sessionCookie = 'console_session';

/** Options of {@link ConsoleSessions}. */
export interface ConsoleSessionsOptions {
  /** The admin token: sessions are signed with a key derived from it, so rotating it signs everyone out. */
  readonly adminToken: string;
  /**
   * How long a session lasts after sign-in.
   * @default 8 hours
   */
  readonly ttlMs?: number;
  /**
   * The clock.
   * @default Date.now
   */
  readonly now?: () => number;
}

/** A verified session. */
export interface ConsoleSession {
  /** Random per sign-in: the CSRF tokens are bound to it. */
  readonly id: string;
  readonly expiresAt: number;
}

const defaults = { ttlMs: 8 * 3_600_000, now: Date.now };
const loopbackHosts = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Whether the console's cookies must be `Secure` for this request: always, except on a
 * loopback host (a developer's `pnpm start`), where there is no TLS to require.
 *
 * @example
 * ```ts
 * res.cookie(sessionCookie, value, cookieOptions(req));
 * ```
 */
export function needsSecureCookie(req: Pick<Request, 'hostname'>): boolean {
  return !loopbackHosts.has(req.hostname);
}

/**
 * Options of every console cookie: HttpOnly, SameSite=Strict, path /admin, Secure outside
 * loopback.
 *
 * @example
 * ```ts
 * res.clearCookie(sessionCookie, cookieOptions(req));
 * ```
 */
export function cookieOptions(req: Pick<Request, 'hostname'>): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure: needsSecureCookie(req), path: '/admin' };
}

/**
 * Stateless console sessions: the cookie holds `expiry.id.mac`, the MAC an HMAC-SHA256 under
 * a key derived from the admin token. Stateless so that every instance accepts a session
 * without a shared store; the cost: signing out clears the cookie in that browser, and a
 * copied cookie stays valid until it expires (8 h by default) or the admin token changes.
 *
 * @example
 * ```ts
 * const sessions = new ConsoleSessions({ adminToken });
 * const value = sessions.issue();
 * sessions.verify(value); // { id, expiresAt }
 * ```
 */
export class ConsoleSessions {
  private readonly key: Buffer;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: ConsoleSessionsOptions) {
    const resolved = { ...defaults, ...options };
    this.key = createHmac('sha256', options.adminToken).update('console-session-v1').digest();
    this.ttlMs = resolved.ttlMs;
    this.now = resolved.now;
  }

  /** The session's lifetime, ms (the cookie's Max-Age). */
  get lifetimeMs(): number {
    return this.ttlMs;
  }

  /**
   * A new session's cookie value.
   *
   * @returns `expiry.id.mac`.
   */
  issue(): string {
    const body = `${this.now() + this.ttlMs}.${randomBytes(18).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /**
   * Checks a cookie value.
   *
   * @returns The session, or undefined when the value is missing, forged or expired.
   */
  verify(value: string | undefined): ConsoleSession | undefined {
    if (typeof value !== 'string' || value.length > 200) return undefined;
    const parts = value.split('.');
    if (parts.length !== 3) return undefined;
    const [expiry, id, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(`${expiry}.${id}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const expiresAt = Number(expiry);
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= this.now()) return undefined;
    return { id, expiresAt };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
